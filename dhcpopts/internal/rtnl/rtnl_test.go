package rtnl_test

import (
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"

	"github.com/sztp/sztp/dhcpopts/dhcptest"
	"github.com/sztp/sztp/dhcpopts/internal/rtnl"
)

// TestConfigure brings a link up and adds addresses and routes in a
// namespace of its own, then checks them with ip(8).
func TestConfigure(t *testing.T) {
	n := dhcptest.New(t)
	v4 := netip.MustParsePrefix("198.18.77.10/24")
	v6 := netip.MustParsePrefix("2001:db8:77::10/128")
	err := n.InClient(func() error {
		ifi, err := net.InterfaceByName(n.ClientIf)
		if err != nil {
			return err
		}
		if err := rtnl.LinkUp(ifi.Index); err != nil {
			return err
		}
		if err := rtnl.AddAddr(ifi.Index, v4, netip.MustParseAddr("198.18.77.255")); err != nil {
			return err
		}
		// Adding the same address again replaces it.
		if err := rtnl.AddAddr(ifi.Index, v4, netip.Addr{}); err != nil {
			return err
		}
		if err := rtnl.AddAddr(ifi.Index, v6, netip.Addr{}); err != nil {
			return err
		}
		if err := rtnl.AddRoute(ifi.Index, netip.MustParsePrefix("203.0.113.7/32"), netip.Addr{}); err != nil {
			return err
		}
		if err := rtnl.AddRoute(ifi.Index, netip.MustParsePrefix("0.0.0.0/0"), netip.MustParseAddr("198.18.77.1")); err != nil {
			return err
		}
		// A gateway that is not reachable on the link is refused.
		if err := rtnl.AddRoute(ifi.Index, netip.MustParsePrefix("192.0.2.0/24"), netip.MustParseAddr("100.64.0.1")); err == nil {
			t.Error("route through an unreachable gateway was accepted")
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	show := func(args ...string) string {
		out, err := exec.Command("ip", append([]string{"-n", n.ClientNS}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	if link := show("link", "show", n.ClientIf); !strings.Contains(link, ",UP") {
		t.Errorf("link not up:\n%s", link)
	}
	addrs := show("addr", "show", n.ClientIf)
	for _, want := range []string{"inet " + v4.String() + " brd 198.18.77.255", "inet6 " + v6.String()} {
		if !strings.Contains(addrs, want) {
			t.Errorf("%q missing:\n%s", want, addrs)
		}
	}
	routes := show("-4", "route", "show")
	for _, want := range []string{"default via 198.18.77.1", "203.0.113.7 dev " + n.ClientIf + " proto dhcp scope link"} {
		if !strings.Contains(routes, want) {
			t.Errorf("%q missing:\n%s", want, routes)
		}
	}
}
