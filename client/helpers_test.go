package client_test

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sztp/sztp/boot"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/images"
	"github.com/sztp/sztp/internal/state"
)

const testSerial = "SN-0001"

// env is one device and its bootstrap servers.
type env struct {
	t     testing.TB
	pki   *sztptest.PKI
	id    *client.Identity
	hooks *fakeHooks
	dir   string
	clock *fakeClock
}

var (
	pkiOnce sync.Once
	pkiVal  *sztptest.PKI
	pkiErr  error
)

func newEnv(t testing.TB) *env {
	t.Helper()
	pkiOnce.Do(func() { pkiVal, pkiErr = sztptest.NewPKI(testSerial) })
	if pkiErr != nil {
		t.Fatal(pkiErr)
	}
	p := pkiVal
	return &env{
		t:     t,
		pki:   p,
		id:    &client.Identity{Certificate: p.Device.Cert, Chain: []*x509.Certificate{p.DeviceCA.Cert}, Signer: p.Device.Key, SerialNumber: testSerial},
		hooks: &fakeHooks{},
		dir:   t.TempDir(),
		clock: newFakeClock(),
	}
}

// server starts a bootstrap server with the loopback certificate of the PKI.
func (e *env) server(opts ...func(*sztptest.Options)) *sztptest.Server {
	e.t.Helper()
	o := sztptest.Options{Certificate: e.pki.Server.TLS(), ClientCAs: e.pki.ClientCAs()}
	for _, f := range opts {
		f(&o)
	}
	s, err := sztptest.NewServer(o)
	if err != nil {
		e.t.Fatal(err)
	}
	e.t.Cleanup(s.Close)
	return s
}

func onIP(ip string) func(*sztptest.Options) {
	return func(o *sztptest.Options) { o.ListenIP = ip }
}

// config is an agent configuration with the fake hooks, trusting the PKI's
// server CA for the given URLs.
func (e *env) config(urls ...string) client.Config {
	return client.Config{
		Identity:           e.id,
		ServerTrustAnchors: []*x509.Certificate{e.pki.ServerCA.Cert},
		Sources:            []client.Source{client.URLSource{Label: "test", URLs: urls}},
		Image:              e.hooks,
		Config:             e.hooks,
		Scripts:            e.hooks,
		Images:             e.hooks,
		Clock:              e.clock,
		Logger:             testLogger(e.t),
		Timeouts:           client.Timeouts{Request: 5 * time.Second},
		State:              e.store(),
	}
}

func (e *env) agent(cfg client.Config) *client.Agent {
	e.t.Helper()
	a, err := client.New(cfg)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

func (e *env) store() *state.Store {
	e.t.Helper()
	st, err := state.Open(filepath.Join(e.dir, "state"))
	if err != nil {
		e.t.Fatal(err)
	}
	return st
}

func testLogger(t testing.TB) *slog.Logger {
	return slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// fakeHooks records the onboarding steps in order and can be told to fail.
type fakeHooks struct {
	mu        sync.Mutex
	steps     []string
	failStep  string // "image", "fetch", "pre", "config", "post"
	warnStep  string
	reboot    bool
	rebootErr error // what Reboot returns
	rebooted  bool
	undone    bool
	config    []byte
	// output, when set, is what a failing or warning script prints.
	output string
	// onStep, when set, runs as each step starts (e.g. to cancel the run).
	onStep func(step string)
}

func (h *fakeHooks) record(s string) {
	h.mu.Lock()
	h.steps = append(h.steps, s)
	h.mu.Unlock()
	if h.onStep != nil {
		h.onStep(s)
	}
}

func (h *fakeHooks) Steps() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return slices.Clone(h.steps)
}

func (h *fakeHooks) Fetch(ctx context.Context, req images.Request) (*images.Result, error) {
	h.record("fetch")
	if h.failStep == "fetch" {
		return nil, errors.New("injected download failure")
	}
	if err := os.WriteFile(req.Output, []byte("image"), 0o600); err != nil {
		return nil, err
	}
	return &images.Result{Path: req.Output, URI: req.URIs[0], Size: 5}, nil
}

func (h *fakeHooks) InstallImage(ctx context.Context, img boot.Image) (*boot.Installed, error) {
	h.record("image")
	if h.failStep == "image" {
		return nil, errors.New("injected install failure")
	}
	in := &boot.Installed{Message: "installed"}
	if h.reboot {
		in.Reboot = func(context.Context) error { h.rebooted = true; return h.rebootErr }
	}
	return in, nil
}

func (h *fakeHooks) ApplyConfig(ctx context.Context, cfg boot.Config) (func() error, error) {
	h.record("config")
	if h.failStep == "config" {
		return nil, errors.New("injected config failure")
	}
	h.config = cfg.Data
	return func() error { h.undone = true; h.record("undo-config"); return nil }, nil
}

func (h *fakeHooks) RunScript(ctx context.Context, name string, script []byte) (*boot.ScriptResult, error) {
	step := "pre"
	if strings.HasPrefix(name, "post") {
		step = "post"
	}
	h.record(step)
	switch {
	case h.failStep == step:
		out := "injected " + step + " script error"
		if h.output != "" {
			out = h.output
		}
		return &boot.ScriptResult{Status: boot.ScriptError, Output: out}, nil
	case h.warnStep == step:
		out := "injected warning"
		if h.output != "" {
			out = h.output
		}
		return &boot.ScriptResult{Status: boot.ScriptWarning, Output: out}, nil
	}
	return &boot.ScriptResult{Status: boot.ScriptOK, Output: "ok"}, nil
}

// fakeClock never sleeps: After fires at once and records the delay.
type fakeClock struct {
	mu     sync.Mutex
	now    time.Time
	sleeps []time.Duration
}

func newFakeClock() *fakeClock {
	return &fakeClock{now: time.Now()}
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.sleeps = append(c.sleeps, d)
	c.now = c.now.Add(d)
	ch := make(chan time.Time, 1)
	ch <- c.now
	return ch
}

func (c *fakeClock) Sleeps() []time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return slices.Clone(c.sleeps)
}

// onboarding returns full onboarding information: image, both scripts, config.
func onboarding() *conveyed.ConveyedInformation {
	sum := sha256.Sum256([]byte("image"))
	return &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		BootImage: &conveyed.BootImage{
			OSName: "TestOS", OSVersion: "2.0",
			DownloadURIs:      []string{"https://127.0.0.1:1/image"},
			ImageVerification: []conveyed.ImageVerification{{HashAlgorithm: conveyed.HashSHA256, HashValue: sum[:]}},
		},
		PreConfigurationScript:  []byte("#!/bin/sh\necho pre\n"),
		ConfigurationHandling:   conveyed.Merge,
		Configuration:           []byte("hostname device-1\n"),
		PostConfigurationScript: []byte("#!/bin/sh\necho post\n"),
	}}
}

func redirectTo(servers ...*sztptest.Server) *conveyed.ConveyedInformation {
	ri := &conveyed.RedirectInformation{}
	for _, s := range servers {
		ri.BootstrapServers = append(ri.BootstrapServers, conveyed.BootstrapServer{Address: s.Host, Port: s.Port})
	}
	return &conveyed.ConveyedInformation{Redirect: ri}
}

func types(ps ...conveyed.ProgressType) []conveyed.ProgressType { return ps }
