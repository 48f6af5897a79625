package httpx

import (
	"bufio"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// The client against net/http's server: an implementation we did not write.
func TestClientAgainstNetHTTP(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/echo":
			b, _ := io.ReadAll(r.Body)
			w.Header().Set("X-Method", r.Method)
			w.Write(append([]byte(r.Header.Get("Content-Type")+" "), b...))
		case "/redirect":
			http.Redirect(w, r, "/echo", http.StatusFound)
		case "/chunked":
			w.(http.Flusher).Flush()
			io.WriteString(w, strings.Repeat("x", 100000))
		case "/nocontent":
			w.WriteHeader(http.StatusNoContent)
		default:
			http.NotFound(w, r)
		}
	}))
	srv.EnableHTTP2 = false
	srv.StartTLS()
	defer srv.Close()
	pool := x509.NewCertPool()
	pool.AddCert(srv.Certificate())

	tests := []struct {
		name      string
		method    string
		path      string
		redirects int
		wantCode  int
		wantBody  string
	}{
		{"post body", "POST", "/echo", 0, 200, "application/json {\"a\":1}"},
		{"404", "GET", "/missing", 0, 404, "404 page not found\n"},
		{"redirect not followed", "GET", "/redirect", 0, 302, ""},
		{"redirect followed", "GET", "/redirect", 1, 200, " "},
		{"chunked", "GET", "/chunked", 0, 200, strings.Repeat("x", 100000)},
		{"no content", "POST", "/nocontent", 0, 204, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{TLSConfig: &tls.Config{RootCAs: pool}, MaxRedirects: tc.redirects}
			var body []byte
			if tc.method == "POST" {
				body = []byte(`{"a":1}`)
			}
			req, _ := NewRequest(context.Background(), tc.method, srv.URL+tc.path, body)
			if body != nil {
				req.Header.Set("Content-Type", "application/json")
			}
			resp, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, err := io.ReadAll(resp.Body)
			if err != nil {
				t.Fatal(err)
			}
			if resp.StatusCode != tc.wantCode {
				t.Errorf("status %d, want %d", resp.StatusCode, tc.wantCode)
			}
			if (tc.wantBody != "" || tc.wantCode == 204) && string(got) != tc.wantBody {
				t.Errorf("body %.60q, want %.60q", got, tc.wantBody)
			}
		})
	}
}

func TestUnknownCertificateFails(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	req, _ := NewRequest(context.Background(), "GET", srv.URL, nil)
	_, err := (&Client{}).Do(req)
	var uerr x509.UnknownAuthorityError
	if !errors.As(err, &uerr) {
		t.Fatalf("err = %v, want an unknown-authority error", err)
	}
}

// A server that accepts but never answers: the header timeout fires.
func TestHeaderTimeout(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	req, _ := NewRequest(context.Background(), "GET", "http://"+ln.Addr().String()+"/", nil)
	_, err = (&Client{ResponseHeaderTimeout: 100 * time.Millisecond}).Do(req)
	if err == nil || !strings.Contains(err.Error(), "no response headers") {
		t.Fatalf("err = %v, want a header timeout", err)
	}
}

// Cancelling the context while the body streams ends the read.
func TestCancelDuringBody(t *testing.T) {
	release := make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "1000")
		io.WriteString(w, "partial")
		w.(http.Flusher).Flush()
		<-release
	}))
	defer srv.Close()
	defer close(release)
	ctx, cancel := context.WithCancel(context.Background())
	req, _ := NewRequest(ctx, "GET", srv.URL, nil)
	resp, err := (&Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	buf := make([]byte, 7)
	if _, err := io.ReadFull(resp.Body, buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	_, err = io.ReadAll(resp.Body)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// A body cut short of its Content-Length is an error, not a short success.
func TestTruncatedBody(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		bufio.NewReader(c).ReadString('\n')
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
		c.Close()
	}()
	req, _ := NewRequest(context.Background(), "GET", "http://"+ln.Addr().String()+"/", nil)
	resp, err := (&Client{}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if _, err := io.ReadAll(resp.Body); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Fatalf("err = %v, want unexpected EOF", err)
	}
}

func TestBadScheme(t *testing.T) {
	req, _ := NewRequest(context.Background(), "GET", "ftp://example.invalid/x", nil)
	if _, err := (&Client{}).Do(req); err == nil || !strings.Contains(err.Error(), "want http or https") {
		t.Fatalf("err = %v", err)
	}
}

// The server against net/http's client: an implementation we did not write.
func TestServerAgainstNetHTTP(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{MaxBodyBytes: 1000, Handler: HandlerFunc(func(w ResponseWriter, r *Request) {
		b, err := io.ReadAll(r.BodyReader())
		if err != nil {
			Error(w, err.Error(), StatusBadRequest)
			return
		}
		user, pass, _ := r.BasicAuth()
		w.Header().Set("X-Auth", user+"/"+pass)
		if r.URL.Path == "/empty" {
			w.WriteHeader(StatusNoContent)
			return
		}
		io.WriteString(w, r.Method+" "+r.URL.Path+" "+string(b))
	})}
	go s.Serve(ln)
	defer s.Close()
	base := "http://" + ln.Addr().String()
	tests := []struct {
		name, method, path, body string
		chunked                  bool
		wantCode                 int
		wantBody                 string
	}{
		{"post", "POST", "/a", "hello", false, 200, "POST /a hello"},
		{"get", "GET", "/b?x=1", "", false, 200, "GET /b "},
		{"chunked request", "POST", "/c", "chunky", true, 200, "POST /c chunky"},
		{"no content", "POST", "/empty", "x", false, 204, ""},
		{"body too large", "POST", "/big", strings.Repeat("y", 1001), false, 400, "request body too large\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var body io.Reader
			if tc.body != "" {
				body = strings.NewReader(tc.body)
				if tc.chunked {
					body = io.MultiReader(body) // hides the length: chunked
				}
			}
			req, _ := http.NewRequest(tc.method, base+tc.path, body)
			req.SetBasicAuth("SN-1", "pw")
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			got, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.wantCode || string(got) != tc.wantBody {
				t.Errorf("got %d %q, want %d %q", resp.StatusCode, got, tc.wantCode, tc.wantBody)
			}
			if a := resp.Header.Get("X-Auth"); a != "SN-1/pw" && tc.wantCode < 400 {
				t.Errorf("basic auth seen as %q", a)
			}
		})
	}
}

func TestServerRejectsGarbage(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Handler: HandlerFunc(func(w ResponseWriter, r *Request) { t.Error("handler called for garbage") })}
	go s.Serve(ln)
	defer s.Close()
	for _, in := range []string{"NONSENSE\r\n\r\n", "GET / HTTP/1.1\r\nbad header\r\n\r\n", "GET / HTTP/1.1\r\nContent-Length: -1\r\n\r\n"} {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		io.WriteString(c, in)
		line, _ := bufio.NewReader(c).ReadString('\n')
		c.Close()
		if !strings.HasPrefix(line, "HTTP/1.1 400") {
			t.Errorf("%q: got %q, want a 400", in, line)
		}
	}
}

func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	f.Add("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		resp, err := readResponse(bufio.NewReader(strings.NewReader(in)), "GET")
		if err != nil {
			return
		}
		io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20))
	})
}

func FuzzReadRequest(f *testing.F) {
	f.Add("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}")
	f.Add("POST /x HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2;ext\r\n{}\r\n0\r\nT: v\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		req, err := readRequest(bufio.NewReader(strings.NewReader(in)))
		if err != nil {
			return
		}
		io.Copy(io.Discard, io.LimitReader(req.BodyReader(), 1<<20))
	})
}
