package dhcpopts_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/dhcpopts"
	"github.com/sztp/sztp/dhcpopts/dhcptest"
)

// Issue 13 item 1: on a network that answers DHCPv4 (with option 143) and
// never DHCPv6, Discover with a LeaseGrace (as `sztp run` sets it) returns
// that long after the IPv4 lease instead of
// waiting out the DHCPv6 exchange (its retries here take a minute). Before,
// every boot in the QEMU test waited seconds for a DHCPv6 answer that never
// came. The child's log shows the DHCPv6 exchange cancelled, not timed out.
func TestIssue13_1_DiscoverStopsWaitingAfterALeaseWithURIs(t *testing.T) {
	data, err := dhcpopts.Encode(twoURIs[:1])
	if err != nil {
		t.Fatal(err)
	}
	n := dhcptest.Start(t, dhcptest.Options{IPv4: true, Option143: data})
	spec, err := json.Marshal(dhcpopts.Config{Interfaces: []string{n.ClientIf}, IPv4: true, IPv6: true, Timeout: 20 * time.Second, LeaseGrace: dhcpopts.DefaultLeaseGrace})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
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
	var leases []dhcpopts.Lease
	if err := json.Unmarshal(stdout.Bytes(), &leases); err != nil || len(leases) != 1 || leases[0].Family != dhcpopts.FamilyIPv4 {
		t.Fatalf("leases %+v (%v), want one IPv4 lease\n%s", leases, err, stderr.String())
	}
	var v6 string
	for _, l := range strings.Split(stderr.String(), "\n") {
		if strings.Contains(l, "no lease") && strings.Contains(l, "dhcpv6") {
			v6 = l
		}
	}
	if !strings.Contains(v6, "context canceled") {
		t.Errorf("the DHCPv6 exchange ended with %q, want it cancelled after the IPv4 lease\n%s", v6, stderr.String())
	}
}
