package dhcpopts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Option codes (RFC 8572 §8.1, §8.2).
const (
	OptionV4SZTPRedirect = 143 // OPTION_V4_SZTP_REDIRECT
	OptionV6SZTPRedirect = 136 // OPTION_V6_SZTP_REDIRECT
)

// RESTCONFPath is the path of the get-bootstrapping-data RPC that some
// plain-text option values carry; [Parse] strips it from text values.
const RESTCONFPath = "/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data"

var (
	// ErrEmpty is returned for an option with no data.
	ErrEmpty = errors.New("empty sztp redirect option")
	// ErrNoValidURI is returned when no entry of the option is a valid
	// https://host[:port] URI; RFC 8572 §8.1/§8.2 then discard the option
	// (checklist C89).
	ErrNoValidURI = errors.New("no valid https://host[:port] uri in the sztp redirect option")
	// ErrPlainText is returned by [Parse] for a value that is plain text,
	// not the RFC 8572 §8.3 framing (C88); [ParseText] accepts it. It
	// wraps ErrNoValidURI.
	ErrPlainText = fmt.Errorf("%w: the value is plain text, not the RFC 8572 §8.3 length-prefixed list", ErrNoValidURI)
)

// plainTextIgnored starts the warning of a plain-text value that [Parse]
// ignored; [Lease.WithTextURIs] drops it.
const plainTextIgnored = "option value is plain text "

// ParseText is [Parse] that also accepts a plain-text value (the form ISC
// dhcpd's text option sends), always with warnings that name the violation
// (see the package documentation). It is the opt-in behind sztp's
// --dhcp-text-uris; RFC-framed values are parsed exactly as by Parse.
func ParseText(data []byte) (uris []string, warnings []string, err error) {
	if len(data) > 0 && !framed(data) && looksLikeText(data) {
		return parseText(string(data))
	}
	return Parse(data)
}

// Parse decodes the data of option 143 (after RFC 3396 concatenation, see
// [ConcatV4]) or option 136: the RFC 8572 §8.3 bootstrap-server-list of
// {uint16 uri-length, URI} entries (C86).
//
// It returns the valid URIs in option order and one warning per entry it
// ignored (non-https scheme, path, query, user info, fragment, bad host or
// port, or an entry overrunning the data: C88). A value that is not framed but
// is plain text is not used: Parse returns ErrPlainText with a warning that
// says how to accept it ([ParseText], sztp --dhcp-text-uris; C88).
// If no valid URI remains, it returns ErrNoValidURI together with the
// warnings that say why (C89).
func Parse(data []byte) (uris []string, warnings []string, err error) {
	if len(data) == 0 {
		return nil, nil, ErrEmpty
	}
	if !framed(data) && looksLikeText(data) {
		return nil, []string{fmt.Sprintf(plainTextIgnored+"%q, not the RFC 8572 §8.3 length-prefixed list; ignored (sztp --dhcp-text-uris accepts it)", strings.TrimRight(string(data), "\x00"))}, ErrPlainText
	}
	for i, rest := 1, data; len(rest) > 0; i++ {
		if len(rest) < 2 {
			warnings = append(warnings, fmt.Sprintf("entry %d: 1 trailing octet, need a 2-octet uri-length; ignored", i))
			break
		}
		n := int(binary.BigEndian.Uint16(rest))
		rest = rest[2:]
		if n > len(rest) {
			warnings = append(warnings, fmt.Sprintf("entry %d: uri-length %d overruns the %d octets left; rest of option ignored", i, n, len(rest)))
			break
		}
		raw := string(rest[:n])
		rest = rest[n:]
		u, err := CheckURI(raw)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("entry %d: %v; ignored", i, err))
			continue
		}
		uris = append(uris, u)
	}
	if len(uris) == 0 {
		return nil, warnings, ErrNoValidURI
	}
	return uris, warnings, nil
}

// framed reports whether data is a well-formed sequence of length-prefixed
// entries that exactly fills it.
func framed(data []byte) bool {
	for len(data) > 0 {
		if len(data) < 2 {
			return false
		}
		n := int(binary.BigEndian.Uint16(data))
		if n > len(data)-2 {
			return false
		}
		data = data[2+n:]
	}
	return true
}

// looksLikeText reports whether data is printable UTF-8 text that starts like
// a URI (letters then "://"), the form some dhcpd configurations send. A
// trailing NUL, as C-string-minded servers add, is allowed.
func looksLikeText(data []byte) bool {
	s := strings.TrimRight(string(data), "\x00")
	if s == "" || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0x7f {
			return false
		}
	}
	i := strings.Index(s, "://")
	if i <= 0 {
		return false
	}
	for _, r := range strings.TrimSpace(s[:i]) {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '+' || r == '-' || r == '.') {
			return false
		}
	}
	return true
}

func parseText(s string) (uris []string, warnings []string, err error) {
	s = strings.TrimRight(s, "\x00")
	warnings = append(warnings, fmt.Sprintf("option value is plain text %q, not the RFC 8572 §8.3 length-prefixed list; accepted for compatibility, fix the DHCP server's option definition", s))
	fields := strings.FieldsFunc(s, func(r rune) bool { return r == ',' || r == ' ' || r == '\t' || r == '\n' || r == '\r' })
	for i, f := range fields {
		raw := f
		if stripped, ok := stripRESTCONF(f); ok {
			warnings = append(warnings, fmt.Sprintf("text entry %d: removed the RESTCONF path from %q (the option names only https://host[:port])", i+1, f))
			raw = stripped
		}
		u, err := CheckURI(raw)
		if err != nil {
			warnings = append(warnings, fmt.Sprintf("text entry %d: %v; ignored", i+1, err))
			continue
		}
		uris = append(uris, u)
	}
	if len(uris) == 0 {
		return nil, warnings, ErrNoValidURI
	}
	return uris, warnings, nil
}

// stripRESTCONF removes a trailing well-known RESTCONF path (the RPC path,
// /restconf or /restconf/) from an absolute https URI.
func stripRESTCONF(s string) (string, bool) {
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok {
		return s, false
	}
	slash := strings.IndexByte(rest, '/')
	if slash < 0 {
		return s, false
	}
	switch rest[slash:] {
	case RESTCONFPath, "/restconf", "/restconf/", "/restconf/operations/ietf-sztp-bootstrap-server:report-progress":
		return scheme + "://" + rest[:slash], true
	}
	return s, false
}

// CheckURI validates one bootstrap server URI against RFC 8572 §8.3: the
// scheme is https and the URI is exactly https://host[:port], where host is an
// IP literal or a DNS name. It returns the URI with the scheme in lower case.
func CheckURI(raw string) (string, error) {
	if raw == "" {
		return "", errors.New("empty uri")
	}
	if !utf8.ValidString(raw) {
		return "", fmt.Errorf("uri %q is not valid UTF-8", raw)
	}
	for _, r := range raw {
		if r <= 0x20 || r == 0x7f || r > 0x7e {
			return "", fmt.Errorf("uri %q contains a space, control or non-ASCII character", raw)
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", fmt.Errorf("uri %q: %w", raw, errors.Unwrap(err))
	}
	switch {
	case !strings.EqualFold(u.Scheme, "https"):
		if u.Scheme == "" {
			return "", fmt.Errorf("uri %q has no scheme (need https://host[:port])", raw)
		}
		return "", fmt.Errorf("uri %q: scheme %q is not https", raw, u.Scheme)
	case u.Opaque != "":
		return "", fmt.Errorf("uri %q is not https://host[:port]", raw)
	case u.User != nil:
		return "", fmt.Errorf("uri %q carries user information", raw)
	case u.Path != "" || u.RawPath != "":
		return "", fmt.Errorf("uri %q has a path (need https://host[:port])", raw)
	case u.RawQuery != "" || u.ForceQuery:
		return "", fmt.Errorf("uri %q has a query", raw)
	case u.Fragment != "" || strings.Contains(raw, "#"):
		return "", fmt.Errorf("uri %q has a fragment", raw)
	}
	host, port := u.Hostname(), u.Port()
	if host == "" {
		return "", fmt.Errorf("uri %q has no host", raw)
	}
	if strings.HasSuffix(u.Host, ":") {
		return "", fmt.Errorf("uri %q has an empty port", raw)
	}
	if port != "" {
		p, err := strconv.Atoi(port)
		if err != nil || p < 1 || p > 65535 {
			return "", fmt.Errorf("uri %q: port %q is not 1..65535", raw, port)
		}
	}
	if strings.HasPrefix(u.Host, "[") {
		a, err := netip.ParseAddr(host)
		if err != nil || !a.Is6() {
			return "", fmt.Errorf("uri %q: %q is not an IPv6 literal", raw, host)
		}
	} else if net.ParseIP(host) == nil && !validHostname(host) {
		return "", fmt.Errorf("uri %q: %q is not an IP address or DNS name", raw, host)
	}
	return "https" + raw[len(u.Scheme):], nil
}

// validHostname checks a DNS name: dot-separated labels of letters, digits,
// hyphens and underscores, 1..63 octets each, 253 in all, no leading or
// trailing hyphen; one trailing dot is allowed.
func validHostname(h string) bool {
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// Encode builds the RFC 8572 §8.3 bootstrap-server-list for option 143 or
// 136 from URIs, each of which must pass [CheckURI]. For DHCPv4 the result
// may exceed 255 octets; the DHCP encoder splits it into several instances
// (RFC 3396).
func Encode(uris []string) ([]byte, error) {
	if len(uris) == 0 {
		return nil, errors.New("encoding sztp redirect option: no uris")
	}
	var out []byte
	for _, u := range uris {
		if _, err := CheckURI(u); err != nil {
			return nil, fmt.Errorf("encoding sztp redirect option: %w", err)
		}
		if len(u) > 0xffff {
			return nil, fmt.Errorf("encoding sztp redirect option: uri of %d octets is longer than 65535", len(u))
		}
		out = binary.BigEndian.AppendUint16(out, uint16(len(u)))
		out = append(out, u...)
	}
	return out, nil
}
