package safetext

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// Clean redacts URI credentials, then escapes what could drive a terminal.
func Clean(s string) string { return Escape(RedactURIs(s)) }

// Escape writes C0 and C1 control characters (except newline and tab, which
// multi-line text such as script output keeps), DEL, bidirectional
// overrides and invalid UTF-8 as \xNN or \uNNNN.
func Escape(s string) string {
	if clean(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 16)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			fmt.Fprintf(&b, `\x%02x`, s[i])
		case unsafe(r) && r < 0x100:
			fmt.Fprintf(&b, `\x%02x`, r)
		case unsafe(r):
			fmt.Fprintf(&b, `\u%04x`, r)
		default:
			b.WriteString(s[i : i+size])
		}
		i += size
	}
	return b.String()
}

func clean(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\n' && c != '\t' || c >= 0x7f {
			// Non-ASCII is checked rune by rune by the slow path.
			return false
		}
	}
	return true
}

func unsafe(r rune) bool {
	switch {
	case r == '\n' || r == '\t':
		return false
	case r < 0x20 || r == 0x7f || r >= 0x80 && r <= 0x9f:
		return true
	case r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e || r == 0x200f || r == 0x061c:
		return true // bidirectional formatting: reorders what is displayed
	}
	return false
}

// Redacted replaces the credentials of a URI's userinfo.
const Redacted = "xxxxx"

// RedactURIs replaces the userinfo of every scheme://userinfo@host in s:
// user:password becomes user:xxxxx, a lone user (often a token) xxxxx.
func RedactURIs(s string) string {
	if !strings.Contains(s, "://") || !strings.Contains(s, "@") {
		return s
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "://")
		if i < 0 {
			b.WriteString(s)
			return b.String()
		}
		b.WriteString(s[:i+3])
		s = s[i+3:]
		end := strings.IndexFunc(s, func(r rune) bool {
			return r == '/' || r == '?' || r == '#' || r == '"' || r == '\'' || r == '<' || r == '>' || r == '`' || r <= ' '
		})
		if end < 0 {
			end = len(s)
		}
		at := strings.LastIndexByte(s[:end], '@')
		if at < 0 {
			continue
		}
		if user, _, ok := strings.Cut(s[:at], ":"); ok {
			b.WriteString(user + ":" + Redacted)
		} else {
			b.WriteString(Redacted)
		}
		s = s[at:]
	}
}
