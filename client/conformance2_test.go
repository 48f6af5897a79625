package client_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/trust"
)

// C8: trust-state starts FALSE for each candidate: a trusted first server
// that fails does not make the next, unauthenticated one trusted.
func TestC8_TrustStateResetsPerAttempt(t *testing.T) {
	e := newEnv(t)
	trusted := e.server()
	trusted.SetResponse(testSerial, &sztptest.Response{Fault: &sztptest.Fault{Status: http.StatusInternalServerError}})
	other, err := sztptest.NewCA("unknown CA", nil)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := sztptest.NewServerCert(other, "localhost", nil, []net.IP{net.IPv4(127, 0, 0, 1)})
	untrusted := e.server(func(o *sztptest.Options) { o.Certificate = cert.TLS() })
	untrusted.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	_, err = e.agent(e.config(trusted.URL, untrusted.URL)).RunOnce(context.Background())
	if !errors.Is(err, client.ErrUntrustedOnboarding) {
		t.Fatalf("error %v, want ErrUntrustedOnboarding from the second server", err)
	}
	if len(untrusted.Reports()) != 0 || len(e.hooks.Steps()) != 0 {
		t.Error("acted on data from the unauthenticated server")
	}
}

// C18: unsigned onboarding information read directly from an untrusted
// source (removable storage, DNS) is never acted on.
func TestC18_UnsignedOnboardingFromUntrustedSourceIsRejected(t *testing.T) {
	e := newEnv(t)
	doc, err := onboarding().Encode(conveyed.JSON)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, doc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.Sources = []client.Source{client.FuncSource{Label: "usb", Func: func(context.Context) ([]client.Candidate, error) {
		return []client.Candidate{{Artifacts: &trust.Artifacts{ConveyedInformation: ci}}}, nil
	}}}
	if _, err := e.agent(cfg).RunOnce(context.Background()); !errors.Is(err, client.ErrUntrustedOnboarding) {
		t.Fatalf("error %v, want ErrUntrustedOnboarding", err)
	}
	if len(e.hooks.Steps()) != 0 {
		t.Errorf("steps ran: %v", e.hooks.Steps())
	}
}

// C90: a URI learned from DHCP is contacted provisionally even when its
// certificate would validate: its unsigned onboarding information is
// rejected, and it gets only signed-data-preferred.
func TestC90_DHCPServersAreProvisional(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config()
	cfg.Sources = []client.Source{client.URLSource{Label: "dhcp", URLs: []string{s.URL}, Mode: client.Provisional}}
	_, err := e.agent(cfg).RunOnce(context.Background())
	if !errors.Is(err, client.ErrUntrustedOnboarding) || !strings.Contains(err.Error(), "contacted provisionally") {
		t.Fatalf("error %v, want ErrUntrustedOnboarding saying why", err)
	}
	if r := s.Requests(); len(r) != 1 || !r[0].GBD.SignedDataPreferred {
		t.Errorf("requests %+v", r)
	}
}

// C49: trust anchors in untrusted redirect information are discarded and
// the next server is contacted provisionally.
func TestC49_UntrustedRedirectDiscardsTrustAnchors(t *testing.T) {
	e := newEnv(t)
	redir, onb := e.server(), e.server()
	ta, err := sztptest.CertsOnly(e.pki.ServerCA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	redir.SetResponse(testSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
		BootstrapServers: []conveyed.BootstrapServer{{Address: onb.Host, Port: onb.Port, TrustAnchor: ta}}}}})
	onb.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(redir.URL)
	cfg.ServerTrustAnchors = nil // the redirect server is untrusted
	if _, err := e.agent(cfg).RunOnce(context.Background()); !errors.Is(err, client.ErrUntrustedOnboarding) {
		t.Fatalf("error %v, want ErrUntrustedOnboarding", err)
	}
	if r := onb.Requests(); len(r) != 1 || !r[0].GBD.SignedDataPreferred {
		t.Errorf("onboarding server requests %+v, want one provisional request", r)
	}
	if len(onb.Reports()) != 0 {
		t.Error("reports sent to a provisionally connected server")
	}
}

// C46: every address of a host name is tried in order; the first that
// returns data is processed and the rest are skipped.
func TestC46_AllAddressesTriedThenFirstAnswerWins(t *testing.T) {
	e := newEnv(t)
	cert, err := sztptest.NewServerCert(e.pki.ServerCA, "multi.test", []string{"multi.test"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := e.server(func(o *sztptest.Options) { o.Certificate = cert.TLS() })
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config("https://multi.test:" + portOf(s))
	var looked []string
	cfg.LookupHost = func(_ context.Context, host string) ([]string, error) {
		looked = append(looked, host)
		// 127.0.0.2 refuses: the server listens on 127.0.0.1 only.
		return []string{"127.0.0.2", "127.0.0.1", "127.0.0.1"}, nil
	}
	out, err := e.agent(cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out.Result != client.Bootstrapped || !slices.Equal(looked, []string{"multi.test"}) {
		t.Errorf("result %v, lookups %v", out.Result, looked)
	}
	if n := countRPC(s, "get-bootstrapping-data"); n != 1 {
		t.Errorf("%d get-bootstrapping-data requests, want 1 (later addresses skipped)", n)
	}
}

// C68: a parse error in onboarding information from a trusted server is
// reported as parsing-error.
func TestC68_ParseErrorIsReported(t *testing.T) {
	e := newEnv(t)
	ci, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, []byte(`{"ietf-sztp-conveyed-info:onboarding-information":{"boot-image":5}}`))
	if err != nil {
		t.Fatal(err)
	}
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Output: &conveyed.GetBootstrappingDataOutput{ConveyedInformation: ci}})
	if _, err := e.agent(e.config(s.URL)).RunOnce(context.Background()); err == nil {
		t.Fatal("malformed onboarding information accepted")
	}
	if got, want := s.ProgressTypes(), types(conveyed.BootstrapInitiated, conveyed.ParsingError); !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
}

// C69: when nothing clears SZTP (no state directory), bootstrap-warning
// precedes bootstrap-complete.
func TestC69_BootstrapWarningWhenSZTPStaysEnabled(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.State = nil
	if _, err := e.agent(cfg).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := types(conveyed.BootstrapInitiated, conveyed.BootstrapWarning, conveyed.BootstrapComplete)
	if got := s.ProgressTypes(); !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
}

// C69: the run-once record is what turns SZTP off after a bootstrap. When
// it cannot be written, SZTP stays enabled, and the server is told so with
// bootstrap-warning before bootstrap-complete; the bootstrap itself (already
// applied) is not redone.
func TestC69_BootstrapWarningWhenRunOnceCannotBeRecorded(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	// A directory where the record goes makes writing it fail.
	e.hooks.onStep = func(step string) {
		if step == "post" {
			os.Mkdir(filepath.Join(cfg.State.Dir, "completed.json"), 0o700)
		}
	}
	out, err := e.agent(cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if out.Result != client.Bootstrapped {
		t.Errorf("result %q", out.Result)
	}
	want := types(conveyed.BootstrapInitiated, conveyed.BootstrapWarning, conveyed.BootstrapComplete)
	if got := s.ProgressTypes(); !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
	if r := s.Reports(); len(r) == 3 && !strings.Contains(r[1].Message, "SZTP remains enabled") {
		t.Errorf("bootstrap-warning message %q", r[1].Message)
	}
}

// C69: with the run-once record written, SZTP is off and no
// bootstrap-warning is sent.
func TestC69_NoWarningWhenRunOnceIsRecorded(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	if _, err := e.agent(e.config(s.URL)).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.ProgressTypes(); !slices.Equal(got, fullReports) {
		t.Errorf("reports %v, want %v", got, fullReports)
	}
	if c, err := e.store().Completed(); c == nil || err != nil || c.Source != "test" || c.Server != s.Addr {
		t.Errorf("run-once record %+v (%v)", c, err)
	}
}

// C75: before rebooting into a new image the device reports
// boot-image-installed-rebooting and records what it expects; the next run
// finds the image in place and carries on to bootstrap-complete.
func TestC75_RebootAndResume(t *testing.T) {
	e := newEnv(t)
	e.hooks.reboot = true
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.OSName, cfg.OSVersion = "TestOS", "1.0"
	out, err := e.agent(cfg).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out.Result != client.Rebooting || !e.hooks.rebooted {
		t.Fatalf("result %v rebooted %v", out.Result, e.hooks.rebooted)
	}
	if got, want := s.ProgressTypes(), types(conveyed.BootstrapInitiated, conveyed.BootImageInstalledRebooting); !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
	if p, _ := cfg.State.PendingReboot(); p == nil || p.OSVersion != "2.0" {
		t.Errorf("pending reboot record %+v", p)
	}
	if c, _ := cfg.State.Completed(); c != nil {
		t.Error("run-once recorded before the bootstrap completed")
	}
	// After the reboot the device runs TestOS 2.0.
	cfg.OSVersion = "2.0"
	e.hooks.steps = nil
	out, err = e.agent(cfg).RunOnce(context.Background())
	if err != nil || out.Result != client.Bootstrapped {
		t.Fatalf("after reboot: %v %v", out, err)
	}
	if got, want := e.hooks.Steps(), []string{"pre", "config", "post"}; !slices.Equal(got, want) {
		t.Errorf("steps after reboot %v, want %v", got, want)
	}
	if p, _ := cfg.State.PendingReboot(); p != nil {
		t.Errorf("pending reboot record kept: %+v", p)
	}
}

// Issue 6: if the expected image is not running after the reboot, that is
// a boot-image-error.
func TestC75_WrongImageAfterRebootIsAnError(t *testing.T) {
	e := newEnv(t)
	e.hooks.reboot = true
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.OSName, cfg.OSVersion = "TestOS", "1.0"
	if _, err := e.agent(cfg).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	// Still 1.0 after the reboot.
	_, err := e.agent(cfg).RunOnce(context.Background())
	var se *client.StepError
	if !errors.As(err, &se) || se.Report != conveyed.BootImageError {
		t.Fatalf("error %v, want boot-image-error", err)
	}
}

// JSON and XML: the agent speaks the encoding it is told to (C52), and
// the server answers in it.
func TestC52_XMLEncoding(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ContentEncoding: conveyed.XML})
	cfg := e.config(s.URL)
	cfg.Encoding = conveyed.XML
	if _, err := e.agent(cfg).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, r := range s.Requests() {
		if r.ContentType != "application/yang-data+xml" || r.Accept != "application/yang-data+xml" {
			t.Errorf("%s: Content-Type %q Accept %q", r.RPC, r.ContentType, r.Accept)
		}
	}
	if got := s.ProgressTypes(); !slices.Equal(got, fullReports) {
		t.Errorf("reports %v", got)
	}
}

func portOf(s *sztptest.Server) string {
	_, p, _ := net.SplitHostPort(s.Addr)
	return p
}

func countRPC(s *sztptest.Server, rpc string) int {
	n := 0
	for _, r := range s.Requests() {
		if r.RPC == rpc {
			n++
		}
	}
	return n
}

// C13: the TLS client certificate goes with its intermediates: the server
// trusts only the manufacturer root, so without the chain it refuses.
func TestC13_ClientChainIncludesIntermediates(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	bare := *e.id
	bare.Chain = nil
	cfg.Identity = &bare
	if _, err := e.agent(cfg).RunOnce(context.Background()); err == nil {
		t.Fatal("bootstrapped without sending the intermediate")
	}
	if _, err := e.agent(e.config(s.URL)).RunOnce(context.Background()); err != nil {
		t.Fatalf("with the chain: %v", err)
	}
}

// C12: HTTP auth and the client certificate must name the same serial.
func TestC12_SerialNumbersMustAgree(t *testing.T) {
	e := newEnv(t)
	cfg := e.config("https://127.0.0.1:1")
	id := *e.id
	id.SerialNumber = "OTHER"
	cfg.Identity, cfg.Password = &id, "pw"
	if _, err := client.New(cfg); err == nil {
		t.Error("New accepted HTTP auth for another serial number than the certificate's")
	}
}
