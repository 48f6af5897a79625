// Package sztptest is an in-process RFC 8572 bootstrap server, in the spirit
// of net/http/httptest, for tests, benchmarks and `sztp demo`.
//
// A Server listens on a loopback address with an ephemeral port (or on a
// listener it is given, e.g. in a test network namespace), speaks TLS with
// client-certificate verification and optional HTTP Basic auth (username =
// serial number), implements get-bootstrapping-data and report-progress in
// JSON and XML, and answers per device serial number:
//
//   - Response.Conveyed: unsigned redirect or onboarding information;
//   - Response.Build with Signed: signed data (owner-signed conveyed
//     information, owner certificate, and an ownership voucher that can be
//     bound to the request's nonce), optionally encrypted to the device;
//   - Response.Output: any pre-built artifacts.
//
// It records every request and every progress report in order (OnReport
// sees them live), and can be told to misbehave with a Fault: an HTTP
// status with Retry-After or Location, a stall, a truncated or malformed
// body, for the first Count requests; ReportStatus refuses chosen reports.
//
// NewPKI makes a throw-away ECDSA PKI (server CA and loopback server
// certificate, manufacturer root, intermediate and a device IDevID);
// FileServer serves boot images over HTTPS with Range support. Both run on
// internal/httpx's small HTTP/1.1 server rather than net/http's, which
// would add most of a megabyte to the sztp binary that embeds this package.
package sztptest
