package httpx

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/http"
	"reflect"
	"testing"
)

// outcome is what one reader made of a message: an error, or the status
// (or method and target), the header and the body.
type outcome struct {
	err    error
	limit  bool // httpx refused at one of its own limits (maxHeaderBytes)
	first  string
	header map[string][]string
	body   []byte
}

func (o outcome) String() string {
	if o.err != nil {
		return "error: " + o.err.Error()
	}
	return fmt.Sprintf("%s %q body %q", o.first, o.header, o.body)
}

// normHeader drops the fields net/http consumes or rewrites while framing
// (Transfer-Encoding, Content-Length, Trailer, Connection), and adds
// Cache-Control for Pragma: no-cache as net/http does.
func normHeader(h map[string][]string) map[string][]string {
	h = maps.Clone(h)
	if h == nil {
		h = map[string][]string{}
	}
	if p := h["Pragma"]; len(p) > 0 && p[0] == "no-cache" {
		if _, ok := h["Cache-Control"]; !ok {
			h["Cache-Control"] = []string{"no-cache"}
		}
	}
	for _, k := range []string{"Transfer-Encoding", "Content-Length", "Trailer", "Connection"} {
		delete(h, k)
	}
	return h
}

func readAllBody(r io.Reader) ([]byte, error) {
	return io.ReadAll(io.LimitReader(r, 1<<20))
}

// errRefused marks what net/http accepts and httpx refuses on purpose: a
// status code below 100 ("+20", "020"), 101 (sztp never upgrades), a
// version other than HTTP/1.x, more than maxInterim interim responses.
var errRefused = errors.New("refused by design")

func netResponse(in []byte) outcome {
	br := bufio.NewReader(bytes.NewReader(in))
	for n := 0; ; n++ {
		resp, err := http.ReadResponse(br, &http.Request{Method: "GET"})
		if err != nil {
			return outcome{err: err}
		}
		switch {
		case resp.StatusCode < 100, resp.StatusCode == 101, resp.ProtoMajor != 1:
			return outcome{err: errRefused}
		case resp.StatusCode < 200:
			if n == maxInterim {
				return outcome{err: errRefused}
			}
			continue
		}
		body, err := readAllBody(resp.Body)
		if err != nil {
			return outcome{err: err}
		}
		return outcome{first: resp.Status, header: normHeader(resp.Header), body: body}
	}
}

func httpxResponse(in []byte) outcome {
	resp, err := readResponse(bufio.NewReader(bytes.NewReader(in)), "GET")
	if err != nil {
		return outcome{err: err, limit: errors.Is(err, errHeaderTooLarge)}
	}
	body, err := readAllBody(resp.Body)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{first: resp.Status, header: normHeader(resp.Header), body: body}
}

func netRequest(in []byte) outcome {
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(in)))
	if err != nil {
		return outcome{err: err}
	}
	if req.ProtoMajor != 1 {
		return outcome{err: errRefused}
	}
	body, err := readAllBody(req.Body)
	if err != nil {
		return outcome{err: err}
	}
	return outcome{first: req.Method + " " + req.URL.String() + " host " + req.Host, header: normHeader(req.Header), body: body}
}

func httpxRequest(in []byte) outcome {
	req, err := readRequest(bufio.NewReader(bytes.NewReader(in)))
	if err != nil {
		return outcome{err: err, limit: errors.Is(err, errHeaderTooLarge)}
	}
	body, err := readAllBody(req.BodyReader())
	if err != nil {
		return outcome{err: err}
	}
	// net/http moves Host out of the header, preferring an absolute
	// target's host.
	host := req.URL.Host
	if host == "" {
		host = req.Host
	}
	h := normHeader(req.Header)
	delete(h, "Host")
	return outcome{first: req.Method + " " + req.URL.String() + " host " + host, header: h, body: body}
}

// differ says how two outcomes differ, or "" when they agree: both
// refuse, or both accept with the same status (or request line), header
// and body. A refusal at an httpx size limit agrees with anything.
func differ(hx, std outcome) string {
	switch {
	case hx.limit:
		return ""
	case (hx.err == nil) != (std.err == nil):
		return "one accepts what the other refuses"
	case hx.err != nil:
		return ""
	case hx.first != std.first:
		return "start lines differ"
	case !reflect.DeepEqual(hx.header, std.header):
		return "headers differ"
	case !bytes.Equal(hx.body, std.body):
		return "bodies differ"
	}
	return ""
}

// FuzzDifferential feeds the same bytes to httpx's response and request
// readers and to net/http's ReadResponse and ReadRequest, and fails when one
// accepts what the other refuses, or they disagree on the status (request
// line), the header or the body (issue 10 item 10). What httpx refuses on
// purpose is listed at errRefused.
func FuzzDifferential(f *testing.F) {
	for _, s := range differentialSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		if d := differ(httpxResponse(in), netResponse(in)); d != "" {
			t.Fatalf("response %q: %s\nhttpx:    %v\nnet/http: %v", in, d, httpxResponse(in), netResponse(in))
		}
		if d := differ(httpxRequest(in), netRequest(in)); d != "" {
			t.Fatalf("request %q: %s\nhttpx:    %v\nnet/http: %v", in, d, httpxRequest(in), netRequest(in))
		}
	})
}

var differentialSeeds = []string{
	"HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\nabc",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
	"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nTrailer: X-T\r\n\r\n3;ext=1\r\nabc\r\n0\r\nX-T: v\r\n\r\n",
	"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n",
	"HTTP/1.0 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nuntil eof",
	"HTTP/1.1 400 Bad Request\r\nContent-Type: application/yang-data+json\r\n\r\n{\"ietf-restconf:errors\":{}}",
	"POST /restconf/operations/x HTTP/1.1\r\nHost: a\r\nContent-Length: 2\r\n\r\n{}",
	"POST /x HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked\r\n\r\n2\r\n{}\r\n0\r\n\r\n",
	"GET / HTTP/1.1\r\nHost: a\r\nX-Folded: a\r\n b\r\n\r\n",
}
