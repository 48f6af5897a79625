package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/dhcpopts"
	"github.com/sztp/sztp/dnssrc"
	"github.com/sztp/sztp/internal/identity"
)

func init() { register(newDNSCmd) }

// dnsFlags are the DNS source settings shared by run and dns.
type dnsFlags struct {
	dns          bool
	domains      []string
	servers      []string
	noMDNS       bool
	timeout      time.Duration
	queryTimeout time.Duration
}

func (f *dnsFlags) add(fs *pflag.FlagSet, run bool) {
	if run {
		fs.BoolVar(&f.dns, "dns", false, "also ask DNS (mDNS, then unicast) for TXT <serial>._sztp.<domain> and SRV _sztp._tcp.<domain>; default: when no server is configured, or with --dns-domain/--dns-server; --dns=false never")
		fs.DurationVar(&f.timeout, "dns-timeout", 20*time.Second, "give up on DNS after this long, in each pass over the sources")
	} else {
		fs.DurationVar(&f.timeout, "timeout", 20*time.Second, "give up on DNS after this long")
	}
	fs.StringSliceVar(&f.domains, "dns-domain", nil, "unicast DNS domain (repeatable; default: the DHCP lease's domain search list, else resolv.conf's search/domain)")
	fs.StringSliceVar(&f.servers, "dns-server", nil, "unicast name server HOST[:PORT] (repeatable; default: the DHCP lease's, else resolv.conf's)")
	fs.BoolVar(&f.noMDNS, "no-mdns", false, "do not ask multicast DNS (<serial>._sztp.local., _sztp._tcp.local.)")
	fs.DurationVar(&f.queryTimeout, "dns-query-timeout", dnssrc.DefaultQueryTimeout, "time limit of each DNS query")
	fs.MarkHidden("dns-query-timeout")
}

// enabled reports whether run asks DNS: --dns, a DNS domain or server, or
// (like DHCP) nothing else configured.
func (f *dnsFlags) enabled(changed func(string) bool, urls []string) bool {
	if changed("dns") {
		return f.dns
	}
	return len(f.domains) > 0 || len(f.servers) > 0 || len(urls) == 0
}

// parseDNSServer turns HOST[:PORT] (IPv6 as [addr]:port or bare) into
// host:port, port 53 by default.
func parseDNSServer(s string) (string, error) {
	if a, err := netip.ParseAddr(s); err == nil {
		return net.JoinHostPort(a.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		if strings.Contains(s, ":") {
			return "", usagef("--dns-server %q: want HOST[:PORT]", s)
		}
		host, port = s, "53"
	}
	if host == "" {
		return "", usagef("--dns-server %q: no host", s)
	}
	return net.JoinHostPort(host, port), nil
}

// config builds the lookup: flags first, else what the DHCP leases say
// (options 6/15/119, DHCPv6 23/24), else resolv.conf.
func (f *dnsFlags) config(serial string, leases []dhcpopts.Lease, resolvConf string, log *slog.Logger) (dnssrc.Config, error) {
	cfg := dnssrc.Config{SerialNumber: serial, MDNS: !f.noMDNS, QueryTimeout: f.queryTimeout, Logger: log}
	for _, s := range f.servers {
		hp, err := parseDNSServer(s)
		if err != nil {
			return cfg, err
		}
		cfg.Servers = append(cfg.Servers, hp)
	}
	cfg.Domains = append(cfg.Domains, f.domains...)
	for _, l := range leases {
		if len(f.servers) == 0 {
			for _, a := range l.DNS {
				cfg.Servers = appendNew(cfg.Servers, net.JoinHostPort(a.String(), "53"))
			}
		}
		if len(f.domains) == 0 {
			for _, d := range l.Search {
				cfg.Domains = appendNew(cfg.Domains, d)
			}
		}
	}
	if (len(cfg.Servers) == 0 || len(cfg.Domains) == 0) && resolvConf != "" {
		servers, domains, err := dnssrc.ReadResolvConf(resolvConf)
		if err != nil {
			log.Warn("dns: reading resolver configuration", "path", resolvConf, "err", err)
		}
		if len(cfg.Servers) == 0 {
			cfg.Servers = servers
		}
		if len(cfg.Domains) == 0 {
			cfg.Domains = domains
		}
	}
	return cfg, nil
}

func appendNew(list []string, s string) []string {
	for _, v := range list {
		if v == s {
			return list
		}
	}
	return append(list, s)
}

// dnsCandidates turns DNS records into candidates in order: TXT artifacts
// (untrusted data: signed, or unsigned redirect information, C93), then SRV
// servers (contacted provisionally, C94).
func dnsCandidates(recs []dnssrc.Record) []client.Candidate {
	var out []client.Candidate
	seen := map[string]bool{}
	for _, r := range recs {
		if r.Artifacts != nil {
			out = append(out, client.Candidate{Artifacts: r.Artifacts})
		}
		for _, u := range r.Servers {
			if !seen[u] {
				seen[u] = true
				out = append(out, client.Candidate{URL: u, Mode: client.Provisional})
			}
		}
	}
	return out
}

// leaseBook keeps the leases the DHCP sources saw in this pass, for the DNS
// source's domain and name servers.
type leaseBook struct {
	mu     sync.Mutex
	leases []dhcpopts.Lease
}

func (b *leaseBook) add(ls []dhcpopts.Lease) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.leases = append(b.leases, ls...)
}

func (b *leaseBook) get() []dhcpopts.Lease {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]dhcpopts.Lease(nil), b.leases...)
}

// dnsSource is run's DNS source (RFC 8572 4.2). serial is read when the
// source runs (the identity is loaded after the sources are built).
func (f *runFlags) dnsSource(serial *string, book *leaseBook, log *slog.Logger) client.Source {
	d := &f.dnsOpts
	// Host names of SRV targets may be known only to the DNS source's
	// name servers or to mDNS (<host>.local.): names under .local, and
	// every name when --dns-server is given, are resolved with those
	// first; the system resolver is the other means.
	f.lookupHost = func(ctx context.Context, host string) ([]string, error) {
		own := func() ([]string, error) {
			cfg, err := d.config(*serial, book.get(), f.resolvConf, log)
			if err != nil {
				return nil, err
			}
			return dnssrc.LookupHost(ctx, cfg, host)
		}
		first, second := net.DefaultResolver.LookupHost, func(context.Context, string) ([]string, error) { return own() }
		if len(d.servers) > 0 || strings.HasSuffix(strings.ToLower(strings.TrimSuffix(host, ".")), ".local") {
			first, second = second, first
		}
		addrs, err := first(ctx, host)
		if err == nil {
			return addrs, nil
		}
		addrs, err2 := second(ctx, host)
		if err2 != nil {
			return nil, errors.Join(err, err2)
		}
		return addrs, nil
	}
	return client.FuncSource{Label: "dns", Func: func(ctx context.Context) ([]client.Candidate, error) {
		cfg, err := d.config(*serial, book.get(), f.resolvConf, log)
		if err != nil {
			return nil, err
		}
		cfg.Interfaces = f.interfaces // mDNS on the links DHCP uses
		ctx, cancel := context.WithTimeout(ctx, d.timeout)
		defer cancel()
		res, err := dnssrc.Lookup(ctx, cfg)
		if err != nil {
			return nil, err
		}
		return dnsCandidates(res.Records), nil
	}}
}

const dnsLong = `Ask DNS what it says for this device (RFC 8572 §4.2) and print it.

First the device-specific TXT record <serial-number>._sztp.<domain>, whose keys
ci, oc and ov carry the conveyed information, owner certificate and ownership
voucher as binary CMS; then the device-independent SRV records
_sztp._tcp.<domain>, each target:port a bootstrap server (https://target:port),
in RFC 2782 order (priority, then weight). Each is asked over multicast DNS
first (<serial>._sztp.local. and _sztp._tcp.local., on every up link, IPv4
and IPv6; --no-mdns skips it), then over unicast DNS, with --dns-domain and
--dns-server, else the search domains and name servers of /etc/resolv.conf. A
truncated UDP answer is asked again over TCP (RFC 7766).

DNS is untrusted, DNSSEC or not: sztp run acts on TXT data only when it is
signed and validates, or is unsigned redirect information, and contacts
SRV-learned servers provisionally. This command only decodes; it does not
validate signatures (use sztp verify).

The serial number is --serial-number, else the IDevID's (--idevid-cert, or the
TPM with --tpm).

Output: one line per record (source, type, name, then the artifacts or the
servers), or with --json an array of {"source": "mdns"|"unicast", "name",
"type": "TXT"|"SRV", "artifacts": [...], "servers": [...]}.

Exit status: 0 when DNS gave a usable record; 1 when it gave none; 2 for bad
flags.`

// dnsResult is one element of the --json output.
type dnsResult struct {
	Source    string   `json:"source"`
	Name      string   `json:"name"`
	Type      string   `json:"type"`
	Artifacts []string `json:"artifacts"`
	Servers   []string `json:"servers"`
}

func newDNSCmd() *cobra.Command {
	var (
		d          dnsFlags
		id         identity.Flags
		asJSON     bool
		resolvConf string
	)
	cmd := &cobra.Command{
		Use:   "dns",
		Short: "ask DNS (mDNS, then unicast) for this device's TXT and SRV records and print them",
		Long:  dnsLong,
		Example: `  sztp dns --serial-number SN-1 --dns-domain example.com --json
  sztp dns --idevid-cert /etc/sztp/idevid.pem --no-mdns --dns-server 192.0.2.53:53 --dns-domain example.com`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if d.timeout <= 0 || d.queryTimeout <= 0 {
				return usagef("--timeout must be positive, got %s", d.timeout)
			}
			log := logger(cmd)
			serial, err := dnsSerial(cmd.Context(), &id, log)
			if err != nil {
				return err
			}
			if serial == "" {
				log.Warn("dns: no serial number (--serial-number, --idevid-cert or --tpm): asking only for SRV records")
			}
			cfg, err := d.config(serial, nil, resolvConf, log)
			if err != nil {
				return err
			}
			ctx, cancel := context.WithTimeout(cmd.Context(), d.timeout)
			defer cancel()
			res, lerr := dnssrc.Lookup(ctx, cfg)
			results := []dnsResult{}
			for _, r := range res.Records {
				results = append(results, dnsResult{Source: r.Source, Name: r.Name, Type: r.Type, Artifacts: artifactNames(r), Servers: append([]string{}, r.Servers...)})
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(out, results); err != nil {
					return err
				}
			} else {
				for _, r := range results {
					fmt.Fprintf(out, "%s\t%s\t%s\t%s\n", r.Source, r.Type, r.Name, strings.Join(append(r.Artifacts, r.Servers...), " "))
				}
			}
			if res.TCPFallbacks > 0 {
				log.Info("dns: truncated UDP answers asked again over TCP", "count", res.TCPFallbacks)
			}
			if lerr != nil {
				return exitError{exitFailure, lerr}
			}
			if len(results) == 0 {
				return exitError{exitFailure, errors.New("DNS gave no usable record")}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	d.add(fs, false)
	id.AddIdentity(fs)
	fs.BoolVar(&asJSON, "json", false, "print a JSON array of {source, name, type, artifacts, servers}")
	fs.StringVar(&resolvConf, "resolv-conf", "/etc/resolv.conf", "resolver file for the default domain and name servers")
	fs.MarkHidden("resolv-conf")
	return cmd
}

// artifactNames lists the artifacts a TXT record carries.
func artifactNames(r dnssrc.Record) []string {
	out := []string{}
	if a := r.Artifacts; a != nil {
		if a.ConveyedInformation != nil {
			out = append(out, "conveyed-information")
		}
		if a.OwnerCertificate != nil {
			out = append(out, "owner-certificate")
		}
		if a.OwnershipVoucher != nil {
			out = append(out, "ownership-voucher")
		}
	}
	return out
}

// dnsSerial is the serial number for sztp dns: --serial-number, else the
// IDevID certificate's (a file, or the TPM when --tpm or --idevid-key is
// given), else "" (only SRV is asked).
func dnsSerial(ctx context.Context, f *identity.Flags, log *slog.Logger) (string, error) {
	switch {
	case f.SerialNumber != "":
		return f.SerialNumber, nil
	case f.IDevIDCert != "" && f.IDevIDKey == "" && f.TPMPath == "":
		certs, err := identity.LoadCertificates(f.IDevIDCert)
		if err != nil {
			return "", fmt.Errorf("--idevid-cert: %w", err)
		}
		return client.SerialNumberOf(certs[0]), nil
	case f.TPMPath != "" || f.IDevIDKey != "":
		id, closeID, err := f.Load(ctx, log)
		if err != nil {
			return "", err
		}
		closeID()
		return id.SerialNumber, nil
	}
	return "", nil
}
