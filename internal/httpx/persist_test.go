package httpx

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// countingListener counts the connections a server accepts.
type countingListener struct {
	net.Listener
	n atomic.Int32
}

func (l *countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.n.Add(1)
	}
	return c, err
}

// netHTTPServer is net/http's server (an implementation we did not write)
// on a counting listener.
func netHTTPServer(t *testing.T, h http.HandlerFunc, idle time.Duration) (*httptest.Server, *countingListener) {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	cl := &countingListener{Listener: srv.Listener}
	srv.Listener = cl
	srv.Config.IdleTimeout = idle
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, cl
}

func dialPersistent(t *testing.T, addr string) *PersistentConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	p := NewPersistentConn(c)
	t.Cleanup(func() { p.Close() })
	return p
}

func roundTrip(t *testing.T, p *PersistentConn, url string, readAll bool) (string, error) {
	t.Helper()
	req, err := NewRequest(context.Background(), "POST", url, []byte("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := p.Do(req, 2*time.Second)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if !readAll {
		return "", nil
	}
	b, err := io.ReadAll(resp.Body)
	return string(b), err
}

// Issue 13 item 2: requests go one after another over one connection, and
// every reason not to reuse it is honoured.
func TestIssue13_2_PersistentConnAgainstNetHTTP(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		readAll   bool
		wantReuse bool
	}{
		{"content-length", "/len", true, true},
		{"chunked", "/chunked", true, true},
		{"no content", "/204", true, true},
		{"connection close", "/close", true, false},
		{"body not read to its end", "/len", false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			srv, cl := netHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				switch r.URL.Path {
				case "/len":
					w.Header().Set("Content-Length", "5")
					io.WriteString(w, "hello")
				case "/chunked":
					w.(http.Flusher).Flush()
					io.WriteString(w, strings.Repeat("c", 70000))
				case "/204":
					w.WriteHeader(http.StatusNoContent)
				case "/close":
					w.Header().Set("Connection", "close")
					io.WriteString(w, "bye")
				}
			}, time.Minute)
			p := dialPersistent(t, srv.Listener.Addr().String())
			for i := range 3 {
				if _, err := roundTrip(t, p, srv.URL+tc.path, tc.readAll); err != nil {
					if tc.wantReuse || i == 0 {
						t.Fatalf("request %d: %v", i, err)
					}
					var re *ReuseError
					if !errors.As(err, &re) || re.Written {
						t.Fatalf("request %d on a connection not to be reused: %v, want a ReuseError before writing", i, err)
					}
					p = dialPersistent(t, srv.Listener.Addr().String())
					if _, err := roundTrip(t, p, srv.URL+tc.path, tc.readAll); err != nil {
						t.Fatalf("request %d on a fresh connection: %v", i, err)
					}
				}
			}
			want := int32(1)
			if !tc.wantReuse {
				want = 3
			}
			if got := cl.n.Load(); got != want {
				t.Errorf("%d connections for 3 requests, want %d", got, want)
			}
		})
	}
}

// A server that closes an idle connection is noticed before the request
// is sent (Written false: safe to send again anywhere).
func TestIssue13_2_ServerClosedIdleConnection(t *testing.T) {
	srv, _ := netHTTPServer(t, func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }, 20*time.Millisecond)
	p := dialPersistent(t, srv.Listener.Addr().String())
	if _, err := roundTrip(t, p, srv.URL+"/", true); err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond)
	if p.Usable() {
		t.Error("a connection the server closed is usable")
	}
	_, err := roundTrip(t, p, srv.URL+"/", true)
	var re *ReuseError
	if !errors.As(err, &re) || re.Written {
		t.Errorf("got %v, want a ReuseError with nothing written", err)
	}
}

// A server that takes the request and closes without an answer: the
// request may have been seen (Written true), and the server ended the
// connection without a byte of answer (Closed true: the idle-close race).
func TestIssue13_2_ClosedAfterRequestIsWritten(t *testing.T) {
	var n atomic.Int32
	srv, _ := netHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) == 1 {
			io.WriteString(w, "ok")
			return
		}
		c, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			c.Close()
		}
	}, time.Minute)
	p := dialPersistent(t, srv.Listener.Addr().String())
	if _, err := roundTrip(t, p, srv.URL+"/", true); err != nil {
		t.Fatal(err)
	}
	_, err := roundTrip(t, p, srv.URL+"/", true)
	var re *ReuseError
	if !errors.As(err, &re) || !re.Written || !re.Closed {
		t.Errorf("got %v, want a ReuseError after writing, closed by the server", err)
	}
}

// Abort ends the connection without an answer, and only before the handler
// wrote anything: the client sees the idle-close race (Written and Closed).
func TestAbort(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var n atomic.Int32
	late := make(chan bool, 1)
	s := &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		switch n.Add(1) {
		case 2:
			if !Abort(w) {
				t.Error("Abort before writing reported false")
			}
			return
		case 3:
			io.WriteString(w, "ok")
			late <- Abort(w)
			return
		}
		io.WriteString(w, "ok")
	})}
	go s.Serve(ln)
	defer s.Close()
	url := "http://" + ln.Addr().String() + "/"
	p := dialPersistent(t, ln.Addr().String())
	if _, err := roundTrip(t, p, url, true); err != nil {
		t.Fatal(err)
	}
	_, err = roundTrip(t, p, url, true)
	var re *ReuseError
	if !errors.As(err, &re) || !re.Written || !re.Closed {
		t.Fatalf("got %v, want a ReuseError after writing, closed by the server", err)
	}
	p = dialPersistent(t, ln.Addr().String())
	if body, err := roundTrip(t, p, url, true); err != nil || body != "ok" {
		t.Fatalf("Abort after writing: %q, %v; want the answer written", body, err)
	}
	if <-late {
		t.Error("Abort after writing reported true")
	}
	if Abort(nil) {
		t.Error("Abort on a ResponseWriter not from Server reported true")
	}
}

// A reused connection is still bounded in time: a server that stalls on
// the second request hits the header timeout, and the context still
// cancels a request.
func TestIssue13_2_ReusedConnectionTimeouts(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	var n atomic.Int32
	srv, _ := netHTTPServer(t, func(w http.ResponseWriter, r *http.Request) {
		if n.Add(1) > 1 {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		}
		io.WriteString(w, "ok")
	}, time.Minute)
	tests := []struct {
		name          string
		headerTimeout time.Duration
		ctxTimeout    time.Duration
	}{
		{"header timeout", 100 * time.Millisecond, time.Minute},
		{"context", time.Minute, 100 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			n.Store(0)
			p := dialPersistent(t, srv.Listener.Addr().String())
			if _, err := roundTrip(t, p, srv.URL+"/", true); err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), tc.ctxTimeout)
			defer cancel()
			req, _ := NewRequest(ctx, "GET", srv.URL+"/", nil)
			done := make(chan error, 1)
			go func() {
				_, err := p.Do(req, tc.headerTimeout)
				done <- err
			}()
			select {
			case err := <-done:
				if err == nil {
					t.Fatal("a stalled response succeeded")
				}
				// A silent server is not an idle close: it may be
				// working on the request.
				var re *ReuseError
				if errors.As(err, &re) && re.Closed {
					t.Errorf("a stalled response reads as closed by the server: %v", err)
				}
			case <-time.After(30 * time.Second):
				t.Fatal("a stalled response on a reused connection hung")
			}
			if p.Usable() {
				t.Error("the connection of a failed request is still usable")
			}
		})
	}
}

// The server side: net/http's keep-alive client sends several requests
// over one connection to Server; a response whose body falls short of its
// Content-Length, or a client asking to close, ends the connection.
func TestIssue13_2_ServerKeepAlive(t *testing.T) {
	tests := []struct {
		name      string
		path      string
		close     bool
		wantConns int32
	}{
		{"kept alive", "/ok", false, 1},
		{"client asks to close", "/ok", true, 3},
		{"short body closes", "/short", false, 3},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ln, err := net.Listen("tcp", "127.0.0.1:0")
			if err != nil {
				t.Fatal(err)
			}
			cl := &countingListener{Listener: ln}
			s := &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
				if r.URL.Path == "/short" {
					w.Header().Set("Content-Length", "10")
					io.WriteString(w, "12345")
					return
				}
				io.WriteString(w, "ok")
			})}
			go s.Serve(cl)
			defer s.Close()
			tr := &http.Transport{}
			defer tr.CloseIdleConnections()
			hc := &http.Client{Transport: tr, Timeout: 10 * time.Second}
			for range 3 {
				req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+tc.path, nil)
				req.Close = tc.close
				resp, err := hc.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			if got := cl.n.Load(); got != tc.wantConns {
				t.Errorf("%d connections, want %d", got, tc.wantConns)
			}
		})
	}
}
