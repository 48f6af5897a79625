package sztptest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// A tiny HTTP/1.1 server loop. net/http's Server (with its HTTP/2 half)
// would add most of a megabyte to the sztp binary, which embeds this
// package for `sztp demo`; request parsing and handlers still come from
// net/http.

type loop struct {
	ln      net.Listener
	tls     *tls.Config
	handler http.Handler
	done    chan struct{}
	wg      sync.WaitGroup
	mu      sync.Mutex
	conns   map[net.Conn]bool
}

func serve(ln net.Listener, cfg *tls.Config, h http.Handler) *loop {
	l := &loop{ln: ln, tls: cfg, handler: h, done: make(chan struct{}), conns: map[net.Conn]bool{}}
	l.wg.Add(1)
	go l.accept()
	return l
}

func (l *loop) accept() {
	defer l.wg.Done()
	for {
		c, err := l.ln.Accept()
		if err != nil {
			return
		}
		l.mu.Lock()
		l.conns[c] = true
		l.mu.Unlock()
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			l.conn(c)
			l.mu.Lock()
			delete(l.conns, c)
			l.mu.Unlock()
			c.Close()
		}()
	}
}

// close stops accepting, closes every connection and waits for handlers.
func (l *loop) close() {
	select {
	case <-l.done:
		return
	default:
	}
	close(l.done)
	l.ln.Close()
	l.mu.Lock()
	for c := range l.conns {
		c.Close()
	}
	l.mu.Unlock()
	l.wg.Wait()
}

func (l *loop) conn(raw net.Conn) {
	tc := tls.Server(raw, l.tls)
	tc.SetDeadline(time.Now().Add(10 * time.Second))
	if err := tc.Handshake(); err != nil {
		return
	}
	cs := tc.ConnectionState()
	br := bufio.NewReader(tc)
	for {
		tc.SetReadDeadline(time.Now().Add(30 * time.Second))
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		tc.SetDeadline(time.Time{})
		req.TLS = &cs
		req.RemoteAddr = raw.RemoteAddr().String()
		ctx, cancel := contextUntil(l.done)
		req = req.WithContext(ctx)
		w := &respWriter{conn: tc, header: http.Header{}, req: req}
		l.handler.ServeHTTP(w, req)
		cancel()
		io.Copy(io.Discard, req.Body)
		req.Body.Close()
		if w.hijacked {
			return
		}
		if err := w.finish(); err != nil || req.Close {
			return
		}
	}
}

// respWriter buffers a response and writes it with a Content-Length.
type respWriter struct {
	conn     net.Conn
	req      *http.Request
	header   http.Header
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (w *respWriter) Header() http.Header { return w.header }

func (w *respWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
}

func (w *respWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.body.Write(p)
}

// Hijack lets a test handler send a bad response by hand.
func (w *respWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	// Write what was buffered, headers as given (a lying Content-Length
	// stays), then hand the connection over.
	if err := w.writeHead(false); err != nil {
		return nil, nil, err
	}
	if _, err := w.conn.Write(w.body.Bytes()); err != nil {
		return nil, nil, err
	}
	return w.conn, bufio.NewReadWriter(bufio.NewReader(w.conn), bufio.NewWriter(w.conn)), nil
}

func (w *respWriter) writeHead(setLength bool) error {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if setLength && w.status != http.StatusNoContent && w.status != http.StatusNotModified {
		w.header.Set("Content-Length", strconv.Itoa(w.body.Len()))
	}
	if w.status == http.StatusNoContent {
		w.header.Del("Content-Length")
	}
	var b bytes.Buffer
	fmt.Fprintf(&b, "HTTP/1.1 %d %s\r\n", w.status, http.StatusText(w.status))
	if err := w.header.Write(&b); err != nil {
		return err
	}
	b.WriteString("\r\n")
	_, err := w.conn.Write(b.Bytes())
	return err
}

func (w *respWriter) finish() error {
	if err := w.writeHead(true); err != nil {
		return err
	}
	if w.req.Method == http.MethodHead || w.status == http.StatusNoContent {
		return nil
	}
	_, err := w.conn.Write(w.body.Bytes())
	return err
}

// contextUntil returns a context cancelled when done closes.
func contextUntil(done <-chan struct{}) (context.Context, context.CancelFunc) {
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		select {
		case <-done:
			cancel()
		case <-ctx.Done():
		}
	}()
	return ctx, cancel
}
