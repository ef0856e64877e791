# drivemcp's two commands for a newcomer: `make demo` and `make test`.
# Everything a fresh machine needs is installed by these targets.

GO        ?= go
BIN       := bin/drivemcp
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
# Packages with real concurrency (refresh single-flight, store locks,
# uploader retries, the emulator): run under the race detector.
RACE_PKGS := ./internal/accesspolicy/... ./internal/authserver/... ./internal/google/... ./internal/drive/... ./internal/eventstore/... ./internal/googleemu/... ./internal/httpguard/... ./internal/identity/... ./internal/logsink/... ./internal/mcpserver/... ./internal/netguard/... ./internal/ratelimit/... ./internal/reqlog/... ./internal/secrets/... ./internal/store/... ./internal/ttlcache/...

SUDO      := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: build demo test vet bench load clean chromium node curl

build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/drivemcp

# make demo ADDR=127.0.0.1:9000 serves the demo elsewhere.
ADDR      ?= 127.0.0.1:8080

demo: build
	./$(BIN) serve --demo --addr "$(ADDR)" --db "$${TMPDIR:-/tmp}/drivemcp-demo/drivemcp.db" --upload-root "$(CURDIR)"

# staticcheck, pinned, fetched from the Go module proxy by `go run` so
# nothing is installed; an intentional exception carries //lint:ignore and
# its reason.
STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet:
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

# The browser tests (e2e/browser_test.go) drive Debian's Chromium and fail
# without it: install it on a fresh Debian or Ubuntu machine.
chromium:
	@test -x /usr/bin/chromium || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium chromium-driver; }

# The upload-session tests PUT files the way a user would, with curl.
curl:
	@command -v curl >/dev/null || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl ca-certificates; }

# The TypeScript SDK client and the MCP conformance suite run on Node; their
# pinned npm packages are installed by the tests themselves (npm ci).
node:
	@command -v npm >/dev/null || { $(SUDO) apt-get update && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends nodejs npm; }

# The PostgreSQL tests use DRIVEMCP_TEST_POSTGRES_URL; unset, they use the
# same local server CI uses when it answers there, and say so loudly when it
# does not (then they skip).
PG_DEFAULT_URL := postgres://postgres@127.0.0.1:5432/test?sslmode=disable

test: vet chromium node curl
	@if [ -z "$$DRIVEMCP_TEST_POSTGRES_URL" ]; then \
	  if command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432; then \
	    echo "make test: PostgreSQL answers on 127.0.0.1:5432; its tests use $(PG_DEFAULT_URL)"; \
	  else \
	    echo "make test: *** PostgreSQL does not answer on 127.0.0.1:5432: the PostgreSQL tests will SKIP (set DRIVEMCP_TEST_POSTGRES_URL) ***"; \
	  fi; \
	fi
	DRIVEMCP_TEST_POSTGRES_URL="$${DRIVEMCP_TEST_POSTGRES_URL:-$$(command -v pg_isready >/dev/null && pg_isready -q -h 127.0.0.1 -p 5432 && echo '$(PG_DEFAULT_URL)')}" \
	  sh -c '$(GO) test -count=1 ./... && $(GO) test -count=1 -race $(RACE_PKGS)'

# Real testing.B benchmarks (ns/op means something), then the load
# measurements.
bench: node load
	$(GO) test -run '^$$' -bench . ./bench/...
	$(GO) test -run '^$$' -bench OAuthRoundTrip -benchtime 300x ./internal/authserver/

# The load measurements (bench/*_load_test.go, TestLoad*): minutes of load
# against named references, each printing a table of figures. Run in the
# package's directory so the tables stream as they are made.
load: node
	cd bench && $(GO) test -count=1 -timeout 60m -run '^TestLoad' -args -load

clean:
	rm -rf bin
