package client_test

import (
	"context"
	"crypto"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/boot"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/backoff"
	"github.com/sztp/sztp/trust"
)

// Issue 10 item 13: the Retry-After of a server that was not authenticated
// (here a provisional, DHCP-like candidate) counts for at most
// min(MaxProvisionalRetryAfter, the backoff maximum); an authenticated
// server's is honoured up to MaxRetryAfter. Before the fix both waited an
// hour.
func TestHardening10_13_ProvisionalRetryAfterIsCapped(t *testing.T) {
	for _, tc := range []struct {
		name       string
		mode       client.TLSMode
		backoffMax time.Duration
		want       time.Duration
	}{
		{"provisional", client.Provisional, 5 * time.Minute, time.Minute},
		{"provisional, small retry-max", client.Provisional, 20 * time.Second, 20 * time.Second},
		{"authenticated", client.Verify, 5 * time.Minute, time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			s := e.server()
			s.SetResponse(testSerial, &sztptest.Response{Fault: &sztptest.Fault{Status: http.StatusServiceUnavailable, RetryAfter: "3600"}})
			ctx, cancel := context.WithCancel(context.Background())
			cfg := e.config()
			cfg.Sources = []client.Source{client.URLSource{Label: "dhcp", URLs: []string{s.URL}, Mode: tc.mode}}
			cfg.Clock = recordThenCancel{e.clock, cancel}
			cfg.Backoff = &backoff.Backoff{Initial: time.Second, Max: tc.backoffMax}
			e.agent(cfg).Run(ctx)
			sleeps := e.clock.Sleeps()
			if len(sleeps) != 1 || sleeps[0] != tc.want {
				t.Errorf("waited %v, want %v", sleeps, tc.want)
			}
		})
	}
}

// recordThenCancel records the wait, then ends the run.
type recordThenCancel struct {
	*fakeClock
	cancel context.CancelFunc
}

func (c recordThenCancel) After(d time.Duration) <-chan time.Time {
	c.fakeClock.After(d)
	c.cancel()
	return make(chan time.Time)
}

// Issue 10 item 9, C11: a certificate without its private key (or with
// another key) is refused by New with a clear error, not later as a TLS
// failure at every server.
func TestHardening10_9_CertificateWithoutKeyRefused(t *testing.T) {
	e := newEnv(t)
	other, err := sztptest.NewDeviceCert(e.pki.DeviceCA, testSerial)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name   string
		signer crypto.Signer
		want   string
	}{
		{"no key", nil, "has no private key"},
		{"another key", other.Key, "is not the one of the IDevID certificate"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := e.config("https://127.0.0.1:1")
			id := *e.id
			id.Signer = tc.signer
			cfg.Identity = &id
			if _, err := client.New(cfg); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "C11") {
				t.Errorf("New: %v, want an error saying %q (C11)", err, tc.want)
			}
		})
	}
}

// Issue 10 item 9, C8: trust-state is FALSE at the start of each
// candidate. A trusted server whose onboarding fails leaves trust-state
// TRUE; the next candidate of the same source is raw unsigned artifacts
// (no server sets trust-state for them), which must not be acted on. With
// the reset in attempt.candidate removed, the artifacts' configuration is
// applied.
func TestHardening10_9_C8TrustStateResetForRawArtifacts(t *testing.T) {
	e := newEnv(t)
	e.hooks.failStep = "config"
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Merge, Configuration: []byte("from the trusted server\n"),
	}}})
	doc, err := (&conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Merge, Configuration: []byte("from unsigned artifacts\n"),
	}}).Encode(conveyed.JSON)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, doc)
	if err != nil {
		t.Fatal(err)
	}
	cfg := e.config()
	cfg.Sources = []client.Source{client.FuncSource{Label: "mixed", Func: func(context.Context) ([]client.Candidate, error) {
		return []client.Candidate{{URL: s.URL}, {Artifacts: &trust.Artifacts{ConveyedInformation: ci}}}, nil
	}}}
	_, err = e.agent(cfg).RunOnce(context.Background())
	if !errors.Is(err, client.ErrUntrustedOnboarding) {
		t.Errorf("error %v, want ErrUntrustedOnboarding for the artifacts", err)
	}
	if got := e.hooks.Steps(); !slices.Equal(got, []string{"config"}) {
		t.Errorf("steps %v, want only the trusted server's config", got)
	}
}

// Issue 10 item 7, C83: a boot image installed without a reboot (file:,
// a real hook) is rolled back when a later step fails: pre-configuration
// script, configuration, post-configuration script, or a refused
// bootstrap-complete; after a completed bootstrap the image stays and the
// kept previous content is discarded. Before the fix the new image stayed
// on the target after every failure.
func TestHardening10_7_ImageRolledBackWhenALaterStepFails(t *testing.T) {
	for _, tc := range []struct {
		name     string
		fail     string // fakeHooks step
		refuse   bool   // bootstrap-complete refused
		want     string // target content after the run
		wantErr  bool
		leftover int // entries in the target directory
	}{
		{name: "pre", fail: "pre", want: "old", wantErr: true, leftover: 1},
		{name: "config", fail: "config", want: "old", wantErr: true, leftover: 1},
		{name: "post", fail: "post", want: "old", wantErr: true, leftover: 1},
		{name: "bootstrap-complete refused", refuse: true, want: "old", wantErr: true, leftover: 1},
		{name: "success", want: "image", leftover: 1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.hooks.failStep = tc.fail
			dir := t.TempDir()
			target := filepath.Join(dir, "slot")
			if err := os.WriteFile(target, []byte("old"), 0o644); err != nil {
				t.Fatal(err)
			}
			img, err := boot.NewImageHook("file:"+target, boot.Options{Logger: testLogger(t)})
			if err != nil {
				t.Fatal(err)
			}
			s := e.server()
			resp := &sztptest.Response{Conveyed: onboarding()}
			if tc.refuse {
				resp.ReportStatus = map[conveyed.ProgressType]int{conveyed.BootstrapComplete: http.StatusInternalServerError}
			}
			s.SetResponse(testSerial, resp)
			cfg := e.config(s.URL)
			cfg.Image = img
			_, err = e.agent(cfg).RunOnce(context.Background())
			if (err != nil) != tc.wantErr {
				t.Fatalf("error %v, want error %v", err, tc.wantErr)
			}
			if got, _ := os.ReadFile(target); string(got) != tc.want {
				t.Errorf("target holds %q, want %q", got, tc.want)
			}
			if ents, _ := os.ReadDir(dir); len(ents) != tc.leftover {
				t.Errorf("target directory holds %v", ents)
			}
		})
	}
}

// Issue 10 item 12: a server's error body reaches the last-run record (and
// so `sztp status` and the terminal) with its control characters escaped.
func TestHardening10_12_ServerTextSanitisedBeforeStored(t *testing.T) {
	e := newEnv(t)
	hostile := "\x1b]0;owned\x07\x1b[2J"
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Fault: &sztptest.Fault{Status: http.StatusBadRequest, Body: hostile}})
	_, err := e.agent(e.config(s.URL)).RunOnce(context.Background())
	if err == nil || strings.ContainsRune(err.Error(), 0x1b) {
		t.Errorf("error %q carries raw escapes", err)
	}
	r, _ := e.store().LastRun()
	if r == nil || strings.ContainsRune(r.Error, 0x1b) || !strings.Contains(r.Error, `\x1b]0;owned`) {
		t.Errorf("last run %+v: want the body escaped", r)
	}
}

// Issue 10 item 12: a download-uri with user:password is refused before
// any fetch (sztp never sends such credentials), and the password appears
// in no error, journal entry or last-run record.
func TestHardening10_12_DownloadURIWithCredentialsRefused(t *testing.T) {
	e := newEnv(t)
	ci := onboarding()
	ci.Onboarding.BootImage.DownloadURIs = []string{"https://alice:s3cret@127.0.0.1:1/image"}
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: ci})
	_, err := e.agent(e.config(s.URL)).RunOnce(context.Background())
	if err == nil || !strings.Contains(err.Error(), "credentials") || strings.Contains(err.Error(), "s3cret") {
		t.Errorf("error %v: want a refusal without the password", err)
	}
	if steps := e.hooks.Steps(); len(steps) != 0 {
		t.Errorf("steps %v ran; want no fetch", steps)
	}
	r, _ := e.store().LastRun()
	j, _ := e.store().Journal()
	if r == nil || strings.Contains(r.Error, "s3cret") || !strings.Contains(r.Error, "alice:xxxxx@") {
		t.Errorf("last run %+v", r)
	}
	for _, en := range j {
		if strings.Contains(en.Message, "s3cret") {
			t.Errorf("journal %+v holds the password", en)
		}
	}
}
