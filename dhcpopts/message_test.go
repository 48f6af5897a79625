package dhcpopts

import (
	"bytes"
	"net"
	"reflect"
	"strings"
	"testing"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
)

var longURIs = []string{
	"https://" + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + ".example",
	"https://[2001:db8::1]:443",
	"https://198.51.100.9",
}

// TestV4LongOptionRoundTrip: C87. A 300-octet option 143 leaves the encoder
// as two instances (RFC 3396) and comes back whole, from the raw packet and
// from the decoded message.
func TestV4LongOptionRoundTrip(t *testing.T) {
	data, err := Encode(longURIs)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= 255 {
		t.Fatalf("test option is %d octets, want > 255", len(data))
	}
	ack, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithGeneric(CodeV4, data),
		dhcpv4.WithYourIP(net.IPv4(198, 51, 100, 20)), dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
		dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(198, 51, 100, 1))), dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(198, 51, 100, 53))))
	if err != nil {
		t.Fatal(err)
	}
	raw := ack.ToBytes()
	if n := bytes.Count(raw, []byte{143, 255}); n != 1 {
		t.Errorf("encoded packet has %d full-length instances of option 143, want 1", n)
	}
	uris, warnings, err := URIsV4Packet(raw)
	if err != nil || len(warnings) != 0 || !reflect.DeepEqual(uris, longURIs) {
		t.Errorf("URIsV4Packet = %q, %q, %v; want %q", uris, warnings, err, longURIs)
	}
	decoded, err := dhcpv4.FromBytes(raw)
	if err != nil {
		t.Fatal(err)
	}
	l := LeaseFromV4(decoded, nil)
	if !reflect.DeepEqual(l.URIs, longURIs) || l.Address.String() != "198.51.100.20/24" || len(l.Routers) != 1 || len(l.DNS) != 1 {
		t.Errorf("LeaseFromV4 = %+v", l)
	}
}

func TestRequestModifiers(t *testing.T) {
	d, err := dhcpv4.NewDiscovery(net.HardwareAddr{2, 0, 0, 0, 0, 1}, RequestV4())
	if err != nil {
		t.Fatal(err)
	}
	has143 := false
	for _, c := range d.ParameterRequestList() {
		has143 = has143 || c.Code() == OptionV4SZTPRedirect
	}
	if !has143 {
		t.Errorf("C85: DHCPv4 parameter request list %v lacks 143", d.ParameterRequestList())
	}
	s, err := dhcpv6.NewSolicit(net.HardwareAddr{2, 0, 0, 0, 0, 1}, RequestV6())
	if err != nil {
		t.Fatal(err)
	}
	if !s.Options.RequestedOptions().Contains(CodeV6) {
		t.Errorf("C85: DHCPv6 ORO %v lacks 136", s.Options.RequestedOptions())
	}
}

func TestURIsV6(t *testing.T) {
	data, err := Encode(longURIs[1:])
	if err != nil {
		t.Fatal(err)
	}
	reply, err := dhcpv6.NewMessage()
	if err != nil {
		t.Fatal(err)
	}
	reply.MessageType = dhcpv6.MessageTypeReply
	reply.AddOption(&dhcpv6.OptionGeneric{OptionCode: CodeV6, OptionData: data})
	parsed, err := dhcpv6.FromBytes(reply.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	l := LeaseFromV6(parsed)
	if !reflect.DeepEqual(l.URIs, longURIs[1:]) || len(l.Warnings) != 0 {
		t.Errorf("LeaseFromV6 = %+v, want URIs %q", l, longURIs[1:])
	}
	reply.AddOption(&dhcpv6.OptionGeneric{OptionCode: CodeV6, OptionData: data})
	if _, w, err := URIsV6(reply); err != nil || len(w) != 1 {
		t.Errorf("two instances of 136: warnings %q, err %v; want one warning", w, err)
	}
	empty, _ := dhcpv6.NewMessage()
	if l := LeaseFromV6(empty); len(l.URIs) != 0 || len(l.Warnings) != 1 {
		t.Errorf("reply without 136: %+v, want no URIs and one warning", l)
	}
}
