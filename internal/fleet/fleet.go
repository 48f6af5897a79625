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
	// Attempts is how many get-bootstrapping-data attempts the devices
	// started (one per round; an attempt whose connection failed never
	// reaches the server).
	Attempts int
	// Rate is the requests the devices sent in each Window from the start,
	// by the devices' clocks (see offered).
	Rate []int
	// Arrived is the requests that reached the server's handler in each
	// Window: Rate delayed by this machine's CPU, which every device and
	// the server share.
	Arrived []int
	// CapacityPerWindow is the server's capacity in requests per Window.
	CapacityPerWindow float64
	// Peak is the highest Rate after the first second, over capacity,
	// and PeakAt the start of its window; PeakArrived the same for Arrived.
	Peak, PeakArrived     float64
	PeakAt, PeakArrivedAt time.Duration
	// HerdArrived is when the last device's first request reached the
	// server (the power-on herd through this machine's CPU), and
	// ArrivedCalm the end of the last Arrived window above 1.5x capacity
	// (0 when none was).
	HerdArrived, ArrivedCalm time.Duration
	// Retries maps a number of failed rounds to how many agents had it.
	Retries map[int]int
	Elapsed time.Duration
}

// Windows is how many windows Rate and Arrived cover together.
func (r *Result) Windows() int { return max(len(r.Rate), len(r.Arrived)) }

// At returns the requests sent and arrived in window w (0 past the end of
// either).
func (r *Result) At(w int) (sent, arrived int) {
	if w < len(r.Rate) {
		sent = r.Rate[w]
	}
	if w < len(r.Arrived) {
		arrived = r.Arrived[w]
	}
	return sent, arrived
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
	var attempts []time.Time // every round's start, all devices
	for i := range o.Agents {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := time.Duration(rand.Int64N(int64(max(1, o.StartSpread))))
			if backoff.Sleep(ctx, backoff.RealClock{}, d) != nil {
				return
			}
			var log *slog.Logger
			if i == 0 && o.Debug != nil {
				log = slog.New(slog.NewTextHandler(o.Debug, &slog.HandlerOptions{Level: slog.LevelDebug}))
			}
			clock := &roundClock{starts: []time.Time{start.Add(d)}} // power-on: the first round
			ok := runAgent(ctx, pki.devices[i], pki.p.ServerCA.Cert, s.URL, o.Policy, clock, log)
			rounds := clock.rounds(time.Now())
			mu.Lock()
			defer mu.Unlock()
			res.Retries[len(rounds)-1]++
			attempts = append(attempts, rounds...)
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
	res.Attempts = len(attempts)
	count := func(rate *[]int, t time.Time) {
		w := max(0, int(t.Sub(start)/Window))
		for len(*rate) <= w {
			*rate = append(*rate, 0)
		}
		(*rate)[w]++
	}
	for _, t := range offered(attempts, reqs, capacity.ServiceTime) {
		count(&res.Rate, t)
	}
	for _, r := range reqs {
		count(&res.Arrived, r.Time)
	}
	res.CapacityPerWindow = capacity.Rate() * Window.Seconds()
	if o.Debug != nil {
		kinds := map[int]map[string]int{}
		for _, r := range reqs {
			w := max(0, int(r.Time.Sub(start)/Window))
			if float64(res.Arrived[w]) > 1.5*res.CapacityPerWindow {
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
	res.Peak, res.PeakAt = peak(res.Rate, res.CapacityPerWindow)
	res.PeakArrived, res.PeakArrivedAt = peak(res.Arrived, res.CapacityPerWindow)
	res.HerdArrived = herdArrived(reqs, start)
	res.ArrivedCalm = calmAfter(res.Arrived, 1.5*res.CapacityPerWindow)
	return res, nil
}

// peak is the highest rate after the first second, over capacity, and
// the start of its window.
func peak(rate []int, capacity float64) (float64, time.Duration) {
	var p float64
	var at time.Duration
	for w, n := range rate {
		if t := time.Duration(w) * Window; t >= time.Second && float64(n)/capacity > p {
			p, at = float64(n)/capacity, t
		}
	}
	return p, at
}

// calmAfter is the end of the last window above limit (0 when none is).
func calmAfter(rate []int, limit float64) time.Duration {
	for w := len(rate) - 1; w >= 0; w-- {
		if float64(rate[w]) > limit {
			return time.Duration(w+1) * Window
		}
	}
	return 0
}

// herdArrived is when the last device's first request reached the server.
func herdArrived(reqs []sztptest.Request, start time.Time) time.Duration {
	seen := map[string]bool{}
	var last time.Time
	for _, r := range reqs {
		if !seen[r.Serial] {
			seen[r.Serial] = true
			last = later(last, r.Time)
		}
	}
	if last.IsZero() {
		return 0
	}
	return last.Sub(start)
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

// offered is when the devices sent their requests, by their own
// schedules: a get-bootstrapping-data attempt when its round started
// (power-on, or the end of the wait the agent asked its clock for), and
// the progress reports of a device the server admitted one service time
// apart after that admission (the agent sends each as soon as the answer
// to the one before is due). The server's arrival times are these plus
// the time this machine's two cores take to get to the device's
// goroutine, its TLS handshake and the server's: 10,000 devices' first
// handshakes take seconds of CPU, which a real fleet, one CPU per device,
// does not share.
func offered(attempts []time.Time, reqs []sztptest.Request, service time.Duration) []time.Time {
	out := slices.Clone(attempts)
	type admitted struct {
		at      time.Time
		reports int
	}
	last := map[string]*admitted{} // a device's latest admission
	for _, r := range reqs {       // in arrival order
		switch {
		case r.RPC == "get-bootstrapping-data" && r.Status == 200:
			last[r.Serial] = &admitted{at: r.Time}
		case r.RPC == "report-progress":
			t := r.Time
			if a := last[r.Serial]; a != nil {
				a.reports++
				if due := a.at.Add(time.Duration(a.reports) * service); due.Before(t) {
					t = due
				}
			}
			out = append(out, t)
		}
	}
	return out
}

// RequestsPerBootstrap is what one device sends when admitted:
// get-bootstrapping-data, bootstrap-initiated, the warning that SZTP stays
// enabled (the simulated devices keep no state directory), and
// bootstrap-complete.
const RequestsPerBootstrap = 4

// runAgent bootstraps one device, its rounds timed by clock.
func runAgent(ctx context.Context, id *client.Identity, serverCA *x509.Certificate, url string, p Policy, clock *roundClock, log *slog.Logger) bool {
	bo := p.Backoff
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
		return false
	}
	_, err = a.Run(ctx)
	return err == nil
}

// roundClock is the wall clock; it notes when each wait between rounds
// is to end, which is when the agent starts its next round (the agent
// asks its clock for nothing else). That is the device's own schedule: on
// this machine the goroutine may run later, when a core is free.
type roundClock struct {
	mu     sync.Mutex
	starts []time.Time
}

func (c *roundClock) Now() time.Time { return time.Now() }

func (c *roundClock) After(d time.Duration) <-chan time.Time {
	c.mu.Lock()
	c.starts = append(c.starts, time.Now().Add(d))
	c.mu.Unlock()
	return time.After(d)
}

// rounds returns the starts of the rounds run before end (a wait that
// ended after the agent had stopped, at the deadline, started none).
func (c *roundClock) rounds(end time.Time) []time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	var out []time.Time
	for _, t := range c.starts {
		if !t.After(end) {
			out = append(out, t)
		}
	}
	return out
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
	fmt.Fprintf(w, "%s total requests %d (%.2f per agent), %d get-bootstrapping-data attempts\n", p, r.Requests, float64(r.Requests)/float64(r.Agents), r.Attempts)
	fmt.Fprintf(w, "%s capacity %.0f requests per %v window\n", p, r.CapacityPerWindow, Window)
	fmt.Fprintf(w, "%s peak/capacity %.2f (window at %.1fs)\n", p, r.Peak, r.PeakAt.Seconds())
	fmt.Fprintf(w, "%s peak/capacity on arrival at the server %.2f (window at %.1fs; this machine's CPU queueing included)\n", p, r.PeakArrived, r.PeakArrivedAt.Seconds())
	fmt.Fprintf(w, "%s on arrival at the server, no window above 1.5x capacity after %.1fs (the last device's first request arrived at %.1fs)\n", p, r.ArrivedCalm.Seconds(), r.HerdArrived.Seconds())
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
