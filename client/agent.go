package client

import (
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net"
	"time"

	"github.com/sztp/sztp/boot"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/images"
	"github.com/sztp/sztp/internal/backoff"
	"github.com/sztp/sztp/internal/state"
	"github.com/sztp/sztp/trust"
)

// DefaultMaxRedirectDepth limits redirect recursion (C19: MUST limit,
// SHOULD be at most 10).
const DefaultMaxRedirectDepth = 10

// DefaultMaxConnections bounds the bootstrap server connections of one
// candidate, redirects included: the depth limit alone lets redirect lists
// that point at each other cause exponentially many.
const DefaultMaxConnections = 64

// MaxRetryAfter caps how long a server's Retry-After can make the agent
// wait (Config.MaxRetryAfter's default).
const MaxRetryAfter = time.Hour

// MaxProvisionalRetryAfter caps the Retry-After of a server that was not
// authenticated (issue 10 item 13): anyone on the path (a DHCP-learned
// server) could otherwise park the device for an hour. The cap is also at
// most the backoff maximum (--retry-max).
const MaxProvisionalRetryAfter = time.Minute

// ImageFetcher downloads and verifies a boot image; *images.Fetcher is one.
type ImageFetcher interface {
	Fetch(ctx context.Context, req images.Request) (*images.Result, error)
}

// Opener decrypts and validates the artifacts of a response; trust.Open is
// the default. Tests and the demo may substitute their own.
type Opener func(a trust.Artifacts, opts trust.Options) (*trust.Result, error)

// Config is everything the agent needs. Only Identity and Sources are
// required; a nil hook means the corresponding step fails when onboarding
// information asks for it (never a silent skip).
type Config struct {
	Identity *Identity
	// ServerTrustAnchors authenticate configured bootstrap servers (C7, C9).
	ServerTrustAnchors []*x509.Certificate
	// VoucherTrustAnchors authenticate ownership vouchers (RFC 8572 5.4 step 1).
	VoucherTrustAnchors []*x509.Certificate
	// Sources are tried in order (C6: local before remote).
	Sources []Source

	Images  ImageFetcher
	Image   boot.ImageInstaller
	Config  boot.ConfigApplier
	Scripts boot.ScriptRunner
	// ScriptTimeout bounds each script (0: none beyond the runner's own).
	ScriptTimeout time.Duration

	// State is the state directory; nil keeps no state (no run-once).
	State *state.Store
	// Clock drives backoff and time checks; nil is the wall clock.
	Clock   backoff.Clock
	Backoff *backoff.Backoff
	// MaxRetryAfter caps a server's Retry-After (0: the MaxRetryAfter
	// constant; negative: Retry-After is ignored, as a naive client would).
	MaxRetryAfter time.Duration
	Logger        *slog.Logger
	// Open validates artifacts; nil is trust.Open.
	Open Opener
	// ClockUntrusted disables the clock-sensitive checks (C104).
	ClockUntrusted bool
	// Assertions accepted in vouchers; nil is the trust package default.
	Assertions []string

	Encoding  conveyed.Encoding
	OSName    string // what the device runs now (C71), sent only to trusted servers
	OSVersion string
	HWModel   string
	// Password enables HTTP Basic auth (username = serial number), only
	// toward authenticated servers (C58).
	Password        string
	Timeouts        Timeouts
	MaxResponseSize int64
	// MaxRedirectDepth defaults to DefaultMaxRedirectDepth.
	MaxRedirectDepth int
	// MaxConnections defaults to DefaultMaxConnections.
	MaxConnections int
	// Completion, when set, is called before bootstrap-complete, after the
	// post-configuration script (which may have made the keys), for the SSH
	// host keys and trust anchors sent with it (C66). When it fails,
	// bootstrap-complete goes without them and its message says why.
	Completion func(ctx context.Context) (*Completion, error)
	// LookupHost resolves a host name to addresses; nil is net.DefaultResolver.
	LookupHost func(ctx context.Context, host string) ([]string, error)
	// Measurer, when set, measures every artifact before the agent acts on
	// it (measured onboarding, measure.go).
	Measurer Measurer
	// Enroller, when set, offers RFC 9646 CSRs to trusted servers and
	// installs the LDevID certificate (csr.go).
	Enroller Enroller
}

// Result classifies an Outcome.
type Result string

const (
	// Bootstrapped: onboarding completed (bootstrap-complete sent when trusted).
	Bootstrapped Result = "success"
	// Rebooting: an image was installed and the device is rebooting into it.
	Rebooting Result = "rebooting"
	// Disabled: the SZTP-enabled flag is off; nothing was done.
	Disabled Result = "disabled"
	// AlreadyBootstrapped: the run-once record says the device bootstrapped.
	AlreadyBootstrapped Result = "already-bootstrapped"
)

// Outcome is the result of a successful RunOnce.
type Outcome struct {
	Result Result
	Source string // name of the source that succeeded
	Server string // host:port of the onboarding server ("" for artifacts)
	// Reports lists the progress reports sent, in order.
	Reports []conveyed.ProgressType
	// Signed is true when the onboarding information was signed data that
	// validated.
	Signed bool
}

// Agent is the RFC 8572 engine.
type Agent struct {
	cfg Config
	log *slog.Logger
	// retryAfter is the longest Retry-After seen in the last round.
	retryAfter time.Duration
	// retryAfterCap is the cap that Retry-After was held to; its spread
	// (retryDelay) stays within it.
	retryAfterCap time.Duration
	// signer counts the identity's signatures; sessions resume TLS
	// sessions per trust decision, across rounds.
	signer   *countingSigner
	sessions sessionCaches
}

// New checks cfg and returns an agent.
func New(cfg Config) (*Agent, error) {
	if cfg.Identity == nil || cfg.Identity.Certificate == nil {
		return nil, errors.New("client: an identity is required (C11)")
	}
	// C11: the certificate is useless without its private key; say so
	// now, not as a TLS failure at every server.
	if err := cfg.Identity.checkKey(); err != nil {
		return nil, fmt.Errorf("client: %w (C11)", err)
	}
	if cfg.Identity.SerialNumber == "" {
		cfg.Identity.SerialNumber = SerialNumberOf(cfg.Identity.Certificate)
	}
	// C12: the serial number sent (HTTP auth, get-bootstrapping-data) must
	// be the client certificate's; issue 10 item 6: also without HTTP auth.
	if sn := SerialNumberOf(cfg.Identity.Certificate); sn != "" && sn != cfg.Identity.SerialNumber {
		return nil, fmt.Errorf("client: the serial number %q contradicts the IDevID certificate's serialNumber %q (C12)", cfg.Identity.SerialNumber, sn)
	}
	if cfg.Clock == nil {
		cfg.Clock = backoff.RealClock{}
	}
	if cfg.Backoff == nil {
		cfg.Backoff = &backoff.Backoff{Initial: 5 * time.Second, Max: 5 * time.Minute, Jitter: 0.25}
	}
	if cfg.Open == nil {
		cfg.Open = trust.Open
	}
	if cfg.MaxRedirectDepth <= 0 {
		cfg.MaxRedirectDepth = DefaultMaxRedirectDepth
	}
	if cfg.MaxConnections <= 0 {
		cfg.MaxConnections = DefaultMaxConnections
	}
	if cfg.LookupHost == nil {
		cfg.LookupHost = net.DefaultResolver.LookupHost
	}
	if cfg.Images == nil {
		cfg.Images = &images.Fetcher{Logger: cfg.Logger}
	}
	log := cfg.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ag := &Agent{cfg: cfg, log: log}
	if cfg.Identity.Signer != nil {
		id := *cfg.Identity
		ag.signer = &countingSigner{Signer: id.Signer}
		id.Signer = ag.signer
		ag.cfg.Identity = &id
	}
	return ag, nil
}

// Run bootstraps the device: it tries every source in order, and repeats
// with capped exponential backoff and jitter until one succeeds (C3), the
// device turns out to be disabled or already bootstrapped, or ctx ends.
func (a *Agent) Run(ctx context.Context) (*Outcome, error) {
	bo := a.cfg.Backoff
	for round := 1; ; round++ {
		out, err := a.RunOnce(ctx)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		d := a.retryDelay(bo.Next(), rand.Float64())
		a.log.Warn("bootstrap attempt failed; retrying", "round", round, "in", d.Round(time.Millisecond), "err", err)
		if err := backoff.Sleep(ctx, a.cfg.Clock, d); err != nil {
			return nil, err
		}
	}
}

// RunOnce makes one pass over the sources. It returns an error when no
// source led to a bootstrap.
func (a *Agent) RunOnce(ctx context.Context) (*Outcome, error) {
	a.retryAfter, a.retryAfterCap = 0, 0
	if st := a.cfg.State; st != nil {
		on, err := st.Enabled()
		if err != nil {
			return nil, err
		}
		if !on {
			a.log.Info("SZTP is disabled; nothing to do")
			return &Outcome{Result: Disabled}, nil
		}
		done, err := st.Completed()
		if err != nil {
			return nil, err
		}
		if done != nil {
			a.log.Info("device already bootstrapped; nothing to do", "at", done.Time, "server", done.Server)
			return &Outcome{Result: AlreadyBootstrapped, Server: done.Server, Source: done.Source}, nil
		}
	}
	started := a.cfg.Clock.Now()
	out, err := a.runSources(ctx)
	if st := a.cfg.State; st != nil {
		r := state.Run{Started: started, Finished: a.cfg.Clock.Now()}
		if err != nil {
			r.Result, r.Error = "failure", err.Error()
		} else {
			r.Result, r.Source, r.Server = string(out.Result), out.Source, out.Server
		}
		if werr := st.SetLastRun(r); werr != nil {
			a.log.Warn("recording the run", "err", werr)
		}
	}
	return out, err
}

func (a *Agent) runSources(ctx context.Context) (*Outcome, error) {
	if len(a.cfg.Sources) == 0 {
		return nil, errors.New("no bootstrapping sources configured")
	}
	var errs []error
	for _, src := range a.cfg.Sources {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		cands, err := src.Bootstrap(ctx)
		if err != nil {
			a.log.Warn("source failed", "source", src.Name(), "err", err)
			errs = append(errs, fmt.Errorf("%s: %w", src.Name(), err))
			continue
		}
		// One attempt per source; candidate resets its per-candidate
		// state (C8: trust-state FALSE at the start of each).
		at := &attempt{a: a, source: src.Name()}
		for _, c := range cands {
			out, err := at.candidate(ctx, c)
			if err == nil {
				out.Source = src.Name()
				return out, nil
			}
			a.log.Warn("bootstrap candidate failed", "source", src.Name(), "candidate", c.String(), "err", err)
			errs = append(errs, fmt.Errorf("%s: %s: %w", src.Name(), c.String(), err))
		}
	}
	if len(errs) == 0 {
		return nil, errors.New("no source yielded a bootstrap server or bootstrapping data")
	}
	return nil, errors.Join(errs...)
}

// retryDelay is the wait before the next round: the backoff delay d or a
// server's Retry-After, whichever is longer, plus a random part (r in
// [0,1)) of that Retry-After, never beyond the cap that server's
// Retry-After was held to. A server that answers a whole fleet
// "Retry-After: 10" in the same second would otherwise see it all come
// back in the same instant; spread over one more Retry-After period, the
// fleet returns at about the rate it was turned away (issue 13 item 4).
func (a *Agent) retryDelay(d time.Duration, r float64) time.Duration {
	ra := a.retryAfter
	if ra <= 0 {
		return d
	}
	limit := max(d, a.retryAfterCap)
	return min(max(d, ra)+time.Duration(r*float64(ra)), limit)
}

// noteRetryAfter keeps the longest Retry-After of the round; that of a
// server that was not authenticated counts for at most
// min(MaxProvisionalRetryAfter, the backoff maximum).
func (a *Agent) noteRetryAfter(err error, trusted bool) {
	var se *StatusError
	if !errors.As(err, &se) {
		return
	}
	ra := se.RetryAfter
	limit := a.cfg.MaxRetryAfter
	switch {
	case limit < 0:
		return // ignored (a naive client, for the fleet simulation)
	case limit == 0:
		limit = MaxRetryAfter
	}
	if !trusted {
		limit = min(limit, MaxProvisionalRetryAfter)
		if m := a.cfg.Backoff.Max; m > 0 && m < limit {
			limit = m
		}
		if ra > limit {
			a.log.Info("capping the Retry-After of a server that was not authenticated", "retry-after", ra, "cap", limit)
		}
	}
	ra = min(ra, limit)
	if ra > a.retryAfter {
		a.retryAfter, a.retryAfterCap = ra, limit
	}
}
