package identity

import (
	"bytes"
	"crypto"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"

	"github.com/sztp/sztp/trust"
)

// LoadAnchors reads trust anchor files: PEM bundles or certs-only CMS (DER,
// or PEM "CMS"/"PKCS7").
func LoadAnchors(flag string, files []string) ([]*x509.Certificate, error) {
	var out []*x509.Certificate
	for _, file := range files {
		certs, err := LoadCertificates(file)
		if err != nil {
			return nil, fmt.Errorf("--%s: %w", flag, err)
		}
		out = append(out, certs...)
	}
	return out, nil
}

// LoadCertificates reads X.509 certificates from a PEM bundle, a DER
// certificate, or a certs-only CMS (DER or PEM).
func LoadCertificates(file string) ([]*x509.Certificate, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	var certs []*x509.Certificate
	rest := data
	sawPEM := false
	for {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		sawPEM = true
		switch b.Type {
		case "CERTIFICATE":
			c, err := x509.ParseCertificate(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			certs = append(certs, c)
		case "CMS", "PKCS7":
			cs, err := trust.ParseCertsOnly(b.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%s: %w", file, err)
			}
			certs = append(certs, cs...)
		}
	}
	if !sawPEM {
		if c, err := x509.ParseCertificate(data); err == nil {
			certs = append(certs, c)
		} else if cs, err2 := trust.ParseCertsOnly(bytes.TrimSpace(data)); err2 == nil {
			certs = append(certs, cs...)
		} else {
			return nil, fmt.Errorf("%s: neither PEM, a DER certificate nor a certs-only CMS (%v; %v)", file, err, err2)
		}
	}
	if len(certs) == 0 {
		return nil, fmt.Errorf("%s: no certificates found", file)
	}
	return certs, nil
}

// LoadPrivateKey reads a PEM private key (PKCS#8, PKCS#1 or SEC 1).
func LoadPrivateKey(file string) (crypto.Signer, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	for rest := data; ; {
		var b *pem.Block
		b, rest = pem.Decode(rest)
		if b == nil {
			break
		}
		var key any
		switch b.Type {
		case "PRIVATE KEY":
			key, err = x509.ParsePKCS8PrivateKey(b.Bytes)
		case "RSA PRIVATE KEY":
			key, err = x509.ParsePKCS1PrivateKey(b.Bytes)
		case "EC PRIVATE KEY":
			key, err = x509.ParseECPrivateKey(b.Bytes)
		default:
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		s, ok := key.(crypto.Signer)
		if !ok {
			return nil, fmt.Errorf("%s: key type %T cannot sign", file, key)
		}
		return s, nil
	}
	return nil, fmt.Errorf("%s: no PEM private key found", file)
}
