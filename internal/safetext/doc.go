// Package safetext makes text that came from the network safe to log,
// print and store (issue 10 item 12): [Escape] writes control characters,
// invalid UTF-8 and bidirectional-override characters as Go escapes, so
// that a server's status line, error body or YANG string cannot drive the
// terminal of a serial console (or `sztp status`, which replays stored
// text); [RedactURIs] replaces the credentials of URIs written
// scheme://user:password@host. [Clean] does both.
package safetext
