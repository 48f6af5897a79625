package client

import (
	"bytes"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sztp/sztp/trust"
)

// NSKeystore is the ietf-keystore namespace (RFC 9642).
const NSKeystore = "urn:ietf:params:xml:ns:yang:ietf-keystore"

// maxKeystoreCerts bounds the certificates read from one configuration.
const maxKeystoreCerts = 16

// keystore is the part of ietf-keystore that carries certificates:
// keystore/asymmetric-keys/asymmetric-key/certificates/certificate/cert-data
// (an end-entity-cert-cms: a certs-only CMS, base64).
type keystore struct {
	AsymmetricKeys struct {
		AsymmetricKey []struct {
			Name         string `json:"name" xml:"name"`
			Certificates struct {
				Certificate []struct {
					Name     string `json:"name" xml:"name"`
					CertData string `json:"cert-data" xml:"cert-data"`
				} `json:"certificate" xml:"certificate"`
			} `json:"certificates" xml:"certificates"`
		} `json:"asymmetric-key" xml:"asymmetric-key"`
	} `json:"asymmetric-keys" xml:"asymmetric-keys"`
}

// KeystoreCertificates returns the certificates of the ietf-keystore in a
// configuration: the top-level "ietf-keystore:keystore" member of a JSON
// document, or the first <keystore> element in the ietf-keystore namespace
// of an XML document. A configuration without a keystore has none.
func KeystoreCertificates(config []byte) ([]*x509.Certificate, error) {
	trimmed := bytes.TrimSpace(config)
	if len(trimmed) == 0 {
		return nil, nil
	}
	var ks *keystore
	var err error
	switch trimmed[0] {
	case '{':
		ks, err = jsonKeystore(trimmed)
	case '<':
		ks, err = xmlKeystore(trimmed)
	default:
		return nil, nil // not a YANG document: nothing the agent can read
	}
	if err != nil || ks == nil {
		return nil, err
	}
	var out []*x509.Certificate
	for _, k := range ks.AsymmetricKeys.AsymmetricKey {
		for _, c := range k.Certificates.Certificate {
			if len(out) >= maxKeystoreCerts {
				return nil, fmt.Errorf("more than %d keystore certificates", maxKeystoreCerts)
			}
			der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(c.CertData), ""))
			if err != nil {
				return nil, fmt.Errorf("keystore %s/%s: cert-data: %w", k.Name, c.Name, err)
			}
			certs, err := trust.ParseCertsOnly(der)
			if err != nil {
				// Lenient: a bare DER certificate instead of a certs-only CMS.
				cert, err2 := x509.ParseCertificate(der)
				if err2 != nil {
					return nil, fmt.Errorf("keystore %s/%s: cert-data is neither a certs-only CMS nor a certificate: %w", k.Name, c.Name, err)
				}
				certs = []*x509.Certificate{cert}
			}
			out = append(out, certs...)
		}
	}
	return out, nil
}

func jsonKeystore(doc []byte) (*keystore, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(doc, &top); err != nil {
		return nil, nil // not JSON the agent understands: not a keystore
	}
	raw, ok := top["ietf-keystore:keystore"]
	if !ok {
		return nil, nil
	}
	var ks keystore
	if err := json.Unmarshal(raw, &ks); err != nil {
		return nil, fmt.Errorf("ietf-keystore:keystore: %w", err)
	}
	return &ks, nil
}

func xmlKeystore(doc []byte) (*keystore, error) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return nil, nil
		}
		if err != nil {
			return nil, nil // not XML the agent understands: not a keystore
		}
		se, ok := tok.(xml.StartElement)
		if !ok || se.Name.Local != "keystore" || se.Name.Space != NSKeystore {
			continue
		}
		var ks keystore
		if err := d.DecodeElement(&ks, &se); err != nil {
			return nil, fmt.Errorf("keystore: %w", err)
		}
		return &ks, nil
	}
}
