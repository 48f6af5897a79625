package tpm_test

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"io"
	"log"
	"math/big"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/tpm"
	"github.com/sztp/sztp/tpm/swtpmtest"
)

// The engine's path: tpm.OpenIdentity -> client.Identity -> TLSCertificate,
// TLS 1.2 and 1.3, with a key fixed to ECDSA-SHA256 (C13).
func TestClientIdentityTLS(t *testing.T) {
	sw := swtpmtest.Start(t)
	p := sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Alg: "ecc256:ecdsa-sha256"})
	tid, err := tpm.OpenIdentity(context.Background(), tpm.Config{Path: sw.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer tid.Close()
	id := &client.Identity{Certificate: tid.Certificate, Chain: tid.Chain, Signer: tid.Signer}
	cert := id.TLSCertificate()
	if len(cert.SupportedSignatureAlgorithms) != 1 || cert.SupportedSignatureAlgorithms[0] != tls.ECDSAWithP256AndSHA256 {
		t.Fatalf("TLS certificate schemes = %v, want only ECDSAWithP256AndSHA256", cert.SupportedSignatureAlgorithms)
	}
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, client.SerialNumberOf(r.TLS.PeerCertificates[0]))
	}))
	pool := x509.NewCertPool()
	pool.AddCert(p.CA)
	srv.TLS = &tls.Config{ClientAuth: tls.RequireAndVerifyClientCert, ClientCAs: pool}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	srv.StartTLS()
	defer srv.Close()
	for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
		c := srv.Client()
		tr := c.Transport.(*http.Transport)
		tr.TLSClientConfig.Certificates = []tls.Certificate{cert}
		tr.TLSClientConfig.MinVersion, tr.TLSClientConfig.MaxVersion = v, v
		resp, err := c.Get(srv.URL)
		if err != nil {
			t.Fatalf("%s: %v", tls.VersionName(v), err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if string(b) != "DPU-SN-0042" {
			t.Errorf("%s: server saw serial %q", tls.VersionName(v), b)
		}
	}
}

// --idevid-cert and --idevid-chain instead of NV; a certificate for another
// key is refused.
func TestIdentityCertAndChainFiles(t *testing.T) {
	sw := swtpmtest.Start(t)
	p := sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{})
	dir := t.TempDir()
	chain := filepath.Join(dir, "chain.pem")
	caPEM, err := os.ReadFile(p.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(chain, caPEM, 0o600)

	id, err := tpm.OpenIdentity(context.Background(), tpm.Config{Path: sw.Path, CertFile: p.CertFile, ChainFile: chain})
	if err != nil {
		t.Fatal(err)
	}
	if id.CertSource != "file:"+p.CertFile || len(id.Chain) != 1 || !id.Chain[0].Equal(p.CA) {
		t.Errorf("source %s, chain %d certs", id.CertSource, len(id.Chain))
	}
	id.Close()

	// A certificate for a key that is not in the TPM.
	other, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(9), Subject: pkix.Name{SerialNumber: "X"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, _ := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &other.PublicKey, other)
	wrong := filepath.Join(dir, "wrong.pem")
	os.WriteFile(wrong, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	_, err = tpm.OpenIdentity(context.Background(), tpm.Config{Path: sw.Path, CertFile: wrong})
	if err == nil || !strings.Contains(err.Error(), "does not certify") {
		t.Fatalf("mismatched certificate: err = %v", err)
	}
	// Nothing at the NV indexes asked for.
	_, err = tpm.OpenIdentity(context.Background(), tpm.Config{Path: sw.Path, CertIndexes: []uint32{0x01C90100}})
	if err == nil || !strings.Contains(err.Error(), "0x01c90100") {
		t.Fatalf("missing NV index: err = %v", err)
	}
	// No key at the handle.
	_, err = tpm.OpenIdentity(context.Background(), tpm.Config{Path: sw.Path, IDevIDHandle: 0x81020005})
	if err == nil || !strings.Contains(err.Error(), "0x81020005") {
		t.Fatalf("missing key: err = %v", err)
	}
}

// One TPM, many goroutines: the Device runs one command at a time.
func TestSWTPMConcurrentUse(t *testing.T) {
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{})
	id, err := tpm.OpenIdentity(context.Background(), tpm.Config{Path: sw.Path})
	if err != nil {
		t.Fatal(err)
	}
	defer id.Close()
	pub := id.Signer.Public().(*ecdsa.PublicKey)
	var wg sync.WaitGroup
	errs := make(chan error, 40)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			for i := 0; i < 5; i++ {
				d := sha256.Sum256([]byte{byte(g), byte(i)})
				sig, err := id.Signer.Sign(nil, d[:], crypto.SHA256)
				if err == nil && !ecdsa.VerifyASN1(pub, d[:], sig) {
					err = errBadSig
				}
				if err != nil {
					errs <- err
				}
			}
		}(g)
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

var errBadSig = errors.New("signature does not verify")
