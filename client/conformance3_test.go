package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/x509"
	"errors"
	"net"
	"net/http"
	"slices"
	"sync"
	"testing"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

var (
	ownerOnce sync.Once
	ownerPKI  *trusttest.PKI
	ownerErr  error
)

// owner returns the manufacturer/owner PKI that signs vouchers and data.
func (e *env) owner() *trusttest.PKI {
	e.t.Helper()
	ownerOnce.Do(func() { ownerPKI, ownerErr = trusttest.New() })
	if ownerErr != nil {
		e.t.Fatal(ownerErr)
	}
	return ownerPKI
}

func (e *env) signed(ci *conveyed.ConveyedInformation, mod ...func(*sztptest.SignedOptions)) *sztptest.Response {
	o := sztptest.SignedOptions{PKI: e.owner(), Serial: testSerial, Nonce: true}
	for _, f := range mod {
		f(&o)
	}
	return &sztptest.Response{Build: sztptest.Signed(ci, o)}
}

func (e *env) signedConfig(urls ...string) client.Config {
	cfg := e.config(urls...)
	cfg.VoucherTrustAnchors = []*x509.Certificate{e.owner().ManufacturerCA.Cert}
	return cfg
}

// C15, C62: signed onboarding information from an untrusted server is
// acted on (it validates), but no progress report goes to that server.
func TestC15_SignedOnboardingFromUntrustedServerIsActedOn(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, e.signed(onboarding()))
	cfg := e.signedConfig(s.URL)
	cfg.ServerTrustAnchors = nil
	out, err := e.agent(cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Signed || out.Result != client.Bootstrapped {
		t.Errorf("outcome %+v", out)
	}
	if got, want := e.hooks.Steps(), []string{"fetch", "image", "pre", "config", "post"}; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	if r := s.Reports(); len(r) != 0 {
		t.Errorf("C62: reports to an untrusted server: %v", r)
	}
}

// C16, C21: signed data that does not validate is not acted on, even from
// a trusted server; trust-state becomes FALSE.
func TestC16_InvalidSignedDataFromTrustedServerIsRejected(t *testing.T) {
	for _, tc := range []struct {
		name string
		mod  func(*sztptest.SignedOptions)
	}{
		{"voucher for another serial number", func(o *sztptest.SignedOptions) { o.Serial = "SOMEONE-ELSE" }},
		{"tampered conveyed information", func(o *sztptest.SignedOptions) {
			o.Tamper = func(a *trust.Artifacts) { a.ConveyedInformation[len(a.ConveyedInformation)-1] ^= 1 }
		}},
		{"voucher without owner certificate", func(o *sztptest.SignedOptions) {
			o.Tamper = func(a *trust.Artifacts) { a.OwnerCertificate = a.OwnershipVoucher }
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.server()
			s.SetResponse(testSerial, e.signed(onboarding(), tc.mod))
			_, err := e.agent(e.signedConfig(s.URL)).RunOnce(context.Background())
			if !errors.Is(err, client.ErrRejected) {
				t.Fatalf("error %v, want ErrRejected", err)
			}
			if len(e.hooks.Steps()) != 0 || len(s.Reports()) != 0 {
				t.Errorf("acted on invalid signed data: steps %v reports %v", e.hooks.Steps(), s.Reports())
			}
		})
	}
}

// C23: a voucher that does not chain to a configured voucher anchor is
// rejected (no anchors configured at all here).
func TestC23_VoucherNeedsAVoucherAnchor(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, e.signed(onboarding()))
	cfg := e.config(s.URL) // no VoucherTrustAnchors
	if _, err := e.agent(cfg).RunOnce(context.Background()); !errors.Is(err, client.ErrRejected) {
		t.Fatalf("error %v, want ErrRejected", err)
	}
}

// C14: encrypted signed artifacts are decrypted with the device key.
func TestC14_EncryptedSignedData(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, e.signed(onboarding(), func(o *sztptest.SignedOptions) { o.EncryptTo = e.pki.Device.Cert }))
	cfg := e.signedConfig(s.URL)
	ek, err := e.pki.Device.Key.(*ecdsa.PrivateKey).ECDH()
	if err != nil {
		t.Fatal(err)
	}
	key := trust.NewECDHKey(ek)
	id := *cfg.Identity
	id.ECDH = key
	cfg.Identity = &id
	out, err := e.agent(cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if !out.Signed {
		t.Error("outcome not signed")
	}
}

// C47: in trusted redirect information an entry's trust-anchor
// authenticates the next server, which is then trusted (reports, unsigned
// onboarding accepted); an anchor that does not match fails the connection.
func TestC47_TrustedRedirectAnchorAuthenticatesNextServer(t *testing.T) {
	e := newEnv(t)
	ta, err := sztptest.CertsOnly(e.pki.ServerCA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	t.Run("match", func(t *testing.T) {
		e := newEnv(t)
		redir, onb := e.server(), e.server()
		redir.SetResponse(testSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
			BootstrapServers: []conveyed.BootstrapServer{{Address: onb.Host, Port: onb.Port, TrustAnchor: ta}}}}})
		onb.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
		if _, err := e.agent(e.config(redir.URL)).RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		if got := onb.ProgressTypes(); !slices.Equal(got, fullReports) {
			t.Errorf("reports %v", got)
		}
	})
	t.Run("mismatch", func(t *testing.T) {
		e := newEnv(t)
		other, _ := sztptest.NewCA("other CA", nil)
		wrong, _ := sztptest.CertsOnly(other.Cert)
		redir, onb := e.server(), e.server()
		redir.SetResponse(testSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
			BootstrapServers: []conveyed.BootstrapServer{{Address: onb.Host, Port: onb.Port, TrustAnchor: wrong}}}}})
		onb.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
		_, err := e.agent(e.config(redir.URL)).RunOnce(context.Background())
		if !errors.Is(err, client.ErrNotTrusted) {
			t.Errorf("error %v, want ErrNotTrusted", err)
		}
		if len(onb.Requests()) != 0 {
			t.Error("request sent to a server that failed its trust anchor")
		}
	})
}

// C82, C20: after an onboarding error the agent goes on with the next
// entry of the enclosing redirect list.
func TestC82_OnboardingErrorMovesToNextRedirectEntry(t *testing.T) {
	e := newEnv(t)
	ta, err := sztptest.CertsOnly(e.pki.ServerCA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	redir, bad, good := e.server(), e.server(), e.server(onIP("127.0.0.2"))
	redir.SetResponse(testSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
		BootstrapServers: []conveyed.BootstrapServer{{Address: bad.Host, Port: bad.Port, TrustAnchor: ta}, {Address: good.Host, Port: good.Port, TrustAnchor: ta}}}}})
	bad.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportStatus: map[conveyed.ProgressType]int{conveyed.BootstrapInitiated: http.StatusInternalServerError}})
	good.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	out, err := e.agent(e.config(redir.URL)).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out.Server != good.Addr {
		t.Errorf("bootstrapped from %s, want %s", out.Server, good.Addr)
	}
	if got := bad.ProgressTypes(); !slices.Equal(got, types(conveyed.BootstrapError)) {
		t.Errorf("first server reports %v, want [bootstrap-error]", got)
	}
}

// RFC 8572 5.3 (its figure): what a trusted or an untrusted
// bootstrap server may hand the device, for every combination of redirect
// or onboarding information, signed or unsigned.
func TestTrustStateMatrix_RFC8572_5_3(t *testing.T) {
	for _, tc := range []struct {
		name              string
		trusted, signed   bool
		redirect, allowed bool
	}{
		{"untrusted unsigned redirect", false, false, true, true},
		{"untrusted signed redirect", false, true, true, true},
		{"untrusted unsigned onboarding", false, false, false, false},
		{"untrusted signed onboarding", false, true, false, true},
		{"trusted unsigned redirect", true, false, true, true},
		{"trusted signed redirect", true, true, true, true},
		{"trusted unsigned onboarding", true, false, false, true},
		{"trusted signed onboarding", true, true, false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s, next := e.server(), e.server(onIP("127.0.0.3"))
			ci := onboarding()
			if tc.redirect {
				ci = redirectTo(next)
				// The target serves signed onboarding information, which is
				// acceptable even over a provisional connection.
				next.SetResponse(testSerial, e.signed(onboarding()))
			}
			if tc.signed {
				s.SetResponse(testSerial, e.signed(ci))
			} else {
				s.SetResponse(testSerial, &sztptest.Response{Conveyed: ci})
			}
			cfg := e.signedConfig(s.URL)
			if !tc.trusted {
				cfg.ServerTrustAnchors = nil
			}
			_, err := e.agent(cfg).RunOnce(context.Background())
			if (err == nil) != tc.allowed {
				t.Fatalf("error %v, want allowed=%v", err, tc.allowed)
			}
			if !tc.allowed && !errors.Is(err, client.ErrUntrustedOnboarding) {
				t.Errorf("error %v, want ErrUntrustedOnboarding", err)
			}
			if tc.redirect && len(next.Requests()) != 1 {
				t.Errorf("redirect target got %d requests, want 1", len(next.Requests()))
			}
			if reported := len(s.Reports()) > 0; reported != (tc.trusted && !tc.redirect) {
				t.Errorf("reports to the first server: %v (trusted %v)", s.ProgressTypes(), tc.trusted)
			}
		})
	}
}

// C47, RFC 8572 6.1: a redirect trust-anchor holds one chain up to a
// self-signed root, and its last certificate is the issuer of the next
// server's certificate. A server whose certificate the root issued
// directly (skipping the named issuer) is not authenticated.
func TestC47_TrustAnchorLastCertificateIsTheIssuer(t *testing.T) {
	root, err := sztptest.NewCA("redirect root", nil)
	if err != nil {
		t.Fatal(err)
	}
	issuer, err := sztptest.NewCA("redirect issuing CA", root)
	if err != nil {
		t.Fatal(err)
	}
	ta, err := sztptest.CertsOnly(root.Cert, issuer.Cert)
	if err != nil {
		t.Fatal(err)
	}
	ips := []net.IP{net.IPv4(127, 0, 0, 1)}
	for _, tc := range []struct {
		name  string
		by    *sztptest.KeyPair
		chain []*x509.Certificate
		ok    bool
	}{
		{"issued by the last certificate", issuer, []*x509.Certificate{issuer.Cert}, true},
		{"issued by the root directly", root, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			cert, err := sztptest.NewServerCert(tc.by, "localhost", nil, ips)
			if err != nil {
				t.Fatal(err)
			}
			redir := e.server()
			onb := e.server(func(o *sztptest.Options) { o.Certificate = cert.TLS(tc.chain...) })
			redir.SetResponse(testSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
				BootstrapServers: []conveyed.BootstrapServer{{Address: onb.Host, Port: onb.Port, TrustAnchor: ta}}}}})
			onb.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
			_, err = e.agent(e.config(redir.URL)).RunOnce(context.Background())
			if tc.ok && err != nil {
				t.Fatalf("bootstrap failed: %v", err)
			}
			if !tc.ok {
				if !errors.Is(err, client.ErrNotTrusted) {
					t.Fatalf("error %v, want ErrNotTrusted", err)
				}
				if n := len(onb.Requests()); n != 0 {
					t.Errorf("%d requests sent to a server its trust anchor does not authenticate", n)
				}
			}
		})
	}
}
