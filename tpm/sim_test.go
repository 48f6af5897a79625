//go:build cgo

// Tests against the TCG reference simulator (go-tpm-tools, cgo). The static
// agent never links it: this file is a test and needs cgo. Run with
// CGO_ENABLED=1 go test ./tpm/...

package tpm

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/simulator"
)

// openSim starts a fresh simulator (one at a time: Get blocks until the
// previous one is closed).
func openSim(t *testing.T) *Device {
	t.Helper()
	sim, err := simulator.OpenSimulator()
	if err != nil {
		t.Fatalf("opening simulator: %v", err)
	}
	d := NewDevice(sim, "simulator")
	t.Cleanup(func() { d.Close() })
	return d
}

// testCA is an in-memory CA for the simulator tests.
func testCA(t *testing.T) (*x509.Certificate, crypto.Signer) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "Sim IDevID CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour), IsCA: true, BasicConstraintsValid: true,
		KeyUsage: x509.KeyUsageCertSign}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	ca, _ := x509.ParseCertificate(der)
	return ca, key
}

// RSA and ECC IDevIDs, fixed and NULL schemes, provisioned by the agent's own
// code, then used for signatures and TLS 1.2/1.3 client auth.
func TestSimulatorIdentity(t *testing.T) {
	for _, tc := range []struct {
		alg   KeyAlgorithm
		fixed bool
		tls13 bool
		sigs  []crypto.SignerOpts // must work
		bad   []crypto.SignerOpts // must be refused
	}{
		{ECCP256, false, true, []crypto.SignerOpts{crypto.SHA256, crypto.SHA384}, nil},
		{ECCP256, true, true, []crypto.SignerOpts{crypto.SHA256}, []crypto.SignerOpts{crypto.SHA384}},
		{ECCP384, false, true, []crypto.SignerOpts{crypto.SHA384, crypto.SHA256}, nil},
		{ECCP384, true, true, []crypto.SignerOpts{crypto.SHA384}, []crypto.SignerOpts{crypto.SHA256}},
		{RSA2048, false, true, []crypto.SignerOpts{crypto.SHA256, &rsa.PSSOptions{Hash: crypto.SHA256, SaltLength: rsa.PSSSaltLengthEqualsHash}}, nil},
		{RSA2048, true, false, []crypto.SignerOpts{crypto.SHA256}, []crypto.SignerOpts{&rsa.PSSOptions{Hash: crypto.SHA256}}},
	} {
		name := string(tc.alg) + map[bool]string{false: "-null", true: "-fixed"}[tc.fixed]
		t.Run(name, func(t *testing.T) {
			dev := openSim(t)
			ca, caKey := testCA(t)
			p, err := Provision(context.Background(), dev, ProvisionOptions{Algorithm: tc.alg, FixedScheme: tc.fixed,
				CACert: ca, CAKey: caKey, SerialNumber: "SIM-" + name})
			if err != nil {
				t.Fatalf("Provision: %v", err)
			}
			if p.Hierarchy != "platform" {
				t.Errorf("certificate went to the %s hierarchy, want platform", p.Hierarchy)
			}
			id, err := OpenIdentity(context.Background(), Config{Device: dev})
			if err != nil {
				t.Fatalf("OpenIdentity: %v", err)
			}
			if id.Certificate.Subject.SerialNumber != "SIM-"+name || id.CertSource != "nv:0x01c90000" {
				t.Errorf("got %s from %s", id.Certificate.Subject, id.CertSource)
			}
			for _, o := range tc.sigs {
				var pss *rsa.PSSOptions
				if p, ok := o.(*rsa.PSSOptions); ok {
					pss = p
				}
				verifySign(t, id.Signer, o.HashFunc(), pss)
			}
			for _, o := range tc.bad {
				h := o.HashFunc().New()
				if _, err := id.Signer.Sign(nil, h.Sum(nil), o); err == nil {
					t.Errorf("Sign(%T %v) succeeded on a key with a fixed scheme", o, o.HashFunc())
				}
			}
			for _, v := range []uint16{tls.VersionTLS12, tls.VersionTLS13} {
				got, err := tlsClientAuth(t, id, ca, v)
				if v == tls.VersionTLS13 && !tc.tls13 {
					if err == nil {
						t.Errorf("TLS 1.3 succeeded with a key that cannot make PSS")
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", tls.VersionName(v), err)
				}
				if got != id.Certificate.Subject.String() {
					t.Errorf("server saw %q", got)
				}
			}
			// An IDevID is provisioned once; replacing it needs force.
			_, err = Provision(context.Background(), dev, ProvisionOptions{Algorithm: tc.alg, CACert: ca, CAKey: caKey, SerialNumber: "X"})
			if !errors.Is(err, ErrExists) {
				t.Fatalf("second Provision err = %v, want ErrExists", err)
			}
		})
	}
}

// Decryption keys in the simulator: RSA (OAEP, PKCS#1 v1.5) and ECDH, NULL
// and fixed schemes.
func TestSimulatorDecryption(t *testing.T) {
	dev := openSim(t)
	ctx := context.Background()
	secret := []byte("0123456789abcdef0123456789abcdef")
	for _, tc := range []struct {
		name   string
		spec   KeySpec
		oaepOK bool
		pkcsOK bool
	}{
		{"rsa-null", KeySpec{Algorithm: RSA2048, Usage: UsageDecrypt, Hierarchy: Owner, Handle: 0x81010020}, true, true},
		{"rsa-oaep", KeySpec{Algorithm: RSA2048, Usage: UsageDecrypt, Hierarchy: Owner, Handle: 0x81010021, FixedScheme: tpm2.TPMAlgOAEP}, true, false},
		{"rsa-rsaes", KeySpec{Algorithm: RSA2048, Usage: UsageDecrypt, Hierarchy: Owner, Handle: 0x81010022, FixedScheme: tpm2.TPMAlgRSAES}, false, true},
		{"ecc-null", KeySpec{Algorithm: ECCP256, Usage: UsageDecrypt, Hierarchy: Owner, Handle: 0x81010023}, false, false},
		{"ecc-p384-ecdh", KeySpec{Algorithm: ECCP384, Usage: UsageDecrypt, Hierarchy: Owner, Handle: 0x81010024, FixedScheme: tpm2.TPMAlgECDH}, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := CreateKey(ctx, dev, tc.spec, nil); err != nil {
				t.Fatal(err)
			}
			dec, ek, err := OpenDecryptionKey(dev, tc.spec.Handle)
			if err != nil {
				t.Fatal(err)
			}
			if ek != nil {
				checkECDH(t, ek)
				return
			}
			pub := dec.Public().(*rsa.PublicKey)
			ct, _ := rsa.EncryptOAEP(sha256.New(), rand.Reader, pub, secret, nil)
			got, err := dec.Decrypt(nil, ct, &rsa.OAEPOptions{Hash: crypto.SHA256})
			if tc.oaepOK != (err == nil && string(got) == string(secret)) {
				t.Errorf("OAEP: got %q, %v; want success=%v", got, err, tc.oaepOK)
			}
			ct, _ = rsa.EncryptPKCS1v15(rand.Reader, pub, secret)
			got, err = dec.Decrypt(nil, ct, nil)
			if tc.pkcsOK != (err == nil && string(got) == string(secret)) {
				t.Errorf("PKCS#1 v1.5: got %q, %v; want success=%v", got, err, tc.pkcsOK)
			}
		})
	}
}

// A new LDevID key and CSRs signed in the TPM (for RFC 9646).
func TestSimulatorCSR(t *testing.T) {
	dev := openSim(t)
	ctx := context.Background()
	for i, spec := range []KeySpec{
		{Algorithm: ECCP256, Hierarchy: Owner, Handle: 0x81020002, RandomUnique: true},
		{Algorithm: ECCP384, Hierarchy: Owner, Handle: 0x81020003, RandomUnique: true, FixedScheme: tpm2.TPMAlgECDSA},
		{Algorithm: RSA2048, Hierarchy: Owner, Handle: 0x81020004, RandomUnique: true, FixedScheme: tpm2.TPMAlgRSAPSS},
	} {
		if err := CreateKey(ctx, dev, spec, nil); err != nil {
			t.Fatalf("key %d: %v", i, err)
		}
		s, err := NewSigner(dev, spec.Handle, nil)
		if err != nil {
			t.Fatal(err)
		}
		der, err := CreateCSR(s, pkix.Name{SerialNumber: "SN-CSR", CommonName: "ldevid"})
		if err != nil {
			t.Fatalf("%s: %v", spec.Algorithm, err)
		}
		csr, err := x509.ParseCertificateRequest(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := csr.CheckSignature(); err != nil {
			t.Fatalf("%s CSR signature (%v): %v", spec.Algorithm, csr.SignatureAlgorithm, err)
		}
		if !publicKeysEqual(csr.PublicKey, s.Public()) {
			t.Fatal("CSR public key is not the TPM key")
		}
	}
	// Random unique values make distinct keys from the same template.
	if err := CreateKey(ctx, dev, KeySpec{Algorithm: ECCP256, Hierarchy: Owner, Handle: 0x81020002, RandomUnique: true}, nil); !errors.Is(err, ErrExists) {
		t.Fatalf("CreateKey over an existing key: %v, want ErrExists", err)
	}
	a, _ := NewSigner(dev, 0x81020002, nil)
	if err := CreateKey(ctx, dev, KeySpec{Algorithm: ECCP256, Hierarchy: Owner, Handle: 0x81020002, RandomUnique: true, Force: true}, nil); err != nil {
		t.Fatal(err)
	}
	b, _ := NewSigner(dev, 0x81020002, nil)
	if publicKeysEqual(a.Public(), b.Public()) {
		t.Fatal("forced re-creation with a random unique gave the same key")
	}
}

// A key whose user role needs a policy session (userWithAuth clear, as in
// some OEM templates) is refused when loaded, naming the reason, instead of
// failing later at the first TLS handshake or decryption with a TPM code.
func TestSimulatorPolicyOnlyKey(t *testing.T) {
	for _, usage := range []KeyUsage{UsageSign, UsageDecrypt} {
		t.Run(map[KeyUsage]string{UsageSign: "sign", UsageDecrypt: "decrypt"}[usage], func(t *testing.T) {
			dev := openSim(t)
			tmpl, err := KeySpec{Algorithm: ECCP256, Usage: usage}.template()
			if err != nil {
				t.Fatal(err)
			}
			tmpl.ObjectAttributes.UserWithAuth = false
			tmpl.ObjectAttributes.AdminWithPolicy = true
			tmpl.AuthPolicy = tpm2.TPM2BDigest{Buffer: make([]byte, 32)}
			cp, err := tpm2.CreatePrimary{
				PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHEndorsement, Auth: tpm2.PasswordAuth(nil)},
				InPublic:      tpm2.New2B(tmpl),
			}.Execute(dev)
			if err != nil {
				t.Fatal(err)
			}
			const handle = 0x81020010
			if _, err := (tpm2.EvictControl{
				Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
				ObjectHandle:     tpm2.NamedHandle{Handle: cp.ObjectHandle, Name: cp.Name},
				PersistentHandle: handle,
			}).Execute(dev); err != nil {
				t.Fatal(err)
			}
			if usage == UsageSign {
				_, err = NewSigner(dev, handle, nil)
			} else {
				_, _, err = OpenDecryptionKey(dev, handle)
			}
			if err == nil || !strings.Contains(err.Error(), "userWithAuth is clear") {
				t.Fatalf("loading a policy-only key: %v, want a refusal naming userWithAuth", err)
			}
		})
	}
}
