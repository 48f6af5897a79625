package httpx

import (
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

func TestDo(t *testing.T) {
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
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c := &Client{TLSConfig: &tls.Config{RootCAs: pool}, MaxRedirects: tc.redirects}
			var body io.Reader
			if tc.method == "POST" {
				body = strings.NewReader(`{"a":1}`)
			}
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, body)
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
			if tc.wantBody != "" && string(got) != tc.wantBody {
				t.Errorf("body %.60q, want %.60q", got, tc.wantBody)
			}
		})
	}
}

func TestUnknownCertificateFails(t *testing.T) {
	srv := httptest.NewTLSServer(http.NotFoundHandler())
	defer srv.Close()
	req, _ := http.NewRequest("GET", srv.URL, nil)
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
	req, _ := http.NewRequest("GET", "http://"+ln.Addr().String()+"/", nil)
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
	req, _ := http.NewRequestWithContext(ctx, "GET", srv.URL, nil)
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

func TestBadScheme(t *testing.T) {
	req, _ := http.NewRequest("GET", "ftp://example.invalid/x", nil)
	if _, err := (&Client{}).Do(req); err == nil || !strings.Contains(err.Error(), "scheme") {
		t.Fatalf("err = %v", err)
	}
}
