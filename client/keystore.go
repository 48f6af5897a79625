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
		AsymmetricKey []ksKey `json:"asymmetric-key"`
	} `json:"asymmetric-keys"`
}

type ksKey struct {
	Name         string `json:"name"`
	Certificates struct {
		Certificate []ksCert `json:"certificate"`
	} `json:"certificates"`
}

type ksCert struct {
	Name     string `json:"name"`
	CertData string `json:"cert-data"`
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
	var ks *keystore
	// The path of elements below <keystore>; certificates are
	// asymmetric-keys/asymmetric-key/certificates/certificate/cert-data.
	var path []string
	var text strings.Builder
	for {
		tok, err := d.Token()
		if errors.Is(err, io.EOF) {
			return ks, nil
		}
		if err != nil {
			if ks == nil {
				return nil, nil // not XML the agent understands: not a keystore
			}
			return nil, fmt.Errorf("keystore: %w", err)
		}
		switch t := tok.(type) {
		case xml.StartElement:
			switch {
			case ks == nil && path == nil && t.Name.Local == "keystore" && t.Name.Space == NSKeystore:
				ks, path = &keystore{}, []string{}
			case path != nil:
				path = append(path, t.Name.Local)
				text.Reset()
				if strings.Join(path, "/") == "asymmetric-keys/asymmetric-key" {
					ks.AsymmetricKeys.AsymmetricKey = append(ks.AsymmetricKeys.AsymmetricKey, ksKey{})
				}
			}
		case xml.CharData:
			if path != nil {
				text.Write(t)
			}
		case xml.EndElement:
			if path == nil {
				continue
			}
			if len(path) == 0 { // </keystore>
				return ks, nil
			}
			keys := ks.AsymmetricKeys.AsymmetricKey
			switch strings.Join(path, "/") {
			case "asymmetric-keys/asymmetric-key/name":
				keys[len(keys)-1].Name = strings.TrimSpace(text.String())
			case "asymmetric-keys/asymmetric-key/certificates/certificate/cert-data":
				k := &keys[len(keys)-1]
				k.Certificates.Certificate = append(k.Certificates.Certificate, ksCert{CertData: text.String()})
			}
			path = path[:len(path)-1]
		}
	}
}
