// Package httpguard holds what stands between the network and the MCP
// handler at /mcp: the DNS-rebinding defence (RequireOrigin), trusted local
// mode's refusal of proxied requests (LocalOnly), the step-up challenge for
// writing tools (RequireToolScopes), the request body limit, the session
// cap and body budget (admission.go), and the drain used on shutdown.
// cmd/drivemcp/serve.go mounts them; docs/architecture.md has the order.
package httpguard
