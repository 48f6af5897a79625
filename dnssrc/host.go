package dnssrc

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"golang.org/x/net/dns/dnsmessage"
)

// LookupHost resolves the host name of a server learned from DNS with the
// same means the lookup used: a name under .local. over multicast DNS (when
// cfg.MDNS), any other over cfg.Servers (A, then AAAA records; CNAMEs are
// not followed). It returns the addresses as strings, like
// net.Resolver.LookupHost.
func LookupHost(ctx context.Context, cfg Config, host string) ([]string, error) {
	cfg = cfg.withDefaults()
	l := &lookup{cfg: cfg, log: cfg.Logger}
	name, err := dnsmessage.NewName(strings.TrimSuffix(host, ".") + ".")
	if err != nil || !validHost(strings.TrimSuffix(host, ".")) {
		return nil, fmt.Errorf("resolving %q: not a host name", host)
	}
	mdns := strings.HasSuffix(strings.ToLower(name.String()), ".local.")
	if mdns && !cfg.MDNS {
		return nil, fmt.Errorf("resolving %s: multicast DNS is off", host)
	}
	if !mdns && len(cfg.Servers) == 0 {
		return nil, fmt.Errorf("resolving %s: no name server", host)
	}
	var out []string
	var errs []error
	for _, typ := range []dnsmessage.Type{dnsmessage.TypeA, dnsmessage.TypeAAAA} {
		var a answer
		var err error
		if mdns {
			a, _, err = l.mdns(ctx, name, typ)
		} else {
			for _, s := range cfg.Servers {
				if a, err = l.unicast(ctx, s, name, typ); err == nil || errors.Is(err, ErrNXDomain) || errors.Is(err, ErrNoRecords) {
					break
				}
			}
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", typeName(typ), err))
			continue
		}
		for _, ip := range a.ip {
			if (typ == dnsmessage.TypeA) == ip.Is4() {
				out = append(out, ip.String())
			}
		}
	}
	if len(out) == 0 {
		return nil, fmt.Errorf("resolving %s: %w", host, errors.Join(errs...))
	}
	return out, nil
}
