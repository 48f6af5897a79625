// Package tpm gives the agent its identity from a TPM 2.0: the IDevID key as a
// crypto.Signer whose private part never leaves the TPM, its certificate from
// NV, an optional decryption key (RSA decrypt or ECDH), and lab helpers to
// provision an IDevID and make CSRs. It talks to /dev/tpmrm0, to swtpm over TCP
// or a Unix socket, and (in tests, with cgo) to the reference simulator.
//
// Defaults follow the TCG provisioning guidance: IDevID key at
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
//
// Protected sessions (session.go): every command carrying a secret or a
// signature (Sign, RSA_Decrypt, ECDH_ZGen, Create, NV writes) runs in a
// salted HMAC session with AES-128-CFB parameter encryption, salted to a
// storage key whose Name is checked against its public area (and pinned
// when the caller gives a pin); every key's Name is checked the same way,
// and every TPM signature is verified before it is returned. The threat is
// an interposer on the TPM bus; session.go says what each measure stops.
//
// LDevID (ldevid.go, RFC 9646): keys for CSRs are children of the SRK
// (fixedTPM, fixedParent, sensitiveDataOrigin), persisted at
// DefaultLDevIDHandle (never 0x81020001, the IAK's), with the certificate
// in an owner NV index. Measured onboarding (pcr.go, eventlog.go): PCR
// extend, and an event log in the TCG Canonical Event Log JSON encoding
// that Replay and VerifyEventLog check against the PCR.
package tpm
