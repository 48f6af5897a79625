// Package dhcpopts finds SZTP bootstrap servers through DHCP (RFC 8572 §8).
//
// It has three parts:
//
//   - a codec for OPTION_V4_SZTP_REDIRECT (143) and OPTION_V6_SZTP_REDIRECT
//     (136): [Parse] decodes the §8.3 bootstrap-server-list (repeated uint16
//     length + URI) and keeps only URIs of the exact form
//     https://host[:port] (checklist C86, C88, C89); [Encode] builds it;
//     [ConcatV4] applies RFC 3396 (with option overload 52) to a raw DHCPv4
//     packet (C87);
//   - live leases: [Discover] runs DHCPv4 and DHCPv6 on every usable link (or
//     the ones named) in parallel, with 143 in the parameter request list
//     ([ParameterRequestV4]) and 136 in the option request option
//     ([OptionRequestV6]) (C85), waits for carrier, and, unless told not
//     to, configures the address, routes and DNS from the lease so that the
//     bootstrap server can be reached. It never renews and never hangs:
//     every exchange has a timeout and a retry count;
//   - lease files of the operating system's DHCP client: [ReadLeaseFile]
//     understands ISC dhclient (v4 and v6, both the RFC-framed hex form and a
//     declared text option), systemd-networkd, NetworkManager and dhcpcd,
//     and reads only regular files (a FIFO or device would block or never
//     end); [FindLeaseFiles] lists the usual places.
//
// # Plain-text values
//
// Some deployed dhcpd configurations declare option 143 as text holding one
// URL (for example the OPI lab, which sends the full RESTCONF RPC URL). Such a
// value is not RFC 8572 framing, and by default it is not used (C88):
// [Parse] returns [ErrPlainText] with a warning that says so. Lenient parsing
// is an explicit opt-in (sztp --dhcp-text-uris): [ParseText], [Config].TextURIs
// and [Lease.WithTextURIs] accept it, always with a warning that names the
// violation: the value is split at white space and commas, a trailing
// well-known RESTCONF path
// (/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data, or
// a bare /restconf) is removed (with its own warning) because the agent adds
// it itself, and every remaining URI must then be https://host[:port]. A
// fleet operator who mis-declared the option can thus still get devices that
// bootstrap, and the log says what to fix. RFC-framed entries get no such
// leniency: an entry with a path is ignored, as §8.3 requires.
//
// # Configuring the link
//
// For IPv4, Discover adds the leased address with its subnet mask and
// broadcast address, then the classless static routes (option 121) or else
// a default route through the first router (option 3). For IPv6 it adds
// the leased address as /128 without duplicate address detection; DHCPv6
// conveys no prefix length or routes, so on-link prefixes and the default
// route come from router advertisements, which the kernel processes itself.
// Name servers go to /etc/resolv.conf (atomically; a symbolic link is
// followed). Addresses are added without lifetime: sztp renews nothing, and
// the operating system's own DHCP client takes over after bootstrap.
//
// # Tests
//
// Package dhcptest builds a network namespace pair with dnsmasq for
// integration tests of this package, of the CLI and of the engine.
//
// # Why its own DHCP client
//
// The client speaks just DISCOVER/OFFER/REQUEST/ACK (over an AF_PACKET
// socket, so it works on an unconfigured link) and SOLICIT/ADVERTISE/
// REQUEST/REPLY (with rapid commit), in about 600 lines. The general
// libraries cost more than the agent's size budget allows:
// insomniacslk/dhcp's nclient4 and nclient6 added 0.72 MiB to the static
// binary, this client 0.26 MiB with everything else in this package
// (measured against the same tree). Its wire format is checked against
// insomniacslk/dhcp in the tests, which only the tests link, and against
// dnsmasq in the integration tests.
//
// DHCP is an untrusted source (RFC 8572 §4.3): the URIs are unsigned redirect
// information, contacted provisionally (C90). This package only finds them.
//
// The package never imports the engine (package client); sztp run
// (cmd/sztp/sources.go) wraps [Discover] and [ReadLeaseFile] in the
// engine's Source interface.
package dhcpopts
