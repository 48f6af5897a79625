package dhcpopts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
)

// A small DHCPv4 codec (RFC 2131, RFC 2132): just what a client needs to
// build DISCOVER and REQUEST and to read OFFER and ACK. It keeps the agent
// small; the wire format is checked against insomniacslk/dhcp in the tests.

// DHCPv4 fixed header layout (RFC 2131 §2).
const (
	v4SnameOff   = 44
	v4FileOff    = 108
	v4CookieOff  = 236
	v4OptionsOff = 240
	optOverload  = 52
)

var magicCookie = [4]byte{99, 130, 83, 99}

// DHCPv4 option codes used here.
const (
	opt4SubnetMask    = 1
	opt4Router        = 3
	opt4DNS           = 6
	opt4DomainName    = 15
	opt4Broadcast     = 28
	opt4RequestedIP   = 50
	opt4LeaseTime     = 51
	opt4MessageType   = 53
	opt4ServerID      = 54
	opt4ParamRequest  = 55
	opt4MaxSize       = 57
	opt4ClientID      = 61
	opt4DomainSearch  = 119
	opt4ClasslessRite = 121
)

// DHCPv4 message types (option 53).
const (
	dhcpDiscover = 1
	dhcpOffer    = 2
	dhcpRequest  = 3
	dhcpAck      = 5
	dhcpNak      = 6
)

// ParameterRequestV4 is the parameter request list (option 55) Discover
// sends: what configuring the link needs, and 143 (C85).
var ParameterRequestV4 = []byte{opt4SubnetMask, opt4Router, opt4DNS, opt4DomainName, opt4Broadcast, opt4DomainSearch, opt4ClasslessRite, OptionV4SZTPRedirect}

// msg4 is a decoded DHCPv4 message.
type msg4 struct {
	op      byte
	xid     uint32
	yiaddr  netip.Addr
	options map[byte][]byte // RFC 3396-concatenated
}

func (m *msg4) typ() byte {
	if v := m.options[opt4MessageType]; len(v) == 1 {
		return v[0]
	}
	return 0
}

func (m *msg4) addr(code byte) netip.Addr {
	if v := m.options[code]; len(v) >= 4 {
		return netip.AddrFrom4([4]byte(v[:4]))
	}
	return netip.Addr{}
}

func (m *msg4) addrs(code byte) []netip.Addr {
	var out []netip.Addr
	v := m.options[code]
	for ; len(v) >= 4; v = v[4:] {
		if a := netip.AddrFrom4([4]byte(v[:4])); !a.IsUnspecified() {
			out = append(out, a)
		}
	}
	return out
}

// parseMsg4 decodes a DHCPv4 packet: the fixed header fields a client uses
// and every option, concatenated per RFC 3396 across the options field and,
// under option overload (52), file and sname (C87).
func parseMsg4(p []byte) (*msg4, error) {
	if len(p) < v4OptionsOff {
		return nil, fmt.Errorf("dhcpv4 packet of %d octets is shorter than its %d-octet header", len(p), v4OptionsOff)
	}
	if [4]byte(p[v4CookieOff:v4OptionsOff]) != magicCookie {
		return nil, errors.New("dhcpv4 packet has no magic cookie")
	}
	m := &msg4{op: p[0], xid: binary.BigEndian.Uint32(p[4:]), yiaddr: netip.AddrFrom4([4]byte(p[16:20])), options: map[byte][]byte{}}
	overload := byte(0)
	scan := func(field []byte, name string) error {
		for i := 0; i < len(field); {
			c := field[i]
			if c == 0 {
				i++
				continue
			}
			if c == 255 {
				return nil
			}
			if i+1 >= len(field) {
				return fmt.Errorf("dhcpv4 %s field: option %d has no length octet", name, c)
			}
			n := int(field[i+1])
			if i+2+n > len(field) {
				return fmt.Errorf("dhcpv4 %s field: option %d length %d overruns the field", name, c, n)
			}
			v := field[i+2 : i+2+n]
			m.options[c] = append(m.options[c], v...)
			if c == optOverload && name == "options" && n == 1 {
				overload = v[0]
			}
			i += 2 + n
		}
		return nil
	}
	if err := scan(p[v4OptionsOff:], "options"); err != nil {
		return nil, err
	}
	if overload&1 != 0 {
		if err := scan(p[v4FileOff:v4CookieOff], "file"); err != nil {
			return nil, err
		}
	}
	if overload&2 != 0 {
		if err := scan(p[v4SnameOff:v4FileOff], "sname"); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// ConcatV4 returns the concatenated data of every instance of option code in
// a raw DHCPv4 packet, in RFC 3396 order: the options field, then file, then
// sname when option 52 says they are overloaded. ok is false when the option
// is absent.
func ConcatV4(packet []byte, code byte) (data []byte, ok bool, err error) {
	m, err := parseMsg4(packet)
	if err != nil {
		return nil, false, err
	}
	data, ok = m.options[code]
	return data, ok, nil
}

// ErrNoOption is returned when a DHCP message does not carry the SZTP
// redirect option.
var ErrNoOption = errors.New("no sztp redirect option in the dhcp message")

// URIsV4Packet extracts option 143 from a raw DHCPv4 packet (with RFC 3396
// concatenation and option overload, C87) and parses it.
func URIsV4Packet(packet []byte) (uris, warnings []string, err error) {
	data, ok, err := ConcatV4(packet, OptionV4SZTPRedirect)
	if err != nil {
		return nil, nil, err
	}
	if !ok {
		return nil, nil, ErrNoOption
	}
	return Parse(data)
}

// LeaseFromV4Packet builds a Lease from a raw DHCPv4 ACK (or OFFER).
func LeaseFromV4Packet(packet []byte) (Lease, error) {
	m, err := parseMsg4(packet)
	if err != nil {
		return Lease{Family: FamilyIPv4}, err
	}
	return m.lease(), nil
}

func (m *msg4) lease() Lease {
	l := Lease{Family: FamilyIPv4}
	if !m.yiaddr.IsUnspecified() {
		bits := -1
		if v := m.options[opt4SubnetMask]; len(v) == 4 {
			if ones, size := net.IPMask(v).Size(); size == 32 {
				bits = ones
			}
		}
		if bits < 0 {
			bits, _ = net.IP(m.yiaddr.AsSlice()).DefaultMask().Size()
		}
		l.Address = netip.PrefixFrom(m.yiaddr, bits)
	}
	l.Broadcast = m.addr(opt4Broadcast)
	l.Server = m.addr(opt4ServerID)
	l.Routers = m.addrs(opt4Router)
	l.DNS = m.addrs(opt4DNS)
	l.Routes = classlessRoutes(m.options[opt4ClasslessRite])
	if d := strings.TrimRight(string(m.options[opt4DomainName]), "\x00"); d != "" {
		l.Search = appendUnique(l.Search, strings.Fields(d)...)
	}
	l.Search = appendUnique(l.Search, domainList(m.options[opt4DomainSearch], true)...)
	if data, ok := m.options[OptionV4SZTPRedirect]; ok {
		l.takeOption(data, OptionV4SZTPRedirect)
	} else {
		l.Warnings = optionWarning(ErrNoOption, OptionV4SZTPRedirect)
	}
	return l
}

// classlessRoutes decodes option 121 (RFC 3442): {width, significant
// destination octets, router}. A malformed option yields no routes.
func classlessRoutes(v []byte) []Route {
	var out []Route
	for len(v) > 0 {
		width := int(v[0])
		n := (width + 7) / 8
		if width > 32 || len(v) < 1+n+4 {
			return nil
		}
		var dst [4]byte
		copy(dst[:], v[1:1+n])
		gw := netip.AddrFrom4([4]byte(v[1+n : 5+n]))
		r := Route{Dst: netip.PrefixFrom(netip.AddrFrom4(dst), width).Masked()}
		if !gw.IsUnspecified() {
			r.Gateway = gw
		}
		out = append(out, r)
		v = v[5+n:]
	}
	return out
}

// domainList decodes a list of DNS names in wire format (RFC 1035 §3.1),
// with compression pointers when compressed is set (DHCPv4 option 119,
// RFC 3397); DHCPv6 option 24 is uncompressed. Malformed input ends the
// list.
func domainList(v []byte, compressed bool) []string {
	var out []string
	for pos := 0; pos < len(v); {
		var labels []string
		next, p, jumps := -1, pos, 0
		for {
			if p >= len(v) {
				return out
			}
			c := int(v[p])
			if c == 0 {
				p++
				break
			}
			if c&0xc0 == 0xc0 && compressed {
				if p+1 >= len(v) || jumps > 16 {
					return out
				}
				if next < 0 {
					next = p + 2
				}
				p = (c&0x3f)<<8 | int(v[p+1])
				jumps++
				continue
			}
			if c > 63 || p+1+c > len(v) {
				return out
			}
			labels = append(labels, string(v[p+1:p+1+c]))
			p += 1 + c
		}
		if next < 0 {
			next = p
		}
		if len(labels) > 0 {
			out = append(out, strings.Join(labels, "."))
		}
		pos = next
	}
	return out
}

// buildMsg4 encodes a client message (BOOTREQUEST, broadcast flag set so
// that the server's reply reaches an unconfigured client).
func buildMsg4(typ byte, xid uint32, secs uint16, hw net.HardwareAddr, opts [][2][]byte) []byte {
	p := make([]byte, v4OptionsOff, 576)
	p[0] = 1 // BOOTREQUEST
	p[1] = 1 // Ethernet
	p[2] = byte(min(len(hw), 16))
	binary.BigEndian.PutUint32(p[4:], xid)
	binary.BigEndian.PutUint16(p[8:], secs)
	binary.BigEndian.PutUint16(p[10:], 0x8000)
	copy(p[28:44], hw)
	copy(p[v4CookieOff:], magicCookie[:])
	p = append(p, opt4MessageType, 1, typ)
	for _, o := range opts {
		p = append(p, o[0][0], byte(len(o[1])))
		p = append(p, o[1]...)
	}
	p = append(p, 255)
	for len(p) < 300 { // BOOTP minimum, some relays insist
		p = append(p, 0)
	}
	return p
}

func clientID4(hw net.HardwareAddr) []byte { return append([]byte{1}, hw...) }

func discover4Msg(xid uint32, secs uint16, hw net.HardwareAddr) []byte {
	return buildMsg4(dhcpDiscover, xid, secs, hw, [][2][]byte{
		{{opt4ClientID}, clientID4(hw)},
		{{opt4ParamRequest}, ParameterRequestV4},
		{{opt4MaxSize}, {0x05, 0xdc}}, // 1500
	})
}

func request4Msg(xid uint32, secs uint16, hw net.HardwareAddr, offer *msg4) []byte {
	yi := offer.yiaddr.As4()
	sid := offer.options[opt4ServerID]
	return buildMsg4(dhcpRequest, xid, secs, hw, [][2][]byte{
		{{opt4ClientID}, clientID4(hw)},
		{{opt4RequestedIP}, yi[:]},
		{{opt4ServerID}, sid},
		{{opt4ParamRequest}, ParameterRequestV4},
		{{opt4MaxSize}, {0x05, 0xdc}},
	})
}
