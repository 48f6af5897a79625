// Package httpx is a small HTTP/1.1 client: one request per connection,
// with dial, TLS handshake and response-header timeouts and cancellation by
// context. It reuses net/http's request writer and response parser but not
// its Transport, which drags an HTTP/2 implementation (about 0.6 MiB) into a
// binary that only ever sends a handful of requests to a bootstrap server
// and downloads one image.
//
// It does not pool connections, use proxies, or decompress bodies; it
// follows redirects only when asked to (bootstrap servers must not be
// redirected, digest 4.5).
package httpx

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sync"
	"time"
)

// Defaults for zero timeouts.
const (
	DefaultDialTimeout         = 10 * time.Second
	DefaultTLSHandshakeTimeout = 10 * time.Second
	DefaultHeaderTimeout       = 30 * time.Second
)

// Client sends HTTP/1.1 requests. The zero value is usable for plain http.
type Client struct {
	// TLSConfig is used for https URLs; ServerName defaults to the URL host.
	TLSConfig *tls.Config
	// DialTimeout, TLSHandshakeTimeout and ResponseHeaderTimeout bound each
	// phase; zero means the package default. The context bounds the whole.
	DialTimeout           time.Duration
	TLSHandshakeTimeout   time.Duration
	ResponseHeaderTimeout time.Duration
	// MaxRedirects is how many 301/302/303/307/308 redirects of a GET or
	// HEAD are followed; zero means none (the 3xx response is returned).
	MaxRedirects int
	// Dial replaces the network dialer (tests).
	Dial func(ctx context.Context, network, addr string) (net.Conn, error)
}

// Do sends req and returns the response. The caller must close its Body,
// which closes the connection. req's context cancels the request at any
// point, including while the body is read.
func (c *Client) Do(req *http.Request) (*http.Response, error) {
	for n := 0; ; n++ {
		resp, err := c.do(req)
		if err != nil {
			return nil, err
		}
		loc := resp.Header.Get("Location")
		if n >= c.MaxRedirects || loc == "" || !isRedirect(resp.StatusCode) ||
			(req.Method != http.MethodGet && req.Method != http.MethodHead) {
			return resp, nil
		}
		resp.Body.Close()
		next, err := req.URL.Parse(loc)
		if err != nil {
			return nil, fmt.Errorf("redirect to %q: %w", loc, err)
		}
		nreq := req.Clone(req.Context())
		nreq.URL, nreq.Host = next, ""
		req = nreq
	}
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

func hostPort(u *url.URL) (string, error) {
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

func (c *Client) do(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	if req.URL.Scheme != "http" && req.URL.Scheme != "https" {
		return nil, fmt.Errorf("unsupported URL scheme %q", req.URL.Scheme)
	}
	addr, err := hostPort(req.URL)
	if err != nil {
		return nil, err
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
	if req.URL.Scheme == "https" {
		cfg := &tls.Config{}
		if c.TLSConfig != nil {
			cfg = c.TLSConfig.Clone()
		}
		if cfg.ServerName == "" {
			cfg.ServerName = req.URL.Hostname()
		}
		tc := tls.Client(conn, cfg)
		hctx, cancel := context.WithTimeout(ctx, orDefault(c.TLSHandshakeTimeout, DefaultTLSHandshakeTimeout))
		err := tc.HandshakeContext(hctx)
		cancel()
		if err != nil {
			conn.Close()
			return nil, err
		}
		conn = tc
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
	fail := func(err error) (*http.Response, error) {
		closeConn()
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, err
	}

	out := req.Clone(ctx)
	out.Close = true // one request per connection
	if out.Header.Get("User-Agent") == "" {
		out.Header.Set("User-Agent", "sztp")
	}
	bw := bufio.NewWriterSize(conn, 32<<10)
	if err := out.Write(bw); err != nil {
		return fail(fmt.Errorf("writing request: %w", err))
	}
	if err := bw.Flush(); err != nil {
		return fail(fmt.Errorf("writing request: %w", err))
	}
	conn.SetReadDeadline(time.Now().Add(orDefault(c.ResponseHeaderTimeout, DefaultHeaderTimeout)))
	resp, err := http.ReadResponse(bufio.NewReaderSize(conn, 64<<10), req)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fail(fmt.Errorf("no response headers within %v: %w", orDefault(c.ResponseHeaderTimeout, DefaultHeaderTimeout), err))
		}
		return fail(fmt.Errorf("reading response: %w", err))
	}
	conn.SetReadDeadline(time.Time{})
	resp.Body = &body{ReadCloser: resp.Body, ctx: ctx, close: closeConn}
	return resp, nil
}

// body closes the connection with the response body and reports a
// cancelled context instead of the closed-connection error it causes.
type body struct {
	io.ReadCloser
	ctx   context.Context
	close func()
}

func (b *body) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && b.ctx.Err() != nil {
		return n, b.ctx.Err()
	}
	return n, err
}

func (b *body) Close() error {
	b.close()
	return nil
}

// CloseIdleConnections is a no-op: connections are never pooled. It lets
// Client stand in where an *http.Client was used.
func (c *Client) CloseIdleConnections() {}
