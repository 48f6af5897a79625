package dhcpopts

import (
	"bytes"
	"fmt"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
)

// The tests check the agent's own DHCP codec against insomniacslk/dhcp,
// which only the tests link.
var (
	codeV4 = dhcpv4.GenericOptionCode(OptionV4SZTPRedirect)
	codeV6 = dhcpv6.OptionV6SZTPRedirect
)

var longURIs = []string{
	"https://" + strings.Repeat("a", 63) + "." + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + ".example",
	"https://[2001:db8::1]:443",
	"https://198.51.100.9",
}

var hw = net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}

// TestV4LongOptionRoundTrip: C87. A 300-octet option 143 leaves the encoder
// as two instances (RFC 3396) and comes back whole.
func TestV4LongOptionRoundTrip(t *testing.T) {
	data, err := Encode(longURIs)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) <= 255 {
		t.Fatalf("test option is %d octets, want > 255", len(data))
	}
	ack, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithGeneric(codeV4, data),
		dhcpv4.WithYourIP(net.IPv4(198, 51, 100, 20)), dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
		dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(198, 51, 100, 1))), dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(198, 51, 100, 53))),
		dhcpv4.WithOption(dhcpv4.OptClasslessStaticRoute(&dhcpv4.Route{Dest: &net.IPNet{IP: net.IPv4(203, 0, 113, 0), Mask: net.CIDRMask(25, 32)}, Router: net.IPv4(198, 51, 100, 2)})),
		dhcpv4.WithDomainSearchList("lab.example.com", "example.com"))
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
	l, err := LeaseFromV4Packet(raw)
	if err != nil {
		t.Fatal(err)
	}
	want := Lease{Family: FamilyIPv4, URIs: longURIs, Address: netip.MustParsePrefix("198.51.100.20/24"),
		Routers: []netip.Addr{netip.MustParseAddr("198.51.100.1")}, DNS: []netip.Addr{netip.MustParseAddr("198.51.100.53")},
		Routes: []Route{{Dst: netip.MustParsePrefix("203.0.113.0/25"), Gateway: netip.MustParseAddr("198.51.100.2")}},
		Search: []string{"lab.example.com", "example.com"}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("LeaseFromV4Packet =\n%+v\nwant\n%+v", l, want)
	}
}

// TestDiscover4Msg: C85, the DISCOVER and REQUEST the agent sends, as
// insomniacslk/dhcp reads them.
func TestDiscover4Msg(t *testing.T) {
	d, err := dhcpv4.FromBytes(discover4Msg(0x01020304, 3, hw))
	if err != nil {
		t.Fatal(err)
	}
	has143 := false
	for _, c := range d.ParameterRequestList() {
		has143 = has143 || c.Code() == OptionV4SZTPRedirect
	}
	if d.MessageType() != dhcpv4.MessageTypeDiscover || !has143 || !d.IsBroadcast() || d.ClientHWAddr.String() != hw.String() ||
		d.TransactionID != (dhcpv4.TransactionID{1, 2, 3, 4}) || d.NumSeconds != 3 {
		t.Errorf("DISCOVER decodes as %s (PRL %v)", d.Summary(), d.ParameterRequestList())
	}
	offer := &msg4{yiaddr: netip.MustParseAddr("192.0.2.9"), options: map[byte][]byte{opt4ServerID: {192, 0, 2, 1}}}
	r, err := dhcpv4.FromBytes(request4Msg(7, 0, hw, offer))
	if err != nil {
		t.Fatal(err)
	}
	if r.MessageType() != dhcpv4.MessageTypeRequest || !r.RequestedIPAddress().Equal(net.IPv4(192, 0, 2, 9)) || !r.ServerIdentifier().Equal(net.IPv4(192, 0, 2, 1)) {
		t.Errorf("REQUEST decodes as %s", r.Summary())
	}
}

// TestBuild6: C85, the SOLICIT and REQUEST the agent sends.
func TestBuild6(t *testing.T) {
	s, err := dhcpv6.FromBytes(build6(dhcp6Solicit, [3]byte{1, 2, 3}, 5, hw, nil))
	if err != nil {
		t.Fatal(err)
	}
	sol := s.(*dhcpv6.Message)
	if sol.MessageType != dhcpv6.MessageTypeSolicit || !sol.Options.RequestedOptions().Contains(codeV6) || sol.Options.OneIANA() == nil || sol.Options.ClientID() == nil || !sol.IsOptionRequested(dhcpv6.OptionDNSRecursiveNameServer) {
		t.Errorf("SOLICIT decodes as %s", sol.Summary())
	}
	adv, err := dhcpv6.NewAdvertiseFromSolicit(sol, dhcpv6.WithServerID(&dhcpv6.DUIDLL{HWType: 1, LinkLayerAddr: net.HardwareAddr{2, 0, 0, 0, 0, 1}}),
		dhcpv6.WithIANA(dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8::77"), PreferredLifetime: time.Hour, ValidLifetime: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	am, err := parseMsg6(adv.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	q, err := dhcpv6.FromBytes(build6(dhcp6Request, [3]byte{1, 2, 3}, 9, hw, am))
	if err != nil {
		t.Fatal(err)
	}
	req := q.(*dhcpv6.Message)
	if req.MessageType != dhcpv6.MessageTypeRequest || req.Options.ServerID() == nil || req.Options.OneIANA() == nil ||
		req.Options.OneIANA().Options.OneAddress() == nil || !req.Options.OneIANA().Options.OneAddress().IPv6Addr.Equal(net.ParseIP("2001:db8::77")) {
		t.Errorf("REQUEST decodes as %s", req.Summary())
	}
}

func TestLeaseFromV6Packet(t *testing.T) {
	data, err := Encode(longURIs[1:])
	if err != nil {
		t.Fatal(err)
	}
	reply, err := dhcpv6.NewMessage(dhcpv6.WithDNS(net.ParseIP("2001:db8::53")), dhcpv6.WithDomainSearchList("lab.example.com"),
		dhcpv6.WithIANA(dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8::77"), PreferredLifetime: time.Hour, ValidLifetime: time.Hour}))
	if err != nil {
		t.Fatal(err)
	}
	reply.MessageType = dhcpv6.MessageTypeReply
	reply.AddOption(&dhcpv6.OptionGeneric{OptionCode: codeV6, OptionData: data})
	l, err := LeaseFromV6Packet(reply.ToBytes())
	if err != nil {
		t.Fatal(err)
	}
	want := Lease{Family: FamilyIPv6, URIs: longURIs[1:], Address: netip.MustParsePrefix("2001:db8::77/128"),
		DNS: []netip.Addr{netip.MustParseAddr("2001:db8::53")}, Search: []string{"lab.example.com"}}
	if !reflect.DeepEqual(l, want) {
		t.Errorf("LeaseFromV6Packet =\n%+v\nwant\n%+v", l, want)
	}
	reply.AddOption(&dhcpv6.OptionGeneric{OptionCode: codeV6, OptionData: data})
	if l, err := LeaseFromV6Packet(reply.ToBytes()); err != nil || len(l.Warnings) != 1 || len(l.URIs) != 2 {
		t.Errorf("two instances of 136: %+v, %v; want the first used and one warning", l, err)
	}
	empty, _ := dhcpv6.NewMessage()
	empty.MessageType = dhcpv6.MessageTypeReply
	if l, err := LeaseFromV6Packet(empty.ToBytes()); err != nil || len(l.URIs) != 0 || len(l.Warnings) != 1 {
		t.Errorf("reply without 136: %+v, %v; want no URIs and one warning", l, err)
	}
	for _, bad := range [][]byte{nil, {7, 1, 2}, {7, 1, 2, 3, 0, 136, 0, 9, 0}, {12, 0, 0, 0}} {
		if _, err := LeaseFromV6Packet(bad); err == nil {
			t.Errorf("LeaseFromV6Packet(%x): no error", bad)
		}
	}
}

func TestDomainList(t *testing.T) {
	tests := []struct {
		in         []byte
		compressed bool
		want       []string
	}{
		{[]byte("\x03lab\x07example\x03com\x00\x07example\x03com\x00"), false, []string{"lab.example.com", "example.com"}},
		{[]byte("\x03lab\x07example\x03com\x00\x03dev\xc0\x04"), true, []string{"lab.example.com", "dev.example.com"}},
		{[]byte("\x03lab\xc0\x00"), true, nil},                  // pointer loop
		{[]byte("\x09lab"), false, nil},                         // overrun
		{[]byte("\x03lab\x00\xc0\x00"), false, []string{"lab"}}, // pointer where not allowed
	}
	for _, tc := range tests {
		if got := domainList(tc.in, tc.compressed); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("domainList(%q, %v) = %q, want %q", tc.in, tc.compressed, got, tc.want)
		}
	}
}

func TestClasslessRoutes(t *testing.T) {
	got := classlessRoutes([]byte{0, 192, 0, 2, 1, 25, 203, 0, 113, 0, 192, 0, 2, 2, 32, 198, 51, 100, 7, 0, 0, 0, 0})
	want := []Route{
		{Dst: netip.MustParsePrefix("0.0.0.0/0"), Gateway: netip.MustParseAddr("192.0.2.1")},
		{Dst: netip.MustParsePrefix("203.0.113.0/25"), Gateway: netip.MustParseAddr("192.0.2.2")},
		{Dst: netip.MustParsePrefix("198.51.100.7/32")},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("classlessRoutes = %+v, want %+v", got, want)
	}
	if got := classlessRoutes([]byte{33, 1, 2, 3, 4, 5, 6, 7, 8}); got != nil {
		t.Errorf("width 33 accepted: %+v", got)
	}
}

func FuzzParseMsg6(f *testing.F) {
	f.Add(build6(dhcp6Solicit, [3]byte{1, 2, 3}, 0, hw, nil))
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := LeaseFromV6Packet(b); err == nil {
			for _, u := range l.URIs {
				if _, err := CheckURI(u); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// DHCPv4 replies come from the network: the parser must not panic or hang
// on any input, and whatever URIs it returns are valid (C88).
func FuzzLeaseFromV4Packet(f *testing.F) {
	f.Add(discover4Msg(1, 0, hw))
	f.Fuzz(func(t *testing.T, b []byte) {
		if l, err := LeaseFromV4Packet(b); err == nil {
			for _, u := range l.URIs {
				if _, err := CheckURI(u); err != nil {
					t.Fatal(err)
				}
			}
		}
	})
}

// The seed corpus of FuzzLeaseFromV4Packet is an ACK made by
// insomniacslk/dhcp; regenerate with SZTP_WRITE_FUZZ_SEEDS=1.
func TestFuzzLeaseFromV4PacketSeeds(t *testing.T) {
	data, err := Encode(longURIs)
	if err != nil {
		t.Fatal(err)
	}
	ack, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithGeneric(codeV4, data),
		dhcpv4.WithYourIP(net.IPv4(198, 51, 100, 20)), dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
		dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(198, 51, 100, 1))), dhcpv4.WithDomainSearchList("lab.example.com"))
	if err != nil {
		t.Fatal(err)
	}
	seed := fmt.Sprintf("go test fuzz v1\n[]byte(%q)\n", ack.ToBytes())
	path := filepath.Join("testdata", "fuzz", "FuzzLeaseFromV4Packet", "ack-two-instances")
	if os.Getenv("SZTP_WRITE_FUZZ_SEEDS") != "" {
		os.MkdirAll(filepath.Dir(path), 0o755)
		if err := os.WriteFile(path, []byte(seed), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("seed corpus: %v (regenerate with SZTP_WRITE_FUZZ_SEEDS=1)", err)
	}
	if _, err := LeaseFromV4Packet(ack.ToBytes()); err != nil || len(got) == 0 {
		t.Errorf("seed does not parse: %v", err)
	}
}
