package httpx

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"
	"time"
)

// TestHardening10_10_Framing: each row is a message that httpx accepted
// before (issue 10 item 10) and net/http refuses (or httpx refuses by design:
// errRefused). Both must refuse it now.
func TestHardening10_10_Framing(t *testing.T) {
	const ok = "HTTP/1.1 200 OK\r\n"
	const chunked = ok + "Transfer-Encoding: chunked\r\n\r\n"
	for _, tc := range []struct {
		name    string
		request bool
		in      string
	}{
		{"differing Content-Length headers", false, ok + "Content-Length: 3\r\nContent-Length: 4\r\n\r\nabcd"},
		{"Content-Length +3", false, ok + "Content-Length: +3\r\n\r\nabc"},
		{"Content-Length -0", false, ok + "Content-Length: -0\r\n\r\n"},
		{"status +200", false, "HTTP/1.1 +200 OK\r\nContent-Length: 0\r\n\r\n"},
		{"status 0200", false, "HTTP/1.1 0200 OK\r\nContent-Length: 0\r\n\r\n"},
		{"status +20", false, "HTTP/1.1 +20 OK\r\nContent-Length: 0\r\n\r\n"},
		{"status 020", false, "HTTP/1.1 020 OK\r\nContent-Length: 0\r\n\r\n"},
		{"HTTP/1.banana", false, "HTTP/1.banana 200 OK\r\nContent-Length: 0\r\n\r\n"},
		{"NUL in a value", false, ok + "X-A: a\x00b\r\nContent-Length: 0\r\n\r\n"},
		{"CR in a value", false, ok + "X-A: a\rb\r\nContent-Length: 0\r\n\r\n"},
		{"control byte in a name", false, ok + "X\x01A: b\r\nContent-Length: 0\r\n\r\n"},
		{"two Transfer-Encoding headers", false, ok + "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"},
		{"chunk size +3", false, chunked + "+3\r\nabc\r\n0\r\n\r\n"},
		{"chunk line with a bare LF", false, chunked + "3\nabc\r\n0\r\n\r\n"},
		{"chunk data without CRLF", false, chunked + "3\r\nabcXY0\r\n\r\n"},
		{"partial chunk line at EOF", false, chunked + "3\r\nabc\r\n0"},
		{"partial status line at EOF", false, "HTTP/1.1 200 OK"},
		{"101 Switching Protocols", false, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: x\r\n\r\n" + ok + "Content-Length: 0\r\n\r\n"},
		{"nine interim responses", false, strings.Repeat("HTTP/1.1 100 Continue\r\n\r\n", maxInterim+1) + "HTTP/1.1 204 No Content\r\n\r\n"},
		{"trailer over 4 KiB", false, chunked + "0\r\nX-T: " + strings.Repeat("t", maxTrailerBytes) + "\r\n\r\n"},
		{"malformed trailer", false, chunked + "0\r\nno colon\r\n\r\n"},
		{"Trailer names Content-Length", false, ok + "Transfer-Encoding: chunked\r\nTrailer: Content-Length\r\n\r\n0\r\n\r\n"},
		{"request HTTP/1.banana", true, "GET / HTTP/1.banana\r\nHost: a\r\n\r\n"},
		{"request control byte in the method", true, "G\x01T / HTTP/1.1\r\nHost: a\r\n\r\n"},
		{"request differing Content-Length headers", true, "POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab"},
		{"request two Host headers", true, "GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"},
		{"request NUL in a value", true, "GET / HTTP/1.1\r\nHost: a\x00b\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hx, std := httpxResponse([]byte(tc.in)), netResponse([]byte(tc.in))
			if tc.request {
				hx, std = httpxRequest([]byte(tc.in)), netRequest([]byte(tc.in))
			}
			if std.err == nil {
				t.Fatalf("net/http accepts %q: %v", tc.in, std)
			}
			if hx.err == nil {
				t.Fatalf("httpx accepts %q: %v (net/http: %v)", tc.in, hx, std.err)
			}
			t.Logf("httpx: %v; net/http: %v", hx.err, std.err)
		})
	}
}

// timeoutErr is the error of a read deadline.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// stallingReader returns its data, then a timeout.
type stallingReader struct{ data string }

func (s *stallingReader) Read(p []byte) (int, error) {
	if s.data == "" {
		return 0, timeoutErr{}
	}
	n := copy(p, s.data)
	s.data = s.data[n:]
	return n, nil
}

// TestHardening10_10_PartialLineTimeout: a line cut short by a timeout is
// not a line. The timeout is reported, not a malformed status or header
// line made of the fragment (issue 10 item 10).
func TestHardening10_10_PartialLineTimeout(t *testing.T) {
	for _, in := range []string{
		"HTTP/1.1 2",
		"HTTP/1.1 200 OK\r\nContent-Le",
		"HTTP/1.1 200 OK\r\nX-A: b\r\n",
	} {
		_, err := readResponse(bufio.NewReader(&stallingReader{data: in}), "GET")
		var ne net.Error
		if !errors.As(err, &ne) || !ne.Timeout() {
			t.Errorf("%q then a timeout: %v, want the timeout", in, err)
		}
	}
	// The same through the client, against a server that stalls mid-line.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	done := make(chan struct{})
	defer close(done)
	go func() {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		io.WriteString(c, "HTTP/1.1 20")
		<-done
	}()
	req, _ := NewRequest(context.Background(), "GET", "http://"+ln.Addr().String()+"/", nil)
	_, err = (&Client{ResponseHeaderTimeout: 200 * time.Millisecond}).Do(req)
	if err == nil || !strings.Contains(err.Error(), "no response headers") {
		t.Fatalf("err = %v, want a header timeout", err)
	}
}
