package dhcpopts

import (
	"errors"
	"fmt"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
)

// CodeV4 is option 143 as an insomniacslk/dhcp option code. The library still
// names code 143 by its retired meaning (OptionOPTIONIPv6AddressANDSF).
var CodeV4 dhcpv4.OptionCode = dhcpv4.GenericOptionCode(OptionV4SZTPRedirect)

// CodeV6 is option 136 as an insomniacslk/dhcp option code.
const CodeV6 = dhcpv6.OptionV6SZTPRedirect

// RequestV4 returns a modifier that lists option 143 in the parameter request
// list (option 55) of a DHCPv4 message, together with the options that
// configuring the link needs (C85).
func RequestV4() dhcpv4.Modifier {
	return dhcpv4.WithRequestedOptions(
		dhcpv4.OptionSubnetMask,
		dhcpv4.OptionRouter,
		dhcpv4.OptionDomainNameServer,
		dhcpv4.OptionDomainName,
		dhcpv4.OptionBroadcastAddress,
		dhcpv4.OptionClasslessStaticRoute,
		dhcpv4.OptionDNSDomainSearchList,
		CodeV4,
	)
}

// RequestV6 returns a modifier that lists option 136 in the option request
// option (option 6) of a DHCPv6 message, with DNS servers and search list
// (C85).
func RequestV6() dhcpv6.Modifier {
	return dhcpv6.WithRequestedOptions(
		dhcpv6.OptionDNSRecursiveNameServer,
		dhcpv6.OptionDomainSearchList,
		CodeV6,
	)
}

// ErrNoOption is returned when a DHCP message does not carry the SZTP
// redirect option.
var ErrNoOption = errors.New("no sztp redirect option in the dhcp message")

// URIsV4 extracts and parses option 143 from a decoded DHCPv4 message. The
// decoder has already concatenated repeated instances in the options field
// (RFC 3396); for option overload into sname/file use [URIsV4Packet] on the
// raw packet.
func URIsV4(m *dhcpv4.DHCPv4) (uris, warnings []string, err error) {
	if m == nil || !m.Options.Has(CodeV4) {
		return nil, nil, ErrNoOption
	}
	return Parse(m.Options.Get(CodeV4))
}

// URIsV4Packet extracts option 143 from a raw DHCPv4 packet, applying RFC
// 3396 across the options field and, under option overload (52), the file
// and sname fields (C87), then parses it.
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

// URIsV6 extracts and parses option 136 from a DHCPv6 message (a relayed
// message is unwrapped to the inner one). RFC 8572 §8.2 makes the option a
// singleton; if a server sends several, the first is used and a warning says
// so.
func URIsV6(m dhcpv6.DHCPv6) (uris, warnings []string, err error) {
	if m == nil {
		return nil, nil, ErrNoOption
	}
	inner, err := m.GetInnerMessage()
	if err != nil {
		return nil, nil, fmt.Errorf("dhcpv6 message: %w", err)
	}
	opts := inner.Options.Get(CodeV6)
	if len(opts) == 0 {
		return nil, nil, ErrNoOption
	}
	if len(opts) > 1 {
		warnings = append(warnings, fmt.Sprintf("%d instances of option 136 (a singleton, RFC 8572 §8.2); using the first", len(opts)))
	}
	u, w, err := Parse(opts[0].ToBytes())
	return u, append(warnings, w...), err
}

// DHCPv4 fixed header layout (RFC 2131 §2).
const (
	v4SnameOff   = 44
	v4FileOff    = 108
	v4CookieOff  = 236
	v4OptionsOff = 240
	optOverload  = 52
)

var magicCookie = [4]byte{99, 130, 83, 99}

// ConcatV4 returns the concatenated data of every instance of option code in
// a raw DHCPv4 packet, in RFC 3396 order: the options field, then file, then
// sname when option 52 says they are overloaded. ok is false when the option
// is absent.
func ConcatV4(packet []byte, code byte) (data []byte, ok bool, err error) {
	if len(packet) < v4OptionsOff {
		return nil, false, fmt.Errorf("dhcpv4 packet of %d octets is shorter than its %d-octet header", len(packet), v4OptionsOff)
	}
	if [4]byte(packet[v4CookieOff:v4OptionsOff]) != magicCookie {
		return nil, false, errors.New("dhcpv4 packet has no magic cookie")
	}
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
			if c == code {
				ok = true
				data = append(data, v...)
			}
			if c == optOverload && name == "options" && n == 1 {
				overload = v[0]
			}
			i += 2 + n
		}
		return nil
	}
	if err := scan(packet[v4OptionsOff:], "options"); err != nil {
		return nil, false, err
	}
	if overload&1 != 0 {
		if err := scan(packet[v4FileOff:v4CookieOff], "file"); err != nil {
			return nil, false, err
		}
	}
	if overload&2 != 0 {
		if err := scan(packet[v4SnameOff:v4FileOff], "sname"); err != nil {
			return nil, false, err
		}
	}
	return data, ok, nil
}
