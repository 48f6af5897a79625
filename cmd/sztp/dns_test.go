package main

import (
	"log/slog"
	"net/netip"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/sztp/sztp/dhcpopts"
)

// The unicast domain and name servers: flags, else the DHCP leases
// (options 6/15/119, DHCPv6 23/24), else resolv.conf.
func TestDNSConfigSources(t *testing.T) {
	rc := filepath.Join(t.TempDir(), "resolv.conf")
	os.WriteFile(rc, []byte("# comment\nsearch rc.test other.test\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n"), 0o644)
	lease := []dhcpopts.Lease{{DNS: []netip.Addr{netip.MustParseAddr("198.51.100.1")}, Search: []string{"lease.test"}}}
	for _, tc := range []struct {
		name                  string
		f                     dnsFlags
		leases                []dhcpopts.Lease
		wantServers, wantDoms []string
	}{
		{"flags", dnsFlags{servers: []string{"127.0.0.1:5300", "ns.test", "2001:db8::1", "[2001:db8::2]:54"}, domains: []string{"flag.test"}}, lease,
			[]string{"127.0.0.1:5300", "ns.test:53", "[2001:db8::1]:53", "[2001:db8::2]:54"}, []string{"flag.test"}},
		{"lease", dnsFlags{}, lease, []string{"198.51.100.1:53"}, []string{"lease.test"}},
		{"resolv.conf", dnsFlags{}, nil, []string{"192.0.2.53:53", "[2001:db8::53]:53"}, []string{"rc.test", "other.test"}},
		{"domain flag, servers from resolv.conf", dnsFlags{domains: []string{"flag.test"}}, nil, []string{"192.0.2.53:53", "[2001:db8::53]:53"}, []string{"flag.test"}},
	} {
		cfg, err := tc.f.config("SN", tc.leases, rc, slog.New(slog.DiscardHandler))
		if err != nil || !slices.Equal(cfg.Servers, tc.wantServers) || !slices.Equal(cfg.Domains, tc.wantDoms) {
			t.Errorf("%s: servers %v domains %v err %v; want %v %v", tc.name, cfg.Servers, cfg.Domains, err, tc.wantServers, tc.wantDoms)
		}
	}
	if _, err := (&dnsFlags{servers: []string{"a:b:c"}}).config("SN", nil, "", slog.New(slog.DiscardHandler)); err == nil {
		t.Error("--dns-server a:b:c accepted")
	}
}
