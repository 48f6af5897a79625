package httpx

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/textproto"
	"net/url"
	"strconv"
	"strings"
)

// What a message may look like is what net/http accepts (FuzzDifferential
// checks it), with these limits on top.
const (
	// maxLineBytes bounds one line of the head.
	maxLineBytes = 8 << 10
	// maxHeaderBytes bounds the head, interim (1xx) responses included.
	maxHeaderBytes = 64 << 10
	// maxInterim bounds the 1xx interim responses before the final one.
	maxInterim = 8
	// maxChunkLine bounds a chunk-size line, CRLF included (as net/http's
	// 4 KiB buffer does).
	maxChunkLine = 4 << 10
	// maxTrailerBytes bounds the trailer section (net/http: its buffer).
	maxTrailerBytes = 4 << 10
	// maxChunkOverhead bounds the non-data octets of a chunked body
	// (chunk lines beyond 16 per chunk, and tiny chunks), as net/http does.
	maxChunkOverhead = 16 << 10
)

var (
	errHeaderTooLarge = errors.New("header too large")
	errLineTooLong    = errors.New("chunk line too long")
)

// readHeadLine reads one line through its LF, charging it to budget. A line
// cut short by the end of input or a read error (a timeout) is not a line:
// the error is returned, io.EOF as io.ErrUnexpectedEOF.
func readHeadLine(br *bufio.Reader, budget *int) ([]byte, error) {
	var line []byte
	for {
		chunk, err := br.ReadSlice('\n')
		if len(line)+len(chunk) > maxLineBytes || len(chunk) > *budget {
			return nil, errHeaderTooLarge
		}
		*budget -= len(chunk)
		line = append(line, chunk...)
		switch err {
		case nil:
			return line, nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			return nil, io.ErrUnexpectedEOF
		default:
			return nil, err
		}
	}
}

// readHead reads a start line and the header section up to the empty line,
// and parses the header as net/http does (net/textproto: token field names,
// no control octets but HTAB in values, obs-fold joined).
func readHead(br *bufio.Reader, budget *int) (string, Header, error) {
	start, err := readHeadLine(br, budget)
	if err != nil {
		return "", nil, err
	}
	var head []byte
	for {
		line, err := readHeadLine(br, budget)
		if err != nil {
			return "", nil, err
		}
		head = append(head, line...)
		if len(line) == 1 || len(line) == 2 && line[0] == '\r' {
			break
		}
	}
	h, err := textproto.NewReader(bufio.NewReader(bytes.NewReader(head))).ReadMIMEHeader()
	if err != nil {
		return "", nil, err
	}
	return trimEOL(string(start)), h, nil
}

// trimEOL removes the LF or CRLF that ends a line.
func trimEOL(s string) string {
	s = strings.TrimSuffix(s, "\n")
	return strings.TrimSuffix(s, "\r")
}

// parseVersion accepts HTTP/1.0 to HTTP/1.9 and returns the minor version.
func parseVersion(v string) (int, bool) {
	if len(v) != len("HTTP/1.1") || !strings.HasPrefix(v, "HTTP/1.") || v[7] < '0' || v[7] > '9' {
		return 0, false
	}
	return int(v[7] - '0'), true
}

// parseStatusLine reads "HTTP/1.x NNN reason": the code is exactly three
// digits, 100 or more.
func parseStatusLine(line string) (code, minor int, status string, err error) {
	proto, rest, ok := strings.Cut(line, " ")
	if !ok {
		return 0, 0, "", fmt.Errorf("malformed status line %q", line)
	}
	status = strings.TrimLeft(rest, " ")
	codeStr, _, _ := strings.Cut(status, " ")
	if len(codeStr) != 3 || !isDigits(codeStr) || codeStr[0] == '0' {
		return 0, 0, "", fmt.Errorf("malformed status code in %q", line)
	}
	code, _ = strconv.Atoi(codeStr)
	if minor, ok = parseVersion(proto); !ok {
		return 0, 0, "", fmt.Errorf("malformed HTTP version in %q", line)
	}
	return code, minor, status, nil
}

func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// isToken reports whether s is a non-empty RFC 9110 token.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 0x80 || !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0) {
			return false
		}
	}
	return true
}

// readResponse parses the status line, header and body framing of the final
// response, skipping at most maxInterim 1xx interim responses. 101
// (Switching Protocols) is final, and an error: sztp never upgrades.
func readResponse(br *bufio.Reader, method string) (*Response, error) {
	budget := maxHeaderBytes
	for n := 0; ; n++ {
		line, h, err := readHead(br, &budget)
		if err != nil {
			return nil, err
		}
		code, minor, status, err := parseStatusLine(line)
		if err != nil {
			return nil, err
		}
		if code == 101 {
			return nil, errors.New("unexpected 101 Switching Protocols")
		}
		if code < 200 {
			if n == maxInterim {
				return nil, fmt.Errorf("more than %d interim (1xx) responses", maxInterim)
			}
			continue
		}
		resp := &Response{StatusCode: code, Status: status, Header: h}
		noBody := method == "HEAD" || code == 204 || code == 304
		var r io.Reader
		r, resp.ContentLength, err = bodyReader(br, h, minor, true, noBody)
		if err != nil {
			return nil, err
		}
		if noBody {
			resp.ContentLength = 0
		}
		resp.Body = io.NopCloser(r)
		return resp, nil
	}
}

// readRequest parses a request line, header and body framing.
func readRequest(br *bufio.Reader) (*Request, error) {
	budget := maxHeaderBytes
	line, h, err := readHead(br, &budget)
	if err != nil {
		return nil, err
	}
	method, rest, ok1 := strings.Cut(line, " ")
	target, proto, ok2 := strings.Cut(rest, " ")
	if !ok1 || !ok2 || !isToken(method) {
		return nil, fmt.Errorf("malformed request line %q", line)
	}
	minor, ok := parseVersion(proto)
	if !ok {
		return nil, fmt.Errorf("malformed request line %q", line)
	}
	raw := target
	authority := method == "CONNECT" && !strings.HasPrefix(raw, "/")
	if authority {
		raw = "http://" + raw
	}
	u, err := url.ParseRequestURI(raw)
	if err != nil {
		return nil, fmt.Errorf("bad request target %q: %w", target, err)
	}
	if authority {
		u.Scheme = ""
	}
	if len(h["Host"]) > 1 {
		return nil, errors.New("several Host headers")
	}
	b, _, err := bodyReader(br, h, minor, false, false)
	if err != nil {
		return nil, err
	}
	return &Request{Method: method, URL: u, Header: h, Host: h.Get("Host"), body: b}, nil
}

// bodyReader frames a message body as RFC 9112 6 and net/http do: one
// Transfer-Encoding header of exactly "chunked" (ignored in HTTP/1.0),
// else Content-Length (duplicates must agree; digits only), else until EOF
// for a response, empty for a request. It returns the body and its declared
// length (-1 when unknown).
func bodyReader(br *bufio.Reader, h Header, minor int, response, noBody bool) (io.Reader, int64, error) {
	chunked := false
	if te, ok := h["Transfer-Encoding"]; ok && minor >= 1 {
		if len(te) != 1 {
			return nil, 0, fmt.Errorf("%d Transfer-Encoding headers", len(te))
		}
		if !strings.EqualFold(te[0], "chunked") {
			return nil, 0, fmt.Errorf("unsupported Transfer-Encoding %q", te[0])
		}
		chunked = true
	}
	length := int64(-1)
	if cls := h["Content-Length"]; len(cls) > 0 {
		first := textproto.TrimString(cls[0])
		for _, cl := range cls[1:] {
			if textproto.TrimString(cl) != first {
				return nil, 0, fmt.Errorf("differing Content-Length headers %q", cls)
			}
		}
		n, err := strconv.ParseUint(first, 10, 63)
		if err != nil {
			return nil, 0, fmt.Errorf("bad Content-Length %q", first)
		}
		length = int64(n)
	}
	if chunked {
		for _, v := range h["Trailer"] {
			for _, k := range strings.Split(v, ",") {
				switch textproto.CanonicalMIMEHeaderKey(textproto.TrimString(k)) {
				case "Transfer-Encoding", "Trailer", "Content-Length":
					return nil, 0, fmt.Errorf("bad Trailer field %q", k)
				}
			}
		}
	}
	switch {
	case noBody:
		return strings.NewReader(""), 0, nil
	case chunked:
		return &chunkedReader{br: br}, -1, nil
	case length >= 0:
		return &exactReader{r: br, n: length}, length, nil
	case response:
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

// chunkedReader decodes Transfer-Encoding: chunked (RFC 9112 7.1): chunk
// lines end in CRLF, sizes are 1 to 16 hex digits, extensions are ignored,
// every chunk's data ends in CRLF, and the trailer section must end within
// maxTrailerBytes.
type chunkedReader struct {
	br       *bufio.Reader
	left     uint64
	overhead int64
	done     bool
	err      error
}

func (c *chunkedReader) Read(p []byte) (int, error) {
	if c.err != nil {
		return 0, c.err
	}
	if c.done {
		return 0, io.EOF
	}
	if c.left == 0 {
		n, err := c.chunkSize()
		if err != nil {
			c.err = err
			return 0, err
		}
		if n == 0 {
			if err := readTrailer(c.br); err != nil {
				c.err = err
				return 0, err
			}
			c.done = true
			return 0, io.EOF
		}
		c.left = n
	}
	if uint64(len(p)) > c.left {
		p = p[:c.left]
	}
	n, err := c.br.Read(p)
	c.left -= uint64(n)
	if err != nil {
		c.err = unexpected(err)
		return n, c.err
	}
	if c.left == 0 {
		var crlf [2]byte
		if _, err := io.ReadFull(c.br, crlf[:]); err != nil {
			c.err = unexpected(err)
			return n, c.err
		}
		if string(crlf[:]) != "\r\n" {
			c.err = errors.New("malformed chunked encoding")
			return n, c.err
		}
	}
	return n, nil
}

// chunkSize reads a chunk-size line.
func (c *chunkedReader) chunkSize() (uint64, error) {
	var line []byte
	for {
		chunk, err := c.br.ReadSlice('\n')
		if len(line)+len(chunk) > maxChunkLine {
			return 0, errLineTooLong
		}
		line = append(line, chunk...)
		if err == bufio.ErrBufferFull {
			continue
		}
		if err != nil {
			return 0, unexpected(err)
		}
		break
	}
	if i := bytes.IndexByte(line, '\r'); i < 0 || i != len(line)-2 {
		return 0, errors.New("chunk line does not end in CRLF")
	}
	c.overhead += int64(len(line))
	line = bytes.TrimRight(line[:len(line)-2], " \t")
	line, _, _ = bytes.Cut(line, []byte(";"))
	if len(line) == 0 || len(line) > 16 {
		return 0, fmt.Errorf("bad chunk size %q", line)
	}
	var n uint64
	for _, b := range line {
		switch {
		case b >= '0' && b <= '9':
			b -= '0'
		case b >= 'a' && b <= 'f':
			b -= 'a' - 10
		case b >= 'A' && b <= 'F':
			b -= 'A' - 10
		default:
			return 0, fmt.Errorf("bad chunk size %q", line)
		}
		n = n<<4 | uint64(b)
	}
	c.overhead = max(c.overhead-16-2*int64(min(n, 1<<40)), 0)
	if c.overhead > maxChunkOverhead {
		return 0, errors.New("chunked encoding has too much overhead")
	}
	return n, nil
}

// readTrailer reads the trailer section after the last chunk: it must end
// (CRLF CRLF) within maxTrailerBytes; its fields are parsed and dropped.
func readTrailer(br *bufio.Reader) error {
	if b, _ := br.Peek(2); string(b) == "\r\n" {
		br.Discard(2)
		return nil
	} else if len(b) < 2 {
		return io.ErrUnexpectedEOF
	}
	b, _ := br.Peek(min(maxTrailerBytes, br.Size()))
	if !bytes.Contains(b, []byte("\r\n\r\n")) {
		return fmt.Errorf("trailer section over %d bytes", maxTrailerBytes)
	}
	_, err := textproto.NewReader(br).ReadMIMEHeader()
	return unexpected(err)
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
