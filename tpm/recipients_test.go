package tpm

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/x509"
	"errors"
	"io"
	"math/big"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/sztp/sztp/tpm/swtpmtest"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// tpmCounter counts the TPM2_RSA_Decrypt commands trust.Open sends.
type tpmCounter struct {
	crypto.Decrypter
	n atomic.Int64
}

func (c *tpmCounter) Decrypt(r io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	c.n.Add(1)
	return c.Decrypter.Decrypt(r, msg, opts)
}

// TestHardening10_2_SWTPMRecipients: with the decryption key in a TPM (and
// no certificate of it known to the agent), the recipient named by the
// key's subject key identifier is tried first, so an artifact with many
// recipients opens with one TPM decryption; recipients that may be the
// device's are tried at most trust.MaxRecipientTries times; a cancelled
// context sends no TPM command (issue 10 item 2).
func TestHardening10_2_SWTPMRecipients(t *testing.T) {
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{})
	sw.ProvisionDecryptionKey(t, "rsa2048:null", decHandle)
	id := openSWTPM(t, sw, Config{DecryptionKeyHandle: decHandle})
	pub := id.Decrypter.Public().(*rsa.PublicKey)
	ski := sha1.Sum(x509.MarshalPKCS1PublicKey(pub))
	mine := &x509.Certificate{RawIssuer: id.Certificate.RawIssuer, SerialNumber: big.NewInt(7), SubjectKeyId: ski[:], PublicKey: pub}
	other, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	var others []*x509.Certificate
	for i := range 40 {
		others = append(others, &x509.Certificate{RawIssuer: id.Certificate.RawIssuer, SerialNumber: big.NewInt(int64(100 + i)), SubjectKeyId: []byte{0xee, byte(i)}, PublicKey: &other.PublicKey})
	}
	doc := []byte(`{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"sztp.example"}]}}`)
	for _, tc := range []struct {
		name     string
		recips   []*x509.Certificate
		cancel   bool
		wantOps  int64
		wantErr  string
		wantOpen bool
	}{
		{"device last of 41", append(others[:40:40], mine), false, 1, "", true},
		{"40 others", others, false, trust.MaxRecipientTries, "at most 16 are tried", false},
		{"cancelled", []*x509.Certificate{mine}, true, 0, "context canceled", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			env, err := trusttest.EncryptToAll(tc.recips, doc, trust.OIDSZTPConveyedInfoJSON, trusttest.EncryptOptions{SubjectKeyID: true, OAEP: true})
			if err != nil {
				t.Fatal(err)
			}
			dec := &tpmCounter{Decrypter: id.Decrypter}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tc.cancel {
				cancel()
			}
			res, err := trust.Open(trust.Artifacts{ConveyedInformation: env}, trust.Options{IDevID: id.Certificate, Decrypter: dec, Context: ctx})
			if tc.wantOpen {
				if err != nil || string(res.Content) != string(doc) {
					t.Fatalf("Open = %v; want the document", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("Open = %v, want an error with %q", err, tc.wantErr)
			}
			if tc.cancel && !errors.Is(err, context.Canceled) {
				t.Fatalf("Open = %v, want context.Canceled", err)
			}
			if n := dec.n.Load(); n != tc.wantOps {
				t.Fatalf("%d TPM decryptions, want %d", n, tc.wantOps)
			}
		})
	}
}
