package dhcpopts

import (
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"net/netip"
)

// A small DHCPv6 codec (RFC 8415): SOLICIT and REQUEST out, ADVERTISE and
// REPLY in. Checked against insomniacslk/dhcp in the tests.

// DHCPv6 message types.
const (
	dhcp6Solicit   = 1
	dhcp6Advertise = 2
	dhcp6Request   = 3
	dhcp6Reply     = 7
)

// DHCPv6 option codes used here.
const (
	opt6ClientID    = 1
	opt6ServerID    = 2
	opt6IANA        = 3
	opt6IAAddr      = 5
	opt6ORO         = 6
	opt6Elapsed     = 8
	opt6Status      = 13
	opt6RapidCommit = 14
	opt6DNS         = 23
	opt6DomainList  = 24
)

// OptionRequestV6 is the option request option (6) Discover sends: name
// servers, search list, and 136 (C85).
var OptionRequestV6 = []uint16{opt6DNS, opt6DomainList, OptionV6SZTPRedirect}

type opt6 struct {
	code uint16
	data []byte
}

// msg6 is a decoded DHCPv6 client/server message.
type msg6 struct {
	typ     byte
	xid     [3]byte
	options []opt6
}

func parseOptions6(b []byte) ([]opt6, error) {
	var out []opt6
	for len(b) > 0 {
		if len(b) < 4 {
			return nil, fmt.Errorf("dhcpv6: %d trailing octets, need a 4-octet option header", len(b))
		}
		code, n := binary.BigEndian.Uint16(b), int(binary.BigEndian.Uint16(b[2:]))
		if 4+n > len(b) {
			return nil, fmt.Errorf("dhcpv6: option %d length %d overruns the message", code, n)
		}
		out = append(out, opt6{code, b[4 : 4+n]})
		b = b[4+n:]
	}
	return out, nil
}

func parseMsg6(b []byte) (*msg6, error) {
	if len(b) < 4 {
		return nil, fmt.Errorf("dhcpv6 message of %d octets is too short", len(b))
	}
	if b[0] == 12 || b[0] == 13 {
		return nil, errors.New("dhcpv6 relay messages are not supported")
	}
	opts, err := parseOptions6(b[4:])
	if err != nil {
		return nil, err
	}
	return &msg6{typ: b[0], xid: [3]byte(b[1:4]), options: opts}, nil
}

func (m *msg6) get(code uint16) []opt6 {
	var out []opt6
	for _, o := range m.options {
		if o.code == code {
			out = append(out, o)
		}
	}
	return out
}

func (m *msg6) one(code uint16) ([]byte, bool) {
	if o := m.get(code); len(o) > 0 {
		return o[0].data, true
	}
	return nil, false
}

// status returns the top-level status code (0 = success, also when absent)
// and its message.
func status6(b []byte) (uint16, string) {
	if len(b) < 2 {
		return 0, ""
	}
	return binary.BigEndian.Uint16(b), string(b[2:])
}

// address returns the first address in the first IA_NA that has one.
func (m *msg6) address() (netip.Addr, error) {
	var last error
	for _, ia := range m.get(opt6IANA) {
		if len(ia.data) < 12 {
			continue
		}
		opts, err := parseOptions6(ia.data[12:])
		if err != nil {
			last = err
			continue
		}
		for _, o := range opts {
			switch o.code {
			case opt6IAAddr:
				if len(o.data) >= 24 {
					return netip.AddrFrom16([16]byte(o.data[:16])), nil
				}
			case opt6Status:
				if code, msg := status6(o.data); code != 0 {
					last = fmt.Errorf("server status %d in IA_NA: %q", code, msg)
				}
			}
		}
	}
	return netip.Addr{}, last
}

// LeaseFromV6Packet builds a Lease from a raw DHCPv6 REPLY (or ADVERTISE).
func LeaseFromV6Packet(b []byte) (Lease, error) {
	m, err := parseMsg6(b)
	if err != nil {
		return Lease{Family: FamilyIPv6}, err
	}
	return m.lease(), nil
}

func (m *msg6) lease() Lease {
	l := Lease{Family: FamilyIPv6}
	if a, err := m.address(); a.IsValid() {
		l.Address = netip.PrefixFrom(a, 128)
	} else if err != nil {
		l.Warnings = append(l.Warnings, fmt.Sprintf("no address: %v", err))
	}
	if v, ok := m.one(opt6DNS); ok {
		for ; len(v) >= 16; v = v[16:] {
			l.DNS = append(l.DNS, netip.AddrFrom16([16]byte(v[:16])))
		}
	}
	if v, ok := m.one(opt6DomainList); ok {
		l.Search = appendUnique(l.Search, domainList(v, false)...)
	}
	opts := m.get(OptionV6SZTPRedirect)
	if len(opts) == 0 {
		l.Warnings = append(l.Warnings, optionWarning(ErrNoOption, OptionV6SZTPRedirect)...)
		return l
	}
	if len(opts) > 1 {
		l.Warnings = append(l.Warnings, fmt.Sprintf("%d instances of option 136 (a singleton, RFC 8572 §8.2); using the first", len(opts)))
	}
	l.takeOption(opts[0].data, OptionV6SZTPRedirect)
	return l
}

func appendOpt6(b []byte, code uint16, data []byte) []byte {
	b = binary.BigEndian.AppendUint16(b, code)
	b = binary.BigEndian.AppendUint16(b, uint16(len(data)))
	return append(b, data...)
}

// duidLL is the client's DUID-LL (RFC 8415 §11.4) from its hardware address.
func duidLL(hw net.HardwareAddr) []byte {
	return append([]byte{0, 3, 0, 1}, hw...)
}

func iaid(hw net.HardwareAddr) []byte {
	id := make([]byte, 4)
	if len(hw) >= 4 {
		copy(id, hw[len(hw)-4:])
	}
	return id
}

// build6 encodes a client message. For REQUEST, adv supplies the server ID
// and the IA_NA with the offered address.
func build6(typ byte, xid [3]byte, elapsed uint16, hw net.HardwareAddr, adv *msg6) []byte {
	b := []byte{typ, xid[0], xid[1], xid[2]}
	b = appendOpt6(b, opt6ClientID, duidLL(hw))
	ia := append(iaid(hw), make([]byte, 8)...) // T1, T2 0: the server decides
	if adv != nil {
		if sid, ok := adv.one(opt6ServerID); ok {
			b = appendOpt6(b, opt6ServerID, sid)
		}
		for _, o := range adv.get(opt6IANA) {
			if len(o.data) >= 12 {
				if opts, err := parseOptions6(o.data[12:]); err == nil {
					for _, so := range opts {
						if so.code == opt6IAAddr {
							ia = appendOpt6(ia, opt6IAAddr, so.data)
						}
					}
				}
				break
			}
		}
	}
	b = appendOpt6(b, opt6IANA, ia)
	var oro []byte
	for _, c := range OptionRequestV6 {
		oro = binary.BigEndian.AppendUint16(oro, c)
	}
	b = appendOpt6(b, opt6ORO, oro)
	b = appendOpt6(b, opt6Elapsed, binary.BigEndian.AppendUint16(nil, elapsed))
	if typ == dhcp6Solicit {
		b = appendOpt6(b, opt6RapidCommit, nil)
	}
	return b
}
