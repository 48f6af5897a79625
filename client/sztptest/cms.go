package sztptest

import (
	"crypto/x509"

	"github.com/sztp/sztp/trust/trusttest"
)

// CertsOnly encodes certificates as a degenerate CMS SignedData (no
// signers), the format of redirect trust-anchors and owner certificates.
func CertsOnly(certs ...*x509.Certificate) ([]byte, error) {
	return trusttest.CertsOnly(certs)
}
