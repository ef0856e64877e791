# drivemcp's two commands for a newcomer: `make demo` and `make test`.
# Everything a fresh machine needs is installed by these targets.

GO        ?= go
BIN       := bin/drivemcp
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Packages with real concurrency (refresh single-flight, store locks,
# uploader retries, the emulator): run under the race detector.
RACE_PKGS := ./internal/authserver/... ./internal/google/... ./internal/drive/... ./internal/googleemu/... ./internal/identity/... ./internal/mcpserver/... ./internal/netguard/... ./internal/secrets/... ./internal/store/...

.PHONY: build demo test test-race vet bench clean

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/drivemcp

demo: build
	./$(BIN) serve --demo --db "$${TMPDIR:-/tmp}/drivemcp-demo/drivemcp.db" --upload-root "$(CURDIR)"

vet:
	$(GO) vet ./...

test: vet
	$(GO) test -count=1 ./...
	$(GO) test -count=1 -race $(RACE_PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchtime 1x ./bench/...
	$(GO) test -run '^$$' -bench OAuthRoundTrip -benchtime 300x ./internal/authserver/

clean:
	rm -rf bin
