package dhcptest

import (
	"net"
	"net/netip"
	"os/exec"
	"strings"
	"testing"
)

// TestHarness: a listener opened with Listen in the server namespace is
// reachable from the client namespace, and everything is gone after the
// test's cleanup.
func TestHarness(t *testing.T) {
	Need(t)
	var client, server string
	t.Run("network", func(t *testing.T) {
		n := New(t)
		client, server = n.ClientNS, n.ServerNS
		n.Serve(t, Options{IPv4: true, ClientUp: true})
		addr := netip.PrefixFrom(n.ServerV4.Next(), n.Subnet4.Bits())
		n.ip(t, "-n", n.ClientNS, "addr", "add", addr.String(), "dev", n.ClientIf)
		l, err := n.Listen("tcp", net.JoinHostPort(n.ServerV4.String(), "0"))
		if err != nil {
			t.Fatal(err)
		}
		defer l.Close()
		accepted := make(chan net.Addr, 1)
		go func() {
			c, err := l.Accept()
			if err != nil {
				accepted <- nil
				return
			}
			accepted <- c.RemoteAddr()
			c.Close()
		}()
		if err := n.InClient(func() error {
			c, err := net.Dial("tcp", l.Addr().String())
			if err != nil {
				return err
			}
			return c.Close()
		}); err != nil {
			t.Fatalf("dialing %s from the client namespace: %v", l.Addr(), err)
		}
		if a := <-accepted; a == nil || !strings.HasPrefix(a.String(), addr.Addr().String()+":") {
			t.Errorf("server saw %v, want a connection from %s", a, addr.Addr())
		}
		if !strings.Contains(n.Log(), "DHCP") {
			t.Errorf("dnsmasq log has no DHCP line:\n%s", n.Log())
		}
	})
	out, err := exec.Command("ip", "netns", "list").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{client, server} {
		if ns == "" || strings.Contains(string(out), ns) {
			t.Errorf("namespace %q still exists after cleanup:\n%s", ns, out)
		}
	}
}
