// Package sztptest is an in-process RFC 8572 bootstrap server, in the spirit
// of net/http/httptest, for tests, benchmarks and `sztp demo`.
//
// A Server listens on 127.0.0.1 with an ephemeral port, speaks TLS with
// client-certificate verification and optional HTTP Basic auth, implements
// get-bootstrapping-data and report-progress in JSON and XML, answers per
// device serial number (redirect or onboarding information, unsigned or
// pre-built signed/encrypted artifacts), records every request and every
// progress report in order, and can be told to misbehave: an HTTP status
// with Retry-After, a stall, a truncated or malformed body.
//
// NewPKI makes a throw-away ECDSA PKI (server CA and loopback server
// certificate, manufacturer root, intermediate and a device IDevID).
package sztptest
