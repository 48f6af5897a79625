// Package tpm gives the agent its identity from a TPM 2.0: the IDevID key as a
// crypto.Signer whose private part never leaves the TPM, its certificate from
// NV, an optional decryption key (RSA decrypt or ECDH), and lab helpers to
// provision an IDevID and make CSRs. It talks to /dev/tpmrm0, to swtpm over TCP
// or a Unix socket, and (in tests, with cgo) to the reference simulator.
//
// Defaults follow the TCG provisioning guidance (digest 9): IDevID key at
// persistent handle 0x81020000, certificate at NV index 0x01C90000, then
// 0x01C90200 (where swtpm_setup >= 0.11 writes it). NV is read in chunks of
// TPM_PT_NV_BUFFER_MAX with the index's own empty auth (or owner auth when the
// index has no AUTHREAD), so the agent needs no hierarchy password; padding
// after the DER certificate is ignored.
//
// The Signer reads the key's scheme: a key fixed to one scheme (TCG IDevID
// templates fix ECDSA-SHA256) signs only that, and SignatureSchemes lists
// only the TLS schemes the key can make, so crypto/tls never picks one the
// TPM refuses. ECDSA signatures come back as raw R, S and are returned as
// DER. RSA-PSS signatures are checked to use salt length = hash length (what
// TLS 1.3 verifies); a TPM that does otherwise loses its PSS schemes.
//
// A Device runs one command at a time and may be shared. Every command is
// bounded (2 minutes): a TPM that stops answering fails the command, and the
// Device until the TPM answers again, instead of hanging the agent. swtpm's
// server socket speaks plain TPM frames: Open uses its own framed stream
// transport for tcp:// and unix://, not go-tpm's transport/tcp (the
// Microsoft simulator protocol).
package tpm
