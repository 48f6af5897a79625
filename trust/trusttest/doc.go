// Package trusttest builds RFC 8572 trust material for tests, the
// in-process bootstrap server (client/sztptest) and `sztp demo`: an
// in-memory PKI (manufacturer/MASA CA and voucher signer, owner CA and
// owner certificate, device CA with IDevIDs, server CA with TLS
// certificates), signed ownership vouchers, signed conveyed information,
// certs-only CMS, EnvelopedData/AuthEnvelopedData to RSA or EC device keys,
// CRLs, BER re-encoding, and the matrix of good and single-fault artifact
// sets that the trust tests and the testdata generator share.
//
// It is importable by non-test code but is not for production: keys are
// generated in memory and written in the clear.
package trusttest
