package client

import (
	"crypto"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"fmt"

	"github.com/sztp/sztp/trust"
)

// Identity is who the device is: its IDevID certificate and chain, the key
// that signs for it (in a TPM or a file), and the optional decryption key.
type Identity struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate // intermediates up to (not incl.) the trust anchor
	Signer      crypto.Signer
	Decrypter   crypto.Decrypter // RSA decryption key, or nil
	ECDH        trust.ECDHKey    // ECDH decryption key, or nil
	// SerialNumber defaults to SerialNumberOf(Certificate).
	SerialNumber string
	// LDevID, when set, authenticates TLS instead of the IDevID (RFC 9646);
	// the IDevID still names the device for vouchers.
	LDevID *LDevID
}

// LDevID is a locally significant device identity issued by the owner.
type LDevID struct {
	Certificate *x509.Certificate
	Chain       []*x509.Certificate
	Signer      crypto.Signer
}

// SchemeLister is implemented by signers that can make only some TLS
// signature schemes (e.g. a TPM key with a fixed scheme).
type SchemeLister interface {
	SignatureSchemes() []tls.SignatureScheme
}

// TLSCertificate returns the client certificate for TLS, with its chain
// (C13) and, when the signer says so, the schemes it supports.
func (id *Identity) TLSCertificate() tls.Certificate {
	leaf, chain, signer := id.Certificate, id.Chain, id.Signer
	if l := id.LDevID; l != nil {
		leaf, chain, signer = l.Certificate, l.Chain, l.Signer
	}
	c := tls.Certificate{PrivateKey: signer, Leaf: leaf}
	c.Certificate = append(c.Certificate, leaf.Raw)
	for _, ic := range chain {
		c.Certificate = append(c.Certificate, ic.Raw)
	}
	if sl, ok := signer.(SchemeLister); ok {
		c.SupportedSignatureAlgorithms = sl.SignatureSchemes()
	}
	return c
}

var oidSerialNumber = asn1.ObjectIdentifier{2, 5, 4, 5}

// SerialNumberOf returns the last serialNumber attribute (2.5.4.5) of the
// certificate's subject, or "" when there is none.
func SerialNumberOf(cert *x509.Certificate) string {
	if cert == nil {
		return ""
	}
	var sn string
	for _, atv := range cert.Subject.Names {
		if atv.Type.Equal(oidSerialNumber) {
			if s, ok := atv.Value.(string); ok {
				sn = s
			}
		}
	}
	return sn
}

// checkKey refuses a certificate without a private key, or with one that
// is not the certificate's (C11: the device authenticates with both).
func (id *Identity) checkKey() error {
	if id.Signer == nil {
		return fmt.Errorf("the IDevID certificate %q has no private key", id.Certificate.Subject)
	}
	pub, ok := id.Signer.Public().(interface{ Equal(crypto.PublicKey) bool })
	if !ok || !pub.Equal(id.Certificate.PublicKey) {
		return fmt.Errorf("the private key is not the one of the IDevID certificate %q", id.Certificate.Subject)
	}
	return nil
}
