package dhcpopts

import (
	"errors"
	"fmt"
	"log/slog"
	"net"
	"time"
)

// Config says how [Discover] gets leases.
type Config struct {
	// Interfaces are the links to use; empty means every link that is not
	// loopback or point-to-point and has a hardware address.
	Interfaces []string
	// IPv4 and IPv6 select DHCPv4 and DHCPv6; if neither is set, both run.
	IPv4, IPv6 bool
	// Configure applies each lease's address and routes to its link and
	// writes ResolvConf when a lease has name servers, so that the
	// bootstrap server can be reached (what an initramfs needs). Links are
	// brought up either way.
	Configure bool
	// Timeout is the wait for the first reply of each exchange; it doubles
	// on every retry. Default 3 s.
	Timeout time.Duration
	// Retries is the number of attempts per exchange. Default 3.
	Retries int
	// LinkTimeout bounds the wait for carrier and for the IPv6 link-local
	// address. Default 10 s.
	LinkTimeout time.Duration
	// ResolvConf is the resolver file written when configuring. Default
	// /etc/resolv.conf.
	ResolvConf string
	// Logger receives progress and warnings; nil is silent.
	Logger *slog.Logger
	// TextURIs accepts plain-text option values ([Lease.WithTextURIs];
	// sztp --dhcp-text-uris). Off, they are ignored with a warning (C88).
	TextURIs bool
}

// ErrNoLease is returned by Discover when no link got a lease.
var ErrNoLease = errors.New("no dhcp lease")

func (c Config) withDefaults() Config {
	if !c.IPv4 && !c.IPv6 {
		c.IPv4, c.IPv6 = true, true
	}
	if c.Timeout <= 0 {
		c.Timeout = 3 * time.Second
	}
	if c.Retries <= 0 {
		c.Retries = 3
	}
	if c.LinkTimeout <= 0 {
		c.LinkTimeout = 10 * time.Second
	}
	if c.ResolvConf == "" {
		c.ResolvConf = "/etc/resolv.conf"
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return c
}

// Links returns the links Discover uses by default: not loopback, not
// point-to-point, with a hardware address of at least 6 octets.
func Links() ([]string, error) {
	ifs, err := net.Interfaces()
	if err != nil {
		return nil, fmt.Errorf("listing links: %w", err)
	}
	var names []string
	for _, ifi := range ifs {
		if ifi.Flags&(net.FlagLoopback|net.FlagPointToPoint) != 0 || len(ifi.HardwareAddr) < 6 {
			continue
		}
		names = append(names, ifi.Name)
	}
	return names, nil
}
