// Package tpm gives the agent its identity from a TPM 2.0: the IDevID key as a
// crypto.Signer whose private part never leaves the TPM, its certificate from
// NV, an optional decryption key (RSA decrypt or ECDH), and lab helpers to
// provision an IDevID and make CSRs. It talks to /dev/tpmrm0, to swtpm over TCP
// or a Unix socket, and (in tests, with cgo) to the reference simulator.
package tpm
