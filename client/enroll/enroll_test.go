package enroll

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"math/big"
	"os"
	"path/filepath"
	"testing"

	"github.com/sztp/sztp/client"
)

// C100: the server's cert-req-info is used as given: the CSR's
// CertificationRequestInfo is byte for byte the server's when its key is
// the signer's, and only the subjectPKInfo changes for a new key.
func TestSignCertReqInfo(t *testing.T) {
	key, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	for _, tc := range []struct {
		name     string
		criKey   *ecdsa.PrivateKey
		verbatim bool
	}{{"same key", key, true}, {"placeholder key", other, false}} {
		t.Run(tc.name, func(t *testing.T) {
			tmpl, err := x509.CreateCertificateRequest(rand.Reader, &x509.CertificateRequest{
				Subject: pkix.Name{CommonName: "owner chosen", SerialNumber: "SN-42", Organization: []string{"Owner"}},
			}, tc.criKey)
			if err != nil {
				t.Fatal(err)
			}
			parsed, _ := x509.ParseCertificateRequest(tmpl)
			cri := parsed.RawTBSCertificateRequest
			der, err := SignCertReqInfo(cri, key)
			if err != nil {
				t.Fatal(err)
			}
			csr, err := x509.ParseCertificateRequest(der)
			if err != nil {
				t.Fatal(err)
			}
			if err := csr.CheckSignature(); err != nil {
				t.Fatalf("signature: %v", err)
			}
			if bytes.Equal(csr.RawTBSCertificateRequest, cri) != tc.verbatim {
				t.Errorf("CertificationRequestInfo verbatim = %v, want %v", !tc.verbatim, tc.verbatim)
			}
			if !bytes.Equal(csr.RawSubject, parsed.RawSubject) || !key.PublicKey.Equal(csr.PublicKey) {
				t.Errorf("subject %s key %T: want the server's subject and the signer's key", csr.Subject, csr.PublicKey)
			}
		})
	}
	if _, err := SignCertReqInfo([]byte{0x30, 0x00}, key); err == nil {
		t.Error("an empty CertificationRequestInfo was signed")
	}
	if _, err := SignCertReqInfo(mustMarshal(t, 5), key); err == nil {
		t.Error("a non-SEQUENCE was signed")
	}
}

func mustMarshal(t *testing.T, v any) []byte {
	b, err := asn1.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// Software keys (file identities): a new CSR replaces the key file (C101),
// mirrors the IDevID subject, and Install/Load/Clear round-trip.
func TestSoftwareEnroller(t *testing.T) {
	dir := t.TempDir()
	idKey, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	idDER, _ := x509.CreateCertificate(rand.Reader, &x509.Certificate{SerialNumber: bytesInt(), Subject: pkix.Name{SerialNumber: "SW-1", CommonName: "dev"}}, &x509.Certificate{SerialNumber: bytesInt(), Subject: pkix.Name{CommonName: "ca"}}, &idKey.PublicKey, idKey)
	idCert, _ := x509.ParseCertificate(idDER)
	e, err := New(Options{IDevID: idCert, IDevIDSigner: idKey, StateDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	if len(e.KeyAlgorithms()) != 2 {
		t.Fatalf("software algorithms %d, want P-256 and P-384", len(e.KeyAlgorithms()))
	}
	var keys []any
	for range 2 {
		der, err := e.CSR(context.Background(), client.AlgECCP256, nil)
		if err != nil {
			t.Fatal(err)
		}
		csr, _ := x509.ParseCertificateRequest(der)
		if !bytes.Equal(csr.RawSubject, idCert.RawSubject) {
			t.Errorf("subject %s, want the IDevID's", csr.Subject)
		}
		keys = append(keys, e.Key())
		kf, _ := os.ReadFile(filepath.Join(dir, FileKey))
		if !bytes.Contains(kf, []byte("PRIVATE KEY")) {
			t.Fatal("no key file")
		}
	}
	if keys[0].(*ecdsa.PublicKey).Equal(keys[1]) {
		t.Error("second CSR reused the first key")
	}
	if _, err := Load(dir, nil, nil); !os.IsNotExist(err) {
		t.Errorf("Load before Install: %v, want not exist", err)
	}
	if err := Clear(dir); err != nil {
		t.Fatal(err)
	}
}

var serial int64

func bytesInt() *big.Int { serial++; return big.NewInt(serial) }
