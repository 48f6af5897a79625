package client_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/trust"
)

// Issue 13 item 2: a run costs one TLS client-authentication signature
// (a TPM operation) per bootstrap server, however many RESTCONF requests it
// makes. Without keep-alive every report cost a full handshake (the
// "verbose" case made 14 signatures); without TLS session resumption a
// server that closes idle connections, or a second round after a 503, cost
// one more each; with one session cache for every trust decision the
// verify-mode connection after a redirect would resume the provisional
// session instead of authenticating the server to its new anchor.
func TestIssue13_2_OneSignaturePerServer(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T, e *env) (a *client.Agent, servers []*sztptest.Server)
		want int64
	}{
		{"verbose bootstrap, one server", func(t *testing.T, e *env) (*client.Agent, []*sztptest.Server) {
			s := e.server()
			s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportingLevel: conveyed.Verbose})
			a := e.agent(e.config(s.URL))
			if _, err := a.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			return a, []*sztptest.Server{s}
		}, 1},
		{"redirect then onboarding server", func(t *testing.T, e *env) (*client.Agent, []*sztptest.Server) {
			redir, onb := e.server(), e.server(onIP("127.0.0.2"))
			ta, err := sztptest.CertsOnly(e.pki.ServerCA.Cert)
			if err != nil {
				t.Fatal(err)
			}
			redir.SetResponse(testSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
				BootstrapServers: []conveyed.BootstrapServer{{Address: onb.Host, Port: onb.Port, TrustAnchor: ta}}}}})
			onb.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportingLevel: conveyed.Verbose})
			a := e.agent(e.config(redir.URL))
			if _, err := a.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			return a, []*sztptest.Server{redir, onb}
		}, 2},
		{"server closes idle connections between reports", func(t *testing.T, e *env) (*client.Agent, []*sztptest.Server) {
			s := e.server(func(o *sztptest.Options) { o.IdleTimeout = 10 * time.Millisecond })
			s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportingLevel: conveyed.Verbose})
			e.hooks.onStep = func(string) { time.Sleep(200 * time.Millisecond) }
			a := e.agent(e.config(s.URL))
			if _, err := a.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			resumed := 0
			for _, r := range s.Requests() {
				if r.Resumed {
					resumed++
				}
			}
			if resumed == 0 {
				t.Error("no request came over a resumed TLS session")
			}
			return a, []*sztptest.Server{s}
		}, 1},
		{"second round after 503", func(t *testing.T, e *env) (*client.Agent, []*sztptest.Server) {
			s := e.server()
			s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportingLevel: conveyed.Verbose,
				Fault: &sztptest.Fault{Status: 503, RetryAfter: "1", Count: 1}})
			a := e.agent(e.config(s.URL))
			if _, err := a.Run(context.Background()); err != nil {
				t.Fatal(err)
			}
			return a, []*sztptest.Server{s}
		}, 1},
		{"provisional, then the same address verified to a redirect's anchor", func(t *testing.T, e *env) (*client.Agent, []*sztptest.Server) {
			s := e.server()
			ta, err := sztptest.CertsOnly(e.pki.ServerCA.Cert)
			if err != nil {
				t.Fatal(err)
			}
			redirect := e.signed(&conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
				BootstrapServers: []conveyed.BootstrapServer{{Address: s.Host, Port: s.Port, TrustAnchor: ta}}}}).Build
			var calls atomic.Int32
			s.SetResponse(testSerial, &sztptest.Response{ReportingLevel: conveyed.Verbose, Build: func(in *conveyed.GetBootstrappingDataInput) (*conveyed.GetBootstrappingDataOutput, error) {
				if calls.Add(1) == 1 {
					return redirect(in)
				}
				doc, err := onboarding().Encode(conveyed.JSON)
				if err != nil {
					return nil, err
				}
				ci, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, doc)
				return &conveyed.GetBootstrappingDataOutput{ReportingLevel: conveyed.Verbose, ConveyedInformation: ci}, err
			}})
			cfg := e.signedConfig(s.URL)
			cfg.ServerTrustAnchors = nil // the first contact is provisional
			a := e.agent(cfg)
			if _, err := a.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			reqs := s.Requests()
			if len(reqs) < 3 || reqs[1].RPC != "get-bootstrapping-data" || reqs[1].Resumed {
				t.Errorf("the verify-mode connection resumed the provisional session: %+v", reqs[:min(2, len(reqs))])
			}
			return a, []*sztptest.Server{s}
		}, 2},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			a, servers := tc.run(t, e)
			n := 0
			for _, s := range servers {
				n += len(s.Requests())
			}
			if got := a.Signatures(); got != tc.want {
				t.Errorf("%d signatures for %d requests to %d servers, want %d", got, n, len(servers), tc.want)
			}
		})
	}
}

// A server's idle close can cross a request on the wire: the server closes
// a kept-alive connection as a report arrives, without reading or
// answering it (RFC 9112 9.3.1). The report is sent again on a fresh
// connection. Before, it was lost, and a lost bootstrap-complete rolled
// the configuration back and failed the run; a server whose idle timeout
// matched the gap between two reports made that happen (seen when the
// tests ran slowly under emulation).
func TestIssue13_2_IdleCloseCrossingAReport(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	drops := map[conveyed.ProgressType]int{conveyed.ConfigInitiated: 1, conveyed.BootstrapComplete: 1}
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportingLevel: conveyed.Verbose, ReportDrop: drops})
	a := e.agent(e.config(s.URL))
	if _, err := a.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	unanswered := map[conveyed.ProgressType]int{}
	for _, r := range s.Requests() {
		if r.Status == 0 && r.Report != nil {
			unanswered[r.Report.ProgressType]++
		}
	}
	got := map[conveyed.ProgressType]int{}
	for _, pt := range s.ProgressTypes() {
		got[pt]++
	}
	for pt, n := range drops {
		if unanswered[pt] != n {
			t.Errorf("%s: %d requests closed without an answer, want %d (the fault did not happen)", pt, unanswered[pt], n)
		}
		if got[pt] != 1 {
			t.Errorf("%s: recorded %d times, want once (sent again on a fresh connection)", pt, got[pt])
		}
	}
}
