package httpx

import (
	"bufio"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"sync"
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

// Server serves HTTP/1.1 (over TLS when TLSConfig is set), one request per
// connection.
type Server struct {
	Handler   Handler
	TLSConfig *tls.Config
	// ReadTimeout bounds the TLS handshake and reading the request header;
	// zero means 30 s.
	ReadTimeout time.Duration
	// MaxBodyBytes bounds request bodies; zero means 16 MiB.
	MaxBodyBytes int64

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
			if errors.As(err, &ne) && ne.Timeout() {
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
	c.SetReadDeadline(time.Now().Add(orDefault(s.ReadTimeout, 30*time.Second)))
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
	w := &responseWriter{conn: c, header: Header{}}
	req, err := readRequest(br)
	if err != nil {
		w.header.Set("Connection", "close")
		Error(w, "bad request: "+err.Error(), StatusBadRequest)
		w.finish()
		return
	}
	c.SetReadDeadline(time.Time{})
	req.Remote = c.RemoteAddr().String()
	req.TLS = state
	max := s.MaxBodyBytes
	if max <= 0 {
		max = 16 << 20
	}
	req.body = &capped{r: req.body, n: max}
	w.head = req.Method == "HEAD"
	s.Handler.ServeHTTPX(w, req)
	w.finish()
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
	conn    net.Conn
	header  Header
	wrote   bool
	chunked bool
	head    bool
	bw      *bufio.Writer
	err     error
}

func (w *responseWriter) Header() Header { return w.header }

func (w *responseWriter) WriteHeader(code int) {
	if w.wrote {
		return
	}
	w.wrote = true
	w.bw = bufio.NewWriterSize(w.conn, 32<<10)
	w.header.Set("Connection", "close")
	if w.header.Get("Content-Length") == "" && code != 204 && code != 304 && !w.head {
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
