package tpm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
)

func TestReadFrame(t *testing.T) {
	for _, tc := range []struct {
		name    string
		in      []byte
		want    []byte
		wantErr string
	}{
		{name: "header only", in: []byte{0x80, 1, 0, 0, 0, 10, 0, 0, 0, 0}, want: []byte{0x80, 1, 0, 0, 0, 10, 0, 0, 0, 0}},
		{name: "body", in: []byte{0x80, 1, 0, 0, 0, 12, 0, 0, 0, 0, 7, 8, 99}, want: []byte{0x80, 1, 0, 0, 0, 12, 0, 0, 0, 0, 7, 8}},
		{name: "short header", in: []byte{0x80, 1, 0}, wantErr: "header"},
		{name: "short body", in: []byte{0x80, 1, 0, 0, 0, 20, 0, 0, 0, 0, 1}, wantErr: "body"},
		{name: "size too small", in: []byte{0x80, 1, 0, 0, 0, 4, 0, 0, 0, 0}, wantErr: "out of range"},
		{name: "size too big", in: []byte{0x80, 1, 0x7f, 0, 0, 0, 0, 0, 0, 0}, wantErr: "out of range"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A reader that returns one byte at a time, as a slow TCP stream may.
			got, err := readFrame(&oneByte{data: tc.in})
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || !bytes.Equal(got, tc.want) {
				t.Fatalf("readFrame = %x, %v; want %x", got, err, tc.want)
			}
		})
	}
}

type oneByte struct{ data []byte }

func (r *oneByte) Read(p []byte) (int, error) {
	if len(r.data) == 0 {
		return 0, os.ErrClosed
	}
	p[0] = r.data[0]
	r.data = r.data[1:]
	return 1, nil
}

func TestOpenRejectsUnknownScheme(t *testing.T) {
	for _, p := range []string{"http://x", "tcp://", "unix://"} {
		if d, err := Open(p); err == nil {
			d.Close()
			t.Errorf("Open(%q) succeeded", p)
		}
	}
}

func testCertDER(t testing.TB) []byte {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{SerialNumber: "SN-1", CommonName: "d"},
		NotBefore: time.Unix(0, 0), NotAfter: time.Unix(1<<31, 0)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// Vendors pad the certificate NV index; the DER header says where it ends.
func TestParseNVCertificate(t *testing.T) {
	der := testCertDER(t)
	for _, tc := range []struct {
		name    string
		data    []byte
		wantErr bool
	}{
		{"exact", der, false},
		{"zero padded", append(slices.Clone(der), make([]byte, 100)...), false},
		{"ff padded", append(slices.Clone(der), bytes.Repeat([]byte{0xff}, 33)...), false},
		{"truncated", der[:len(der)-1], true},
		{"empty", nil, true},
		{"erased flash", bytes.Repeat([]byte{0xff}, 64), true},
		{"pem", []byte("-----BEGIN CERTIFICATE-----\n"), true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := ParseNVCertificate(tc.data)
			if tc.wantErr {
				if err == nil {
					t.Fatal("no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if c.Subject.SerialNumber != "SN-1" {
				t.Fatalf("serialNumber = %q", c.Subject.SerialNumber)
			}
		})
	}
}

// FuzzParseNVCertificate: NV contents are outside input.
func FuzzParseNVCertificate(f *testing.F) {
	f.Add(testCertDER(f))
	f.Add([]byte{0x30, 0x82, 0xff, 0xff})
	f.Add([]byte{0x30, 0x84, 0, 0, 0, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseNVCertificate(data)
		if err == nil && len(c.Raw) > len(data) {
			t.Fatalf("certificate longer (%d) than the data (%d)", len(c.Raw), len(data))
		}
	})
}

func FuzzReadFrame(f *testing.F) {
	f.Add([]byte{0x80, 1, 0, 0, 0, 12, 0, 0, 0, 0, 7, 8})
	f.Add([]byte{0x80, 1, 0, 0, 0, 4})
	f.Fuzz(func(t *testing.T, data []byte) {
		rsp, err := readFrame(bytes.NewReader(data))
		if err == nil && (len(rsp) < headerSize || len(rsp) > len(data)) {
			t.Fatalf("frame of %d bytes from %d bytes of input", len(rsp), len(data))
		}
	})
}

// The TLS scheme list follows the key's type and fixed scheme, so crypto/tls
// never picks a scheme the TPM would refuse (platform-recipes 1c pitfalls).
func TestSignatureSchemes(t *testing.T) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	ec384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	all := map[crypto.Hash]bool{crypto.SHA256: true, crypto.SHA384: true, crypto.SHA512: true}
	no512 := map[crypto.Hash]bool{crypto.SHA256: true, crypto.SHA384: true}
	for _, tc := range []struct {
		name   string
		pub    crypto.PublicKey
		scheme tpm2.TPMAlgID
		hash   tpm2.TPMAlgID
		hashes map[crypto.Hash]bool
		pssOK  bool
		want   []tls.SignatureScheme
		x509   x509.SignatureAlgorithm
	}{
		{"p256 null", &ec256.PublicKey, tpm2.TPMAlgNull, tpm2.TPMAlgNull, all, false,
			[]tls.SignatureScheme{tls.ECDSAWithP256AndSHA256, tls.ECDSAWithP384AndSHA384, tls.ECDSAWithP521AndSHA512}, x509.ECDSAWithSHA256},
		{"p256 null no sha512", &ec256.PublicKey, tpm2.TPMAlgNull, tpm2.TPMAlgNull, no512, false,
			[]tls.SignatureScheme{tls.ECDSAWithP256AndSHA256, tls.ECDSAWithP384AndSHA384}, x509.ECDSAWithSHA256},
		{"p256 fixed sha256", &ec256.PublicKey, tpm2.TPMAlgECDSA, tpm2.TPMAlgSHA256, all, false,
			[]tls.SignatureScheme{tls.ECDSAWithP256AndSHA256}, x509.ECDSAWithSHA256},
		{"p384 null", &ec384.PublicKey, tpm2.TPMAlgNull, tpm2.TPMAlgNull, all, false,
			[]tls.SignatureScheme{tls.ECDSAWithP384AndSHA384, tls.ECDSAWithP256AndSHA256, tls.ECDSAWithP521AndSHA512}, x509.ECDSAWithSHA384},
		{"rsa null pss ok", &rsaKey.PublicKey, tpm2.TPMAlgNull, tpm2.TPMAlgNull, no512, true,
			[]tls.SignatureScheme{tls.PSSWithSHA256, tls.PSSWithSHA384, tls.PKCS1WithSHA256, tls.PKCS1WithSHA384}, x509.SHA256WithRSA},
		{"rsa null pss broken", &rsaKey.PublicKey, tpm2.TPMAlgNull, tpm2.TPMAlgNull, all, false,
			[]tls.SignatureScheme{tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512}, x509.SHA256WithRSA},
		{"rsa fixed rsassa", &rsaKey.PublicKey, tpm2.TPMAlgRSASSA, tpm2.TPMAlgSHA256, all, true,
			[]tls.SignatureScheme{tls.PKCS1WithSHA256}, x509.SHA256WithRSA},
		{"rsa fixed pss", &rsaKey.PublicKey, tpm2.TPMAlgRSAPSS, tpm2.TPMAlgSHA384, all, true,
			[]tls.SignatureScheme{tls.PSSWithSHA384}, x509.SHA384WithRSAPSS},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Signer{key: &keyInfo{pub: tc.pub, scheme: tc.scheme, hash: tc.hash}, hashes: tc.hashes, pssOK: tc.pssOK}
			if got := s.SignatureSchemes(); !slices.Equal(got, tc.want) {
				t.Errorf("SignatureSchemes = %v, want %v", got, tc.want)
			}
			if got := s.X509SignatureAlgorithm(); got != tc.x509 {
				t.Errorf("X509SignatureAlgorithm = %v, want %v", got, tc.x509)
			}
		})
	}
}

// Requests the TPM would refuse fail before reaching it, naming the reason.
func TestSignRefusesBeforeTPM(t *testing.T) {
	ec256, _ := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	rsaKey, _ := rsa.GenerateKey(rand.Reader, 1024)
	d32 := make([]byte, 32)
	for _, tc := range []struct {
		name   string
		pub    crypto.PublicKey
		scheme tpm2.TPMAlgID
		hash   tpm2.TPMAlgID
		digest []byte
		opts   crypto.SignerOpts
		want   string
	}{
		{"no hash", &ec256.PublicKey, tpm2.TPMAlgNull, 0, d32, crypto.Hash(0), "no hash"},
		{"digest size", &ec256.PublicKey, tpm2.TPMAlgNull, 0, d32, crypto.SHA384, "needs 48"},
		{"fixed hash", &ec256.PublicKey, tpm2.TPMAlgECDSA, tpm2.TPMAlgSHA256, make([]byte, 48), crypto.SHA384, "fixed to ECDSA-SHA256"},
		{"pss on ecc", &ec256.PublicKey, tpm2.TPMAlgNull, 0, d32, &rsa.PSSOptions{Hash: crypto.SHA256}, "ECC key"},
		{"pss salt", &rsaKey.PublicKey, tpm2.TPMAlgNull, 0, d32, &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: 20}, "salt length 20"},
		{"fixed rsassa vs pss", &rsaKey.PublicKey, tpm2.TPMAlgRSASSA, tpm2.TPMAlgSHA256, d32, &rsa.PSSOptions{Hash: crypto.SHA256}, "fixed to RSASSA"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := &Signer{key: &keyInfo{pub: tc.pub, scheme: tc.scheme, hash: tc.hash}}
			_, err := s.Sign(nil, tc.digest, tc.opts)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Sign err = %v, want one containing %q", err, tc.want)
			}
		})
	}
}

func TestKeySpecTemplate(t *testing.T) {
	for _, tc := range []struct {
		spec    KeySpec
		wantErr bool
	}{
		{KeySpec{Algorithm: ECCP256}, false},
		{KeySpec{Algorithm: ECCP384, FixedScheme: tpm2.TPMAlgECDSA}, false},
		{KeySpec{Algorithm: ECCP256, Usage: UsageDecrypt, FixedScheme: tpm2.TPMAlgECDH}, false},
		{KeySpec{Algorithm: RSA2048, FixedScheme: tpm2.TPMAlgRSAPSS, RandomUnique: true}, false},
		{KeySpec{Algorithm: RSA2048, FixedScheme: tpm2.TPMAlgECDSA}, true},
		{KeySpec{Algorithm: ECCP256, FixedScheme: tpm2.TPMAlgOAEP}, true},
		{KeySpec{Algorithm: "dsa"}, true},
	} {
		_, err := tc.spec.template()
		if (err != nil) != tc.wantErr {
			t.Errorf("template(%+v) err = %v, wantErr %v", tc.spec, err, tc.wantErr)
		}
	}
}

func TestFourCC(t *testing.T) {
	for in, want := range map[uint32]string{0x49424d00: "IBM", 0x494e5443: "INTC", 0x53544d20: "STM"} {
		if got := fourCC(in); got != want {
			t.Errorf("fourCC(%#x) = %q, want %q", in, got, want)
		}
	}
}

func TestReadCertificatesFile(t *testing.T) {
	der := testCertDER(t)
	dir := t.TempDir()
	derFile := filepath.Join(dir, "c.der")
	os.WriteFile(derFile, der, 0o600)
	if c, err := ReadCertificates(derFile); err != nil || len(c) != 1 {
		t.Fatalf("DER: %v, %v", c, err)
	}
	bad := filepath.Join(dir, "bad")
	os.WriteFile(bad, []byte("junk"), 0o600)
	if _, err := ReadCertificates(bad); err == nil {
		t.Fatal("junk accepted as a certificate")
	}
}

// hangingTPM does not answer its first command until released; later
// commands succeed at once.
type hangingTPM struct {
	release chan struct{}
	calls   atomic.Int32
}

var okResponse = []byte{0x80, 1, 0, 0, 0, 10, 0, 0, 0, 0}

func (h *hangingTPM) Send([]byte) ([]byte, error) {
	if h.calls.Add(1) == 1 {
		<-h.release
		return nil, errors.New("released")
	}
	return okResponse, nil
}

// A TPM that stops answering fails the command instead of hanging the agent;
// the Device refuses commands while the TPM may still be busy with the
// abandoned one, and works again once that one finishes.
func TestDeviceCommandTimeout(t *testing.T) {
	old := commandTimeout
	commandTimeout = 50 * time.Millisecond
	t.Cleanup(func() { commandTimeout = old })
	h := &hangingTPM{release: make(chan struct{})}
	dev := NewDevice(h, "/dev/tpm-test")
	cmd := []byte{0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0x44}
	_, err := dev.Send(cmd)
	if err == nil || !strings.Contains(err.Error(), "/dev/tpm-test did not answer a command within 50ms") {
		t.Fatalf("Send to a hanging TPM: %v, want a timeout naming the device", err)
	}
	if _, err2 := dev.Send(cmd); err2 == nil || err2.Error() != err.Error() {
		t.Errorf("Send while the TPM is busy: %v, want the same failure", err2)
	}
	if n := h.calls.Load(); n != 1 {
		t.Errorf("the busy transport got %d commands, want 1", n)
	}
	close(h.release) // the abandoned command finishes late
	var rsp []byte
	for range 600 { // up to a minute on a loaded machine; usually at once
		if rsp, err = dev.Send(cmd); err == nil {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if err != nil || !bytes.Equal(rsp, okResponse) {
		t.Fatalf("Send after the TPM answered: %x, %v; want it usable again", rsp, err)
	}
	if err := dev.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
}

// stuckCapTPM answers every TPM2_GetCapability(ALGS) with SHA-256 and
// "more data", never moving on; after 10 commands it fails.
type stuckCapTPM struct{ calls int }

func (s *stuckCapTPM) Send([]byte) ([]byte, error) {
	s.calls++
	if s.calls > 10 {
		return nil, errors.New("stuckCapTPM: asked again and again")
	}
	return []byte{
		0x80, 0x01, 0, 0, 0, 25, 0, 0, 0, 0, // header: no sessions, 25 bytes, success
		1,          // moreData
		0, 0, 0, 0, // TPM_CAP_ALGS
		0, 0, 0, 1, // one entry
		0x00, 0x0b, 0, 0, 0, 4, // SHA-256, hash
	}, nil
}

// A TPM that keeps saying "more data" without progress cannot hang the
// algorithm listing.
func TestSupportedHashesStopsWithoutProgress(t *testing.T) {
	s := &stuckCapTPM{}
	got, err := supportedHashes(NewDevice(s, "stuck"))
	if err != nil {
		t.Fatalf("supportedHashes: %v (after %d commands)", err, s.calls)
	}
	if !got[crypto.SHA256] || s.calls > 2 {
		t.Errorf("hashes %v after %d commands, want SHA-256 after at most 2", got, s.calls)
	}
}

// downTPM is a TPM that cannot be reached.
type downTPM struct{}

func (downTPM) Send([]byte) ([]byte, error) { return nil, errors.New("tpm link down") }

// The Bleichenbacher-safe session-key mode masks what the TPM rejects
// (tested against swtpm), not a TPM that cannot be reached: that must stay
// an error, or the agent would go on with a random key and report a
// confusing content-decryption failure instead.
func TestDecryptSessionKeyTransportError(t *testing.T) {
	key, _ := rsa.GenerateKey(rand.Reader, 1024)
	d := &Decrypter{dev: NewDevice(downTPM{}, "down"), key: &keyInfo{
		handle: 0x81000010, name: tpm2.TPM2BName{Buffer: append([]byte{0x00, 0x0b}, make([]byte, 32)...)},
		pub: &key.PublicKey, scheme: tpm2.TPMAlgNull,
	}}
	got, err := d.Decrypt(nil, make([]byte, 128), &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 16})
	if err == nil || !strings.Contains(err.Error(), "tpm link down") {
		t.Fatalf("Decrypt with an unreachable TPM = %x, %v; want the transport error", got, err)
	}
}

// After a failed exchange (here a garbage length) the swtpm stream is not
// reused: what is left of that response would be read as the answer to the
// next command.
func TestStreamBrokenAfterFailure(t *testing.T) {
	client, server := net.Pipe()
	t.Cleanup(func() { server.Close() })
	got := make(chan int, 4)
	go func() {
		buf := make([]byte, 64)
		for {
			n, err := server.Read(buf)
			if err != nil {
				return
			}
			got <- n
			// A response whose size field is garbage, then more bytes.
			server.Write([]byte{0x80, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
		}
	}()
	s := &stream{conn: client}
	cmd := []byte{0x80, 1, 0, 0, 0, 10, 0, 0, 1, 0x44}
	if _, err := s.Send(cmd); err == nil || !strings.Contains(err.Error(), "out of range") {
		t.Fatalf("first Send: %v, want the bad frame", err)
	}
	if _, err := s.Send(cmd); err == nil || !strings.Contains(err.Error(), "unusable after an earlier failure") {
		t.Fatalf("second Send: %v, want a refusal to reuse the connection", err)
	}
	if n := len(got); n != 1 {
		t.Errorf("the server received %d commands, want 1", n)
	}
}
