package client_test

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

var fullReports = types(conveyed.BootstrapInitiated, conveyed.BootstrapComplete)

var verboseReports = types(
	conveyed.BootstrapInitiated,
	conveyed.ParsingInitiated, conveyed.ParsingComplete,
	conveyed.BootImageMismatch, conveyed.BootImageInitiated, conveyed.BootImageComplete,
	conveyed.PreScriptInitiated, conveyed.PreScriptComplete,
	conveyed.ConfigInitiated, conveyed.ConfigComplete,
	conveyed.PostScriptInitiated, conveyed.PostScriptComplete,
	conveyed.BootstrapComplete,
)

// C9, C60, C64, C70: unsigned onboarding information from an authenticated
// server runs every step in order and reports initiated then complete.
func TestC9_C70_TrustedServerUnsignedOnboardingRunsAllStepsInOrder(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	out, err := e.agent(e.config(s.URL)).RunOnce(context.Background())
	if err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if out.Result != client.Bootstrapped {
		t.Errorf("result %q, want %q", out.Result, client.Bootstrapped)
	}
	if got, want := e.hooks.Steps(), []string{"fetch", "image", "pre", "config", "post"}; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
	if got := s.ProgressTypes(); !slices.Equal(got, fullReports) {
		t.Errorf("reports %v, want %v", got, fullReports)
	}
	if string(e.hooks.config) != "hostname device-1\n" {
		t.Errorf("config applied %q", e.hooks.config)
	}
}

// C65: at reporting-level verbose every initiated/complete report is sent.
func TestC65_VerboseReportsEveryStep(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportingLevel: conveyed.Verbose})
	if _, err := e.agent(e.config(s.URL)).RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	if got := s.ProgressTypes(); !slices.Equal(got, verboseReports) {
		t.Errorf("reports\n got %v\nwant %v", got, verboseReports)
	}
}

// C17, C51, C54, C55, C58, C62: a server that is not authenticated gets only
// signed-data-preferred and a nonce, no Basic auth, no progress report, and
// its unsigned onboarding information is not acted on.
func TestC17_UnsignedOnboardingFromUntrustedServerIsRejected(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.ServerTrustAnchors = nil // nothing authenticates the server
	cfg.Password = "secret"
	cfg.OSName, cfg.OSVersion, cfg.HWModel = "TestOS", "1.0", "model-x"
	_, err := e.agent(cfg).RunOnce(context.Background())
	if !errors.Is(err, client.ErrUntrustedOnboarding) {
		t.Fatalf("RunOnce error %v, want ErrUntrustedOnboarding", err)
	}
	if steps := e.hooks.Steps(); len(steps) != 0 {
		t.Errorf("steps run for untrusted onboarding information: %v", steps)
	}
	reqs := s.Requests()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want exactly one get-bootstrapping-data: %+v", len(reqs), reqs)
	}
	in := reqs[0].GBD
	switch {
	case reqs[0].HasBasic:
		t.Error("C58: Basic auth sent to an untrusted server")
	case in == nil:
		t.Fatal("no get-bootstrapping-data input recorded")
	case !in.SignedDataPreferred:
		t.Error("C54: signed-data-preferred not sent to an untrusted server")
	case in.HWModel != "" || in.OSName != "" || in.OSVersion != "":
		t.Errorf("C55: hw-model/os-name/os-version sent to an untrusted server: %+v", in)
	case len(in.Nonce) < 16 || len(in.Nonce) > 32:
		t.Errorf("C56: nonce of %d octets", len(in.Nonce))
	}
	if r := s.Reports(); len(r) != 0 {
		t.Errorf("C62: progress reports sent to an untrusted server: %v", r)
	}
}

// C10: a certificate that chains to the anchor but names another host is
// not trusted.
func TestC10_WrongHostnameIsNotTrusted(t *testing.T) {
	e := newEnv(t)
	wrong, err := sztptest.NewServerCert(e.pki.ServerCA, "other.example", []string{"other.example"}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s := e.server(func(o *sztptest.Options) { o.Certificate = wrong.TLS() })
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	_, err = e.agent(e.config(s.URL)).RunOnce(context.Background())
	if !errors.Is(err, client.ErrUntrustedOnboarding) {
		t.Fatalf("RunOnce error %v, want ErrUntrustedOnboarding", err)
	}
	if r := s.Reports(); len(r) != 0 {
		t.Errorf("reports sent to a server with a wrong name: %v", r)
	}
}

// C11, C12, C58: toward an authenticated server Basic auth carries the
// serial number that the client certificate names, plus the full input.
func TestC12_BasicAuthOnlyToTrustedServerWithSerialNumber(t *testing.T) {
	e := newEnv(t)
	s := e.server(func(o *sztptest.Options) { o.Password = "secret" })
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.Password = "secret"
	cfg.OSName, cfg.OSVersion, cfg.HWModel = "TestOS", "1.0", "model-x"
	if _, err := e.agent(cfg).RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	reqs := s.Requests()
	if len(reqs) == 0 {
		t.Fatal("no requests")
	}
	for _, r := range reqs {
		if !r.HasBasic || r.User != testSerial || !r.HasCert || r.Serial != testSerial {
			t.Errorf("%s: basic=%v user=%q cert=%v serial=%q", r.RPC, r.HasBasic, r.User, r.HasCert, r.Serial)
		}
	}
	in := reqs[0].GBD
	if in.SignedDataPreferred || in.HWModel != "model-x" || in.OSName != "TestOS" || in.OSVersion != "1.0" {
		t.Errorf("trusted input %+v", in)
	}
}

// C52: Content-Type and Accept are the RESTCONF media type.
func TestC52_MediaTypes(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	if _, err := e.agent(e.config(s.URL + "/restconf")).RunOnce(context.Background()); err != nil {
		t.Fatalf("RunOnce: %v", err)
	}
	for _, r := range s.Requests() {
		if r.ContentType != "application/yang-data+json" || r.Accept != "application/yang-data+json" {
			t.Errorf("%s: Content-Type %q Accept %q", r.RPC, r.ContentType, r.Accept)
		}
	}
}

// C56: the nonce is fresh per request.
func TestC56_FreshNoncePerRequest(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	a := e.agent(cfg)
	for i := 0; i < 2; i++ {
		if _, err := a.RunOnce(context.Background()); err != nil {
			t.Fatal(err)
		}
		cfg.State.SetEnabled(true) // re-arm run-once
	}
	var nonces []string
	for _, r := range s.Requests() {
		if r.GBD != nil {
			nonces = append(nonces, string(r.GBD.Nonce))
		}
	}
	if len(nonces) != 2 || nonces[0] == nonces[1] {
		t.Errorf("nonces not fresh: %x", nonces)
	}
}

// C45, C63, C48: a trusted redirect to a server without a trust-anchor is
// followed provisionally; no reports are sent while redirecting, and the
// provisional server's unsigned onboarding information is rejected.
func TestC48_TrustedRedirectWithoutAnchorIsProvisional(t *testing.T) {
	e := newEnv(t)
	redir, onb := e.server(), e.server()
	redir.SetResponse(testSerial, &sztptest.Response{Conveyed: redirectTo(onb)})
	onb.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	_, err := e.agent(e.config(redir.URL)).RunOnce(context.Background())
	if !errors.Is(err, client.ErrUntrustedOnboarding) {
		t.Fatalf("RunOnce error %v, want ErrUntrustedOnboarding", err)
	}
	if r := redir.Reports(); len(r) != 0 {
		t.Errorf("C63: reports sent to the redirect server: %v", r)
	}
	if r := onb.Reports(); len(r) != 0 {
		t.Errorf("reports sent to a provisional server: %v", r)
	}
	reqs := onb.Requests()
	if len(reqs) != 1 || !reqs[0].GBD.SignedDataPreferred {
		t.Errorf("provisional server requests: %+v", reqs)
	}
}

// C45, C82: redirect entries are tried in order; a failing one moves on to
// the next.
func TestC45_RedirectEntriesInOrder(t *testing.T) {
	e := newEnv(t)
	redir, bad, good := e.server(), e.server(), e.server(onIP("127.0.0.2"))
	bad.SetResponse(testSerial, &sztptest.Response{Fault: &sztptest.Fault{Status: http.StatusInternalServerError}})
	good.SetResponse(testSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
		BootstrapServers: []conveyed.BootstrapServer{{Address: "127.0.0.1", Port: 1}}}}})
	redir.SetResponse(testSerial, &sztptest.Response{Conveyed: redirectTo(bad, good)})
	_, err := e.agent(e.config(redir.URL)).RunOnce(context.Background())
	if err == nil {
		t.Fatal("RunOnce succeeded with no onboarding server")
	}
	if len(bad.Requests()) != 1 || len(good.Requests()) != 1 {
		t.Errorf("requests: bad %d, good %d; want 1 each, in order", len(bad.Requests()), len(good.Requests()))
	}
	if !bad.Requests()[0].Time.Before(good.Requests()[0].Time) && !bad.Requests()[0].Time.Equal(good.Requests()[0].Time) {
		t.Error("entries not tried in order")
	}
}

// C19: redirect recursion is limited to 10.
func TestC19_RedirectDepthLimit(t *testing.T) {
	for _, tc := range []struct {
		redirects int
		ok        bool
	}{{10, true}, {11, false}} {
		t.Run("", func(t *testing.T) {
			e := newEnv(t)
			// A chain of servers, each redirecting to the next.
			servers := make([]*sztptest.Server, tc.redirects+1)
			for i := range servers {
				servers[i] = e.server()
			}
			for i := 0; i < tc.redirects; i++ {
				servers[i].SetResponse(testSerial, &sztptest.Response{Conveyed: redirectTo(servers[i+1])})
			}
			// The final server answers 404: reaching it at all means the
			// depth limit allowed it.
			last := servers[tc.redirects]
			last.SetResponse(testSerial, &sztptest.Response{Fault: &sztptest.Fault{Status: http.StatusNotFound}})
			_, err := e.agent(e.config(servers[0].URL)).RunOnce(context.Background())
			reached := len(last.Requests()) == 1
			if reached != tc.ok {
				t.Errorf("%d redirects: final server reached=%v, want %v (err %v)", tc.redirects, reached, tc.ok, err)
			}
			if !tc.ok && !errors.Is(err, client.ErrRedirectDepth) {
				t.Errorf("%d redirects: error %v, want ErrRedirectDepth", tc.redirects, err)
			}
		})
	}
}

// C76: a pre-script error aborts and sends pre-script-error; C81: a
// post-script error rolls the configuration back; each failing step has its
// error report (C64: exactly one terminating report).
func TestC64_ErrorReportForEachFailingStep(t *testing.T) {
	for _, tc := range []struct {
		fail   string
		report conveyed.ProgressType
		steps  []string
	}{
		{"fetch", conveyed.BootImageError, []string{"fetch"}},
		{"image", conveyed.BootImageError, []string{"fetch", "image"}},
		{"pre", conveyed.PreScriptError, []string{"fetch", "image", "pre"}},
		{"config", conveyed.ConfigError, []string{"fetch", "image", "pre", "config"}},
		{"post", conveyed.PostScriptError, []string{"fetch", "image", "pre", "config", "post", "undo-config"}},
	} {
		t.Run(tc.fail, func(t *testing.T) {
			e := newEnv(t)
			e.hooks.failStep = tc.fail
			s := e.server()
			s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
			_, err := e.agent(e.config(s.URL)).RunOnce(context.Background())
			var se *client.StepError
			if !errors.As(err, &se) || se.Report != tc.report {
				t.Fatalf("error %v, want a StepError with %s", err, tc.report)
			}
			if got, want := s.ProgressTypes(), types(conveyed.BootstrapInitiated, tc.report); !slices.Equal(got, want) {
				t.Errorf("reports %v, want %v", got, want)
			}
			if got := e.hooks.Steps(); !slices.Equal(got, tc.steps) {
				t.Errorf("steps %v, want %v", got, tc.steps)
			}
		})
	}
}

// C77: a script warning does not abort; it is reported.
func TestC77_ScriptWarningDoesNotAbort(t *testing.T) {
	e := newEnv(t)
	e.hooks.warnStep = "pre"
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	if _, err := e.agent(e.config(s.URL)).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	want := types(conveyed.BootstrapInitiated, conveyed.PreScriptWarning, conveyed.BootstrapComplete)
	if got := s.ProgressTypes(); !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
}

// C71: a device already running the image skips the download.
func TestC71_RunningImageIsNotDownloaded(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.OSName, cfg.OSVersion = "TestOS", "2.0"
	if _, err := e.agent(cfg).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got, want := e.hooks.Steps(), []string{"pre", "config", "post"}; !slices.Equal(got, want) {
		t.Errorf("steps %v, want %v", got, want)
	}
}

// Issue 2 item 4: with no image hook, an image that is not running is a
// boot-image-error that says so.
func TestC73_NoImageHookIsABootImageError(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.Image = nil
	_, err := e.agent(cfg).RunOnce(context.Background())
	var se *client.StepError
	if !errors.As(err, &se) || se.Report != conveyed.BootImageError {
		t.Fatalf("error %v, want boot-image-error", err)
	}
	reps := s.Reports()
	if len(reps) != 2 || reps[1].ProgressType != conveyed.BootImageError || !containsAll(reps[1].Message, "no image hook") {
		t.Errorf("reports %+v, want boot-image-error naming the missing hook", reps)
	}
}

// C61, C67: a non-204 answer to bootstrap-initiated or bootstrap-complete
// is an error, followed by bootstrap-error; after complete the config is
// rolled back (C83).
func TestC61_C67_RefusedInitiatedOrCompleteIsAnError(t *testing.T) {
	for _, pt := range []conveyed.ProgressType{conveyed.BootstrapInitiated, conveyed.BootstrapComplete} {
		t.Run(string(pt), func(t *testing.T) {
			e := newEnv(t)
			s := e.server()
			s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportStatus: map[conveyed.ProgressType]int{pt: http.StatusInternalServerError}})
			_, err := e.agent(e.config(s.URL)).RunOnce(context.Background())
			var se *client.StepError
			if !errors.As(err, &se) || se.Report != conveyed.BootstrapError {
				t.Fatalf("error %v, want bootstrap-error", err)
			}
			got := s.ProgressTypes()
			if len(got) == 0 || got[len(got)-1] != conveyed.BootstrapError {
				t.Errorf("reports %v, want bootstrap-error last", got)
			}
			if pt == conveyed.BootstrapComplete && !e.hooks.undone {
				t.Error("C83: configuration not rolled back after a refused bootstrap-complete")
			}
			if c, err := e.store().Completed(); c != nil || err != nil {
				t.Errorf("run-once record %+v (%v) after a failed bootstrap", c, err)
			}
			if pt == conveyed.BootstrapInitiated && len(e.hooks.Steps()) != 0 {
				t.Errorf("steps ran after a refused bootstrap-initiated: %v", e.hooks.Steps())
			}
		})
	}
}

// C59: a non-200 answer fails that server and the next candidate is tried.
func TestC59_Non200TriesNextServer(t *testing.T) {
	e := newEnv(t)
	bad, good := e.server(), e.server()
	bad.SetResponse(testSerial, &sztptest.Response{Fault: &sztptest.Fault{Status: http.StatusForbidden}})
	good.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	out, err := e.agent(e.config(bad.URL, good.URL)).RunOnce(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if out.Server != good.Addr {
		t.Errorf("bootstrapped from %q, want %q", out.Server, good.Addr)
	}
}

// RFC 8040 7: HTTP 3xx is not followed.
func TestHTTPRedirectIsNotFollowed(t *testing.T) {
	e := newEnv(t)
	bad, good := e.server(), e.server()
	bad.SetResponse(testSerial, &sztptest.Response{Fault: &sztptest.Fault{Status: http.StatusTemporaryRedirect, Location: good.URL + "/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data"}})
	good.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	_, err := e.agent(e.config(bad.URL)).RunOnce(context.Background())
	if err == nil || len(good.Requests()) != 0 {
		t.Errorf("HTTP redirect followed (err %v, %d requests at the target)", err, len(good.Requests()))
	}
}

// C3, issue 2 item 6: Run loops with backoff until success, and honours
// Retry-After on 503, without sleeping on real time.
func TestC3_RunRetriesWithBackoffAndRetryAfter(t *testing.T) {
	for _, status := range []int{http.StatusServiceUnavailable, http.StatusTooManyRequests} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			e := newEnv(t)
			s := e.server()
			s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), Fault: &sztptest.Fault{Status: status, RetryAfter: "120", Count: 2}})
			cfg := e.config(s.URL)
			out, err := e.agent(cfg).Run(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if out.Result != client.Bootstrapped {
				t.Errorf("result %q", out.Result)
			}
			sleeps := e.clock.Sleeps()
			if len(sleeps) != 2 {
				t.Fatalf("slept %v, want two waits", sleeps)
			}
			for _, d := range sleeps {
				if d < 120*time.Second {
					t.Errorf("waited %v, less than Retry-After 120s", d)
				}
			}
		})
	}
}

// Run stops when its context ends, even while waiting.
func TestRunStopsOnCancel(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Fault: &sztptest.Fault{Status: http.StatusInternalServerError}})
	ctx, cancel := context.WithCancel(context.Background())
	cfg := e.config(s.URL)
	cfg.Clock = cancelClock{e.clock, cancel}
	if _, err := e.agent(cfg).Run(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("error %v, want context.Canceled", err)
	}
}

// cancelClock cancels the run instead of sleeping.
type cancelClock struct {
	*fakeClock
	cancel context.CancelFunc
}

func (c cancelClock) After(d time.Duration) <-chan time.Time {
	c.cancel()
	return make(chan time.Time)
}

// Retries without Retry-After back off exponentially with jitter and a cap.
func TestRunBacksOffExponentially(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), Fault: &sztptest.Fault{Status: http.StatusInternalServerError, Count: 5}})
	cfg := e.config(s.URL)
	if _, err := e.agent(cfg).Run(context.Background()); err != nil {
		t.Fatal(err)
	}
	sleeps := e.clock.Sleeps()
	if len(sleeps) != 5 {
		t.Fatalf("slept %v, want 5 waits", sleeps)
	}
	// Default: 5s doubling, jitter 25%.
	for i, d := range sleeps {
		base := 5 * time.Second << i
		if d < base*3/4 || d > base*5/4 {
			t.Errorf("wait %d: %v outside %v±25%%", i, d, base)
		}
	}
}

// Never hang: a stalled server is given up after the request timeout.
func TestStallTimesOut(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), Fault: &sztptest.Fault{Stall: time.Minute}})
	cfg := e.config(s.URL)
	cfg.Timeouts = client.Timeouts{ResponseHeader: 200 * time.Millisecond}
	_, err := e.agent(cfg).RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "no response headers within 200ms") {
		t.Fatalf("error %v, want the response header timeout", err)
	}
}

// Truncated and malformed bodies fail the server, they are not acted on.
func TestBadBodiesAreRejected(t *testing.T) {
	for _, f := range []sztptest.Fault{{Truncate: true}, {Malformed: true}} {
		e := newEnv(t)
		s := e.server()
		s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), Fault: &f})
		_, err := e.agent(e.config(s.URL)).RunOnce(context.Background())
		if err == nil || len(e.hooks.Steps()) != 0 {
			t.Errorf("fault %+v: err %v, steps %v", f, err, e.hooks.Steps())
		}
	}
}

// Response size limit.
func TestResponseSizeLimit(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.MaxResponseSize = 64
	_, err := e.agent(cfg).RunOnce(context.Background())
	if err == nil || !containsAll(err.Error(), "larger than 64 bytes") {
		t.Errorf("error %v, want a size limit error", err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}

// C64: a run cancelled in the middle of onboarding (SIGTERM) still tries
// the terminating error report, so the server learns the device gave up
// on it; the steps after the cancelled one do not run.
func TestC64_CancelledOnboardingStillSendsItsErrorReport(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.hooks.onStep = func(step string) {
		if step == "pre" {
			cancel()
		}
	}
	e.hooks.failStep = "pre" // a script killed by the cancellation fails
	if _, err := e.agent(e.config(s.URL)).RunOnce(ctx); err == nil {
		t.Fatal("a cancelled run succeeded")
	}
	want := types(conveyed.BootstrapInitiated, conveyed.PreScriptError)
	if got := s.ProgressTypes(); !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
	if got := e.hooks.Steps(); slices.Contains(got, "config") {
		t.Errorf("steps %v ran after the cancellation", got)
	}
}

// C64, C75: when the device is told to stop just before it reboots into an
// installed image, the prepared reboot is abandoned and boot-image-error
// ends the attempt; no reboot is recorded as pending.
func TestC64_CancelledBeforeRebootReportsBootImageError(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	e.hooks.reboot = true
	e.hooks.onStep = func(step string) {
		if step == "image" {
			cancel()
		}
	}
	cfg := e.config(s.URL)
	if _, err := e.agent(cfg).RunOnce(ctx); err == nil {
		t.Fatal("a cancelled run succeeded")
	}
	if e.hooks.rebooted {
		t.Error("rebooted after the cancellation")
	}
	want := types(conveyed.BootstrapInitiated, conveyed.BootImageError)
	if got := s.ProgressTypes(); !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
	if p, err := cfg.State.PendingReboot(); p != nil || err != nil {
		t.Errorf("pending reboot %+v (%v) after the reboot was abandoned", p, err)
	}
}

// C64, C75: a reboot that fails after boot-image-installed-rebooting was
// sent ends the attempt with no second terminating report, and leaves no
// pending reboot that would make the next run expect the new image.
func TestC75_FailedRebootIsNotRecordedAsPending(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	e.hooks.reboot, e.hooks.rebootErr = true, errors.New("injected reboot failure")
	cfg := e.config(s.URL)
	if _, err := e.agent(cfg).RunOnce(context.Background()); err == nil || !strings.Contains(err.Error(), "injected reboot failure") {
		t.Fatalf("error %v, want the reboot failure", err)
	}
	want := types(conveyed.BootstrapInitiated, conveyed.BootImageInstalledRebooting)
	if got := s.ProgressTypes(); !slices.Equal(got, want) {
		t.Errorf("reports %v, want %v", got, want)
	}
	if p, err := cfg.State.PendingReboot(); p != nil || err != nil {
		t.Errorf("pending reboot %+v (%v) after the reboot failed", p, err)
	}
}

// Never hang: redirect servers that keep redirecting to each other in
// lists of several entries would make the depth limit (C19) allow an
// exponential number of connections (3 entries, 5 levels: 363). The agent
// gives up on the candidate after MaxConnections and goes on.
func TestRedirectFanOutIsBounded(t *testing.T) {
	e := newEnv(t)
	var servers []*sztptest.Server
	for _, ip := range []string{"127.0.0.1", "127.0.0.2", "127.0.0.3"} {
		servers = append(servers, e.server(onIP(ip)))
	}
	for _, s := range servers {
		s.SetResponse(testSerial, &sztptest.Response{Conveyed: redirectTo(servers...)})
	}
	cfg := e.config(servers[0].URL)
	cfg.MaxRedirectDepth = 5
	cfg.MaxConnections = 20
	_, err := e.agent(cfg).RunOnce(context.Background())
	if !errors.Is(err, client.ErrTooManyConnections) {
		t.Errorf("error %v, want ErrTooManyConnections", err)
	}
	n := 0
	for _, s := range servers {
		n += countRPC(s, "get-bootstrapping-data")
	}
	if n > 20 {
		t.Errorf("%d get-bootstrapping-data requests, want at most 20", n)
	}
}

// C64: script output goes into the report's message, but a YANG string
// cannot hold every byte a script prints (terminal escapes, invalid UTF-8,
// a multi-byte character cut by the length limit). The report must still
// go, with those characters replaced, in JSON and in XML.
func TestC64_ScriptOutputThatIsNoYANGStringStillReports(t *testing.T) {
	long := strings.Repeat("€", 1000) // 3000 octets: the 2048-octet limit cuts one
	for _, enc := range []conveyed.Encoding{conveyed.JSON, conveyed.XML} {
		for name, output := range map[string]string{
			"terminal escapes": "\x1b[31mdisk failed\x1b[0m\x00",
			"invalid UTF-8":    "disk \xff\xfe failed",
			"cut character":    "x" + long,
		} {
			t.Run(enc.String()+"/"+name, func(t *testing.T) {
				e := newEnv(t)
				s := e.server()
				s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
				e.hooks.failStep, e.hooks.output = "pre", output
				cfg := e.config(s.URL)
				cfg.Encoding = enc
				e.agent(cfg).RunOnce(context.Background())
				want := types(conveyed.BootstrapInitiated, conveyed.PreScriptError)
				if got := s.ProgressTypes(); !slices.Equal(got, want) {
					t.Errorf("reports %v, want %v", got, want)
				}
			})
		}
	}
}
