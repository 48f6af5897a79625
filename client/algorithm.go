package client

import (
	"bytes"
	"context"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"net/url"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/trust"
)

// Errors of the RFC 8572 section 5.3 algorithm.
var (
	// ErrRedirectDepth: redirect information beyond the recursion limit (C19).
	ErrRedirectDepth = errors.New("redirect recursion limit reached")
	// ErrUntrustedOnboarding: onboarding information while trust-state is
	// FALSE is never acted on (C17, C18, C51).
	ErrUntrustedOnboarding = errors.New("onboarding information from an untrusted source is not acted on")
	// ErrRejected: the bootstrapping data did not validate (C16).
	ErrRejected = errors.New("bootstrapping data rejected")
	// ErrTooManyConnections: one candidate, through its redirects, made
	// Config.MaxConnections connections without a bootstrap.
	ErrTooManyConnections = errors.New("too many bootstrap server connections for one source (redirect loop?)")
)

// attempt is the per-source state of the recursive algorithm (RFC 8572 5.3:
// trust-state, depth and the nonce sent are explicit).
type attempt struct {
	a          *Agent
	source     string
	trustState bool
	// connections counts the servers dialled, redirects included.
	connections int
	// csr is the RFC 9646 exchange with the current server (csr.go).
	csr csrState
}

// candidate runs the algorithm for one candidate of a source. C8:
// trust-state is FALSE at its start, whatever an earlier candidate of the
// source left (a trusted server whose onboarding then failed); the
// connection count restarts too.
func (at *attempt) candidate(ctx context.Context, c Candidate) (*Outcome, error) {
	at.trustState = false // C8
	at.connections = 0
	if c.Artifacts != nil {
		return at.data(ctx, nil, *c.Artifacts, nil, "", 0)
	}
	base, err := ServerURL(c.URL)
	if err != nil {
		return nil, err
	}
	var anchors []*x509.Certificate
	if c.Mode != Provisional {
		anchors = at.a.cfg.ServerTrustAnchors
	}
	return at.server(ctx, base, c.Mode, anchors, 0)
}

// addresses returns the ip:port pairs to try for base (C46: every address of
// a host name, in order).
func (at *attempt) addresses(ctx context.Context, base *url.URL) ([]string, error) {
	host, port := base.Hostname(), base.Port()
	if port == "" {
		port = "443"
	}
	if net.ParseIP(host) != nil {
		return []string{net.JoinHostPort(host, port)}, nil
	}
	ips, err := at.a.cfg.LookupHost(ctx, host)
	if err != nil {
		return nil, fmt.Errorf("resolving %s: %w", host, err)
	}
	if len(ips) == 0 {
		return nil, fmt.Errorf("resolving %s: no addresses", host)
	}
	out := make([]string, len(ips))
	for i, ip := range ips {
		out[i] = net.JoinHostPort(ip, port)
	}
	return out, nil
}

// server processes one bootstrap server: connect, authenticate, POST
// get-bootstrapping-data, then process what it returned.
func (at *attempt) server(ctx context.Context, base *url.URL, mode TLSMode, anchors []*x509.Certificate, depth int) (*Outcome, error) {
	a := at.a
	addrs, err := at.addresses(ctx, base)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, addr := range addrs {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		if at.connections >= a.cfg.MaxConnections {
			return nil, fmt.Errorf("%w (%d)", ErrTooManyConnections, a.cfg.MaxConnections)
		}
		at.connections++
		conn, err := a.dial(ctx, base, addr, mode, anchors)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		// C9/C10: trusted only when authenticated with identity checks;
		// a provisional connection sets trust-state FALSE (C48, C49).
		at.trustState = conn.Trusted()
		at.csr = csrState{}
		a.log.Info("connected to bootstrap server", "server", base.Host, "address", addr, "trusted", conn.Trusted(), "mode", mode.String(), "depth", depth)
		in, err := at.input(conn)
		if err != nil {
			conn.Close()
			return nil, err
		}
		out, err := conn.GetBootstrappingData(ctx, in)
		out, in, err = at.csrExchange(ctx, conn, in, out, err)
		if err != nil {
			conn.Close()
			a.noteRetryAfter(err, conn.Trusted())
			errs = append(errs, err)
			continue
		}
		// C46: an address returned data; process it and skip the others.
		res, err := at.data(ctx, conn, artifactsOf(out), in.Nonce, out.ReportingLevel, depth)
		conn.Close()
		return res, err
	}
	return nil, errors.Join(errs...)
}

// dial connects to one address of a bootstrap server with the agent's
// identity, credentials, encoding and limits.
func (a *Agent) dial(ctx context.Context, base *url.URL, addr string, mode TLSMode, anchors []*x509.Certificate) (*Conn, error) {
	return Dial(ctx, base, addr, ConnConfig{
		Identity: a.cfg.Identity, Mode: mode, Anchors: anchors, Password: a.cfg.Password,
		Encoding: a.cfg.Encoding, MaxSize: a.cfg.MaxResponseSize, Timeouts: a.cfg.Timeouts, Logger: a.log,
		Sessions: a.sessions.get(addr, base.Hostname(), mode, anchors),
	})
}

// input builds the get-bootstrapping-data input: an untrusted server gets
// only signed-data-preferred and the nonce (C54, C55).
func (at *attempt) input(conn *Conn) (*conveyed.GetBootstrappingDataInput, error) {
	nonce, err := NewNonce()
	if err != nil {
		return nil, err
	}
	in := &conveyed.GetBootstrappingDataInput{Nonce: nonce}
	if conn.Trusted() {
		in.HWModel, in.OSName, in.OSVersion = at.a.cfg.HWModel, at.a.cfg.OSName, at.a.cfg.OSVersion
		at.csrSupport(conn, in)
	} else {
		in.SignedDataPreferred = true
	}
	return in, nil
}

// data processes bootstrapping data (RFC 8572 5.3). conn is nil for data that
// did not come from a bootstrap server.
func (at *attempt) data(ctx context.Context, conn *Conn, art trust.Artifacts, nonce []byte, level conveyed.ReportingLevel, depth int) (*Outcome, error) {
	a := at.a
	res, err := a.open(ctx, art, nonce)
	if err != nil {
		// C16: signed data that fails validation sets trust-state FALSE,
		// even over a trusted connection, and is not acted on.
		at.trustState = false
		return nil, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	if res.Signed {
		at.trustState = true // C15
		attrs := []any{"owner", subjectOf(res.OwnerCertificate), "encrypted", res.Encrypted, "clock-checks-skipped", res.ClockSkipped}
		if v := res.Voucher; v != nil {
			attrs = append(attrs, "voucher-serial-number", v.SerialNumber, "assertion", v.Assertion, "nonce-bound", v.Nonce != nil)
		}
		a.log.Info("signed data validated: voucher, owner certificate and signature", attrs...)
	} else if res.Encrypted {
		a.log.Info("encrypted unsigned data decrypted")
	}
	enc, err := contentEncoding(res)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrRejected, err)
	}
	ci, err := conveyed.Decode(res.Content, enc)
	if err != nil {
		if conn != nil && conn.Trusted() && at.trustState && bytes.Contains(res.Content, []byte("onboarding-information")) {
			// C68: a parse error of onboarding information from a
			// trusted server is reported.
			r := at.newReporter(conn, level)
			r.send(ctx, conveyed.BootstrapInitiated, "")
			r.send(ctx, conveyed.ParsingError, err.Error())
		}
		return nil, fmt.Errorf("parsing conveyed information: %w", err)
	}
	switch {
	case ci.Redirect != nil:
		if err := a.measureArtifacts(ctx, art.OwnershipVoucher, art.OwnerCertificate, art.ConveyedInformation); err != nil {
			return nil, err
		}
		return at.redirect(ctx, ci.Redirect, depth)
	case ci.Onboarding != nil:
		if !at.trustState {
			why := "it is not signed data, and it did not come from a bootstrap server"
			if conn != nil {
				why = "it is not signed data, and the server was contacted provisionally (its certificate was not authenticated to a server trust anchor, or it was learned from an untrusted source)"
			}
			return nil, fmt.Errorf("%w: %s", ErrUntrustedOnboarding, why)
		}
		if err := a.measureArtifacts(ctx, art.OwnershipVoucher, art.OwnerCertificate, art.ConveyedInformation); err != nil {
			return nil, err
		}
		return at.onboard(ctx, conn, level, ci.Onboarding, res.Signed)
	}
	return nil, errors.New("conveyed information is neither redirect nor onboarding information")
}

func artifactsOf(out *conveyed.GetBootstrappingDataOutput) trust.Artifacts {
	return trust.Artifacts{ConveyedInformation: out.ConveyedInformation, OwnerCertificate: out.OwnerCertificate, OwnershipVoucher: out.OwnershipVoucher}
}

// open decrypts and validates artifacts with the device's keys and anchors;
// nonce is the one the request sent (nil for data not from a server); ctx
// bounds the key operations of decryption.
func (a *Agent) open(ctx context.Context, art trust.Artifacts, nonce []byte) (*trust.Result, error) {
	id := a.cfg.Identity
	return a.cfg.Open(art, trust.Options{
		VoucherAnchors: a.cfg.VoucherTrustAnchors,
		SerialNumber:   id.SerialNumber,
		IDevID:         id.Certificate,
		Nonce:          nonce,
		Decrypter:      id.Decrypter,
		ECDH:           id.ECDH,
		Now:            a.cfg.Clock.Now,
		ClockUntrusted: a.cfg.ClockUntrusted,
		Assertions:     a.cfg.Assertions,
		Logger:         a.log,
		Context:        ctx,
	})
}

func contentEncoding(res *trust.Result) (conveyed.Encoding, error) {
	switch {
	case res.ContentType.Equal(trust.OIDSZTPConveyedInfoXML):
		return conveyed.XML, nil
	case res.ContentType.Equal(trust.OIDSZTPConveyedInfoJSON):
		return conveyed.JSON, nil
	}
	return conveyed.Sniff(res.Content)
}

func subjectOf(c *x509.Certificate) string {
	if c == nil {
		return ""
	}
	return c.Subject.String()
}

// redirect walks the bootstrap servers in order (C45) with the trust rules
// of RFC 8572 5.5.
func (at *attempt) redirect(ctx context.Context, ri *conveyed.RedirectInformation, depth int) (*Outcome, error) {
	a := at.a
	if depth >= a.cfg.MaxRedirectDepth {
		return nil, fmt.Errorf("%w (%d)", ErrRedirectDepth, a.cfg.MaxRedirectDepth)
	}
	trusted := at.trustState
	a.log.Info("following redirect information", "servers", len(ri.BootstrapServers), "trusted", trusted, "depth", depth+1)
	var errs []error
	for _, bs := range ri.BootstrapServers {
		base := ServerURLFor(bs.Address, bs.EffectivePort())
		mode, anchors := Provisional, []*x509.Certificate(nil)
		switch {
		case trusted && len(bs.TrustAnchor) > 0:
			// C47, RFC 8572 6.1: the last certificate of the chain is the
			// issuer the server must authenticate to, not the root.
			issuer, _, err := trust.TrustAnchor(bs.TrustAnchor)
			if err != nil {
				errs = append(errs, fmt.Errorf("%s: trust-anchor: %w", base.Host, err))
				continue
			}
			mode, anchors = Verify, []*x509.Certificate{issuer}
		case trusted:
			a.log.Info("trusted redirect entry without trust-anchor: connecting provisionally (C48)", "server", base.Host)
		case len(bs.TrustAnchor) > 0:
			a.log.Info("untrusted redirect information: discarding its trust-anchor (C49)", "server", base.Host)
		}
		at.trustState = trusted
		out, err := at.server(ctx, base, mode, anchors, depth+1)
		if err == nil {
			return out, nil
		}
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		if errors.Is(err, ErrTooManyConnections) {
			return nil, err
		}
		a.log.Warn("redirect target failed; trying the next", "server", base.Host, "err", err)
		errs = append(errs, fmt.Errorf("%s: %w", base.Host, err))
	}
	return nil, fmt.Errorf("redirect information: no bootstrap server succeeded: %w", errors.Join(errs...))
}
