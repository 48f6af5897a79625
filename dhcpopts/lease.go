package dhcpopts

import (
	"errors"
	"net/netip"
	"slices"
	"strings"
)

// Address families of a [Lease].
const (
	FamilyIPv4 = "ipv4"
	FamilyIPv6 = "ipv6"
)

// Lease is what one DHCP exchange (or one lease file entry) says about one
// link: the SZTP bootstrap servers and what configuring the link needs.
type Lease struct {
	// Interface is the link name, e.g. "eth0" (empty when a lease file does
	// not say).
	Interface string `json:"interface"`
	// Family is FamilyIPv4 (option 143) or FamilyIPv6 (option 136).
	Family string `json:"family"`
	// URIs are the valid bootstrap server URIs (https://host[:port]) in
	// option order; empty when the lease had no usable SZTP option.
	URIs []string `json:"uris"`
	// Warnings say what was wrong with the option: ignored entries, a
	// plain-text value, a missing option. Callers should log them.
	Warnings []string `json:"warnings,omitempty"`
	// TextURIs are the URIs of a plain-text (not RFC-framed) SZTP option
	// value, and TextWarnings what was wrong with it. They are not in URIs:
	// [Lease.WithTextURIs] accepts them, on request only (C88).
	TextURIs     []string `json:"text-uris,omitempty"`
	TextWarnings []string `json:"text-warnings,omitempty"`
	// Source is "dhcp" for a live lease, else the lease file's path.
	Source string `json:"source,omitempty"`

	// Address is the leased address with its prefix length (IPv6: /128,
	// as DHCPv6 conveys no prefix length; on-link prefixes come from
	// router advertisements).
	Address netip.Prefix `json:"address,omitzero"`
	// Broadcast is the IPv4 broadcast address, when given.
	Broadcast netip.Addr `json:"broadcast,omitzero"`
	// Routers are the IPv4 routers (option 3), in preference order.
	Routers []netip.Addr `json:"routers,omitempty"`
	// Routes are the IPv4 classless static routes (option 121); when
	// present they replace Routers (RFC 3442).
	Routes []Route `json:"routes,omitempty"`
	// DNS are the name servers (option 6 / option 23).
	DNS []netip.Addr `json:"dns,omitempty"`
	// Search is the DNS search list (options 15 and 119 / option 24).
	Search []string `json:"search,omitempty"`
	// Server is the DHCP server identifier (IPv4) or the address the reply
	// came from, when known.
	Server netip.Addr `json:"server,omitzero"`
	// Configured reports whether Discover applied the address and routes.
	Configured bool `json:"configured,omitempty"`
}

// Route is one classless static route.
type Route struct {
	Dst     netip.Prefix `json:"dst"`
	Gateway netip.Addr   `json:"gateway,omitzero"` // unspecified: on-link
}

func addrOf(b []byte) netip.Addr {
	a, ok := netip.AddrFromSlice(b)
	if !ok {
		return netip.Addr{}
	}
	return a.Unmap()
}

func appendAddrs(dst []netip.Addr, ips ...[]byte) []netip.Addr {
	for _, ip := range ips {
		if a := addrOf(ip); a.IsValid() && !a.IsUnspecified() {
			dst = append(dst, a)
		}
	}
	return dst
}

// takeOption parses the value of option code (143 or 136) into l: the URIs
// of an RFC-framed value go to URIs, those of a plain-text value to
// TextURIs (C88); what was wrong goes to the warnings.
func (l *Lease) takeOption(data []byte, code int) {
	uris, warnings, err := Parse(data)
	l.URIs = append(l.URIs, uris...)
	l.Warnings = append(l.Warnings, warnings...)
	if errors.Is(err, ErrPlainText) {
		tu, tw, terr := ParseText(data)
		l.TextURIs = append(l.TextURIs, tu...)
		l.TextWarnings = append(append(l.TextWarnings, tw...), optionWarning(terr, code)...)
		return
	}
	l.Warnings = append(l.Warnings, optionWarning(err, code)...)
}

// WithTextURIs returns l with the URIs of plain-text option values accepted
// (sztp --dhcp-text-uris): TextURIs follow URIs, and the warnings about the
// plain text replace the one that said it was ignored.
func (l Lease) WithTextURIs() Lease {
	if len(l.TextURIs) == 0 && len(l.TextWarnings) == 0 {
		return l
	}
	var w []string
	for _, s := range l.Warnings {
		if !strings.HasPrefix(s, plainTextIgnored) {
			w = append(w, s)
		}
	}
	l.Warnings = append(w, l.TextWarnings...)
	l.URIs = append(slices.Clip(l.URIs), l.TextURIs...)
	l.TextURIs, l.TextWarnings = nil, nil
	return l
}
