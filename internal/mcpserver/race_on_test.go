//go:build race

package mcpserver

// raceDetector: the race detector makes pure computation ten times slower;
// the exhaustive parser tests vary fewer positions under it (they run in
// full without it, in the same `make test`).
const raceDetector = true
