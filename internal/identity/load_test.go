package identity

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/usage"
	"github.com/sztp/sztp/trust/trusttest"
)

// files writes a device PKI (sztptest.PKI.WriteFiles) plus a second device's
// key and an Ed25519 key into a temporary directory.
func files(t *testing.T) map[string]string {
	t.Helper()
	dir := t.TempDir()
	p, err := sztptest.NewPKI("ID-1")
	if err != nil {
		t.Fatal(err)
	}
	f, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	other, err := sztptest.NewPKI("ID-2")
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	der, err := x509.MarshalPKCS8PrivateKey(edKey)
	if err != nil {
		t.Fatal(err)
	}
	only, err := trusttest.CertsOnly([]*x509.Certificate{p.DeviceCA.Cert, p.DeviceRoot.Cert})
	if err != nil {
		t.Fatal(err)
	}
	for name, data := range map[string][]byte{
		"other.key":   other.Device.KeyPEM(),
		"ed25519.key": pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}),
		"device.der":  p.Device.Cert.Raw,
		"chain.p7":    only,
		"chain.pem":   append(p.DeviceCA.CertPEM(), p.DeviceRoot.CertPEM()...),
		"garbage":     []byte("not a certificate\n"),
	} {
		f[name] = filepath.Join(dir, name)
		if err := os.WriteFile(f[name], data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

func TestLoadFromFiles(t *testing.T) {
	f := files(t)
	for _, tc := range []struct {
		name     string
		flags    Flags
		serial   string // want, on success
		chain    int    // certificates in the chain, on success
		ecdh     bool
		err      string // substring of the error
		usageErr bool   // the error is a usage mistake (exit 2)
	}{
		{name: "cert and key", flags: Flags{IDevIDCert: f["device.pem"], IDevIDKey: f["device.key"]}, serial: "ID-1", chain: 1},
		{name: "DER cert, serial flag", flags: Flags{IDevIDCert: f["device.der"], IDevIDKey: f["device.key"], SerialNumber: "ID-1"}, serial: "ID-1"},
		// Issue 10 item 6: a serial number that contradicts the certificate's.
		{name: "serial flag contradicts the certificate", flags: Flags{IDevIDCert: f["device.der"], IDevIDKey: f["device.key"], SerialNumber: "S-9"}, err: `--serial-number "S-9" contradicts the IDevID certificate's serialNumber "ID-1"`, usageErr: true},
		{name: "chain file appended", flags: Flags{IDevIDCert: f["device.pem"], IDevIDKey: f["device.key"], IDevIDChain: f["chain.pem"]}, serial: "ID-1", chain: 3},
		{name: "EC decryption key", flags: Flags{IDevIDCert: f["device.pem"], IDevIDKey: f["device.key"], DecryptionKey: f["device.key"]}, serial: "ID-1", chain: 1, ecdh: true},
		{name: "key without cert", flags: Flags{IDevIDKey: f["device.key"]}, err: "--idevid-key needs --idevid-cert", usageErr: true},
		{name: "key and TPM", flags: Flags{IDevIDCert: f["device.pem"], IDevIDKey: f["device.key"], TPMPath: "/dev/tpmrm0"}, err: "give one", usageErr: true},
		{name: "key of another device", flags: Flags{IDevIDCert: f["device.pem"], IDevIDKey: f["other.key"]}, err: "does not match"},
		{name: "cert not a certificate", flags: Flags{IDevIDCert: f["garbage"], IDevIDKey: f["device.key"]}, err: "--idevid-cert"},
		{name: "missing key file", flags: Flags{IDevIDCert: f["device.pem"], IDevIDKey: f["nope"] + "/missing"}, err: "--idevid-key"},
		{name: "decryption key that cannot decrypt", flags: Flags{IDevIDCert: f["device.pem"], IDevIDKey: f["device.key"], DecryptionKey: f["ed25519.key"]}, err: "cannot decrypt", usageErr: true},
		{name: "bad handle", flags: Flags{IDevIDHandle: "handle"}, err: `--idevid-handle "handle"`, usageErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			id, closeFn, err := tc.flags.Load(context.Background(), nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || usage.Is(err) != tc.usageErr {
					t.Fatalf("error %v (usage %v), want one containing %q (usage %v)", err, usage.Is(err), tc.err, tc.usageErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closeFn()
			if id.SerialNumber != tc.serial || len(id.Chain) != tc.chain || (id.ECDH != nil) != tc.ecdh {
				t.Errorf("serial %q chain %d ECDH %v; want %q %d %v", id.SerialNumber, len(id.Chain), id.ECDH != nil, tc.serial, tc.chain, tc.ecdh)
			}
		})
	}
}

func TestLoadCertificates(t *testing.T) {
	f := files(t)
	for _, tc := range []struct {
		file string
		n    int // certificates, 0 for an error
	}{
		{f["device.pem"], 2},
		{f["device.der"], 1},
		{f["chain.p7"], 2},
		{f["chain.pem"], 2},
		{f["device.key"], 0}, // PEM without a certificate
		{f["garbage"], 0},
		{filepath.Join(t.TempDir(), "missing"), 0},
	} {
		certs, err := LoadCertificates(tc.file)
		if len(certs) != tc.n || (err != nil) != (tc.n == 0) {
			t.Errorf("%s: %d certificates, error %v; want %d", filepath.Base(tc.file), len(certs), err, tc.n)
		}
	}
	anchors, err := LoadAnchors("server-trust-anchor", []string{f["chain.pem"], f["ca.pem"]})
	if err != nil || len(anchors) != 3 {
		t.Errorf("LoadAnchors: %d certificates, %v; want 3", len(anchors), err)
	}
	if _, err := LoadAnchors("server-trust-anchor", []string{f["garbage"]}); err == nil || !strings.Contains(err.Error(), "--server-trust-anchor") {
		t.Errorf("LoadAnchors of garbage: %v, want an error naming the flag", err)
	}
}

func TestTPMConfig(t *testing.T) {
	for _, tc := range []struct {
		name  string
		flags Flags
		err   string
	}{
		{"defaults", Flags{IDevIDHandle: "0x81020000", IDevIDCertIndex: []string{"0x01C90000"}}, ""},
		{"decryption handle", Flags{IDevIDHandle: "0x81020000", DecryptionKeyHandle: "0x81010010"}, ""},
		{"bad index", Flags{IDevIDHandle: "0x81020000", IDevIDCertIndex: []string{"0x1C9000000"}}, "--idevid-cert-index"},
		{"bad decryption handle", Flags{IDevIDHandle: "0x81020000", DecryptionKeyHandle: "x"}, "--decryption-key-handle"},
	} {
		cfg, err := tc.flags.TPMConfig()
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || !usage.Is(err) {
				t.Errorf("%s: error %v, want a usage error containing %q", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil || cfg.Path == "" || cfg.IDevIDHandle != 0x81020000 {
			t.Errorf("%s: %+v, %v", tc.name, cfg, err)
		}
	}
}
