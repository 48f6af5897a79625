package client

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/internal/httpx"
	"github.com/sztp/sztp/internal/safetext"
)

// Timeouts bound every HTTP step; zero fields take the defaults.
type Timeouts struct {
	Dial           time.Duration // TCP connect (default 10s)
	TLSHandshake   time.Duration // TLS handshake (default 10s)
	ResponseHeader time.Duration // request sent to response headers (default 30s)
	Request        time.Duration // whole request including the body (default 60s)
}

// Default timeouts.
const (
	DefaultDialTimeout           = 10 * time.Second
	DefaultTLSHandshakeTimeout   = 10 * time.Second
	DefaultResponseHeaderTimeout = 30 * time.Second
	DefaultRequestTimeout        = 60 * time.Second
	// DefaultMaxResponseSize bounds a response body.
	DefaultMaxResponseSize = 16 << 20
)

func (t Timeouts) withDefaults() Timeouts {
	if t.Dial <= 0 {
		t.Dial = DefaultDialTimeout
	}
	if t.TLSHandshake <= 0 {
		t.TLSHandshake = DefaultTLSHandshakeTimeout
	}
	if t.ResponseHeader <= 0 {
		t.ResponseHeader = DefaultResponseHeaderTimeout
	}
	if t.Request <= 0 {
		t.Request = DefaultRequestTimeout
	}
	return t
}

// TLSMode says how a bootstrap server's certificate is treated.
type TLSMode int

const (
	// Opportunistic verifies the server to the anchors when there are any:
	// success makes the connection trusted, failure leaves it untrusted
	// (provisional). Used for configured servers (flags, config, kernel).
	Opportunistic TLSMode = iota
	// Verify requires the server to validate to the anchors (a trusted
	// redirect entry with a trust-anchor, C47); failure fails the connection.
	Verify
	// Provisional accepts any server certificate; the connection is
	// untrusted (C48, C49, C90).
	Provisional
)

func (m TLSMode) String() string {
	switch m {
	case Verify:
		return "verify"
	case Provisional:
		return "provisional"
	}
	return "opportunistic"
}

// StatusError is a bootstrap server's answer with an unexpected HTTP status.
type StatusError struct {
	RPC        string
	Code       int
	RetryAfter time.Duration // from Retry-After on 429/503, else 0
	Body       string        // the start of the body (e.g. ietf-restconf:errors)
	// Raw is the whole body (at most the response size limit) and
	// ContentType its media type, for an RFC 9646 csr-request (csr.go).
	Raw         []byte
	ContentType string
}

func (e *StatusError) Error() string {
	s := fmt.Sprintf("%s: HTTP %d %s", e.RPC, e.Code, httpx.StatusText(e.Code))
	if e.RetryAfter > 0 {
		s += fmt.Sprintf(" (retry after %s)", e.RetryAfter)
	}
	if e.Body != "" {
		s += ": " + e.Body
	}
	return s
}

// ErrNotTrusted is returned when a Verify-mode server fails authentication.
var ErrNotTrusted = errors.New("server certificate not trusted")

// ServerURL normalises a bootstrap server URI: https only; a bare
// https://host[:port] gets "/restconf" appended, a URI that already ends in
// the RESTCONF root (or a full operation path) keeps its root.
func ServerURL(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimSpace(raw))
	raw = safetext.RedactURIs(raw) // for the messages below
	if err != nil {
		return nil, fmt.Errorf("bootstrap server URI %q: %s", raw, safetext.RedactURIs(err.Error()))
	}
	if u.Scheme != "https" {
		return nil, fmt.Errorf("bootstrap server URI %q: scheme must be https", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("bootstrap server URI %q: no host", raw)
	}
	if u.User != nil || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("bootstrap server URI %q: user info, query and fragment are not allowed", raw)
	}
	p := strings.TrimRight(u.Path, "/")
	if i := strings.Index(p, "/operations/"); i >= 0 {
		p = p[:i]
	}
	if p == "" {
		p = "/restconf"
	}
	u.Path, u.RawPath = p, ""
	return u, nil
}

// ServerURLFor builds the base URL of a redirect entry (RFC 8572 7.3, RFC 8040 3: IPv6
// literals bracketed, missing port means 443).
func ServerURLFor(address string, port uint16) *url.URL {
	if port == 0 {
		port = 443
	}
	return &url.URL{Scheme: "https", Host: net.JoinHostPort(address, strconv.Itoa(int(port))), Path: "/restconf"}
}

// Conn is a RESTCONF session with one bootstrap server at one address.
type Conn struct {
	base     *url.URL
	host     string // hostname or IP for identity checks
	dialAddr string // ip:port actually dialled
	mode     TLSMode
	anchors  *x509.CertPool
	id       *Identity
	password string
	enc      conveyed.Encoding
	maxSize  int64
	timeouts Timeouts
	log      *slog.Logger

	mu       sync.Mutex
	trusted  bool
	pc       *httpx.PersistentConn // the connection requests go over (keep-alive)
	sessions tls.ClientSessionCache
}

// ConnConfig parameterises Dial.
type ConnConfig struct {
	Identity *Identity
	Mode     TLSMode
	Anchors  []*x509.Certificate
	// Password for HTTP Basic auth (username = serial number), sent only
	// when the server was authenticated (C58). Empty means none.
	Password string
	Encoding conveyed.Encoding
	MaxSize  int64
	Timeouts Timeouts
	Logger   *slog.Logger
	// Sessions resumes TLS sessions (a resumed handshake costs the device
	// no signature). It must be used only for connections of the same
	// trust decision (same address, host, mode and anchors): the Agent
	// keeps one per decision. Nil: one for this Conn alone.
	Sessions tls.ClientSessionCache
}

// Dial connects to the server at base (a URL from ServerURL), trying the
// given address (ip:port, or host:port to resolve), and authenticates it
// per cfg.Mode. The returned Conn knows whether the server is trusted.
func Dial(ctx context.Context, base *url.URL, addr string, cfg ConnConfig) (*Conn, error) {
	c := &Conn{
		base: base, host: base.Hostname(), dialAddr: addr, mode: cfg.Mode, id: cfg.Identity,
		password: cfg.Password, enc: cfg.Encoding, maxSize: cfg.MaxSize,
		timeouts: cfg.Timeouts.withDefaults(), log: cfg.Logger, sessions: cfg.Sessions,
	}
	if c.sessions == nil {
		c.sessions = tls.NewLRUClientSessionCache(1)
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	if c.maxSize <= 0 {
		c.maxSize = DefaultMaxResponseSize
	}
	if len(cfg.Anchors) > 0 && cfg.Mode != Provisional {
		c.anchors = x509.NewCertPool()
		for _, a := range cfg.Anchors {
			c.anchors.AddCert(a)
		}
	}
	if cfg.Mode == Verify && c.anchors == nil {
		return nil, fmt.Errorf("%s: verify mode without trust anchors", base.Host)
	}
	conn, verified, err := c.dialTLS(ctx, c.mode)
	if err != nil {
		return nil, err
	}
	if cfg.Mode == Opportunistic && c.anchors == nil {
		c.log.Info("no server trust anchors configured: bootstrap server contacted provisionally (untrusted)", "server", base.Host)
	}
	c.pc, c.trusted = httpx.NewPersistentConn(conn), verified
	return c, nil
}

// Trusted reports whether the server's certificate was authenticated to a
// trust anchor, with its identity checked (C9, C10).
func (c *Conn) Trusted() bool { return c.trusted }

// Base returns the RESTCONF root URL of the server.
func (c *Conn) Base() *url.URL { return c.base }

// Close closes the connection.
func (c *Conn) Close() {
	c.mu.Lock()
	if c.pc != nil {
		c.pc.Close()
	}
	c.mu.Unlock()
}

func (c *Conn) dialTLS(ctx context.Context, mode TLSMode) (net.Conn, bool, error) {
	d := net.Dialer{Timeout: c.timeouts.Dial}
	raw, err := d.DialContext(ctx, "tcp", c.dialAddr)
	if err != nil {
		return nil, false, fmt.Errorf("connecting to %s: %w", c.dialAddr, err)
	}
	verified := false
	var verifyErr error
	cfg := &tls.Config{
		MinVersion:         tls.VersionTLS12,
		ServerName:         c.host,
		InsecureSkipVerify: true, // verification is done below, per mode
		NextProtos:         []string{"http/1.1"},
		ClientSessionCache: c.sessions,
		VerifyConnection: func(cs tls.ConnectionState) error {
			verifyErr = c.verifyServer(cs)
			verified = verifyErr == nil
			if mode == Verify && !verified {
				return fmt.Errorf("%w: %v", ErrNotTrusted, verifyErr)
			}
			return nil
		},
	}
	if net.ParseIP(c.host) != nil {
		cfg.ServerName = "" // no SNI for IP literals
	}
	if c.id != nil && c.id.Signer != nil && c.id.Certificate != nil {
		cert := c.id.TLSCertificate()
		cfg.GetClientCertificate = func(*tls.CertificateRequestInfo) (*tls.Certificate, error) { return &cert, nil }
	}
	tc := tls.Client(raw, cfg)
	hctx, cancel := context.WithTimeout(ctx, c.timeouts.TLSHandshake)
	defer cancel()
	if err := tc.HandshakeContext(hctx); err != nil {
		raw.Close()
		return nil, false, fmt.Errorf("TLS handshake with %s (%s): %w", c.base.Host, c.dialAddr, err)
	}
	if mode != Provisional && c.anchors != nil && !verified {
		c.log.Warn("bootstrap server not authenticated; continuing provisionally (untrusted)", "server", c.base.Host, "err", verifyErr)
	}
	return tc, verified && mode != Provisional, nil
}

// verifyServer path-validates the server chain to the anchors and checks
// the host name or IP address (RFC 6125 section 6).
func (c *Conn) verifyServer(cs tls.ConnectionState) error {
	if c.anchors == nil {
		return errors.New("no trust anchors")
	}
	if len(cs.PeerCertificates) == 0 {
		return errors.New("server sent no certificate")
	}
	inter := x509.NewCertPool()
	for _, ic := range cs.PeerCertificates[1:] {
		inter.AddCert(ic)
	}
	_, err := cs.PeerCertificates[0].Verify(x509.VerifyOptions{
		DNSName:       c.host,
		Roots:         c.anchors,
		Intermediates: inter,
		KeyUsages:     []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	})
	return err
}

// NewNonce returns 16 fresh random octets (C56).
func NewNonce() ([]byte, error) {
	n := make([]byte, 16)
	if _, err := rand.Read(n); err != nil {
		return nil, fmt.Errorf("nonce: %w", err)
	}
	return n, nil
}

// GetBootstrappingData calls the get-bootstrapping-data RPC. The caller
// builds the input according to trust (C54, C55).
func (c *Conn) GetBootstrappingData(ctx context.Context, in *conveyed.GetBootstrappingDataInput) (*conveyed.GetBootstrappingDataOutput, error) {
	body, err := in.Encode(c.enc)
	if err != nil {
		return nil, fmt.Errorf("encoding get-bootstrapping-data input: %w", err)
	}
	status, data, hdr, err := c.post(ctx, "get-bootstrapping-data", body)
	if err != nil {
		return nil, err
	}
	if status != httpx.StatusOK {
		return nil, c.statusError("get-bootstrapping-data", status, data, hdr)
	}
	enc := c.enc
	if mt := mediaType(hdr.Get("Content-Type")); mt == conveyed.XML.MediaType() {
		enc = conveyed.XML
	} else if mt == conveyed.JSON.MediaType() {
		enc = conveyed.JSON
	}
	out, err := conveyed.DecodeGetBootstrappingDataOutput(data, enc)
	if err != nil {
		return nil, fmt.Errorf("decoding get-bootstrapping-data output from %s: %w", c.base.Host, err)
	}
	return out, nil
}

// ReportProgress calls report-progress. It refuses to talk to an untrusted
// server (C62). Success is 204 No Content (RFC 8572 7.3).
func (c *Conn) ReportProgress(ctx context.Context, in *conveyed.ReportProgressInput) error {
	if !c.trusted {
		return errors.New("report-progress: refusing to report to an untrusted server")
	}
	body, err := in.Encode(c.enc)
	if err != nil {
		return fmt.Errorf("encoding report-progress input: %w", err)
	}
	status, data, hdr, err := c.post(ctx, "report-progress", body)
	if err != nil {
		return err
	}
	if status != httpx.StatusNoContent {
		return c.statusError("report-progress", status, data, hdr)
	}
	return nil
}

func (c *Conn) statusError(rpc string, status int, data []byte, hdr httpx.Header) error {
	e := &StatusError{RPC: rpc, Code: status, Raw: data, ContentType: mediaType(hdr.Get("Content-Type"))}
	if status == httpx.StatusTooManyRequests || status == httpx.StatusServiceUnavailable {
		e.RetryAfter = parseRetryAfter(hdr.Get("Retry-After"), time.Now())
	}
	b := strings.TrimSpace(string(data))
	if len(b) > 512 {
		b = b[:512] + "..."
	}
	// Issue 10 item 12: the body is the server's text; it is logged,
	// printed and stored, so it cannot carry terminal escapes.
	e.Body = safetext.Clean(b)
	return e
}

// maxRetryAfterSeconds bounds a Retry-After before it becomes a Duration
// (the agent waits at most MaxRetryAfter anyway).
const maxRetryAfterSeconds = 7 * 24 * 3600

// httpDate is the preferred HTTP date format (RFC 9110 5.6.7).
const httpDate = "Mon, 02 Jan 2006 15:04:05 GMT"

// parseRetryAfter reads delay-seconds or an HTTP date.
func parseRetryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if n, err := strconv.ParseInt(v, 10, 64); err == nil || errors.Is(err, strconv.ErrRange) {
		switch {
		case n < 0:
			return 0
		case n > maxRetryAfterSeconds || err != nil:
			return maxRetryAfterSeconds * time.Second
		}
		return time.Duration(n) * time.Second
	}
	for _, layout := range []string{httpDate, time.RFC850, time.ANSIC} {
		if t, err := time.Parse(layout, v); err == nil {
			if t.After(now) {
				return t.Sub(now)
			}
			return 0
		}
	}
	return 0
}

func mediaType(ct string) string {
	mt, _, _ := strings.Cut(ct, ";")
	return strings.ToLower(strings.TrimSpace(mt))
}

func (c *Conn) post(ctx context.Context, rpc string, body []byte) (int, []byte, httpx.Header, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeouts.Request)
	defer cancel()
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + "/operations/" + conveyed.ModuleBootstrapServer + ":" + rpc
	req, err := httpx.NewRequest(ctx, "POST", u.String(), body)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s: %w", rpc, err)
	}
	req.Header.Set("Content-Type", c.enc.MediaType())
	req.Header.Set("Accept", c.enc.MediaType())
	if c.password != "" && c.trusted && c.id != nil {
		req.SetBasicAuth(c.id.SerialNumber, c.password)
	}
	// The request goes over the connection whose trust was classified (C9),
	// or a fresh one verified the same way. HTTP redirects (3xx) are
	// returned as they are, never followed (RFC 8040 7).
	resp, err := c.roundTrip(ctx, req, rpc == "get-bootstrapping-data")
	if err != nil {
		if ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
		return 0, nil, nil, fmt.Errorf("%s to %s: %w", rpc, c.base.Host, err)
	}
	defer resp.Body.Close()
	data, err := readBounded(resp.Body, resp.ContentLength, c.maxSize)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("%s from %s: %w", rpc, c.base.Host, err)
	}
	c.log.Debug("restconf", "rpc", rpc, "server", c.base.Host, "status", resp.StatusCode, "bytes", len(data))
	return resp.StatusCode, data, resp.Header, nil
}

// readStep is the most readBounded adds to its buffer at a time.
const readStep = 256 << 10

// readBounded reads a response body of at most limit bytes. A declared
// length (declared >= 0) over limit is refused before anything is read, and
// one within it is read into a buffer of exactly that size; a body of
// unknown length is read in steps of readStep, so refusing one costs about
// limit, not the 2-3 times limit of slice doubling (issue 10 item 15).
func readBounded(r io.Reader, declared, limit int64) ([]byte, error) {
	if declared > limit {
		return nil, fmt.Errorf("response of %d bytes is larger than %d bytes", declared, limit)
	}
	if declared >= 0 {
		data := make([]byte, declared)
		if _, err := io.ReadFull(r, data); err != nil {
			return nil, fmt.Errorf("reading response: %w", err)
		}
		return data, nil
	}
	var chunks [][]byte
	total := int64(0)
	for {
		n := min(readStep, limit+1-total)
		chunk := make([]byte, n)
		got := 0
		var err error
		for got < len(chunk) && err == nil {
			var k int
			k, err = r.Read(chunk[got:])
			got += k
		}
		total += int64(got)
		chunks = append(chunks, chunk[:got])
		if total > limit {
			return nil, fmt.Errorf("response larger than %d bytes", limit)
		}
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading response: %w", err)
		}
	}
	if len(chunks) == 1 {
		return chunks[0], nil
	}
	data := make([]byte, 0, total)
	for _, c := range chunks {
		data = append(data, c...)
	}
	return data, nil
}
