package tpm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"testing"

	"github.com/sztp/sztp/tpm/swtpmtest"
)

// openSWTPM provisions an IDevID with tpm2-tools and opens it with the agent's
// code, as `sztp run --tpm tcp://...` would.
func openSWTPM(t *testing.T, sw *swtpmtest.SWTPM, cfg Config) *Identity {
	t.Helper()
	cfg.Path = sw.Path
	id, err := OpenIdentity(context.Background(), cfg)
	if err != nil {
		t.Fatalf("OpenIdentity(%s): %v", sw.Path, err)
	}
	t.Cleanup(func() { id.Close() })
	return id
}

// RFC 8572 5.1 items 6-7: the IDevID key and certificate come from the TPM.
func TestSWTPMIdentityFromNV(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts swtpmtest.IDevIDOptions
	}{
		{name: "ecc-p256-platform-nv", opts: swtpmtest.IDevIDOptions{}},
		{name: "ecc-p384-alt-index", opts: swtpmtest.IDevIDOptions{Alg: "ecc384:null", CertIndex: AltCertIndex}},
		{name: "rsa2048-owner-nv", opts: swtpmtest.IDevIDOptions{Alg: "rsa2048:null", OwnerNV: true}},
		{name: "ecc-p256-fixed-ecdsa", opts: swtpmtest.IDevIDOptions{Alg: "ecc256:ecdsa-sha256"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			sw := swtpmtest.Start(t)
			want := sw.ProvisionIDevID(t, tc.opts)
			id := openSWTPM(t, sw, Config{})
			if !bytes.Equal(id.Certificate.Raw, want.CertDER) {
				t.Fatalf("certificate from %s differs from the one tpm2_nvwrite stored", id.CertSource)
			}
			wantSource := "nv:0x01c90000"
			if tc.opts.CertIndex == AltCertIndex {
				wantSource = "nv:0x01c90200"
			}
			if id.CertSource != wantSource {
				t.Errorf("CertSource = %q, want %q", id.CertSource, wantSource)
			}
			if sn := id.Certificate.Subject.SerialNumber; sn != "DPU-SN-0042" {
				t.Errorf("subject serialNumber = %q, want DPU-SN-0042", sn)
			}
			verifySign(t, id.Signer, crypto.SHA256, nil)
		})
	}
}

func TestSWTPMUnixSocket(t *testing.T) {
	sw := swtpmtest.StartUnix(t)
	d, err := Open(sw.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := CreateKey(context.Background(), d, KeySpec{Algorithm: ECCP256, Handle: DefaultIDevIDHandle}, nil); err != nil {
		t.Fatal(err)
	}
	s, err := NewSigner(d, DefaultIDevIDHandle, nil)
	if err != nil {
		t.Fatal(err)
	}
	verifySign(t, s, crypto.SHA256, nil)
}

// verifySign signs a digest through s and verifies it with the public key.
func verifySign(t *testing.T, s crypto.Signer, h crypto.Hash, pss *rsa.PSSOptions) {
	t.Helper()
	hh := h.New()
	hh.Write([]byte("sztp test message"))
	digest := hh.Sum(nil)
	var opts crypto.SignerOpts = h
	if pss != nil {
		opts = pss
	}
	sig, err := s.Sign(nil, digest, opts)
	if err != nil {
		t.Fatalf("Sign(%v): %v", h, err)
	}
	switch pub := s.Public().(type) {
	case *ecdsa.PublicKey:
		if !ecdsa.VerifyASN1(pub, digest, sig) {
			t.Fatalf("ECDSA %v signature does not verify", h)
		}
	case *rsa.PublicKey:
		if pss != nil {
			err = rsa.VerifyPSS(pub, h, digest, sig, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash})
		} else {
			err = rsa.VerifyPKCS1v15(pub, h, digest, sig)
		}
		if err != nil {
			t.Fatalf("RSA %v signature does not verify: %v", h, err)
		}
	default:
		t.Fatalf("unexpected public key %T", pub)
	}
}
