package httpx

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ResponseWriter is how a handler answers.
type ResponseWriter interface {
	Header() Header
	// WriteHeader sends the status line and header; the first Write calls it
	// with 200 when the handler did not.
	WriteHeader(code int)
	Write(p []byte) (int, error)
}

// Abort, called by a handler before it wrote anything, ends the
// connection without an answer once the handler returns, as a server does
// when its idle close crosses a request. It reports whether w came from
// Server and had written nothing.
func Abort(w ResponseWriter) bool {
	rw, ok := w.(*responseWriter)
	if !ok || rw.wrote {
		return false
	}
	rw.aborted = true
	return true
}

// Handler answers one request.
type Handler interface {
	ServeHTTPX(w ResponseWriter, r *Request)
}

// HandlerFunc adapts a function to Handler.
type HandlerFunc func(w ResponseWriter, r *Request)

// ServeHTTPX calls f.
func (f HandlerFunc) ServeHTTPX(w ResponseWriter, r *Request) { f(w, r) }

// Error answers with a plain-text error.
func Error(w ResponseWriter, msg string, code int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Content-Length", strconv.Itoa(len(msg)+1))
	w.WriteHeader(code)
	io.WriteString(w, msg+"\n")
}

// Server serves HTTP/1.1 (over TLS when TLSConfig is set). A connection
// carries requests one after another (RFC 9112 9.3) until the client asks
// to close it, a response cannot be framed, or it idles for IdleTimeout.
type Server struct {
	Handler   Handler
	TLSConfig *tls.Config
	// ReadTimeout bounds the TLS handshake and reading the request header;
	// zero means 30 s.
	ReadTimeout time.Duration
	// MaxBodyBytes bounds request bodies; zero means 16 MiB.
	MaxBodyBytes int64
	// IdleTimeout closes a connection that carries no request for this
	// long after a response; zero means ReadTimeout. Negative: one request
	// per connection.
	IdleTimeout time.Duration

	mu     sync.Mutex
	ln     net.Listener
	conns  map[net.Conn]bool
	closed bool
	wg     sync.WaitGroup
}

// Serve accepts connections on ln until Close. It returns nil after Close.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return errors.New("httpx: server closed")
	}
	s.ln = ln
	if s.conns == nil {
		s.conns = map[net.Conn]bool{}
	}
	s.wg.Add(1)
	s.mu.Unlock()
	defer s.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			s.mu.Lock()
			closed := s.closed
			s.mu.Unlock()
			if closed {
				return nil
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) {
				// Out of descriptors (a fleet of clients): wait, go on.
				time.Sleep(10 * time.Millisecond)
				continue
			}
			return err
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			c.Close()
			return nil
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			s.serveConn(c)
			c.Close()
			s.mu.Lock()
			delete(s.conns, c)
			s.mu.Unlock()
		}()
	}
}

// Close stops the listener, closes every connection and waits for the
// handlers to return.
func (s *Server) Close() error {
	s.mu.Lock()
	s.closed = true
	if s.ln != nil {
		s.ln.Close()
	}
	for c := range s.conns {
		c.Close()
	}
	s.mu.Unlock()
	s.wg.Wait()
	return nil
}

func (s *Server) serveConn(c net.Conn) {
	readTimeout := orDefault(s.ReadTimeout, 30*time.Second)
	c.SetReadDeadline(time.Now().Add(readTimeout))
	var state *tls.ConnectionState
	if s.TLSConfig != nil {
		tc := tls.Server(c, s.TLSConfig)
		if err := tc.Handshake(); err != nil {
			return
		}
		st := tc.ConnectionState()
		state, c = &st, tc
	}
	br := bufio.NewReaderSize(c, 32<<10)
	for n := 0; ; n++ {
		if n > 0 {
			// Between requests: wait IdleTimeout for the next one to start.
			c.SetReadDeadline(time.Now().Add(orDefault(s.IdleTimeout, readTimeout)))
			if _, err := br.Peek(1); err != nil {
				return
			}
			c.SetReadDeadline(time.Now().Add(readTimeout))
		}
		if !s.serveOne(c, br, state) {
			return
		}
	}
}

// serveOne reads and answers one request; it reports whether the
// connection may carry another.
func (s *Server) serveOne(c net.Conn, br *bufio.Reader, state *tls.ConnectionState) bool {
	w := &responseWriter{conn: c, header: Header{}}
	req, err := readRequest(br)
	if err != nil {
		w.header.Set("Connection", "close")
		Error(w, "bad request: "+err.Error(), StatusBadRequest)
		w.finish()
		return false
	}
	c.SetReadDeadline(time.Time{})
	req.Remote = c.RemoteAddr().String()
	req.TLS = state
	max := s.MaxBodyBytes
	if max <= 0 {
		max = 16 << 20
	}
	body := &capped{r: req.body, n: max}
	req.body = body
	w.head = req.Method == "HEAD"
	w.keepAlive = s.IdleTimeout >= 0 && !wantsClose(req.Header)
	s.Handler.ServeHTTPX(w, req)
	if w.aborted && !w.wrote {
		return false
	}
	w.finish()
	if !w.keepAlive || w.err != nil || (w.length >= 0 && w.written != w.length) {
		return false
	}
	// The next request starts after this one's body: it must have been
	// read to its end (and a small rest is read here).
	if _, err := io.Copy(io.Discard, io.LimitReader(body, 64<<10)); err != nil {
		return false
	}
	n, _ := body.r.Read(make([]byte, 1))
	return n == 0 && body.n >= 0
}

// wantsClose reports whether a Connection header asks to close.
func wantsClose(h Header) bool {
	for _, v := range h.Values("Connection") {
		for _, t := range strings.Split(v, ",") {
			if strings.EqualFold(strings.TrimSpace(t), "close") {
				return true
			}
		}
	}
	return false
}

// capped fails a body that is longer than n.
type capped struct {
	r io.Reader
	n int64
}

func (c *capped) Read(p []byte) (int, error) {
	if c.n < 0 {
		return 0, errors.New("request body too large")
	}
	if int64(len(p)) > c.n+1 {
		p = p[:c.n+1]
	}
	n, err := c.r.Read(p)
	c.n -= int64(n)
	if c.n < 0 {
		return n, errors.New("request body too large")
	}
	return n, err
}

type responseWriter struct {
	conn      net.Conn
	header    Header
	wrote     bool
	chunked   bool
	head      bool
	keepAlive bool
	length    int64 // declared Content-Length, or -1
	written   int64
	bw        *bufio.Writer
	err       error
	aborted   bool
}

func (w *responseWriter) Header() Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	w.bw = bufio.NewWriterSize(w.conn, 32<<10)
	if wantsClose(w.header) {
		w.keepAlive = false
	}
	if !w.keepAlive {
		w.header.Set("Connection", "close")
	}
	w.length = -1
	if code == 204 || code == 304 || w.head {
		w.length = 0
		if w.head {
			w.length = -1 // the declared length is the GET's
		}
	} else if cl := w.header.Get("Content-Length"); cl != "" {
		if n, err := strconv.ParseInt(cl, 10, 64); err == nil && n >= 0 {
			w.length = n
		} else {
			w.keepAlive = false
			w.header.Set("Connection", "close")
		}
	} else {
		w.header.Set("Transfer-Encoding", "chunked")
		w.chunked = true
	}
	if w.header.Get("Date") == "" {
		w.header.Set("Date", time.Now().UTC().Format("Mon, 02 Jan 2006 15:04:05 GMT"))
	}
	fmt.Fprintf(w.bw, "HTTP/1.1 %d %s\r\n", code, StatusText(code))
	if err := writeHeader(w.bw, w.header); err != nil {
		w.err = err
	}
	w.bw.WriteString("\r\n")
}

func (w *responseWriter) Write(p []byte) (int, error) {
	if !w.wrote {
		w.WriteHeader(StatusOK)
	}
	if w.err != nil {
		return 0, w.err
	}
	if w.head || len(p) == 0 {
		return len(p), nil
	}
	if w.chunked {
		fmt.Fprintf(w.bw, "%x\r\n", len(p))
	}
	n, err := w.bw.Write(p)
	w.written += int64(n)
	if w.chunked && err == nil {
		_, err = w.bw.WriteString("\r\n")
	}
	if err != nil {
		w.err = err
	}
	return n, err
}

func (w *responseWriter) finish() {
	if !w.wrote {
		w.WriteHeader(StatusOK)
	}
	if w.chunked && w.err == nil {
		w.bw.WriteString("0\r\n\r\n")
	}
	w.bw.Flush()
}
