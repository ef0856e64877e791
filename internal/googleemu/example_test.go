package googleemu_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"

	"golang.org/x/oauth2"
	"google.golang.org/api/drive/v3"
	"google.golang.org/api/option"

	"github.com/drivemcp/drivemcp/internal/googleemu"
)

// Point the real Google client libraries at the emulator: OAuth at its
// /o/oauth2/v2/auth and /token, Drive at its /drive/v3/. A login_hint skips
// the sign-in page.
func Example() {
	emu, _ := googleemu.New(googleemu.Options{})
	defer emu.Close()
	srv := httptest.NewServer(emu)
	defer srv.Close()

	cfg := &oauth2.Config{
		ClientID:     googleemu.DemoClientID,
		ClientSecret: googleemu.DemoClientSecret,
		RedirectURL:  "http://127.0.0.1:8765/oauth2callback",
		Scopes:       []string{"openid", "email", drive.DriveFileScope},
		Endpoint: oauth2.Endpoint{AuthURL: srv.URL + "/o/oauth2/v2/auth", TokenURL: srv.URL + "/token",
			AuthStyle: oauth2.AuthStyleInParams},
	}
	verifier := oauth2.GenerateVerifier()
	authURL := cfg.AuthCodeURL("state", oauth2.S256ChallengeOption(verifier), oauth2.AccessTypeOffline,
		oauth2.SetAuthURLParam("login_hint", "alice@example.com"))
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, _ := noFollow.Get(authURL)
	resp.Body.Close()
	callback, _ := url.Parse(resp.Header.Get("Location"))

	ctx := context.Background()
	tok, err := cfg.Exchange(ctx, callback.Query().Get("code"), oauth2.VerifierOption(verifier))
	if err != nil {
		panic(err)
	}
	svc, _ := drive.NewService(ctx, option.WithEndpoint(srv.URL+"/drive/v3/"), option.WithHTTPClient(cfg.Client(ctx, tok)))
	f, err := svc.Files.Create(&drive.File{Name: "hello.txt"}).Media(strings.NewReader("hi")).Fields("name,size").Do()
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Name, f.Size, len(emu.Files()))
	// Output: hello.txt 2 1
}
