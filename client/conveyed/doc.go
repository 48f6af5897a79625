// Package conveyed is the data model of the YANG modules ietf-sztp-conveyed-info
// and ietf-sztp-bootstrap-server (RFC 8572 sections 6 and 7), with the RFC 9646
// CSR additions reserved, and their JSON (RFC 7951) and XML codecs.
//
// Decoding is strict: unknown members, a missing mandatory choice, a
// configuration without configuration-handling, a malformed yang:hex-string, a
// port out of range or a nonce outside 16..32 octets are errors that name the
// offending member. Encoding always produces module-qualified, valid documents.
//
// The package imports only the standard library.
package conveyed
