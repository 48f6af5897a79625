package trust_test

import (
	"bytes"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/smallstep/pkcs7"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// TestFirstFailingStepWins checks C37: with several faults, the earliest
// step of RFC 8572 5.4 is reported and nothing after it runs.
func TestFirstFailingStepWins(t *testing.T) {
	p, d := fixture(t)
	rogue, err := p.Issue(trusttest.Template("rogue", false), trusttest.P256, &p.OwnerCA)
	if err != nil {
		t.Fatal(err)
	}
	wrongCI, err := trusttest.Sign(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, rogue.Cert, rogue.Key, trusttest.SignOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		vo   trusttest.VoucherOptions
		ci   []byte
		want trust.Step
	}{
		{"tampered voucher and wrong serial", trusttest.VoucherOptions{Serial: "other", Sign: trusttest.SignOptions{Tamper: true}}, nil, trust.StepVoucherSignature},
		{"wrong serial and wrong conveyed signer", trusttest.VoucherOptions{Serial: "other"}, wrongCI, trust.StepSerialNumber},
		{"expired voucher and bad assertion", trusttest.VoucherOptions{Serial: d.Serial, Assertion: "none", ExpiresOn: time.Now().Add(-time.Hour)}, nil, trust.StepVoucherDates},
		{"nonce and wrong conveyed signer", trusttest.VoucherOptions{Serial: d.Serial, Nonce: []byte("12345678")}, wrongCI, trust.StepNonce},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, tc.vo)
			if err != nil {
				t.Fatal(err)
			}
			if tc.ci != nil {
				a.ConveyedInformation = tc.ci
			}
			var logs bytes.Buffer
			c := trusttest.Case{}
			opts := c.Options(p, d)
			opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			_, err = trust.Open(a, opts)
			if got := trust.StepOf(err); got != tc.want {
				t.Fatalf("step %q (%v), want %q", got, err, tc.want)
			}
			// No step after the failing one may have passed.
			after := false
			for _, s := range trust.Steps {
				if after && strings.Contains(logs.String(), "step="+string(s)) {
					t.Errorf("step %s ran after %s failed:\n%s", s, tc.want, logs.String())
				}
				if s == tc.want {
					after = true
				}
			}
		})
	}
}

// TestStepErrorAs checks that the step survives wrapping.
func TestStepErrorAs(t *testing.T) {
	p, d := fixture(t)
	a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: "nope"})
	if err != nil {
		t.Fatal(err)
	}
	c := trusttest.Case{}
	_, err = trust.Open(a, c.Options(p, d))
	wrapped := fmt.Errorf("engine: %w", err)
	var se *trust.StepError
	if !errors.As(wrapped, &se) || se.Step != trust.StepSerialNumber {
		t.Fatalf("errors.As(%v) did not find the serial-number step", wrapped)
	}
	if !strings.HasPrefix(err.Error(), "serial-number: ") {
		t.Errorf("error %q does not start with its step", err)
	}
}

// TestClockUntrustedIsLogged checks that skipped expiry checks are never
// silent (RFC 8572 9.1, C104).
func TestClockUntrustedIsLogged(t *testing.T) {
	p, d := fixture(t)
	a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: d.Serial, ExpiresOn: time.Now().Add(-time.Hour)})
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	c := trusttest.Case{ClockUntrusted: true}
	opts := c.Options(p, d)
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	res, err := trust.Open(a, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !res.ClockSkipped || !strings.Contains(logs.String(), "clock not trusted") {
		t.Fatalf("ClockSkipped=%v, log:\n%s", res.ClockSkipped, logs.String())
	}
	opts.ClockUntrusted = false
	if _, err := trust.Open(a, opts); trust.StepOf(err) != trust.StepVoucherDates {
		t.Fatalf("trusted clock: %v, want voucher-dates", err)
	}
}

func TestClockTrustworthy(t *testing.T) {
	build := time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{build.Add(-time.Second), false},
		{build, true},
		{build.AddDate(3, 0, 0), true},
	} {
		if got := trust.ClockTrustworthy(tc.now, build); got != tc.want {
			t.Errorf("ClockTrustworthy(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
	if trust.BuildTime().Before(time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)) {
		t.Errorf("BuildTime %v is before the compiled-in floor", trust.BuildTime())
	}
}

// TestTrustAnchor checks the "last certificate is the issuer" rule of
// RFC 8572 6.1, also when an encoder sorted the certificates.
func TestTrustAnchor(t *testing.T) {
	p, _ := fixture(t)
	inter, err := p.Issue(trusttest.Template("Server Issuing CA", true), trusttest.P256, &p.ServerCA)
	if err != nil {
		t.Fatal(err)
	}
	other, err := p.Issue(trusttest.Template("Unrelated CA", true), trusttest.P256, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		certs []*x509.Certificate
		want  *x509.Certificate
	}{
		{"root only", []*x509.Certificate{p.ServerCA.Cert}, p.ServerCA.Cert},
		{"root then issuer", []*x509.Certificate{p.ServerCA.Cert, inter.Cert}, inter.Cert},
		{"issuer then root (sorted)", []*x509.Certificate{inter.Cert, p.ServerCA.Cert}, inter.Cert},
		{"not one chain: last", []*x509.Certificate{p.ServerCA.Cert, other.Cert}, other.Cert},
	} {
		t.Run(tc.name, func(t *testing.T) {
			der, err := trusttest.CertsOnly(tc.certs)
			if err != nil {
				t.Fatal(err)
			}
			got, chain, err := trust.TrustAnchor(der)
			if err != nil {
				t.Fatal(err)
			}
			if !got.Equal(tc.want) || len(chain) != len(tc.certs) {
				t.Fatalf("picked %q, want %q", got.Subject, tc.want.Subject)
			}
			for i, c := range chain {
				if !c.Equal(tc.certs[i]) {
					t.Errorf("certificate %d out of order", i)
				}
			}
			pool, err := trust.TrustAnchorPool(der)
			if err != nil {
				t.Fatal(err)
			}
			server, _, err := p.IssueServer("127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			_, verr := server.Verify(x509.VerifyOptions{Roots: pool})
			if wantOK := tc.want.Equal(p.ServerCA.Cert); (verr == nil) != wantOK {
				t.Errorf("server certificate by ServerCA verified=%v against pool of %q", verr == nil, tc.want.Subject)
			}
		})
	}
	for _, bad := range [][]byte{nil, {0x30, 0x00}, mustWrap(t)} {
		if _, err := trust.ParseCertsOnly(bad); err == nil {
			t.Errorf("ParseCertsOnly(%x) succeeded", bad)
		}
	}
	signed, err := p.Voucher(trusttest.VoucherOptions{Serial: "x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trust.ParseCertsOnly(signed); err == nil || !strings.Contains(err.Error(), "signers") {
		t.Errorf("ParseCertsOnly of a signed CMS: %v, want a complaint about signers", err)
	}
}

func mustWrap(t *testing.T) []byte {
	b, err := trust.WrapUnsigned(trust.OIDData, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBER checks BER input: indefinite lengths and constructed OCTET
// STRINGs (C39 with BER), and that malformed lengths are rejected.
func TestBER(t *testing.T) {
	doc := []byte(`{"ietf-sztp-conveyed-info:redirect-information":{"bootstrap-server":[{"address":"a"}]}}`)
	der, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, doc)
	if err != nil {
		t.Fatal(err)
	}
	ber, err := trusttest.ToBER(der, 7)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(ber, der) {
		t.Fatal("ToBER changed nothing")
	}
	for _, tc := range []struct {
		name string
		in   []byte
		ok   bool
	}{
		{"DER", der, true},
		{"BER", ber, true},
		{"long-form length", append([]byte{0x30, 0x81, byte(len(der) - 2)}, der[2:]...), true},
		{"truncated BER", ber[:len(ber)-2], false},
		{"length past the end", append([]byte{0x30, 0x84, 0x7f, 0xff, 0xff, 0xff}, der[2:]...), false},
		{"indefinite primitive", []byte{0x04, 0x80, 0x01, 0x00, 0x00}, false},
		{"deep nesting", append(bytes.Repeat([]byte{0x30, 0x80}, 40), make([]byte, 80)...), false},
		{"empty", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, err := trust.Open(trust.Artifacts{ConveyedInformation: tc.in}, trust.Options{})
			if tc.ok {
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(res.Content, doc) {
					t.Fatalf("content %q", res.Content)
				}
				return
			}
			if trust.StepOf(err) != trust.StepParse {
				t.Fatalf("err %v, want a parse step error", err)
			}
		})
	}
}

// TestPKCS7Interop opens CMS made by github.com/smallstep/pkcs7, an encoder
// independent of trusttest, and checks trusttest's SignedData with its
// parser.
func TestPKCS7Interop(t *testing.T) {
	p, d := fixture(t)
	// Signed conveyed information (id-data, as pkcs7 always uses).
	sd, err := pkcs7.NewSignedData(trusttest.RedirectJSON)
	if err != nil {
		t.Fatal(err)
	}
	sd.SetDigestAlgorithm(pkcs7.OIDDigestAlgorithmSHA256)
	if err := sd.AddSigner(p.Owner.Cert, p.Owner.Key, pkcs7.SignerInfoConfig{}); err != nil {
		t.Fatal(err)
	}
	ci, err := sd.Finish()
	if err != nil {
		t.Fatal(err)
	}
	a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: d.Serial})
	if err != nil {
		t.Fatal(err)
	}
	a.ConveyedInformation = ci
	c := trusttest.Case{}
	res, err := trust.Open(a, c.Options(p, d))
	if err != nil {
		t.Fatalf("pkcs7-signed conveyed information: %v", err)
	}
	if !res.ContentType.Equal(trust.OIDData) || !bytes.Equal(res.Content, trusttest.RedirectJSON) {
		t.Fatalf("got %v %q", res.ContentType, res.Content)
	}
	// Degenerate certificate CMS.
	deg, err := pkcs7.DegenerateCertificate(p.Owner.Cert.Raw)
	if err != nil {
		t.Fatal(err)
	}
	if certs, err := trust.ParseCertsOnly(deg); err != nil || !certs[0].Equal(p.Owner.Cert) {
		t.Fatalf("pkcs7 degenerate certificate: %v", err)
	}
	// RSA key transport, AES-256-CBC, whole ContentInfo under id-data.
	pkcs7.ContentEncryptionAlgorithm = pkcs7.EncryptionAlgorithmAES256CBC
	unsigned, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, trusttest.OnboardingJSON)
	if err != nil {
		t.Fatal(err)
	}
	env, err := pkcs7.Encrypt(unsigned, []*x509.Certificate{d.RSA.Cert})
	if err != nil {
		t.Fatal(err)
	}
	rc := trusttest.Case{Key: "rsa"}
	res, err = trust.Open(trust.Artifacts{ConveyedInformation: env}, rc.Options(p, d))
	if err != nil {
		t.Fatalf("pkcs7-encrypted: %v", err)
	}
	if !res.Encrypted || !res.ContentType.Equal(trust.OIDSZTPConveyedInfoJSON) {
		t.Fatalf("encrypted=%v type=%v", res.Encrypted, res.ContentType)
	}
	// trusttest's SignedData, read by pkcs7.
	mine, err := p.SignConveyed(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON)
	if err != nil {
		t.Fatal(err)
	}
	p7, err := pkcs7.Parse(mine)
	if err != nil {
		t.Fatalf("pkcs7 cannot parse trusttest SignedData: %v", err)
	}
	if !bytes.Equal(p7.Content, trusttest.OnboardingJSON) {
		t.Fatal("pkcs7 sees other content")
	}
	p7.Certificates = []*x509.Certificate{p.Owner.Cert}
	if err := p7.Verify(); err != nil {
		t.Fatalf("pkcs7 does not verify trusttest's signature: %v", err)
	}
}

// TestTooManyCertificates checks the bound that keeps chain building
// cheap on hostile input.
func TestTooManyCertificates(t *testing.T) {
	p, _ := fixture(t)
	certs := make([]*x509.Certificate, 65)
	for i := range certs {
		certs[i] = p.Owner.Cert
	}
	der, err := trusttest.CertsOnly(certs)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := trust.ParseCertsOnly(der); err == nil || !strings.Contains(err.Error(), "more than 64") {
		t.Fatalf("ParseCertsOnly of 65 certificates: %v", err)
	}
	if _, err := trust.ParseCertsOnly(mustCertsOnly(t, certs[:64])); err != nil {
		t.Fatalf("64 certificates: %v", err)
	}
}

func mustCertsOnly(t *testing.T, certs []*x509.Certificate) []byte {
	der, err := trusttest.CertsOnly(certs)
	if err != nil {
		t.Fatal(err)
	}
	return der
}

// TestPartialResult checks that a failed Open says what it found but
// never hands out content.
func TestPartialResult(t *testing.T) {
	p, d := fixture(t)
	a, err := p.Artifacts(trusttest.OnboardingJSON, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: "other"})
	if err != nil {
		t.Fatal(err)
	}
	c := trusttest.Case{}
	res, err := trust.Open(a, c.Options(p, d))
	if err == nil || res == nil {
		t.Fatalf("Open = %v, %v; want a partial result and an error", res, err)
	}
	if !res.Signed || res.Content != nil || res.OwnerCertificate != nil || res.Voucher != nil {
		t.Fatalf("partial result %+v", res)
	}
}
