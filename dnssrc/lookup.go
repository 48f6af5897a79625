package dnssrc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strings"
	"sync/atomic"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sztp/sztp/trust"
)

// Defaults and caps of a lookup.
const (
	DefaultQueryTimeout = 3 * time.Second
	// DefaultMDNSTimeout is how long a multicast query collects answers:
	// mDNS responders stay silent when they have no record, so this is
	// spent in full whenever nothing is published.
	DefaultMDNSTimeout = time.Second
	// MaxDomains and MaxServers cap the unicast domains and name servers
	// asked.
	MaxDomains = 8
	MaxServers = 8
)

// Sources of a Record.
const (
	SourceMDNS    = "mdns"
	SourceUnicast = "unicast"
)

// Config says whom to ask about which device.
type Config struct {
	// SerialNumber names the device-specific TXT record; it must be one
	// DNS label (1 to 63 octets, no '.'). Empty: only SRV is asked.
	SerialNumber string
	// MDNS asks multicast DNS (in the .local. domain) first.
	MDNS bool
	// Interfaces are the links mDNS is asked on (default: every up,
	// multicast-capable, non-loopback link).
	Interfaces []string
	// Domains are the unicast DNS domains, e.g. from DHCP options 15/119
	// or resolv.conf's search line; Servers the name servers (host:port).
	// Unicast DNS is asked only when both are known.
	Domains []string
	Servers []string
	// QueryTimeout bounds each query (default DefaultQueryTimeout); the
	// caller's context bounds the whole lookup.
	QueryTimeout time.Duration
	// MDNSTimeout bounds each multicast query (default DefaultMDNSTimeout).
	MDNSTimeout time.Duration
	// Rand orders SRV records of equal priority (nil: random).
	Rand   *rand.Rand
	Logger *slog.Logger
}

// Record is one usable answer: TXT artifacts or SRV bootstrap servers.
type Record struct {
	Source string // SourceMDNS or SourceUnicast
	Name   string // the owner name asked, absolute
	Type   string // "TXT" or "SRV"
	// Artifacts are the TXT record's bootstrapping data (untrusted until
	// validated).
	Artifacts *trust.Artifacts
	// Servers are the SRV record's bootstrap server URIs in RFC 2782
	// order; they are unsigned redirect information (C94).
	Servers []string
}

// Result is what a lookup found.
type Result struct {
	// Records in the order RFC 8572 4.2.1 says to use them (C91):
	// TXT over mDNS, TXT over unicast, SRV over mDNS, SRV over unicast.
	Records []Record
	// TCPFallbacks counts UDP answers that were truncated and asked again
	// over TCP (C95).
	TCPFallbacks int
}

type lookup struct {
	cfg          Config
	log          *slog.Logger
	tcpFallbacks atomic.Int64
}

// Lookup asks DNS for the device's bootstrapping data. It returns the
// records found; the error joins what went wrong when nothing was found.
func Lookup(ctx context.Context, cfg Config) (*Result, error) {
	cfg = cfg.withDefaults()
	log := cfg.Logger
	if len(cfg.Domains) > MaxDomains {
		cfg.Domains = cfg.Domains[:MaxDomains]
	}
	if len(cfg.Servers) > MaxServers {
		cfg.Servers = cfg.Servers[:MaxServers]
	}
	l := &lookup{cfg: cfg, log: log}
	res := &Result{}
	var errs []error
	unicast := len(cfg.Domains) > 0 && len(cfg.Servers) > 0
	if !cfg.MDNS && !unicast {
		return res, errors.New("neither multicast DNS nor a unicast domain and name server to ask")
	}
	type query struct {
		typ   dnsmessage.Type
		label string // the labels before the domain
	}
	// C92: TXT <serial>._sztp.<domain>. and SRV _sztp._tcp.<domain>.,
	// with local. for mDNS; C91: TXT before SRV, mDNS before unicast.
	var qs []query
	if cfg.SerialNumber != "" {
		if err := checkLabel(cfg.SerialNumber); err != nil {
			errs = append(errs, fmt.Errorf("serial number %q cannot be a DNS label: %w", cfg.SerialNumber, err))
		} else {
			qs = append(qs, query{dnsmessage.TypeTXT, cfg.SerialNumber + "._sztp."})
		}
	}
	qs = append(qs, query{dnsmessage.TypeSRV, "_sztp._tcp."})
	for _, q := range qs {
		if cfg.MDNS {
			name, err := dnsmessage.NewName(q.label + "local.")
			if err != nil {
				errs = append(errs, err)
			} else if rec, err := l.ask(ctx, SourceMDNS, name, q.typ); err != nil {
				errs = append(errs, err)
				if q.typ == dnsmessage.TypeSRV {
					if rec, err := l.browse(ctx, name); err != nil {
						errs = append(errs, err)
					} else {
						res.Records = append(res.Records, *rec)
					}
				}
			} else {
				res.Records = append(res.Records, *rec)
			}
		}
		if !unicast {
			continue
		}
		for _, d := range cfg.Domains {
			name, err := dnsmessage.NewName(q.label + strings.TrimSuffix(d, ".") + ".")
			if err != nil {
				errs = append(errs, fmt.Errorf("domain %q: %w", d, err))
				continue
			}
			if rec, err := l.ask(ctx, SourceUnicast, name, q.typ); err != nil {
				errs = append(errs, err)
			} else {
				res.Records = append(res.Records, *rec)
			}
		}
	}
	res.TCPFallbacks = int(l.tcpFallbacks.Load())
	if len(res.Records) == 0 {
		if len(errs) == 0 {
			errs = append(errs, errors.New("no records"))
		}
		return res, fmt.Errorf("dns: nothing usable: %w", errors.Join(errs...))
	}
	for _, err := range errs {
		log.Debug("dns: " + err.Error())
	}
	return res, nil
}

func (c Config) withDefaults() Config {
	if c.QueryTimeout <= 0 {
		c.QueryTimeout = DefaultQueryTimeout
	}
	if c.MDNSTimeout <= 0 {
		c.MDNSTimeout = DefaultMDNSTimeout
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// ask sends one question over mDNS, or to each name server in turn until one
// gives an answer (records, NXDOMAIN or no records), and decodes it.
func (l *lookup) ask(ctx context.Context, source string, name dnsmessage.Name, typ dnsmessage.Type) (*Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("%s %s: %w", typeName(typ), name, err)
	}
	var a answer
	var err error
	if source == SourceMDNS {
		a, _, err = l.mdns(ctx, name, typ)
	} else {
		var errs []error
		for _, s := range l.cfg.Servers {
			a, err = l.unicast(ctx, s, name, typ)
			if err == nil || errors.Is(err, ErrNXDomain) || errors.Is(err, ErrNoRecords) || ctx.Err() != nil {
				break
			}
			errs = append(errs, fmt.Errorf("%s: %w", s, err))
			err = errors.Join(errs...)
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s %s %s: %w", source, typeName(typ), name, err)
	}
	rec := &Record{Source: source, Name: name.String(), Type: typeName(typ)}
	if typ == dnsmessage.TypeTXT {
		if rec.Artifacts, err = ParseTXT(a.txt); err != nil {
			return nil, fmt.Errorf("%s TXT %s: %w", source, name, err)
		}
		l.log.Info("dns: bootstrapping data in TXT record", "source", source, "name", rec.Name)
		return rec, nil
	}
	for _, s := range OrderSRV(a.srv, l.cfg.Rand) {
		if u := ServerURL(s); u != "" {
			rec.Servers = append(rec.Servers, u)
		}
	}
	if len(rec.Servers) == 0 {
		return nil, fmt.Errorf("%s SRV %s: no usable target", source, name)
	}
	l.log.Info("dns: bootstrap servers in SRV records", "source", source, "name", rec.Name, "servers", rec.Servers)
	return rec, nil
}

// MaxInstances caps the DNS-SD service instances looked at.
const MaxInstances = 8

// browse is the DNS-SD form of the mDNS SRV step (RFC 6763 4): mDNS
// responders such as avahi publish a service as PTR _sztp._tcp.local. ->
// <instance>._sztp._tcp.local., with the SRV record at the instance name,
// and cannot publish an SRV record at _sztp._tcp.local. itself. The SRV
// records of the instances are ordered together (RFC 2782), and are
// unsigned redirect information like any SRV record (C94).
func (l *lookup) browse(ctx context.Context, service dnsmessage.Name) (*Record, error) {
	a, _, err := l.mdns(ctx, service, dnsmessage.TypePTR)
	if err != nil {
		return nil, fmt.Errorf("mdns PTR %s: %w", service, err)
	}
	var srvs []SRV
	var errs []error
	for i, inst := range a.ptr {
		if i == MaxInstances {
			break
		}
		if !strings.HasSuffix(strings.ToLower(inst.String()), "."+strings.ToLower(service.String())) {
			continue // an instance of another service
		}
		ia, _, err := l.mdns(ctx, inst, dnsmessage.TypeSRV)
		if err != nil {
			errs = append(errs, fmt.Errorf("mdns SRV %s: %w", inst, err))
			continue
		}
		srvs = append(srvs, ia.srv...)
	}
	rec := &Record{Source: SourceMDNS, Name: service.String(), Type: "SRV"}
	for _, s := range OrderSRV(srvs, l.cfg.Rand) {
		if u := ServerURL(s); u != "" {
			rec.Servers = append(rec.Servers, u)
		}
	}
	if len(rec.Servers) == 0 {
		return nil, fmt.Errorf("mdns DNS-SD %s: no usable SRV target: %w", service, errors.Join(errs...))
	}
	l.log.Info("dns: bootstrap servers from DNS-SD service instances", "source", SourceMDNS, "name", rec.Name, "servers", rec.Servers)
	return rec, nil
}

func checkLabel(s string) error {
	switch {
	case s == "":
		return errors.New("empty")
	case len(s) > 63:
		return errors.New("longer than 63 octets")
	case strings.ContainsAny(s, ".\\"):
		return errors.New("contains '.' or '\\'")
	}
	return nil
}

func typeName(t dnsmessage.Type) string { return strings.TrimPrefix(t.String(), "Type") }
