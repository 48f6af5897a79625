package trust_test

import (
	"bytes"
	"crypto/rand"
	"crypto/rsa"
	"math/big"
	"testing"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// TestRSAPKCS1v15NoOracle checks that a PKCS#1 v1.5 key transport whose
// padding is wrong fails exactly like one whose padding is right but holds
// a key of the wrong length (and like one encrypted to another key): the
// error must not tell a Bleichenbacher attacker which padding was valid
// (C14, RFC 3218).
func TestRSAPKCS1v15NoOracle(t *testing.T) {
	p, d := fixture(t)
	env, err := trusttest.EncryptWith(d.RSA.Cert, trusttest.RedirectJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.EncryptOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pub := d.RSA.Cert.PublicKey.(*rsa.PublicKey)
	k := pub.Size()
	// The encrypted key is the only OCTET STRING of the modulus size.
	hdr := []byte{0x04, 0x82, byte(k >> 8), byte(k)}
	at := bytes.Index(env, hdr)
	if at < 0 || bytes.Index(env[at+1:], hdr) >= 0 {
		t.Fatalf("cannot locate the %d-octet encrypted key", k)
	}
	with := func(encKey []byte) []byte {
		b := bytes.Clone(env)
		copy(b[at+len(hdr):], encKey)
		return b
	}
	// Bad padding: textbook RSA of a block that does not start 00 02.
	m := new(big.Int).SetBytes(bytes.Repeat([]byte{0x42}, k-1))
	badPadding := new(big.Int).Exp(m, big.NewInt(int64(pub.E)), pub.N).FillBytes(make([]byte, k))
	// Good padding, wrong key length.
	shortKey, err := rsa.EncryptPKCS1v15(rand.Reader, pub, []byte("short"))
	if err != nil {
		t.Fatal(err)
	}
	c := trusttest.Case{Key: "rsa"}
	opts := c.Options(p, d)
	if _, err := trust.Open(trust.Artifacts{ConveyedInformation: env}, opts); err != nil {
		t.Fatalf("unaltered envelope: %v", err)
	}
	var msgs []string
	for _, encKey := range [][]byte{badPadding, shortKey} {
		for range 3 { // random keys: the outcome must not depend on them
			_, err := trust.Open(trust.Artifacts{ConveyedInformation: with(encKey)}, opts)
			if trust.StepOf(err) != trust.StepDecrypt {
				t.Fatalf("altered key transport: %v, want a decrypt step error", err)
			}
			msgs = append(msgs, err.Error())
		}
	}
	for _, m := range msgs[1:] {
		if m != msgs[0] {
			t.Fatalf("errors differ, a padding oracle:\n%s\n%s", msgs[0], m)
		}
	}
	t.Log(msgs[0])
}

// TestGCMTagChecked checks that AuthEnvelopedData content whose tag or
// ciphertext was altered is rejected (RFC 5083), for both key kinds.
func TestGCMTagChecked(t *testing.T) {
	p, d := fixture(t)
	for _, key := range []string{"rsa", "ec"} {
		recip := d.RSA.Cert
		if key == "ec" {
			recip = d.IDevID.Cert
		}
		env, err := trusttest.EncryptWith(recip, trusttest.RedirectJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.EncryptOptions{GCM: true})
		if err != nil {
			t.Fatal(err)
		}
		c := trusttest.Case{Key: key}
		opts := c.Options(p, d)
		if _, err := trust.Open(trust.Artifacts{ConveyedInformation: env}, opts); err != nil {
			t.Fatalf("%s: unaltered: %v", key, err)
		}
		// The MAC is the last field: its last octet is the envelope's last.
		tag := bytes.Clone(env)
		tag[len(tag)-1] ^= 1
		// The ciphertext ends just before the 16-octet MAC's header.
		body := bytes.Clone(env)
		body[len(body)-16-2-1] ^= 1
		for name, b := range map[string][]byte{"tag": tag, "ciphertext": body} {
			if _, err := trust.Open(trust.Artifacts{ConveyedInformation: b}, opts); trust.StepOf(err) != trust.StepDecrypt {
				t.Errorf("%s: altered %s: %v, want a decrypt step error", key, name, err)
			}
		}
	}
}
