package trust

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
)

// ParseCertsOnly returns the certificates of a degenerate (certs-only) CMS
// SignedData, DER or BER, in the order they are encoded. Used for redirect
// trust anchors, owner certificates and anchor files.
func ParseCertsOnly(der []byte) ([]*x509.Certificate, error) {
	certs, _, err := parseCertsOnly(der)
	return certs, err
}

func parseCertsOnly(b []byte) ([]*x509.Certificate, []*x509.RevocationList, error) {
	typ, content, err := parseContentInfo(b)
	if err != nil {
		return nil, nil, fmt.Errorf("certs-only CMS: %w", err)
	}
	if !typ.Equal(OIDSignedData) {
		return nil, nil, fmt.Errorf("certs-only CMS: found content type %s, expected id-signedData", oidName(typ))
	}
	a := &artifact{}
	if err := a.unwrapSigned(content); err != nil {
		return nil, nil, fmt.Errorf("certs-only CMS: %w", err)
	}
	sd, err := parseSignedData(a.der)
	if err != nil {
		return nil, nil, fmt.Errorf("certs-only CMS: %w", err)
	}
	if len(sd.signers) != 0 {
		return nil, nil, fmt.Errorf("certs-only CMS: has %d signers, expected none", len(sd.signers))
	}
	if len(sd.certs) == 0 {
		return nil, nil, errors.New("certs-only CMS: holds no certificate")
	}
	return sd.certs, sd.crls, nil
}

// TrustAnchor returns the certificate that must have issued the next
// bootstrap server's TLS certificate, from a redirect-information
// trust-anchor (a certs-only CMS holding one chain up to a self-signed
// root). RFC 8572 6.1: "the last certificate is the issuer". Some encoders (the
// openssl command line) sort the SET OF certificates, so when the
// certificates form one chain its lowest certificate is taken, which is the
// last one in a correctly ordered bag; otherwise the last one listed.
func TrustAnchor(der []byte) (*x509.Certificate, []*x509.Certificate, error) {
	certs, err := ParseCertsOnly(der)
	if err != nil {
		return nil, nil, err
	}
	issuer, err := lowestOfChain(certs)
	if err != nil {
		return nil, nil, fmt.Errorf("certs-only CMS: %w", err)
	}
	return issuer, certs, nil
}

// TrustAnchorPool returns a pool holding only the issuer chosen by
// TrustAnchor, for authenticating the next bootstrap server. Use it only
// when trust-state is TRUE (RFC 8572 5.5).
func TrustAnchorPool(der []byte) (*x509.CertPool, error) {
	issuer, _, err := TrustAnchor(der)
	if err != nil {
		return nil, err
	}
	pool := x509.NewCertPool()
	pool.AddCert(issuer)
	return pool, nil
}

// lowestOfChain returns the certificate of certs that issued no other
// certificate of certs, when exactly one such exists; else the last one.
func lowestOfChain(certs []*x509.Certificate) (*x509.Certificate, error) {
	lowest, err := issuedNone(certs, (*x509.Certificate).CheckSignatureFrom)
	if err != nil {
		return nil, err
	}
	if len(lowest) == 1 {
		return lowest[0], nil
	}
	return certs[len(certs)-1], nil
}

// maxIssuerChecks bounds the signature checks spent finding the bottom of
// a bag. A chain of n certificates with distinct names costs n-1; a bag of
// 64 certificates that all carry one name would cost 64*63 (each of them
// an RSA verification, perhaps with a 16384-bit key) without it.
const maxIssuerChecks = 2 * maxSetElements

// issuedNone returns, in order, the certificates of certs that issued no
// other certificate of certs: the bottom of each chain in a bag. A pair is
// checked (with check, d.CheckSignatureFrom(c) outside tests) only when
// d's issuer name is c's subject; more than maxIssuerChecks such pairs is
// an error.
func issuedNone(certs []*x509.Certificate, check func(d, c *x509.Certificate) error) ([]*x509.Certificate, error) {
	var bottom []*x509.Certificate
	checks := 0
	for _, c := range certs {
		issued := false
		for _, d := range certs {
			if c == d || !bytes.Equal(d.RawIssuer, c.RawSubject) {
				continue
			}
			if checks++; checks > maxIssuerChecks {
				return nil, fmt.Errorf("more than %d candidate issuer pairs among %d certificates (names repeat): not a chain", maxIssuerChecks, len(certs))
			}
			if check(d, c) == nil {
				issued = true
				break
			}
		}
		if !issued {
			bottom = append(bottom, c)
		}
	}
	return bottom, nil
}

// VoucherAnchorAlsoIssues reports whether one of the voucher trust anchors
// issued the device's IDevID or a certificate of its chain. A voucher anchor
// must issue only MASA (manufacturer) voucher-signing certificates: any
// certificate chaining to it can sign vouchers (RFC 8366 5.4), so an anchor
// that also issues device certificates lets every device key sign vouchers
// for every device (issue 10 item 16). The agent warns when it does.
func VoucherAnchorAlsoIssues(anchors []*x509.Certificate, idevid *x509.Certificate, chain ...*x509.Certificate) bool {
	if idevid == nil {
		return false
	}
	for _, c := range append([]*x509.Certificate{idevid}, chain...) {
		if c == nil {
			continue
		}
		for _, a := range anchors {
			if a == nil {
				continue
			}
			if a.Equal(c) && c != idevid {
				return true // the anchor is itself a CA of the IDevID chain
			}
			if bytes.Equal(c.RawIssuer, a.RawSubject) && c.CheckSignatureFrom(a) == nil {
				return true
			}
		}
	}
	return false
}
