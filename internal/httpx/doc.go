// Package httpx is a small HTTP/1.1 client and server: Content-Length and chunked bodies, dial, TLS handshake,
// header and idle timeouts, and cancellation by context.
//
// It exists for the binary budget: importing net/http at all costs the agent
// about half a MiB (its Transport and HTTP/2 half more), while sztp only ever
// sends a few RESTCONF requests, downloads one image, and, for `sztp demo`,
// serves the same. Non-test code must not import net/http; tests may.
//
// Client sends one request per connection; PersistentConn carries several
// over one connection (keep-alive), which the RESTCONF client uses so that
// a run costs one TLS client signature per server. The server keeps
// connections alive too. Neither pools connections, uses proxies, or
// decompresses bodies; Client follows redirects only when asked to
// (bootstrap servers must not be redirected, RFC 8040 7).
package httpx
