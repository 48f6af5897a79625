// Package swtpmtest runs swtpm for tests and provisions it the way a
// manufacturer would, with tpm2-tools and openssl: an IDevID key persisted in
// the TPM, its certificate from a test CA in an NV index, and optionally a
// decryption key. Each SWTPM has its own state directory and ports and is
// stopped by PID when the test ends. Tests that need it skip, or fail under
// SZTP_REQUIRE_INTEGRATION=1, when swtpm, tpm2-tools or openssl are missing.
package swtpmtest
