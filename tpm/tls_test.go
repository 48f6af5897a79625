package tpm

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/sztp/sztp/tpm/swtpmtest"
)

// tlsClientAuth runs one HTTPS request with the TPM identity as client
// certificate against a server that requires and verifies it, and returns the
// subject the server saw.
func tlsClientAuth(t *testing.T, id *Identity, ca *x509.Certificate, version uint16) (string, error) {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, r.TLS.PeerCertificates[0].Subject.String())
	}))
	pool := x509.NewCertPool()
	pool.AddCert(ca)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool, MinVersion: version, MaxVersion: version}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // expected handshake failures
	srv.StartTLS()
	defer srv.Close()
	client := srv.Client()
	tr := client.Transport.(*http.Transport)
	cert := tls.Certificate{PrivateKey: id.Signer, Leaf: id.Certificate, Certificate: [][]byte{id.Certificate.Raw}}
	if sl, ok := id.Signer.(interface{ SignatureSchemes() []tls.SignatureScheme }); ok {
		cert.SupportedSignatureAlgorithms = sl.SignatureSchemes()
	}
	tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
	tr.TLSClientConfig.MinVersion, tr.TLSClientConfig.MaxVersion = version, version
	resp, err := client.Get(srv.URL)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// RFC 8572 5.1 item 7 / C13: mutual TLS with the TPM-held IDevID, TLS 1.2 and
// 1.3, for every key type and scheme a manufacturer may provision.
func TestSWTPMTLSClientAuth(t *testing.T) {
	for _, tc := range []struct {
		alg    string
		tls13  bool // TLS 1.3 possible with this key
		scheme string
	}{
		{alg: "ecc256:null", tls13: true},
		{alg: "ecc256:ecdsa-sha256", tls13: true},
		{alg: "ecc384:null", tls13: true},
		{alg: "ecc384:ecdsa-sha256", tls13: false}, // TLS 1.3 binds P-384 to SHA-384
		{alg: "rsa2048:null", tls13: true},
		{alg: "rsa2048:rsassa-sha256", tls13: false}, // TLS 1.3 needs PSS
		{alg: "rsa2048:rsapss-sha256:null", tls13: true},
	} {
		t.Run(tc.alg, func(t *testing.T) {
			sw := swtpmtest.Start(t)
			p := sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Alg: tc.alg})
			id := openSWTPM(t, sw, Config{})
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				got, err := tlsClientAuth(t, id, p.CA, v)
				if v == tls.VersionTLS13 && !tc.tls13 {
					if err == nil {
						t.Errorf("TLS 1.3 with %s succeeded; expected no usable scheme", tc.alg)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", tls.VersionName(v), err)
				}
				if got != p.Cert.Subject.String() {
					t.Errorf("%s: server saw %q, want %q", tls.VersionName(v), got, p.Cert.Subject)
				}
			}
		})
	}
}
