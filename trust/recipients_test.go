package trust_test

import (
	"context"
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// countingDecrypter counts the RSA decryptions (in a TPM, each is a slow
// command): a fake for a unit test of which recipients are tried.
type countingDecrypter struct {
	crypto.Decrypter
	n atomic.Int64
}

func (c *countingDecrypter) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Decrypter.Decrypt(r, msg, opts)
}

// countingECDH counts the key agreements.
type countingECDH struct {
	trust.ECDHKey
	n atomic.Int64
}

func (c *countingECDH) ECDH(peer *ecdh.PublicKey) ([]byte, error) {
	c.n.Add(1)
	return c.ECDHKey.ECDH(peer)
}

var (
	otherKeysOnce        sync.Once
	otherRSA             *rsa.PrivateKey
	otherEC              *ecdsa.PrivateKey
	otherRSAErr, otherEE error
)

// others returns n certificate stand-ins of another device: the device's
// issuer, other serial numbers and subject key identifiers, and another key
// of the same type and size as like's.
func others(t *testing.T, like *x509.Certificate, n int) []*x509.Certificate {
	t.Helper()
	otherKeysOnce.Do(func() {
		otherRSA, otherRSAErr = rsa.GenerateKey(rand.Reader, 2048)
		otherEC, otherEE = ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	})
	if otherRSAErr != nil || otherEE != nil {
		t.Fatal(otherRSAErr, otherEE)
	}
	var pub crypto.PublicKey = &otherRSA.PublicKey
	if _, ok := like.PublicKey.(*ecdsa.PublicKey); ok {
		pub = &otherEC.PublicKey
	}
	out := make([]*x509.Certificate, n)
	for i := range out {
		out[i] = &x509.Certificate{
			RawIssuer:    like.RawIssuer,
			SerialNumber: big.NewInt(int64(1_000_000 + i)),
			SubjectKeyId: []byte{0xee, byte(i >> 8), byte(i)},
			PublicKey:    pub,
		}
	}
	return out
}

// recipientsCase is one device key with its certificate.
type recipientsCase struct {
	name  string
	cert  func(*trusttest.Device) *x509.Certificate
	setup func(*trusttest.Device, *trust.Options) func() int64 // sets the key, returns its counter
}

var recipientKeys = []recipientsCase{
	{"rsa", func(d *trusttest.Device) *x509.Certificate { return d.RSA.Cert }, func(d *trusttest.Device, o *trust.Options) func() int64 {
		c := &countingDecrypter{Decrypter: d.RSA.Key.(crypto.Decrypter)}
		o.Decrypter, o.ECDH = c, nil
		return c.n.Load
	}},
	{"ec", func(d *trusttest.Device) *x509.Certificate { return d.IDevID.Cert }, func(d *trusttest.Device, o *trust.Options) func() int64 {
		k, err := d.IDevID.Key.(*ecdsa.PrivateKey).ECDH()
		if err != nil {
			panic(err)
		}
		c := &countingECDH{ECDHKey: trust.NewECDHKey(k)}
		o.Decrypter, o.ECDH = nil, c
		return c.n.Load
	}},
}

// TestHardening10_2_ManyRecipientsDeviceLast: an artifact with 2000
// recipients, the device's last, opens every time with one key operation.
// Before, every recipient was tried (2000 TPM operations), and a wrong
// recipient's random PKCS#1 v1.5 key made a "plausible" plaintext about
// once in 21,000 tries, whose parse error ended the search: 5 of 30 runs
// failed (issue 10 item 2).
func TestHardening10_2_ManyRecipientsDeviceLast(t *testing.T) {
	p, d := fixture(t)
	runs := 200
	if testing.Short() {
		runs = 20
	}
	for _, k := range recipientKeys {
		for _, ski := range []bool{false, true} {
			name := k.name + "/issuer-serial"
			if ski {
				name = k.name + "/subject-key-id"
			}
			runs := runs
			if name != "rsa/issuer-serial" {
				runs /= 10 // the same code; the first is the reported case
			}
			t.Run(name, func(t *testing.T) {
				mine := k.cert(d)
				recips := append(others(t, mine, 1999), mine)
				env, err := trusttest.EncryptToAll(recips, trusttest.RedirectJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.EncryptOptions{SubjectKeyID: ski})
				if err != nil {
					t.Fatal(err)
				}
				c := trusttest.Case{}
				opts := c.Options(p, d)
				opts.IDevID = mine
				count := k.setup(d, &opts)
				for i := range runs {
					res, err := trust.Open(trust.Artifacts{ConveyedInformation: env}, opts)
					if err != nil {
						t.Fatalf("run %d: %v", i, err)
					}
					if string(res.Content) != string(trusttest.RedirectJSON) {
						t.Fatalf("run %d: content %q", i, res.Content)
					}
					if n := count(); n != int64(i+1) {
						t.Fatalf("run %d: %d key operations so far, want %d (one per run)", i, n, i+1)
					}
				}
			})
		}
	}
}

// TestHardening10_2_RecipientCap: recipients that may be the device's (no
// certificate of the key is known, or they name the device but hold another
// key's encryption) are tried at most trust.MaxRecipientTries times, and the
// error is short and names the cap; recipients that name another
// certificate cost no key operation at all (issue 10 item 2).
func TestHardening10_2_RecipientCap(t *testing.T) {
	p, d := fixture(t)
	for _, k := range recipientKeys {
		mine := k.cert(d)
		// Recipient stand-ins that name the device but hold another key.
		naming := others(t, mine, 40)
		for i := range naming {
			naming[i] = &x509.Certificate{RawIssuer: mine.RawIssuer, SerialNumber: mine.SerialNumber, PublicKey: naming[i].PublicKey}
		}
		for _, tc := range []struct {
			name      string
			recips    []*x509.Certificate
			noCert    bool
			wantTries int64
			wantCap   bool
		}{
			{"17 unknown", others(t, mine, 17), true, trust.MaxRecipientTries, true},
			{"40 unknown", others(t, mine, 40), true, trust.MaxRecipientTries, true},
			{"16 unknown", others(t, mine, 16), true, 16, false},
			{"40 naming the device", naming, false, trust.MaxRecipientTries, true},
			{"2000 of another device", others(t, mine, 2000), false, 0, false},
		} {
			t.Run(k.name+"/"+tc.name, func(t *testing.T) {
				// OAEP: a wrong key is an error, not a random key.
				env, err := trusttest.EncryptToAll(tc.recips, trusttest.RedirectJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.EncryptOptions{OAEP: true})
				if err != nil {
					t.Fatal(err)
				}
				c := trusttest.Case{}
				opts := c.Options(p, d)
				opts.IDevID = mine
				if tc.noCert {
					opts.IDevID = nil
				}
				count := k.setup(d, &opts)
				_, err = trust.Open(trust.Artifacts{ConveyedInformation: env}, opts)
				if trust.StepOf(err) != trust.StepDecrypt {
					t.Fatalf("Open = %v, want a decrypt step error", err)
				}
				if n := count(); n != tc.wantTries {
					t.Fatalf("%d key operations, want %d", n, tc.wantTries)
				}
				msg := err.Error()
				if len(msg) > 700 {
					t.Fatalf("error of %d bytes: %s", len(msg), msg)
				}
				if got := strings.Contains(msg, "at most 16 are tried"); got != tc.wantCap {
					t.Fatalf("error names the cap = %v, want %v: %s", got, tc.wantCap, msg)
				}
				t.Log(msg)
			})
		}
	}
}

// TestHardening10_2_ContextStopsDecryption: a cancelled Options.Context
// stops decryption before any key operation (issue 10 item 2).
func TestHardening10_2_ContextStopsDecryption(t *testing.T) {
	p, d := fixture(t)
	for _, k := range recipientKeys {
		t.Run(k.name, func(t *testing.T) {
			mine := k.cert(d)
			env, err := trusttest.EncryptToAll([]*x509.Certificate{mine}, trusttest.RedirectJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.EncryptOptions{})
			if err != nil {
				t.Fatal(err)
			}
			c := trusttest.Case{}
			opts := c.Options(p, d)
			opts.IDevID = mine
			count := k.setup(d, &opts)
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			opts.Context = ctx
			if _, err := trust.Open(trust.Artifacts{ConveyedInformation: env}, opts); !errors.Is(err, context.Canceled) {
				t.Fatalf("Open with a cancelled context = %v, want context.Canceled", err)
			}
			if n := count(); n != 0 {
				t.Fatalf("%d key operations after cancellation", n)
			}
			opts.Context = context.Background()
			if _, err := trust.Open(trust.Artifacts{ConveyedInformation: env}, opts); err != nil {
				t.Fatalf("Open with a live context: %v", err)
			}
		})
	}
}
