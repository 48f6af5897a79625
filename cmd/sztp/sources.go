package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/dhcpopts"
)

// sources lists where `sztp run` looks for bootstrap servers, local before
// remote (C6): removable storage, DHCP lease files, then live DHCP, then
// DNS (RFC 8572 4.2, with the domain and name servers of this pass's
// leases), then the configured servers (--bootstrap-url, sztp.url=,
// bootstrap-url in the config file).
// Live DHCP runs when asked for with --dhcp, and by default when nothing
// else is configured. URIs from DHCP are untrusted: their servers are
// contacted provisionally and can only give signed data or redirect
// information (C90).
func (f *runFlags) sources(changed func(string) bool, log *slog.Logger) ([]client.Source, error) {
	dhcpSet := changed("dhcp")
	var srcs []client.Source
	if f.removable.path != "" {
		srcs = append(srcs, f.removable.source(&f.serial, log))
	}
	book := &leaseBook{}
	if len(f.leaseFiles) > 0 {
		files := f.leaseFiles
		srcs = append(srcs, client.FuncSource{Label: "lease-file", Func: func(context.Context) ([]client.Candidate, error) {
			var leases []dhcpopts.Lease
			var errs []error
			paths := files
			if len(paths) == 1 && paths[0] == "auto" {
				paths = dhcpopts.FindLeaseFiles()
				if len(paths) == 0 {
					return nil, errors.New("no DHCP client lease files found")
				}
			}
			for _, p := range paths {
				ls, err := dhcpopts.ReadLeaseFile(p)
				if err != nil {
					errs = append(errs, err)
					continue
				}
				for i, l := range ls {
					if f.dhcpTextURIs {
						l = l.WithTextURIs()
						ls[i] = l
					}
					for _, w := range l.Warnings {
						log.Warn("dhcp: "+w, "interface", l.Interface, "family", l.Family, "lease-file", p)
					}
				}
				leases = append(leases, ls...)
			}
			book.add(leases)
			cands, err := leaseCandidates(leases, f.interfaces, log)
			if err != nil {
				return nil, errors.Join(append(errs, err)...)
			}
			return cands, nil
		}})
	}
	if f.dhcp || (!dhcpSet && len(f.urls) == 0 && len(f.leaseFiles) == 0) {
		cfg := dhcpopts.Config{Interfaces: f.interfaces, Configure: !f.dhcpNoConfigure, ResolvConf: f.resolvConf, Logger: log, TextURIs: f.dhcpTextURIs}
		timeout := f.dhcpTimeout
		srcs = append(srcs, client.FuncSource{Label: "dhcp", Func: func(ctx context.Context) ([]client.Candidate, error) {
			if timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, timeout)
				defer cancel()
			}
			leases, err := dhcpopts.Discover(ctx, cfg)
			book.add(leases)
			if err != nil {
				return nil, err
			}
			return leaseCandidates(leases, nil, log)
		}})
	}
	if f.dnsOpts.enabled(changed, f.urls) {
		srcs = append(srcs, f.dnsSource(&f.serial, book, log))
	}
	if len(f.urls) > 0 {
		srcs = append(srcs, client.URLSource{Label: "bootstrap-url", URLs: f.urls, Mode: client.Opportunistic})
	}
	if len(srcs) == 0 {
		return nil, usagef("no bootstrap server: give --bootstrap-url, sztp.url= on the kernel command line, bootstrap-url in %s, --dhcp, --lease-file, --dns or --removable-storage", f.configFile)
	}
	return srcs, nil
}

// leaseCandidates turns the URIs of leases (of the given links, or all)
// into provisional candidates, in order, without duplicates. (The leases'
// warnings were logged where they were read.)
func leaseCandidates(leases []dhcpopts.Lease, links []string, log *slog.Logger) ([]client.Candidate, error) {
	var out []client.Candidate
	seen := map[string]bool{}
	for _, l := range leases {
		if len(links) > 0 && l.Interface != "" && !slices.Contains(links, l.Interface) {
			continue
		}
		for _, u := range l.URIs {
			if seen[u] {
				continue
			}
			seen[u] = true
			log.Info("bootstrap server from DHCP", "uri", u, "interface", l.Interface, "family", l.Family, "source", l.Source)
			out = append(out, client.Candidate{URL: u, Mode: client.Provisional})
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("no DHCP lease carried an SZTP option (143/136) with a usable URI (%d leases)", len(leases))
	}
	return out, nil
}
