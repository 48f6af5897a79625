package settings

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Values maps flag names to their values from one layer.
type Values map[string][]string

// ParseConfigFile parses the strict YAML subset:
//
//	# comment
//	key: value
//	key: "quoted value"      (double or single quotes)
//	key: [a, "b", c]         (flow list)
//	key:                     (block list)
//	  - a
//	  - b
//
// Keys are lowercase flag names. A key may appear once. Anything else
// (anchors, nested maps, multi-line strings, tabs for indentation) is an
// error naming the line.
func ParseConfigFile(data []byte) (Values, error) {
	out := Values{}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var listKey string
	for i, raw := range lines {
		n := i + 1
		line := stripComment(raw)
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "\t") || strings.Contains(leadingSpace(line), "\t") {
			return nil, fmt.Errorf("line %d: tabs are not allowed for indentation", n)
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "- ") || trimmed == "-" {
			if listKey == "" || leadingSpace(line) == "" {
				return nil, fmt.Errorf("line %d: list item outside a list", n)
			}
			v, err := scalar(strings.TrimSpace(strings.TrimPrefix(trimmed, "-")))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			out[listKey] = append(out[listKey], v)
			continue
		}
		if leadingSpace(line) != "" {
			return nil, fmt.Errorf("line %d: unexpected indentation (nested maps are not supported)", n)
		}
		listKey = ""
		key, val, ok := strings.Cut(trimmed, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want \"key: value\", got %q", n, trimmed)
		}
		key = strings.TrimSpace(key)
		if !validKey(key) {
			return nil, fmt.Errorf("line %d: bad key %q (want a lowercase flag name such as bootstrap-url)", n, key)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("line %d: key %q given twice", n, key)
		}
		val = strings.TrimSpace(val)
		switch {
		case val == "":
			listKey = key
			out[key] = []string{}
		case strings.HasPrefix(val, "["):
			if !strings.HasSuffix(val, "]") {
				return nil, fmt.Errorf("line %d: unterminated list", n)
			}
			items, err := flowList(val[1 : len(val)-1])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			out[key] = items
		default:
			v, err := scalar(val)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			out[key] = []string{v}
		}
	}
	return out, nil
}

func leadingSpace(s string) string { return s[:len(s)-len(strings.TrimLeft(s, " \t"))] }

// stripComment removes a # comment that is outside quotes and starts the
// line or follows a space.
func stripComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func scalar(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty value")
	}
	switch s[0] {
	case '"':
		v, err := strconv.Unquote(s)
		if err != nil {
			return "", fmt.Errorf("bad double-quoted string %s", s)
		}
		return v, nil
	case '\'':
		if len(s) < 2 || s[len(s)-1] != '\'' {
			return "", fmt.Errorf("bad single-quoted string %s", s)
		}
		inner := s[1 : len(s)-1]
		if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			return "", fmt.Errorf("bad single-quoted string %s", s)
		}
		return strings.ReplaceAll(inner, "''", "'"), nil
	case '[', '{', '&', '*', '!', '|', '>', '%', '@', '`':
		return "", fmt.Errorf("unsupported YAML syntax %q (quote the value)", s)
	}
	return s, nil
}

func flowList(s string) ([]string, error) {
	var items []string
	var cur strings.Builder
	var q byte
	flush := func() error {
		v := strings.TrimSpace(cur.String())
		cur.Reset()
		if v == "" {
			return errors.New("empty list item")
		}
		sv, err := scalar(v)
		if err != nil {
			return err
		}
		items = append(items, sv)
		return nil
	}
	if strings.TrimSpace(s) == "" {
		return []string{}, nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == ',':
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		cur.WriteByte(c)
	}
	if q != 0 {
		return nil, errors.New("unterminated quote in list")
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return items, nil
}

// ParseCmdline extracts sztp.* parameters from a kernel command line.
// sztp.url=A,B and repeated parameters make lists; a bare sztp.NAME means
// "true". Quoted values ("sztp.os-name=My OS") are honoured.
func ParseCmdline(s string) Values {
	out := Values{}
	for _, w := range splitCmdline(s) {
		rest, ok := strings.CutPrefix(w, "sztp.")
		if !ok || rest == "" {
			continue
		}
		key, val, hasVal := strings.Cut(rest, "=")
		if !validKey(key) {
			continue
		}
		if key == "url" {
			key = "bootstrap-url"
		}
		if !hasVal {
			out[key] = append(out[key], "true")
			continue
		}
		if ListKeys[key] {
			for _, v := range strings.Split(val, ",") {
				if v = strings.TrimSpace(v); v != "" {
					out[key] = append(out[key], v)
				}
			}
			continue
		}
		out[key] = append(out[key], val)
	}
	return out
}

func splitCmdline(s string) []string {
	var words []string
	var cur strings.Builder
	inQ, has := false, false
	for _, c := range s {
		switch {
		case c == '"':
			inQ, has = !inQ, true
		case !inQ && (c == ' ' || c == '\t' || c == '\n'):
			if has {
				words = append(words, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(c)
			has = true
		}
	}
	if has {
		words = append(words, cur.String())
	}
	return words
}

// ListKeys are the repeatable flags; their kernel command-line values split
// on commas (sztp.url=A,B). cmd/sztp tests that they are exactly the flags
// whose values are lists.
var ListKeys = map[string]bool{
	"bootstrap-url": true, "server-trust-anchor": true, "voucher-trust-anchor": true,
	"idevid-cert-index": true, "lease-file": true, "interface": true,
	"ssh-host-key": true, "trust-anchor-cert": true, "assertion": true,
	"dns-domain": true, "dns-server": true,
}
