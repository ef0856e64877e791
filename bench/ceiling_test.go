package bench

import (
	"bytes"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/drivemcp/drivemcp/internal/e2etest"
)

// The ceiling is what a tool call could cost on this machine with nothing
// but net/http: a bare handler that checks the bearer token (SHA-256 of it
// against the one it knows, in constant time, as a store lookup by hash
// would), decodes the JSON-RPC request with encoding/json, checks it names
// the tool, and answers one event with a result of the same size as
// drivemcp's, encoded per request. No MCP SDK, no store, no logging. It
// runs as its own process (this test binary, started again with
// ceilingEnv set) so that it shares the machine with the load generator as
// drivemcp and the peer do.
const (
	ceilingEnv       = "BENCH_CEILING_ADDR"
	ceilingTokenEnv  = "BENCH_CEILING_TOKEN_SHA256"
	ceilingResultEnv = "BENCH_CEILING_RESULT_FILE"
)

// maybeServeCeiling serves the ceiling and exits if this process was
// started as one; it returns at once otherwise.
func maybeServeCeiling() {
	addr := os.Getenv(ceilingEnv)
	if addr == "" {
		return
	}
	if err := serveCeiling(addr, os.Getenv(ceilingTokenEnv), os.Getenv(ceilingResultEnv)); err != nil {
		fmt.Fprintln(os.Stderr, "ceiling:", err)
		os.Exit(1)
	}
	os.Exit(0)
}

func serveCeiling(addr, tokenHash, resultFile string) error {
	want, err := hex.DecodeString(tokenHash)
	if err != nil || len(want) != sha256.Size {
		return fmt.Errorf("%s: not a SHA-256 in hex", ceilingTokenEnv)
	}
	raw, err := os.ReadFile(resultFile)
	if err != nil {
		return err
	}
	// The result is decoded once and encoded for every answer, as a
	// handler building its result would.
	var result any
	if err := json.Unmarshal(raw, &result); err != nil {
		return fmt.Errorf("%s: %w", ceilingResultEnv, err)
	}
	type request struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Method  string          `json:"method"`
		Params  struct {
			Name      string          `json:"name"`
			Arguments json.RawMessage `json:"arguments"`
		} `json:"params"`
	}
	type response struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  any             `json:"result"`
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusOK) })
	mux.HandleFunc("POST /mcp", func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		sum := sha256.Sum256([]byte(token))
		if !ok || subtle.ConstantTimeCompare(sum[:], want) != 1 {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		var req request
		if err := json.Unmarshal(body, &req); err != nil || req.Method != "tools/call" || req.Params.Name != "check_drive_auth" {
			http.Error(w, "not a check_drive_auth call", http.StatusBadRequest)
			return
		}
		out, err := json.Marshal(response{JSONRPC: "2.0", ID: req.ID, Result: result})
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		var b bytes.Buffer
		b.Grow(len(out) + 32)
		b.WriteString("event: message\ndata: ")
		b.Write(out)
		b.WriteString("\n\n")
		w.Header().Set("Content-Type", "text/event-stream")
		_, _ = w.Write(b.Bytes())
	})
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	return srv.Serve(ln)
}

// startCeiling starts the ceiling for token, answering result (a JSON-RPC
// result object, as drivemcp answered it).
func startCeiling(tb testing.TB, token string, result []byte) *server {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	dir := tb.TempDir()
	resultFile := filepath.Join(dir, "result.json")
	if err := os.WriteFile(resultFile, result, 0o600); err != nil {
		tb.Fatal(err)
	}
	addr := e2etest.FreeAddr(tb)
	sum := sha256.Sum256([]byte(token))
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), ceilingEnv+"="+addr, fmt.Sprintf("%s=%x", ceilingTokenEnv, sum[:]), ceilingResultEnv+"="+resultFile)
	logPath := filepath.Join(dir, "ceiling.log")
	logFile, err := os.Create(logPath)
	if err != nil {
		tb.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	logFile.Close()
	tb.Cleanup(func() { stopProcess(cmd) })
	s := &server{Name: "ceiling (net/http)", Base: "http://" + addr, Host: addr, PID: cmd.Process.Pid}
	waitReady(tb, s.Base+"/readyz", func() string { out, _ := os.ReadFile(logPath); return string(tail(out, 4<<10)) })
	return s
}

// toolCallResult makes one call on s and returns the JSON-RPC result of
// its answer, for the ceiling to answer the same bytes' worth.
func toolCallResult(tb testing.TB, s *server, header http.Header, body []byte) []byte {
	tb.Helper()
	req, err := http.NewRequest(http.MethodPost, s.Base+"/mcp", bytes.NewReader(body))
	if err != nil {
		tb.Fatal(err)
	}
	req.Header = header.Clone()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatal(err)
	}
	if err := checkToolResult(0, resp.StatusCode, raw); err != nil {
		tb.Fatalf("%s: %v", s.Name, err)
	}
	var msg struct {
		Result json.RawMessage `json:"result"`
	}
	if err := json.Unmarshal(sseData(raw), &msg); err != nil || len(msg.Result) == 0 {
		tb.Fatalf("%s: no JSON-RPC result in %.300s (%v)", s.Name, raw, err)
	}
	return msg.Result
}

// sseData is the data of an answer's last event (or the answer itself if it
// is plain JSON).
func sseData(raw []byte) []byte {
	var data []byte
	for line := range bytes.Lines(raw) {
		if d, ok := bytes.CutPrefix(line, []byte("data: ")); ok {
			data = bytes.TrimSpace(d)
		}
	}
	if data == nil {
		return raw
	}
	return data
}
