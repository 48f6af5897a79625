package httpx

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"io"
	"net/textproto"
	"net/url"
	"sort"
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
