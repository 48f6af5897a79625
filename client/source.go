package client

import (
	"context"
	"errors"

	"github.com/sztp/sztp/trust"
)

// Source is where bootstrapping starts: flags, the kernel command line, a
// config file's well-known servers, DHCP, DNS or removable storage.
type Source interface {
	Name() string
	// Bootstrap returns the candidates of this source, in order: bootstrap
	// server URIs and/or raw bootstrapping data.
	Bootstrap(ctx context.Context) ([]Candidate, error)
}

// Candidate is one thing a source yields: a bootstrap server URI, or
// bootstrapping data read directly (removable storage, DNS TXT).
type Candidate struct {
	// URL is a bootstrap server URI (https://host[:port][/restconf]).
	URL string
	// Mode says how the server is authenticated: Opportunistic for servers
	// configured on the device (verified against the server trust anchors),
	// Provisional for URIs learned from untrusted sources (DHCP, DNS SRV:
	// C90), which can only ever yield signed data or redirect information.
	Mode TLSMode
	// Artifacts, when set instead of URL, are bootstrapping data from an
	// untrusted source (trust-state FALSE unless the data is signed).
	Artifacts *trust.Artifacts
	// Label names where Artifacts came from in logs and errors (e.g.
	// "/dev/sdb1:sztp/SN-0001").
	Label string
}

func (c Candidate) String() string {
	if c.Artifacts != nil && c.Label != "" {
		return "bootstrapping data from " + c.Label
	}
	if c.Artifacts != nil {
		return "bootstrapping data"
	}
	return c.URL
}

// URLSource yields fixed bootstrap server URIs.
type URLSource struct {
	Label string
	URLs  []string
	Mode  TLSMode
}

// Name implements Source.
func (s URLSource) Name() string { return s.Label }

// Bootstrap implements Source.
func (s URLSource) Bootstrap(context.Context) ([]Candidate, error) {
	if len(s.URLs) == 0 {
		return nil, errors.New("no bootstrap server URIs")
	}
	out := make([]Candidate, 0, len(s.URLs))
	for _, u := range s.URLs {
		if _, err := ServerURL(u); err != nil {
			return nil, err
		}
		out = append(out, Candidate{URL: u, Mode: s.Mode})
	}
	return out, nil
}

// FuncSource adapts a function (e.g. a DHCP lease lookup) to Source.
type FuncSource struct {
	Label string
	Func  func(ctx context.Context) ([]Candidate, error)
}

// Name implements Source.
func (s FuncSource) Name() string { return s.Label }

// Bootstrap implements Source.
func (s FuncSource) Bootstrap(ctx context.Context) ([]Candidate, error) {
	return s.Func(ctx)
}
