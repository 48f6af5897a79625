package client

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"math/big"
	"strings"
	"testing"

	"github.com/sztp/sztp/trust/trusttest"
)

// The LDevID certificate carrier (RFC 9646, ietf-keystore RFC 9642): JSON
// and XML keystores, a configuration without one, and damaged ones.
func TestKeystoreCertificates(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	der, err := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "ldevid"}}, &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ca"}}, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	cms, err := trusttest.CertsOnly([]*x509.Certificate{cert})
	if err != nil {
		t.Fatal(err)
	}
	b64 := base64.StdEncoding.EncodeToString(cms)
	wrapped := b64[:20] + "\n   " + b64[20:]
	jsonKS := `{"ietf-interfaces:interfaces":{},"ietf-keystore:keystore":{"asymmetric-keys":{"asymmetric-key":[{"name":"ldevid","certificates":{"certificate":[{"name":"c","cert-data":"` + b64 + `"}]}}]}}}`
	xmlKS := `<config><keystore xmlns="urn:ietf:params:xml:ns:yang:ietf-keystore"><asymmetric-keys><asymmetric-key><name>ldevid</name>` +
		`<certificates><certificate><name>c</name><cert-data>` + wrapped + `</cert-data></certificate></certificates></asymmetric-key></asymmetric-keys></keystore></config>`
	for _, tc := range []struct {
		name, doc string
		n         int
		err       string
	}{
		{"json", jsonKS, 1, ""},
		{"xml", xmlKS, 1, ""},
		{"bare der", strings.Replace(jsonKS, b64, base64.StdEncoding.EncodeToString(der), 1), 1, ""},
		{"xml other namespace", strings.Replace(xmlKS, "ietf-keystore", "other", 1), 0, ""},
		{"no keystore", `{"ietf-system:system":{"hostname":"x"}}`, 0, ""},
		{"text config", "hostname x\n", 0, ""},
		{"bad base64", strings.Replace(jsonKS, b64, "!!!", 1), 0, "cert-data"},
		{"not a certificate", strings.Replace(jsonKS, b64, base64.StdEncoding.EncodeToString([]byte("junk")), 1), 0, "neither"},
		{"too many", `{"ietf-keystore:keystore":{"asymmetric-keys":{"asymmetric-key":[{"name":"k","certificates":{"certificate":[` + strings.Repeat(`{"name":"c","cert-data":"`+b64+`"},`, 16) + `{"name":"c","cert-data":"` + b64 + `"}]}}]}}}`, 0, "more than 16"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			certs, err := KeystoreCertificates([]byte(tc.doc))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil || len(certs) != tc.n {
				t.Fatalf("%d certificates, err %v; want %d", len(certs), err, tc.n)
			}
			if tc.n == 1 && !certs[0].Equal(cert) {
				t.Error("wrong certificate")
			}
		})
	}
}
