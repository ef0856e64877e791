//go:build tools

// Package tools pins the dependencies drivemcp is being built on until the code
// that imports them lands; deleted once every package here is imported for real.
package tools

import (
	_ "github.com/jackc/pgx/v5"
	_ "github.com/modelcontextprotocol/go-sdk/auth"
	_ "github.com/modelcontextprotocol/go-sdk/mcp"
	_ "golang.org/x/oauth2"
	_ "golang.org/x/sync/singleflight"
	_ "google.golang.org/api/drive/v3"
	_ "modernc.org/sqlite"
)
