package httpx

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"sync"
	"time"
)

// Defaults for zero timeouts.
const (
	DefaultDialTimeout         = 10 * time.Second
	DefaultTLSHandshakeTimeout = 10 * time.Second
	DefaultHeaderTimeout       = 30 * time.Second
)

// Client sends HTTP/1.1 requests. The zero value is usable.
type Client struct {
	// TLSConfig is used for https URLs; ServerName defaults to the URL host.
	TLSConfig *tls.Config
	// DialTimeout, TLSHandshakeTimeout and ResponseHeaderTimeout bound each
	// phase; zero means the package default. The context bounds the whole.
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration
	// MaxRedirects is how many 301/302/303/307/308 redirects of a GET are
	// followed; zero means none (the 3xx response is returned).
	MaxRedirects int
	// DialTLS, when set, makes the connection for https URLs instead of
	// dialing and handshaking with TLSConfig (the RESTCONF client uses it to
	// classify the server as trusted or not on the very connection it uses).
	DialTLS func(ctx context.Context, addr string) (net.Conn, error)
	// Dial replaces the network dialer.
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Do sends req and returns the response. The caller must close its Body,
// which closes the connection. The request's context cancels it at any
// point, including while the body is read.
func (c *Client) Do(req *Request) (*Response, error) {
	for n := 0; ; n++ {
		resp, err := c.do(req)
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		if n >= c.MaxRedirects || loc == "" || !isRedirect(resp.StatusCode) || req.Method != "GET" {
			return resp, nil
		}
		resp.Body.Close()
		nreq, err := redirect(req, loc)
		if err != nil {
			return nil, err
		}
		req = nreq
	}
}

// redirect is the request that follows req to loc. An https request is never
// redirected to anything but https (that would quietly drop the TLS the
// caller asked for), and Authorization goes along only when the scheme and
// host:port stay the same (issue 10 item 11).
func redirect(req *Request, loc string) (*Request, error) {
	next, err := req.URL.Parse(loc)
	if err != nil {
		return nil, errors.New("redirect to an unparsable location")
	}
	switch {
	case next.Scheme != "http" && next.Scheme != "https":
		return nil, fmt.Errorf("redirect to %s: unsupported scheme %q", next.Redacted(), next.Scheme)
	case req.URL.Scheme == "https" && next.Scheme != "https":
		return nil, fmt.Errorf("refusing redirect from https to %s (a downgrade)", next.Redacted())
	}
	from, _ := HostPort(req.URL)
	to, _ := HostPort(next)
	same := next.Scheme == req.URL.Scheme && from == to
	nreq := *req
	nreq.URL = next
	nreq.Header = Header{}
	for k, v := range req.Header {
		if k != "Authorization" || same {
			nreq.Header[k] = v
		}
	}
	return &nreq, nil
}

func isRedirect(code int) bool {
	switch code {
	case 301, 302, 303, 307, 308:
		return true
	}
	return false
}

func orDefault(d, def time.Duration) time.Duration {
	if d <= 0 {
		return def
	}
	return d
}

// HostPort is the host:port a URL connects to (default ports 80 and 443).
func HostPort(u *url.URL) (string, error) {
	port := u.Port()
	if port == "" {
		switch u.Scheme {
		case "https":
			port = "443"
		case "http":
			port = "80"
		}
	}
	if u.Hostname() == "" {
		return "", fmt.Errorf("URL %q has no host", u.Redacted())
	}
	return net.JoinHostPort(u.Hostname(), port), nil
}

func (c *Client) connect(ctx context.Context, u *url.URL) (net.Conn, error) {
	addr, err := HostPort(u)
	if err != nil {
		return nil, err
	}
	if u.Scheme == "https" && c.DialTLS != nil {
		return c.DialTLS(ctx, addr)
	}
	dial := c.Dial
	if dial == nil {
		d := &net.Dialer{}
		dial = d.DialContext
	}
	dctx, cancel := context.WithTimeout(ctx, orDefault(c.DialTimeout, DefaultDialTimeout))
	conn, err := dial(dctx, "tcp", addr)
	cancel()
	if err != nil {
		return nil, err
	}
	if u.Scheme != "https" {
		return conn, nil
	}
	cfg := &tls.Config{}
	if c.TLSConfig != nil {
		cfg = c.TLSConfig.Clone()
	}
	if cfg.ServerName == "" {
		cfg.ServerName = u.Hostname()
	}
	tc := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, orDefault(c.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout))
	err = tc.HandshakeContext(hctx)
	cancel()
	if err != nil {
		conn.Close()
		return nil, err
	}
	return tc, nil
}

func (c *Client) do(req *Request) (*Response, error) {
	ctx := req.Context()
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return nil, fmt.Errorf("unsupported URL %v: want http or https", req.URL)
	}
	conn, err := c.connect(ctx, req.URL)
	if err != nil {
		return nil, err
	}
	// Close the connection when the context ends, until the body is closed.
	done := make(chan struct{})
	var once sync.Once
	closeConn := func() { once.Do(func() { close(done); conn.Close() }) }
	go func() {
		select {
		case <-ctx.Done():
			closeConn()
		case <-done:
		}
	}()
	fail := func(err error) (*Response, error) {
		closeConn()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}

	var b bytes.Buffer
	method := req.Method
	if method == "" {
		method = "GET"
	}
	fmt.Fprintf(&b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, req.URL.RequestURI(), req.URL.Host)
	h := Header{}
	for k, v := range req.Header {
		h[k] = v
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", "sztp")
	}
	h.Set("Connection", "close")
	if req.Body != nil || method == "POST" || method == "PUT" {
		h.Set("Content-Length", strconv.Itoa(len(req.Body)))
	}
	if err := writeHeader(&b, h); err != nil {
		return fail(err)
	}
	b.WriteString("\r\n")
	b.Write(req.Body)
	if _, err := conn.Write(b.Bytes()); err != nil {
		return fail(fmt.Errorf("writing request: %w", err))
	}

	headerTimeout := orDefault(c.ResponseHeaderTimeout, DefaultHeaderTimeout)
	conn.SetReadDeadline(time.Now().Add(headerTimeout))
	br := bufio.NewReaderSize(conn, 64<<10)
	resp, err := readResponse(br, method)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fail(fmt.Errorf("no response headers within %v: %w", headerTimeout, err))
		}
		return fail(fmt.Errorf("reading response: %w", err))
	}
	conn.SetReadDeadline(time.Time{})
	resp.Body = &body{r: resp.Body, ctx: ctx, close: closeConn}
	return resp, nil
}

// body closes the connection with the response body and reports a
// cancelled context instead of the closed-connection error it causes.
type body struct {
	r     io.Reader
	ctx   context.Context
	close func()
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil {
		return n, b.ctx.Err()
	}
	return n, err
}

func (b *body) Close() error {
	b.close()
	return nil
}
