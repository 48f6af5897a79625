package httpx

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"net/url"
	"sort"
	"strconv"
	"strings"
)

// Header holds header fields with canonical keys (Get, Set, Add, Del, Values).
type Header = textproto.MIMEHeader

// Status codes used by sztp.
const (
	StatusOK                  = 200
	StatusNoContent           = 204
	StatusPartialContent      = 206
	StatusBadRequest          = 400
	StatusUnauthorized        = 401
	StatusForbidden           = 403
	StatusNotFound            = 404
	StatusMethodNotAllowed    = 405
	StatusUnsupportedMedia    = 415
	StatusRangeNotSatisfiable = 416
	StatusTooManyRequests     = 429
	StatusInternalServerError = 500
	StatusServiceUnavailable  = 503
)

var statusText = map[int]string{
	100: "Continue", 200: "OK", 201: "Created", 202: "Accepted", 204: "No Content", 206: "Partial Content",
	301: "Moved Permanently", 302: "Found", 303: "See Other", 304: "Not Modified", 307: "Temporary Redirect", 308: "Permanent Redirect",
	400: "Bad Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
	406: "Not Acceptable", 408: "Request Timeout", 409: "Conflict", 411: "Length Required", 413: "Content Too Large",
	415: "Unsupported Media Type", 416: "Range Not Satisfiable", 429: "Too Many Requests",
	500: "Internal Server Error", 501: "Not Implemented", 502: "Bad Gateway", 503: "Service Unavailable", 504: "Gateway Timeout",
}

// StatusText is the reason phrase of a status code, or "" when unknown.
func StatusText(code int) string { return statusText[code] }

// Request is an HTTP request, for the client or as the server parsed it.
type Request struct {
	Method string
	URL    *url.URL // client: absolute URL; server: the request target
	Header Header
	// Body is the client's request body (nil: none). On the server it is
	// the request body reader and never nil.
	Body   []byte
	body   io.Reader
	Host   string // server: the Host header
	Remote string // server: the peer address
	// TLS is the server side connection state (nil for plain HTTP).
	TLS *tls.ConnectionState
	ctx context.Context
}

// NewRequest makes a client request.
func NewRequest(ctx context.Context, method, rawURL string, body []byte) (*Request, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if ctx == nil {
		ctx = context.Background()
	}
	return &Request{Method: method, URL: u, Header: Header{}, Body: body, ctx: ctx}, nil
}

// Context is the request's context.
func (r *Request) Context() context.Context {
	if r.ctx == nil {
		return context.Background()
	}
	return r.ctx
}

// BodyReader is the server side request body.
func (r *Request) BodyReader() io.Reader {
	if r.body == nil {
		return strings.NewReader(string(r.Body))
	}
	return r.body
}

// SetBasicAuth sets an Authorization: Basic header.
func (r *Request) SetBasicAuth(user, password string) {
	r.Header.Set("Authorization", "Basic "+base64.StdEncoding.EncodeToString([]byte(user+":"+password)))
}

// BasicAuth returns the credentials of an Authorization: Basic header.
func (r *Request) BasicAuth() (user, password string, ok bool) {
	auth := r.Header.Get("Authorization")
	const prefix = "basic "
	if len(auth) < len(prefix) || !strings.EqualFold(auth[:len(prefix)], prefix) {
		return "", "", false
	}
	c, err := base64.StdEncoding.DecodeString(auth[len(prefix):])
	if err != nil {
		return "", "", false
	}
	user, password, ok = strings.Cut(string(c), ":")
	return user, password, ok
}

// Response is an HTTP response received by the client.
type Response struct {
	StatusCode int
	Status     string // e.g. "200 OK"
	Header     Header
	// Body is the response body; the caller must close it.
	Body io.ReadCloser
	// ContentLength is the declared length, or -1 when unknown.
	ContentLength int64
}

// Limits on what a peer may send before the body.
const (
	maxLineBytes   = 8 << 10
	maxHeaderBytes = 64 << 10
)

var errHeaderTooLarge = errors.New("header too large")

// readHeader reads header lines up to the empty line, bounding their size.
func readHeader(br *bufio.Reader) (Header, error) {
	h := Header{}
	total := 0
	for {
		line, err := readLine(br)
		if err != nil {
			return nil, err
		}
		total += len(line)
		if total > maxHeaderBytes {
			return nil, errHeaderTooLarge
		}
		if line == "" {
			return h, nil
		}
		k, v, ok := strings.Cut(line, ":")
		if !ok || k == "" || strings.ContainsAny(k, " \t") {
			return nil, fmt.Errorf("malformed header line %q", line)
		}
		h.Add(textproto.CanonicalMIMEHeaderKey(k), strings.TrimSpace(v))
	}
}

// readLine reads one CRLF (or LF) terminated line of at most maxLineBytes.
func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		chunk, isPrefix, err := br.ReadLine()
		if err != nil {
			if err == io.EOF && len(b) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
		b = append(b, chunk...)
		if len(b) > maxLineBytes {
			return "", errHeaderTooLarge
		}
		if !isPrefix {
			return string(b), nil
		}
	}
}

// bodyReader frames a message body: chunked, Content-Length, or until EOF
// (responses only). It returns the body and its declared length (-1).
func bodyReader(br *bufio.Reader, h Header, untilEOF bool) (io.Reader, int64, error) {
	if te := h.Get("Transfer-Encoding"); te != "" {
		if !strings.EqualFold(te, "chunked") {
			return nil, 0, fmt.Errorf("unsupported Transfer-Encoding %q", te)
		}
		return &chunkedReader{br: br}, -1, nil
	}
	if cl := h.Get("Content-Length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return nil, 0, fmt.Errorf("bad Content-Length %q", cl)
		}
		return &exactReader{r: br, n: n}, n, nil
	}
	if untilEOF {
		return br, -1, nil
	}
	return strings.NewReader(""), 0, nil
}

// exactReader reads n bytes and reports a short body as unexpected EOF.
type exactReader struct {
	r io.Reader
	n int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.n <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.n {
		p = p[:e.n]
	}
	n, err := e.r.Read(p)
	e.n -= int64(n)
	if err == io.EOF && e.n > 0 {
		err = io.ErrUnexpectedEOF
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

// chunkedReader decodes Transfer-Encoding: chunked (RFC 9112 7.1).
type chunkedReader struct {
	br   *bufio.Reader
	left int64
	done bool
	err  error
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		line, err := readLine(c.br)
		if err != nil {
			c.err = unexpected(err)
			return 0, c.err
		}
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseInt(strings.TrimSpace(size), 16, 64)
		if err != nil || n < 0 {
			c.err = fmt.Errorf("bad chunk size %q", line)
			return 0, c.err
		}
		if n == 0 {
			for { // trailer section
				l, err := readLine(c.br)
				if err != nil {
					c.err = unexpected(err)
					return 0, c.err
				}
				if l == "" {
					break
				}
			}
			c.done = true
			return 0, io.EOF
		}
		c.left = n
	}
	if int64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= int64(n)
	if err != nil {
		c.err = unexpected(err)
		return n, c.err
	}
	if c.left == 0 {
		if l, err := readLine(c.br); err != nil || l != "" {
			c.err = errors.New("malformed chunk trailer")
			return n, c.err
		}
	}
	return n, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// writeHeader writes header fields in a stable order.
func writeHeader(w io.Writer, h Header) error {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		for _, v := range h[k] {
			if strings.ContainsAny(v, "\r\n") || strings.ContainsAny(k, "\r\n: ") {
				return fmt.Errorf("invalid header field %q", k)
			}
			if _, err := fmt.Fprintf(w, "%s: %s\r\n", k, v); err != nil {
				return err
			}
		}
	}
	return nil
}
