// Package identity loads the device's identity and trust anchors from the
// flags that run, get and the tpm commands share: the IDevID certificate and
// key from files or from the TPM (persistent key handle, NV certificate
// index), the optional decryption key (file or TPM handle), the serial number
// (flag or the IDevID subject's serialNumber), and the trust anchor files for
// bootstrap servers and ownership vouchers (PEM bundles or certs-only CMS).
//
// Mistakes in the flags are usage.Errors (exit 2); a file or TPM that fails
// is a plain error (exit 1).
package identity
