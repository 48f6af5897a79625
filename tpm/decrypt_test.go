package tpm

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/rand"
	"crypto/rsa"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/sztp/sztp/internal/testenv"
	"github.com/sztp/sztp/tpm/swtpmtest"
)

const decHandle = 0x81010010

// Encrypted artifacts (RFC 8572 5.1 item 7): openssl encrypts to the TPM-held
// RSA key; the agent decrypts through crypto.Decrypter without the private
// key leaving the TPM.
func TestSWTPMRSADecryptOpenSSL(t *testing.T) {
	testenv.NeedCommands(t, "openssl")
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{})
	pubFile := sw.ProvisionDecryptionKey(t, "rsa2048:null", decHandle)
	id := openSWTPM(t, sw, Config{DecryptionKeyHandle: decHandle})
	if id.Decrypter == nil || id.ECDH != nil {
		t.Fatalf("RSA decryption key gave Decrypter=%v ECDH=%v", id.Decrypter, id.ECDH)
	}
	secret := []byte("content-encryption key 0123456789abcdef")
	in := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(in, secret, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		args []string
		opts any
	}{
		{"pkcs1v15", []string{"-pkeyopt", "rsa_padding_mode:pkcs1"}, nil},
		{"oaep-sha1", []string{"-pkeyopt", "rsa_padding_mode:oaep"}, &rsa.OAEPOptions{Hash: crypto.SHA1}},
		{"oaep-sha256", []string{"-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256", "-pkeyopt", "rsa_mgf1_md:sha256"}, &rsa.OAEPOptions{Hash: crypto.SHA256}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := in + "." + tc.name
			args := append([]string{"pkeyutl", "-encrypt", "-pubin", "-inkey", pubFile, "-in", in, "-out", out}, tc.args...)
			if b, err := exec.Command("openssl", args...).CombinedOutput(); err != nil {
				t.Fatalf("openssl %v: %v\n%s", args, err, b)
			}
			ct, err := os.ReadFile(out)
			if err != nil {
				t.Fatal(err)
			}
			var got []byte
			if o, ok := tc.opts.(*rsa.OAEPOptions); ok {
				got, err = id.Decrypter.Decrypt(nil, ct, o)
			} else {
				got, err = id.Decrypter.Decrypt(nil, ct, nil)
			}
			if err != nil {
				t.Fatalf("Decrypt: %v", err)
			}
			if !bytes.Equal(got, secret) {
				t.Fatalf("decrypted %q, want %q", got, secret)
			}
		})
	}
	// Go-side encryption too, and the Bleichenbacher-safe session key mode.
	ct, err := rsa.EncryptPKCS1v15(rand.Reader, id.Decrypter.Public().(*rsa.PublicKey), secret[:16])
	if err != nil {
		t.Fatal(err)
	}
	got, err := id.Decrypter.Decrypt(nil, ct, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 16})
	if err != nil || !bytes.Equal(got, secret[:16]) {
		t.Fatalf("session key decrypt = %x, %v; want %x", got, err, secret[:16])
	}
	ct[10] ^= 0xff
	got, err = id.Decrypter.Decrypt(nil, ct, &rsa.PKCS1v15DecryptOptions{SessionKeyLen: 16})
	if err != nil || len(got) != 16 || bytes.Equal(got, secret[:16]) {
		t.Fatalf("corrupt session key decrypt = %x, %v; want 16 random bytes and no error", got, err)
	}
	if _, err := id.Decrypter.Decrypt(nil, ct, nil); err == nil {
		t.Fatal("corrupt ciphertext decrypted without error")
	}
	label := &rsa.OAEPOptions{Hash: crypto.SHA256, Label: []byte("no-nul")}
	if _, err := id.Decrypter.Decrypt(nil, ct, label); err == nil {
		t.Fatal("OAEP label without a trailing zero byte was accepted")
	}
}

// ECDH key agreement in the TPM (TPM2_ECDH_ZGen) equals Go's own ECDH with
// an ephemeral key, for the key tpm2-tools made.
func TestSWTPMECDHZGen(t *testing.T) {
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{})
	sw.ProvisionDecryptionKey(t, "ecc256:null", decHandle)
	id := openSWTPM(t, sw, Config{DecryptionKeyHandle: decHandle})
	if id.ECDH == nil || id.Decrypter != nil {
		t.Fatalf("ECC decryption key gave Decrypter=%v ECDH=%v", id.Decrypter, id.ECDH)
	}
	checkECDH(t, id.ECDH)
}

func checkECDH(t *testing.T, k ECDHKey) {
	t.Helper()
	curve := k.Public().Curve()
	for i := 0; i < 3; i++ {
		eph, err := curve.GenerateKey(rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		want, err := eph.ECDH(k.Public())
		if err != nil {
			t.Fatal(err)
		}
		got, err := k.ECDH(eph.PublicKey())
		if err != nil {
			t.Fatalf("TPM ECDH: %v", err)
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("TPM Z = %x, Go Z = %x", got, want)
		}
	}
	other := ecdh.P384()
	if curve == ecdh.P384() {
		other = ecdh.P256()
	}
	eph, _ := other.GenerateKey(rand.Reader)
	if _, err := k.ECDH(eph.PublicKey()); err == nil {
		t.Fatal("ECDH with a peer key on another curve succeeded")
	}
}

// The IDevID (sign-only) refuses to be used as a decryption key.
func TestSWTPMDecryptionKeyMustDecrypt(t *testing.T) {
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{})
	_, err := OpenIdentity(context.Background(), Config{Path: sw.Path, DecryptionKeyHandle: DefaultIDevIDHandle})
	if err == nil {
		t.Fatal("a signing key was accepted as decryption key")
	}
}
