package dhcpopts

import (
	"errors"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"
)

// ISC dhclient lease files (dhclient.leases(5)): blocks `lease { ... }`
// (DHCPv4) and `lease6 { ... }` (DHCPv6) of `;`-terminated statements. The
// SZTP option appears as
//
//	option unknown-143 0:1a:68:74:...;           (undeclared, binary: hex octets)
//	option unknown-143 "https://...";            (undeclared, all printable)
//	option sztp-redirect-urls "https://...";     (declared in dhclient.conf as text)
//	option dhcp6.unknown-136 0:1a:68:...;        (DHCPv6)
//
// Any option whose name contains "sztp" is taken as the SZTP option of its
// block's family, since a declared name is the administrator's choice.

type iscToken struct {
	text   string
	quoted bool
}

// iscTokens splits dhclient lease text into words, quoted strings (escapes
// decoded), and the punctuation { } ;. Comments run from # to end of line.
func iscTokens(s string) ([]iscToken, error) {
	var toks []iscToken
	for i := 0; i < len(s); {
		c := s[i]
		switch {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r':
			i++
		case c == '#':
			for i < len(s) && s[i] != '\n' {
				i++
			}
		case c == '{' || c == '}' || c == ';' || c == ',':
			toks = append(toks, iscToken{text: string(c)})
			i++
		case c == '"':
			var b strings.Builder
			i++
			for {
				if i >= len(s) {
					return nil, errors.New("unterminated quoted string")
				}
				c = s[i]
				if c == '"' {
					i++
					break
				}
				if c != '\\' {
					b.WriteByte(c)
					i++
					continue
				}
				if i+1 >= len(s) {
					return nil, errors.New("backslash at end of input")
				}
				e := s[i+1]
				switch {
				case e >= '0' && e <= '7':
					// Up to three octal digits, as dhclient writes
					// non-printable octets.
					j, v := i+1, 0
					for j < len(s) && j < i+4 && s[j] >= '0' && s[j] <= '7' {
						v = v*8 + int(s[j]-'0')
						j++
					}
					if v > 255 {
						return nil, fmt.Errorf("octal escape \\%s out of range", s[i+1:j])
					}
					b.WriteByte(byte(v))
					i = j
				case e == 'n':
					b.WriteByte('\n')
					i += 2
				case e == 't':
					b.WriteByte('\t')
					i += 2
				case e == 'r':
					b.WriteByte('\r')
					i += 2
				default:
					b.WriteByte(e)
					i += 2
				}
			}
			toks = append(toks, iscToken{text: b.String(), quoted: true})
		default:
			j := i
			for j < len(s) && !strings.ContainsRune(" \t\r\n#{};,\"", rune(s[j])) {
				j++
			}
			toks = append(toks, iscToken{text: s[i:j]})
			i = j
		}
	}
	return toks, nil
}

// iscStmt is one statement: its words, and the statements of its block if
// it has one.
type iscStmt struct {
	words []iscToken
	block []iscStmt
}

func iscParse(toks []iscToken, depth int) ([]iscStmt, []iscToken, error) {
	if depth > 16 {
		return nil, nil, errors.New("blocks nested too deeply")
	}
	var out []iscStmt
	var cur []iscToken
	for len(toks) > 0 {
		t := toks[0]
		toks = toks[1:]
		if t.quoted {
			cur = append(cur, t)
			continue
		}
		switch t.text {
		case ";":
			if len(cur) > 0 {
				out = append(out, iscStmt{words: cur})
			}
			cur = nil
		case "{":
			block, rest, err := iscParse(toks, depth+1)
			if err != nil {
				return nil, nil, err
			}
			out = append(out, iscStmt{words: cur, block: block})
			cur, toks = nil, rest
		case "}":
			if depth == 0 {
				return nil, nil, errors.New("unbalanced }")
			}
			if len(cur) > 0 {
				out = append(out, iscStmt{words: cur})
			}
			return out, toks, nil
		default:
			cur = append(cur, t)
		}
	}
	if depth != 0 {
		return nil, nil, errors.New("missing }")
	}
	if len(cur) > 0 {
		return nil, nil, fmt.Errorf("statement %q has no terminating ;", cur[0].text)
	}
	return out, nil, nil
}

// parseISC reads an ISC dhclient lease file. For each interface and family
// the last lease block (the current lease) is returned.
func parseISC(data []byte, now time.Time) ([]Lease, error) {
	toks, err := iscTokens(string(data))
	if err != nil {
		return nil, fmt.Errorf("dhclient lease file: %w", err)
	}
	stmts, _, err := iscParse(toks, 0)
	if err != nil {
		return nil, fmt.Errorf("dhclient lease file: %w", err)
	}
	var leases []Lease
	index := map[string]int{}
	for _, st := range stmts {
		if len(st.words) != 1 || st.block == nil {
			continue
		}
		var l Lease
		switch st.words[0].text {
		case "lease":
			l = iscLease4(st.block, now)
		case "lease6":
			l = iscLease6(st.block, now)
		default:
			continue
		}
		key := l.Interface + "/" + l.Family
		if i, ok := index[key]; ok {
			leases[i] = l
			continue
		}
		index[key] = len(leases)
		leases = append(leases, l)
	}
	if len(leases) == 0 {
		return nil, errors.New("dhclient lease file: no lease or lease6 block")
	}
	return leases, nil
}

func words(st iscStmt) []string {
	w := make([]string, len(st.words))
	for i, t := range st.words {
		w[i] = t.text
	}
	return w
}

// optionValue turns the value tokens of an option statement into bytes: one
// quoted string, or colon-separated hex octets (dhclient prints each octet
// without a leading zero).
func optionValue(toks []iscToken) ([]byte, error) {
	if len(toks) == 1 && toks[0].quoted {
		return []byte(toks[0].text), nil
	}
	if len(toks) != 1 {
		return nil, fmt.Errorf("option value has %d parts, want one string or hex list", len(toks))
	}
	var out []byte
	for _, h := range strings.Split(toks[0].text, ":") {
		v, err := strconv.ParseUint(h, 16, 8)
		if err != nil {
			return nil, fmt.Errorf("option value %q is neither a quoted string nor colon-separated hex octets", toks[0].text)
		}
		out = append(out, byte(v))
	}
	return out, nil
}

func isSZTPOption(name string, code int) bool {
	name = strings.ToLower(strings.TrimPrefix(name, "dhcp6."))
	return name == "unknown-"+strconv.Itoa(code) || strings.Contains(name, "sztp")
}

// iscExpiry parses "expire 4 2026/12/03 10:00:00" (UTC) or
// "expire epoch 1796292000".
func iscExpiry(w []string) (time.Time, bool) {
	if len(w) == 3 && w[1] == "epoch" {
		if v, err := strconv.ParseInt(w[2], 10, 64); err == nil {
			return time.Unix(v, 0), true
		}
	}
	if len(w) == 4 {
		if t, err := time.Parse("2006/01/02 15:04:05", w[2]+" "+w[3]); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

func (l *Lease) takeSZTP(st iscStmt, code int) {
	v, err := optionValue(st.words[2:])
	if err != nil {
		l.Warnings = append(l.Warnings, fmt.Sprintf("option %s: %v", st.words[1].text, err))
		return
	}
	l.takeOption(v, code)
}

func addrList(toks []iscToken) []netip.Addr {
	var out []netip.Addr
	for _, t := range toks {
		if a, err := netip.ParseAddr(t.text); err == nil {
			out = append(out, a)
		}
	}
	return out
}

func stringList(toks []iscToken) []string {
	var out []string
	for _, t := range toks {
		if t.text != "," {
			out = append(out, t.text)
		}
	}
	return out
}

func iscCommon(l *Lease, st iscStmt, now time.Time) (handled bool) {
	w := words(st)
	switch w[0] {
	case "interface":
		if len(w) == 2 {
			l.Interface = w[1]
		}
	case "expire":
		if t, ok := iscExpiry(w); ok && t.Before(now) {
			l.Warnings = append(l.Warnings, fmt.Sprintf("the lease expired at %s", t.UTC().Format(time.RFC3339)))
		}
	default:
		return false
	}
	return true
}

func iscLease4(block []iscStmt, now time.Time) Lease {
	l := Lease{Family: FamilyIPv4}
	var addr netip.Addr
	var bits = -1
	found := false
	for _, st := range block {
		if len(st.words) == 0 || iscCommon(&l, st, now) {
			continue
		}
		w := words(st)
		switch {
		case w[0] == "fixed-address" && len(w) == 2:
			addr, _ = netip.ParseAddr(w[1])
		case w[0] == "option" && len(w) >= 3:
			vals := st.words[2:]
			switch name := w[1]; {
			case isSZTPOption(name, OptionV4SZTPRedirect):
				found = true
				l.takeSZTP(st, OptionV4SZTPRedirect)
			case name == "subnet-mask":
				if m, err := netip.ParseAddr(w[2]); err == nil && m.Is4() {
					b := m.As4()
					v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
					bits = 0
					for v&0x80000000 != 0 {
						bits++
						v <<= 1
					}
				}
			case name == "routers":
				l.Routers = addrList(vals)
			case name == "domain-name-servers":
				l.DNS = addrList(vals)
			case name == "broadcast-address":
				l.Broadcast, _ = netip.ParseAddr(w[2])
			case name == "dhcp-server-identifier":
				l.Server, _ = netip.ParseAddr(w[2])
			case name == "domain-name":
				l.Search = appendUnique(l.Search, strings.Fields(vals[0].text)...)
			case name == "domain-search":
				l.Search = appendUnique(l.Search, stringList(vals)...)
			}
		}
	}
	if addr.IsValid() {
		if bits < 0 {
			bits = 32
		}
		l.Address = netip.PrefixFrom(addr, bits)
	}
	if !found {
		l.Warnings = append(l.Warnings, "the lease has no option 143")
	}
	return l
}

func iscLease6(block []iscStmt, now time.Time) Lease {
	l := Lease{Family: FamilyIPv6}
	found := false
	for _, st := range block {
		if len(st.words) == 0 || iscCommon(&l, st, now) {
			continue
		}
		w := words(st)
		switch {
		case w[0] == "ia-na" && st.block != nil:
			for _, in := range st.block {
				iw := words(in)
				if len(iw) == 2 && iw[0] == "iaaddr" && !l.Address.IsValid() {
					if a, err := netip.ParseAddr(iw[1]); err == nil {
						l.Address = netip.PrefixFrom(a, 128)
					}
				}
			}
		case w[0] == "option" && len(w) >= 3:
			vals := st.words[2:]
			switch name := w[1]; {
			case isSZTPOption(name, OptionV6SZTPRedirect):
				found = true
				l.takeSZTP(st, OptionV6SZTPRedirect)
			case name == "dhcp6.name-servers":
				l.DNS = addrList(vals)
			case name == "dhcp6.domain-search":
				l.Search = appendUnique(l.Search, stringList(vals)...)
			}
		}
	}
	if !found {
		l.Warnings = append(l.Warnings, "the lease has no option 136")
	}
	return l
}
