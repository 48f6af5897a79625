package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/dhcpopts"
)

func init() { register(newDHCPCmd) }

const dhcpLong = `Get a DHCP lease and print the SZTP bootstrap server URIs it carries
(RFC 8572 §8: DHCPv4 option 143, DHCPv6 option 136).

Without --lease-file, sztp runs DHCPv4 and DHCPv6 on each --interface (default:
every non-loopback link with a hardware address) in parallel, asking for
option 143 / 136. It brings links up, waits for carrier, and, unless
--no-configure is given, configures the leased address, routes and DNS so
that the bootstrap server can be reached. It renews nothing.

With --lease-file it reads the lease of the operating system's DHCP client
instead (ISC dhclient, systemd-networkd, NetworkManager, dhcpcd), e.g.
/var/lib/dhcp/dhclient.eth0.leases.

Only URIs of the form https://host[:port] are printed, in option order; each
entry that is ignored (another scheme, a path, a malformed entry) is named
on stderr. Servers learned this way are untrusted (RFC 8572 4.3).

The option is a list of {2-octet length, URI} entries (RFC 8572 8.3), e.g.
for dnsmasq: --dhcp-option=143,00:18:68:74:74:70:73:3a:2f:2f:73:7a:74:70:2e:
65:78:61:6d:70:6c:65:2e:63:6f:6d (https://sztp.example.com). Some dhcpd
configurations declare it as text instead ("https://host:port/restconf/...").
Such a plain-text value is ignored, with a warning on stderr, unless
--dhcp-text-uris is given: then it is accepted, with a warning naming it, its
URIs split at commas and spaces, and a RESTCONF path removed (C88).

Exit status: 0 when a lease carried a usable URI; 1 when none did (or DHCP
failed); 2 for bad flags.`

// dhcpResult is one line of the --json output.
type dhcpResult struct {
	Interface string   `json:"interface"`
	Family    string   `json:"family"`
	URIs      []string `json:"uris"`
}

func newDHCPCmd() *cobra.Command {
	var (
		ifaces      []string
		leaseFiles  []string
		ipv4, ipv6  bool
		noConfigure bool
		timeout     time.Duration
		asJSON      bool
		resolvConf  string
		textURIs    bool
	)
	cmd := &cobra.Command{
		Use:   "dhcp",
		Short: "get a DHCP lease (or read a lease file) and print the SZTP URIs (option 143 / 136)",
		Long:  dhcpLong,
		Example: `  sztp dhcp --interface eth0 --json
  sztp dhcp --ipv4 --no-configure --timeout 20s
  sztp dhcp --lease-file /var/lib/dhcp/dhclient.eth0.leases --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if timeout <= 0 {
				return usagef("--timeout must be positive, got %s", timeout)
			}
			log := logger(cmd)
			var leases []dhcpopts.Lease
			if len(leaseFiles) > 0 {
				for _, f := range leaseFiles {
					ls, err := dhcpopts.ReadLeaseFile(f)
					if err != nil {
						return err
					}
					for i, l := range ls {
						if textURIs {
							l = l.WithTextURIs()
							ls[i] = l
						}
						for _, w := range l.Warnings {
							log.Warn("dhcp: "+w, "interface", l.Interface, "family", l.Family, "lease-file", f)
						}
					}
					leases = append(leases, ls...)
				}
			} else {
				ctx, cancel := context.WithTimeout(cmd.Context(), timeout)
				defer cancel()
				var err error
				leases, err = dhcpopts.Discover(ctx, dhcpopts.Config{
					Interfaces:  ifaces,
					IPv4:        ipv4,
					IPv6:        ipv6,
					Configure:   !noConfigure,
					LinkTimeout: min(10*time.Second, timeout),
					ResolvConf:  resolvConf,
					Logger:      log,
					TextURIs:    textURIs,
				})
				if err != nil && !errors.Is(err, dhcpopts.ErrNoLease) {
					return err
				}
				if err != nil {
					log.Warn("dhcp: " + err.Error())
				}
			}
			results := []dhcpResult{}
			for _, l := range leases {
				if len(l.URIs) == 0 || !wantFamily(l.Family, ipv4, ipv6) {
					continue
				}
				if len(leaseFiles) > 0 && len(ifaces) > 0 && !slices.Contains(ifaces, l.Interface) {
					continue
				}
				results = append(results, dhcpResult{Interface: l.Interface, Family: l.Family, URIs: l.URIs})
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(out, results); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					for _, u := range r.URIs {
						fmt.Fprintf(out, "%s\t%s\t%s\n", r.Interface, r.Family, u)
					}
				}
			}
			if len(results) == 0 {
				return exitError{exitFailure, errors.New("no DHCP lease carried an SZTP bootstrap server (option 143 / 136)")}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringSliceVar(&ifaces, "interface", nil, "link to run DHCP on (repeatable; default: every non-loopback link); with --lease-file, only leases of these links")
	fs.StringSliceVar(&leaseFiles, "lease-file", nil, "read this lease file of the OS DHCP client instead of running DHCP (repeatable)")
	addDHCPTextURIs(fs, &textURIs)
	fs.BoolVar(&ipv4, "ipv4", false, "DHCPv4 / option 143 only (default: both families)")
	fs.BoolVar(&ipv6, "ipv6", false, "DHCPv6 / option 136 only (default: both families)")
	fs.BoolVar(&noConfigure, "no-configure", false, "leave addresses, routes and resolv.conf alone")
	fs.DurationVar(&timeout, "timeout", 30*time.Second, "give up on DHCP after this long")
	fs.BoolVar(&asJSON, "json", false, "print a JSON array of {interface, family, uris}")
	fs.StringVar(&resolvConf, "resolv-conf", "/etc/resolv.conf", "resolver file to write when configuring")
	fs.MarkHidden("resolv-conf")
	return cmd
}

func wantFamily(family string, ipv4, ipv6 bool) bool {
	if !ipv4 && !ipv6 {
		return true
	}
	return family == dhcpopts.FamilyIPv4 && ipv4 || family == dhcpopts.FamilyIPv6 && ipv6
}
