package dhcpopts

import (
	"errors"
	"fmt"
	"net"
	"net/netip"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
)

// LeaseFromV4 builds a Lease from a DHCPv4 ACK. raw, when not nil, is the
// packet as received; it lets option 143 be read with option overload (see
// [URIsV4Packet]).
func LeaseFromV4(ack *dhcpv4.DHCPv4, raw []byte) Lease {
	l := Lease{Family: FamilyIPv4}
	if ack == nil {
		return l
	}
	if ip := addrOf(ack.YourIPAddr); ip.IsValid() && !ip.IsUnspecified() {
		mask := ack.SubnetMask()
		if len(mask) != net.IPv4len {
			mask = net.IP(ack.YourIPAddr.To4()).DefaultMask()
		}
		ones, bits := mask.Size()
		if bits == 32 {
			l.Address = netip.PrefixFrom(ip, ones)
		}
	}
	l.Broadcast = addrOf(ack.BroadcastAddress())
	l.Server = addrOf(ack.ServerIdentifier())
	for _, r := range ack.Router() {
		l.Routers = appendAddrs(l.Routers, r)
	}
	for _, r := range ack.ClasslessStaticRoute() {
		if r == nil || r.Dest == nil {
			continue
		}
		dst, ok := netip.AddrFromSlice(r.Dest.IP.To4())
		ones, _ := r.Dest.Mask.Size()
		if !ok {
			continue
		}
		l.Routes = append(l.Routes, Route{Dst: netip.PrefixFrom(dst, ones).Masked(), Gateway: addrOf(r.Router)})
	}
	for _, d := range ack.DNS() {
		l.DNS = appendAddrs(l.DNS, d)
	}
	if d := ack.DomainName(); d != "" {
		l.Search = append(l.Search, d)
	}
	if s := ack.DomainSearch(); s != nil {
		l.Search = appendUnique(l.Search, s.Labels...)
	}
	var uris, warnings []string
	var err error
	if raw != nil {
		uris, warnings, err = URIsV4Packet(raw)
	} else {
		uris, warnings, err = URIsV4(ack)
	}
	l.URIs, l.Warnings = uris, append(warnings, optionWarning(err, 143)...)
	return l
}

// LeaseFromV6 builds a Lease from a DHCPv6 Reply.
func LeaseFromV6(m dhcpv6.DHCPv6) Lease {
	l := Lease{Family: FamilyIPv6}
	if m == nil {
		return l
	}
	if inner, err := m.GetInnerMessage(); err == nil {
		for _, ia := range inner.Options.IANA() {
			if a := ia.Options.OneAddress(); a != nil {
				if ip := addrOf(a.IPv6Addr); ip.IsValid() && !ip.IsUnspecified() {
					l.Address = netip.PrefixFrom(ip, 128)
					break
				}
			}
		}
		for _, d := range inner.Options.DNS() {
			l.DNS = appendAddrs(l.DNS, d)
		}
		if s := inner.Options.DomainSearchList(); s != nil {
			l.Search = appendUnique(l.Search, s.Labels...)
		}
	}
	uris, warnings, err := URIsV6(m)
	l.URIs, l.Warnings = uris, append(warnings, optionWarning(err, 136)...)
	return l
}

// optionWarning turns a parse error into the warning a lease carries.
func optionWarning(err error, code int) []string {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, ErrNoOption):
		return []string{fmt.Sprintf("the lease has no option %d", code)}
	default:
		return []string{fmt.Sprintf("option %d discarded: %v", code, err)}
	}
}

func appendUnique(dst []string, s ...string) []string {
next:
	for _, v := range s {
		if v == "" {
			continue
		}
		for _, d := range dst {
			if d == v {
				continue next
			}
		}
		dst = append(dst, v)
	}
	return dst
}
