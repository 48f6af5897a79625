package httpx

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"
)

// PersistentConn carries requests one after another over one connection
// (HTTP/1.1 persistence, RFC 9112 9.3). The RESTCONF client keeps the
// connection whose TLS handshake authenticated the server and the device,
// so that a run costs one client-authentication signature per server
// instead of one per request.
//
// The connection is reused only when the previous response was framed
// (Content-Length, chunked, or no body), read to its end and closed, the
// server did not answer "Connection: close", no context ended while it was
// in use, and the peer has not closed it since (a short read before each
// reuse). Everything else closes it for good.
type PersistentConn struct {
	conn  net.Conn
	br    *bufio.Reader
	nread int64 // bytes read from conn, to tell "no response at all"

	mu     sync.Mutex
	used   int  // responses completed on the connection
	busy   bool // a request or its body is in flight
	broken bool
}

// ErrConnBusy is returned when a request is sent while the previous
// response body is still open.
var ErrConnBusy = errors.New("connection busy with another request")

// ReuseError is the failure of a request on a connection that had carried
// a response before, with nothing of the new response received: the
// server most likely closed the idle connection. Written says whether the
// request may have reached the server (its bytes were handed to the
// connection); when false the server cannot have seen it. Closed says
// that the server then ended the connection (end of stream or reset)
// without a byte of answer, rather than leaving it silent until the
// header timeout: the signature of an idle close that crossed the request
// (RFC 9112 9.3.1), which the server does without reading the request.
type ReuseError struct {
	Written bool
	Closed  bool
	Err     error
}

func (e *ReuseError) Error() string {
	switch {
	case e.Written && e.Closed:
		return "reused connection closed by the server without an answer: " + e.Err.Error()
	case e.Written:
		return "reused connection failed before a response: " + e.Err.Error()
	}
	return "reused connection closed before the request was sent: " + e.Err.Error()
}

func (e *ReuseError) Unwrap() error { return e.Err }

// errPeerClosed is what a reuse check finds on a connection the server closed.
var errPeerClosed = errors.New("closed by the server while idle")

// NewPersistentConn takes over c (already connected, and for https already
// handshaken).
func NewPersistentConn(c net.Conn) *PersistentConn {
	p := &PersistentConn{conn: c}
	p.br = bufio.NewReaderSize(&countingReader{r: c, n: &p.nread}, 64<<10)
	return p
}

// Reused reports whether the connection has carried a response before.
func (p *PersistentConn) Reused() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.used > 0
}

// Usable reports whether another request may be sent: not broken, not
// busy, and the server has not closed it (or sent anything unasked).
func (p *PersistentConn) Usable() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.broken || p.busy {
		return false
	}
	if !p.idleAlive() {
		p.breakLocked()
		return false
	}
	return true
}

// Close closes the connection.
func (p *PersistentConn) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.breakLocked()
	return nil
}

func (p *PersistentConn) breakLocked() {
	if !p.broken {
		p.broken = true
		p.conn.Close()
	}
}

// idleAlive peeks at an idle connection for at most a millisecond: a
// timeout means the peer is silent (alive); EOF, an error or unsolicited
// bytes mean it must not carry another request. TLS read timeouts leave
// the connection usable.
func (p *PersistentConn) idleAlive() bool {
	if p.used == 0 {
		return true
	}
	if p.br.Buffered() > 0 {
		return false
	}
	p.conn.SetReadDeadline(time.Now().Add(time.Millisecond))
	_, err := p.br.Peek(1)
	p.conn.SetReadDeadline(time.Time{})
	var ne net.Error
	return err != nil && errors.As(err, &ne) && ne.Timeout()
}

// Do sends req on the connection and returns the response; it never
// follows redirects. The caller must read the body to its end and close it
// for the connection to be reused. The request's context cancels it at any
// point (which closes the connection); headerTimeout bounds the wait for
// the response header (zero: DefaultHeaderTimeout).
func (p *PersistentConn) Do(req *Request, headerTimeout time.Duration) (*Response, error) {
	ctx := req.Context()
	if req.URL == nil || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return nil, fmt.Errorf("unsupported URL %v: want http or https", req.URL)
	}
	p.mu.Lock()
	if p.busy {
		p.mu.Unlock()
		return nil, ErrConnBusy
	}
	if p.broken {
		p.mu.Unlock()
		return nil, &ReuseError{Err: net.ErrClosed}
	}
	reused := p.used > 0
	if !p.idleAlive() {
		p.breakLocked()
		p.mu.Unlock()
		return nil, &ReuseError{Err: errPeerClosed}
	}
	p.busy = true
	p.mu.Unlock()

	// Close the connection when the context ends, until the body is done.
	done := make(chan struct{})
	var once sync.Once
	stop := func(keep bool) {
		once.Do(func() {
			close(done)
			p.mu.Lock()
			p.busy = false
			if keep && ctx.Err() == nil {
				p.used++
			} else {
				p.breakLocked()
			}
			p.mu.Unlock()
		})
	}
	go func() {
		select {
		case <-ctx.Done():
			stop(false)
		case <-done:
		}
	}()
	fail := func(err error, written bool, nread int64) (*Response, error) {
		stop(false)
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if reused && p.nread == nread {
			var ne net.Error
			closed := written && !(errors.As(err, &ne) && ne.Timeout())
			return nil, &ReuseError{Written: written, Closed: closed, Err: err}
		}
		return nil, err
	}

	method := req.Method
	if method == "" {
		method = "GET"
	}
	var b bytes.Buffer
	if err := writePersistentRequest(&b, req, method); err != nil {
		return fail(err, false, p.nread)
	}
	if _, err := p.conn.Write(b.Bytes()); err != nil {
		return fail(fmt.Errorf("writing request: %w", err), false, p.nread)
	}
	nread := p.nread
	headerTimeout = orDefault(headerTimeout, DefaultHeaderTimeout)
	p.conn.SetReadDeadline(time.Now().Add(headerTimeout))
	resp, err := readResponse(p.br, method)
	if err != nil {
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return fail(fmt.Errorf("no response headers within %v: %w", headerTimeout, err), true, nread)
		}
		return fail(fmt.Errorf("reading response: %w", err), true, nread)
	}
	p.conn.SetReadDeadline(time.Time{})
	resp.Body = &persistentBody{r: resp.Body, ctx: ctx, stop: stop, keep: keepAlive(resp, method), eof: resp.ContentLength == 0}
	return resp, nil
}

// keepAlive reports whether the connection may carry another request
// after this response: it must be framed and not ask to close.
func keepAlive(resp *Response, method string) bool {
	for _, v := range resp.Header.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "close") {
				return false
			}
		}
	}
	if method == "HEAD" || resp.StatusCode == 204 || resp.StatusCode == 304 {
		return true
	}
	return resp.Header.Get("Transfer-Encoding") != "" || resp.Header.Get("Content-Length") != ""
}

// writePersistentRequest serialises req without "Connection: close".
func writePersistentRequest(b *bytes.Buffer, req *Request, method string) error {
	fmt.Fprintf(b, "%s %s HTTP/1.1\r\nHost: %s\r\n", method, req.URL.RequestURI(), req.URL.Host)
	h := Header{}
	for k, v := range req.Header {
		if k != "Connection" && k != "Host" {
			h[k] = v
		}
	}
	if h.Get("User-Agent") == "" {
		h.Set("User-Agent", "sztp")
	}
	if req.Body != nil || method == "POST" || method == "PUT" {
		h.Set("Content-Length", strconv.Itoa(len(req.Body)))
	}
	if err := writeHeader(b, h); err != nil {
		return err
	}
	b.WriteString("\r\n")
	b.Write(req.Body)
	return nil
}

// persistentBody gives the connection back when the body was read to its
// end and closed; otherwise closing it closes the connection.
type persistentBody struct {
	r    io.Reader
	ctx  context.Context
	stop func(keep bool)
	keep bool
	eof  bool
}

func (b *persistentBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		b.eof = true
	} else if err != nil && b.ctx.Err() != nil {
		return n, b.ctx.Err()
	}
	return n, err
}

func (b *persistentBody) Close() error {
	b.stop(b.keep && b.eof)
	return nil
}

// countingReader counts the bytes read through it.
type countingReader struct {
	r io.Reader
	n *int64
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	*c.n += int64(n)
	return n, err
}
