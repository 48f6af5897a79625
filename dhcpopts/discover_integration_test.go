package dhcpopts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/dhcpopts"
	"github.com/sztp/sztp/dhcpopts/dhcptest"
)

// childEnv carries a Config to a copy of the test binary that runs Discover
// inside the client namespace (a namespace belongs to a thread, and Discover
// runs many goroutines, so the whole process must be inside).
const childEnv = "SZTP_DHCPOPTS_DISCOVER_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(discoverChild(spec))
	}
	os.Exit(m.Run())
}

func discoverChild(spec string) int {
	var cfg dhcpopts.Config
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	leases, err := dhcpopts.Discover(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	json.NewEncoder(os.Stdout).Encode(leases)
	return 0
}

// discoverIn runs Discover with cfg in the client namespace of n.
func discoverIn(t *testing.T, n *dhcptest.Network, cfg dhcpopts.Config) []dhcpopts.Lease {
	t.Helper()
	spec, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := n.Command(ctx, exe)
	cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("discover child: %v\n%s", err, stderr.String())
	}
	t.Logf("discover child log:\n%s", stderr.String())
	var leases []dhcpopts.Lease
	if err := json.Unmarshal(stdout.Bytes(), &leases); err != nil {
		t.Fatalf("discover child output %q: %v", stdout.String(), err)
	}
	return leases
}

func ipIn(t *testing.T, n *dhcptest.Network, args ...string) string {
	t.Helper()
	out, err := exec.Command("ip", append([]string{"-n", n.ClientNS}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

var twoURIs = []string{"https://198.51.100.7:8443", "https://bootstrap.example.com"}

// TestDiscoverV4TwoURIs: C85, C86 against dnsmasq: option 143 with two URIs
// reaches the client in order; the lease is configured (address, default
// route, resolv.conf).
func TestDiscoverV4TwoURIs(t *testing.T) {
	data, err := dhcpopts.Encode(twoURIs)
	if err != nil {
		t.Fatal(err)
	}
	dns := netip.MustParseAddr("198.51.100.53")
	n := dhcptest.Start(t, dhcptest.Options{IPv4: true, Option143: data, DNS: []netip.Addr{dns}})
	resolv := filepath.Join(t.TempDir(), "resolv.conf")
	leases := discoverIn(t, n, dhcpopts.Config{Interfaces: []string{n.ClientIf}, IPv4: true, Configure: true, ResolvConf: resolv, Timeout: 2 * time.Second})
	if len(leases) != 1 {
		t.Fatalf("got %d leases, want 1: %+v", len(leases), leases)
	}
	l := leases[0]
	if l.Interface != n.ClientIf || l.Family != dhcpopts.FamilyIPv4 || !reflect.DeepEqual(l.URIs, twoURIs) {
		t.Errorf("lease = %+v, want %s ipv4 %q", l, n.ClientIf, twoURIs)
	}
	if !l.Configured || !n.Subnet4.Contains(l.Address.Addr()) || l.Address.Bits() != 24 {
		t.Errorf("lease address %s configured=%v, want one in %s", l.Address, l.Configured, n.Subnet4)
	}
	if addrs := ipIn(t, n, "-4", "addr", "show", "dev", n.ClientIf); !strings.Contains(addrs, l.Address.String()) {
		t.Errorf("address %s not on %s:\n%s", l.Address, n.ClientIf, addrs)
	}
	if routes := ipIn(t, n, "-4", "route", "show", "default"); !strings.Contains(routes, "via "+n.ServerV4.String()) {
		t.Errorf("no default route via %s:\n%s", n.ServerV4, routes)
	}
	if b, err := os.ReadFile(resolv); err != nil || !strings.Contains(string(b), "nameserver "+dns.String()) {
		t.Errorf("resolv.conf = %q, %v; want nameserver %s", b, err, dns)
	}
}

// TestDiscoverClasslessRoutes: option 121 replaces the router option
// (RFC 3442); its routes, including one through a gateway outside the
// leased subnet, are installed.
func TestDiscoverClasslessRoutes(t *testing.T) {
	data, err := dhcpopts.Encode(twoURIs[:1])
	if err != nil {
		t.Fatal(err)
	}
	n := dhcptest.New(t)
	gw := n.ServerV4.String()
	n.Serve(t, dhcptest.Options{IPv4: true, Option143: data, Args: []string{
		"--dhcp-option=121,203.0.113.0/25," + gw + ",0.0.0.0/0," + gw,
	}})
	leases := discoverIn(t, n, dhcpopts.Config{Interfaces: []string{n.ClientIf}, IPv4: true, Configure: true, ResolvConf: filepath.Join(t.TempDir(), "resolv.conf"), Timeout: 2 * time.Second})
	if len(leases) != 1 || len(leases[0].Routes) != 2 {
		t.Fatalf("leases = %+v, want one with 2 classless routes", leases)
	}
	routes := ipIn(t, n, "-4", "route", "show")
	for _, want := range []string{"203.0.113.0/25 via " + gw, "default via " + gw} {
		if !strings.Contains(routes, want) {
			t.Errorf("route %q missing:\n%s", want, routes)
		}
	}
}

// TestDiscoverV6: option 136 over DHCPv6 (C85, C86).
func TestDiscoverV6(t *testing.T) {
	data, err := dhcpopts.Encode(twoURIs)
	if err != nil {
		t.Fatal(err)
	}
	n := dhcptest.Start(t, dhcptest.Options{IPv6: true, Option136: data})
	leases := discoverIn(t, n, dhcpopts.Config{Interfaces: []string{n.ClientIf}, IPv6: true, Configure: true, ResolvConf: filepath.Join(t.TempDir(), "resolv.conf"), Timeout: 2 * time.Second})
	if len(leases) != 1 {
		t.Fatalf("got %d leases, want 1: %+v", len(leases), leases)
	}
	l := leases[0]
	if l.Family != dhcpopts.FamilyIPv6 || !reflect.DeepEqual(l.URIs, twoURIs) {
		t.Errorf("lease = %+v, want ipv6 %q", l, twoURIs)
	}
	if !n.Prefix6.Contains(l.Address.Addr()) {
		t.Errorf("lease address %s not in %s", l.Address, n.Prefix6)
	}
	if addrs := ipIn(t, n, "-6", "addr", "show", "dev", n.ClientIf); !strings.Contains(addrs, l.Address.Addr().String()) {
		t.Errorf("address %s not on %s:\n%s", l.Address, n.ClientIf, addrs)
	}
}

// TestDiscoverWithoutOption: a lease without 143/136 is returned with no
// URIs and a warning, on both families in one run, v4 first.
func TestDiscoverWithoutOption(t *testing.T) {
	n := dhcptest.Start(t, dhcptest.Options{ClientUp: true})
	leases := discoverIn(t, n, dhcpopts.Config{Interfaces: []string{n.ClientIf}, Timeout: 2 * time.Second})
	if len(leases) != 2 {
		t.Fatalf("got %d leases, want 2 (ipv4, ipv6): %+v", len(leases), leases)
	}
	for i, fam := range []string{dhcpopts.FamilyIPv4, dhcpopts.FamilyIPv6} {
		l := leases[i]
		if l.Family != fam || len(l.URIs) != 0 || len(l.Warnings) == 0 {
			t.Errorf("lease %d = %+v, want %s without URIs and with a warning", i, l, fam)
		}
	}
}

// TestDiscoverTextOption: a text option 143 with the RESTCONF path (the OPI
// lab's form) is ignored with a warning by default (C88) and accepted with
// warnings when asked for (Config.TextURIs, --dhcp-text-uris).
func TestDiscoverTextOption(t *testing.T) {
	n := dhcptest.Start(t, dhcptest.Options{IPv4: true, Option143Text: "https://198.51.100.7:8080" + dhcpopts.RESTCONFPath})
	for _, tc := range []struct {
		text     bool
		uris     []string
		warnings int
	}{
		{false, nil, 1},
		{true, []string{"https://198.51.100.7:8080"}, 2},
	} {
		leases := discoverIn(t, n, dhcpopts.Config{Interfaces: []string{n.ClientIf}, IPv4: true, Timeout: 2 * time.Second, TextURIs: tc.text})
		if len(leases) != 1 || !reflect.DeepEqual(leases[0].URIs, tc.uris) || len(leases[0].Warnings) != tc.warnings {
			t.Fatalf("TextURIs %v: leases = %+v, want %q with %d warnings", tc.text, leases, tc.uris, tc.warnings)
		}
	}
}

// TestDiscoverNoServer: with no DHCPv4 server on the link Discover gives up
// after its retries instead of hanging, and reports no lease.
func TestDiscoverNoServer(t *testing.T) {
	n := dhcptest.Start(t, dhcptest.Options{IPv6: true})
	leases := discoverIn(t, n, dhcpopts.Config{Interfaces: []string{n.ClientIf}, IPv4: true, Timeout: 300 * time.Millisecond, Retries: 2})
	if len(leases) != 0 {
		t.Fatalf("got leases %+v without a DHCPv4 server", leases)
	}
}

// TestDiscoverReachServer: after Discover configures the link, the
// bootstrap server named by the option is reachable, over IPv4 and (with
// router advertisements giving the on-link prefix) over IPv6.
func TestDiscoverReachServer(t *testing.T) {
	for _, family := range []string{dhcpopts.FamilyIPv4, dhcpopts.FamilyIPv6} {
		t.Run(family, func(t *testing.T) {
			n := dhcptest.New(t)
			host := n.ServerV4
			if family == dhcpopts.FamilyIPv6 {
				host = n.ServerV6
			}
			l, err := n.Listen("tcp", net.JoinHostPort(host.String(), "0"))
			if err != nil {
				t.Fatal(err)
			}
			defer l.Close()
			go func() {
				for {
					c, err := l.Accept()
					if err != nil {
						return
					}
					c.Write([]byte("hello\n"))
					c.Close()
				}
			}()
			uri := "https://" + l.Addr().String()
			data, err := dhcpopts.Encode([]string{uri})
			if err != nil {
				t.Fatal(err)
			}
			o := dhcptest.Options{IPv4: true, Option143: data}
			cfg := dhcpopts.Config{Interfaces: []string{n.ClientIf}, IPv4: true, Configure: true, ResolvConf: filepath.Join(t.TempDir(), "resolv.conf"), Timeout: 2 * time.Second}
			if family == dhcpopts.FamilyIPv6 {
				o = dhcptest.Options{IPv6: true, Option136: data, Args: []string{"--enable-ra"}}
				cfg.IPv4, cfg.IPv6 = false, true
			}
			n.Serve(t, o)
			leases := discoverIn(t, n, cfg)
			if len(leases) != 1 || !reflect.DeepEqual(leases[0].URIs, []string{uri}) {
				t.Fatalf("leases = %+v, want one with %s", leases, uri)
			}
			u, err := url.Parse(leases[0].URIs[0])
			if err != nil {
				t.Fatal(err)
			}
			// The kernel may still be waiting for a router advertisement;
			// allow it a few seconds.
			var got string
			deadline := time.Now().Add(15 * time.Second)
			for {
				err = n.InClient(func() error {
					c, err := net.DialTimeout("tcp", u.Host, 2*time.Second)
					if err != nil {
						return err
					}
					defer c.Close()
					b := make([]byte, 6)
					_, err = io.ReadFull(c, b)
					got = string(b)
					return err
				})
				if err == nil || time.Now().After(deadline) {
					break
				}
				time.Sleep(200 * time.Millisecond)
			}
			if err != nil || got != "hello\n" {
				t.Fatalf("connecting to %s from the configured client: %q, %v\n%s", u.Host, got, err, ipIn(t, n, "route", "show", "table", "all"))
			}
		})
	}
}
