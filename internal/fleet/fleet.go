package fleet

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"slices"
	"sort"
	"sync"
	"syscall"
	"time"

	"github.com/sztp/sztp/boot"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/backoff"
)

// Window is the width of a rate measurement.
const Window = 100 * time.Millisecond

// Policy is how the agents retry.
type Policy struct {
	Name    string
	Backoff backoff.Backoff // copied for each agent
	// MaxRetryAfter as in client.Config (negative: Retry-After ignored).
	MaxRetryAfter time.Duration
}

// AgentPolicy is the agent's own policy (capped exponential backoff with
// jitter, Retry-After honoured and spread), with its time constants scaled
// down: first wait 1 s instead of 5 s, at most 60 s instead of 5 min.
func AgentPolicy() Policy {
	return Policy{Name: "agent", Backoff: backoff.Backoff{Initial: time.Second, Max: time.Minute, Jitter: 0.25}}
}

// NaivePolicy retries at a fixed interval and ignores Retry-After.
func NaivePolicy(every time.Duration) Policy {
	return Policy{Name: "naive", Backoff: backoff.Backoff{Initial: every, Max: every}, MaxRetryAfter: -1}
}

// Options configure one simulation.
type Options struct {
	Agents   int
	Capacity sztptest.Capacity
	Policy   Policy
	// StartSpread: agents power on at random times in [0, StartSpread).
	StartSpread time.Duration
	// Deadline stops the simulation (agents not done count as incomplete).
	Deadline time.Duration
	// PKI is shared by runs (making 10,000 device certificates takes a
	// while); nil makes one.
	PKI *PKI
	// Debug, when set, receives the log of the first agent.
	Debug io.Writer
}

// PKI is the server and device credentials of a fleet.
type PKI struct {
	p       *sztptest.PKI
	devices []*client.Identity
}

// NewPKI makes a server certificate and n device identities (IDevIDs
// with serial numbers FLEET-000000...).
func NewPKI(n int) (*PKI, error) {
	p, err := sztptest.NewPKI("FLEET-unused")
	if err != nil {
		return nil, err
	}
	out := &PKI{p: p, devices: make([]*client.Identity, n)}
	for i := range n {
		serial := fmt.Sprintf("FLEET-%06d", i)
		kp, err := sztptest.NewDeviceCert(p.DeviceCA, serial)
		if err != nil {
			return nil, err
		}
		out.devices[i] = &client.Identity{Certificate: kp.Cert, Chain: []*x509.Certificate{p.DeviceCA.Cert}, Signer: kp.Key, SerialNumber: serial}
	}
	return out, nil
}

// Result is what one simulation measured.
type Result struct {
	Policy    string
	Agents    int
	Completed int
	// Done holds the completion times, sorted.
	Done     []time.Duration
	Requests int
	// Rate is the requests that arrived in each Window from the start.
	Rate []int
	// CapacityPerWindow is the server's capacity in requests per Window.
	CapacityPerWindow float64
	// Peak is the highest Rate after the first second, over capacity.
	Peak float64
	// Retries maps a number of failed rounds to how many agents had it.
	Retries map[int]int
	Elapsed time.Duration
}

// Percentile is the time by which p (0..1) of all agents had completed,
// or -1 when fewer did.
func (r *Result) Percentile(p float64) time.Duration {
	need := int(float64(r.Agents)*p + 0.999999)
	if need < 1 {
		need = 1
	}
	if need > len(r.Done) {
		return -1
	}
	return r.Done[need-1]
}

// RaiseFileLimit raises RLIMIT_NOFILE to at least need (the soft limit up
// to the hard one, and the hard one too when allowed, e.g. as root): every
// agent and the server side of its connection hold a descriptor.
func RaiseFileLimit(need uint64) (uint64, error) {
	var l syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("file limit: %w", err)
	}
	if l.Cur >= need {
		return l.Cur, nil
	}
	want := l
	want.Cur = need
	if want.Max < need {
		want.Max = need
	}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		// Not allowed to raise the hard limit: take what there is.
		want = syscall.Rlimit{Cur: l.Max, Max: l.Max}
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
			return l.Cur, fmt.Errorf("file limit: %w", err)
		}
	}
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &l); err != nil {
		return 0, fmt.Errorf("file limit: %w", err)
	}
	if l.Cur < need {
		return l.Cur, fmt.Errorf("file limit %d is below the %d this fleet needs", l.Cur, need)
	}
	return l.Cur, nil
}

// nopConfig commits configuration nowhere.
type nopConfig struct{}

func (nopConfig) ApplyConfig(context.Context, boot.Config) (func() error, error) {
	return func() error { return nil }, nil
}

// Run simulates one fleet bootstrap.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Agents <= 0 {
		return nil, errors.New("fleet: no agents")
	}
	pki := o.PKI
	if pki == nil {
		var err error
		if pki, err = NewPKI(o.Agents); err != nil {
			return nil, err
		}
	}
	if len(pki.devices) < o.Agents {
		return nil, fmt.Errorf("fleet: PKI has %d devices, want %d", len(pki.devices), o.Agents)
	}
	if o.Deadline <= 0 {
		o.Deadline = 10 * time.Minute
	}
	capacity := o.Capacity
	if capacity.RequestsPerBootstrap == 0 {
		capacity.RequestsPerBootstrap = RequestsPerBootstrap
	}
	s, err := sztptest.NewServer(sztptest.Options{Certificate: pki.p.Server.TLS(), ClientCAs: pki.p.ClientCAs(), Capacity: &capacity})
	if err != nil {
		return nil, err
	}
	defer s.Close()
	s.SetResponse("", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("fleet\n"),
	}}})

	ctx, cancel := context.WithTimeout(ctx, o.Deadline)
	defer cancel()
	start := time.Now()
	res := &Result{Policy: o.Policy.Name, Agents: o.Agents, Retries: map[int]int{}}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for i := range o.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if d := time.Duration(rand.Int64N(int64(max(1, o.StartSpread)))); d > 0 {
				if backoff.Sleep(ctx, backoff.RealClock{}, d) != nil {
					return
				}
			}
			var log *slog.Logger
			if i == 0 && o.Debug != nil {
				log = slog.New(slog.NewTextHandler(o.Debug, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			failed, ok := runAgent(ctx, pki.devices[i], pki.p.ServerCA.Cert, s.URL, o.Policy, log)
			mu.Lock()
			defer mu.Unlock()
			res.Retries[failed]++
			if ok {
				res.Completed++
				res.Done = append(res.Done, time.Since(start))
			}
		}()
	}
	wg.Wait()
	res.Elapsed = time.Since(start)
	slices.Sort(res.Done)
	reqs := s.Requests()
	res.Requests = len(reqs)
	for _, r := range reqs {
		w := int(r.Time.Sub(start) / Window)
		if w < 0 {
			w = 0
		}
		for len(res.Rate) <= w {
			res.Rate = append(res.Rate, 0)
		}
		res.Rate[w]++
	}
	res.CapacityPerWindow = capacity.Rate() * Window.Seconds()
	if o.Debug != nil {
		kinds := map[int]map[string]int{}
		for _, r := range reqs {
			w := max(0, int(r.Time.Sub(start)/Window))
			if float64(res.Rate[w]) > 1.5*res.CapacityPerWindow {
				if kinds[w] == nil {
					kinds[w] = map[string]int{}
				}
				kinds[w][fmt.Sprintf("%s/%d/resumed=%v", r.RPC, r.Status, r.Resumed)]++
			}
		}
		for w, k := range kinds {
			fmt.Fprintf(o.Debug, "window %.1fs: %v\n", float64(w)/10, k)
		}
	}
	for w, n := range res.Rate {
		if time.Duration(w)*Window >= time.Second {
			res.Peak = max(res.Peak, float64(n)/res.CapacityPerWindow)
		}
	}
	return res, nil
}

// RequestsPerBootstrap is what one device sends when admitted:
// get-bootstrapping-data, bootstrap-initiated, the warning that SZTP stays
// enabled (the simulated devices keep no state directory), and
// bootstrap-complete.
const RequestsPerBootstrap = 4

// runAgent bootstraps one device; it returns how many rounds failed.
func runAgent(ctx context.Context, id *client.Identity, serverCA *x509.Certificate, url string, p Policy, log *slog.Logger) (int, bool) {
	bo := p.Backoff
	clock := &countingClock{}
	a, err := client.New(client.Config{
		Identity:           id,
		ServerTrustAnchors: []*x509.Certificate{serverCA},
		Sources:            []client.Source{client.URLSource{Label: "fleet", URLs: []string{url}}},
		Config:             nopConfig{},
		Clock:              clock,
		Backoff:            &bo,
		MaxRetryAfter:      p.MaxRetryAfter,
		Logger:             log,
		// Scaled down from 10 s / 30 s / 60 s, still far above what a
		// loopback server at capacity takes.
		Timeouts: client.Timeouts{Dial: 20 * time.Second, TLSHandshake: 20 * time.Second, ResponseHeader: 20 * time.Second, Request: 30 * time.Second},
	})
	if err != nil {
		return 0, false
	}
	_, err = a.Run(ctx)
	return clock.sleeps(), err == nil
}

// countingClock is the wall clock; it counts the waits between rounds.
type countingClock struct {
	mu sync.Mutex
	n  int
}

func (c *countingClock) Now() time.Time { return time.Now() }

func (c *countingClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.n++
	c.mu.Unlock()
	return time.After(d)
}

func (c *countingClock) sleeps() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// Prefix is what Report's lines start with: "fleet:" for the agent's
// policy, "fleet-NAME:" for another.
func (r *Result) Prefix() string {
	if r.Policy == "agent" || r.Policy == "" {
		return "fleet:"
	}
	return "fleet-" + r.Policy + ":"
}

// Report prints the figures of a result.
func (r *Result) Report(w io.Writer) {
	pct := func(p float64) string {
		d := r.Percentile(p)
		if d < 0 {
			return "never"
		}
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	p := r.Prefix()
	fmt.Fprintf(w, "%s completed %d/%d\n", p, r.Completed, r.Agents)
	fmt.Fprintf(w, "%s time to 50%% %s, 90%% %s, 100%% %s (run %.1fs)\n", p, pct(0.5), pct(0.9), pct(1), r.Elapsed.Seconds())
	fmt.Fprintf(w, "%s total requests %d (%.2f per agent)\n", p, r.Requests, float64(r.Requests)/float64(r.Agents))
	fmt.Fprintf(w, "%s capacity %.0f requests per %v window\n", p, r.CapacityPerWindow, Window)
	fmt.Fprintf(w, "%s peak/capacity %.2f\n", p, r.Peak)
	keys := make([]int, 0, len(r.Retries))
	for k := range r.Retries {
		keys = append(keys, k)
	}
	sort.Ints(keys)
	fmt.Fprintf(w, "%s retries per agent (retries:agents)", p)
	for _, k := range keys {
		fmt.Fprintf(w, " %d:%d", k, r.Retries[k])
	}
	fmt.Fprintln(w)
}
