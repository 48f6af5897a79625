// Package dhcptest builds a throw-away DHCP network for integration tests:
// two network namespaces joined by a veth pair, with dnsmasq serving DHCPv4
// and DHCPv6 (and the SZTP options you choose) on the server side. The
// device under test runs in the client namespace; test servers (for example
// a bootstrap server) can listen in the server namespace with
// [Network.Listen]. Everything is removed by t.Cleanup, also on failure.
//
// It needs root, ip(8) and dnsmasq; without them the test is skipped, or
// fails under SZTP_REQUIRE_INTEGRATION=1 (see internal/testenv).
//
// Addresses come from ranges that never leave the namespaces: IPv4 from
// 198.18.0.0/15 (RFC 2544 benchmarking), IPv6 from 2001:db8::/32 (RFC 3849
// documentation), a random /24 and /64 per network.
package dhcptest
