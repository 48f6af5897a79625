package client

import (
	"context"
	"errors"
	"fmt"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/trust"
)

// GetResult is one get-bootstrapping-data exchange, decoded as far as it
// goes (for debugging a server with `sztp get`).
type GetResult struct {
	Server  string
	Trusted bool   // the server's certificate was authenticated
	Nonce   []byte // the nonce sent
	Output  *conveyed.GetBootstrappingDataOutput
	// Opened is the trust package's view of the artifacts (nil on error).
	Opened  *trust.Result
	OpenErr error
	// Conveyed is the decoded conveyed information (nil on error).
	Conveyed  *conveyed.ConveyedInformation
	DecodeErr error
}

// Get makes one get-bootstrapping-data call to rawURL with the agent's
// identity and anchors, and validates and decodes the answer without acting
// on it. It returns an error only when no answer was obtained.
func (a *Agent) Get(ctx context.Context, rawURL string) (*GetResult, error) {
	base, err := ServerURL(rawURL)
	if err != nil {
		return nil, err
	}
	at := &attempt{a: a, source: "get"}
	addrs, err := at.addresses(ctx, base)
	if err != nil {
		return nil, err
	}
	var errs []error
	for _, addr := range addrs {
		conn, err := a.dial(ctx, base, addr, Opportunistic, a.cfg.ServerTrustAnchors)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		defer conn.Close()
		in, err := at.input(conn)
		if err != nil {
			return nil, err
		}
		out, err := conn.GetBootstrappingData(ctx, in)
		if err != nil {
			return nil, err
		}
		r := &GetResult{Server: base.Host, Trusted: conn.Trusted(), Nonce: in.Nonce, Output: out}
		r.Opened, r.OpenErr = a.open(ctx, artifactsOf(out), in.Nonce)
		if r.OpenErr != nil {
			return r, nil
		}
		enc, err := contentEncoding(r.Opened)
		if err != nil {
			r.DecodeErr = err
			return r, nil
		}
		r.Conveyed, r.DecodeErr = conveyed.Decode(r.Opened.Content, enc)
		return r, nil
	}
	return nil, fmt.Errorf("get-bootstrapping-data: %w", errors.Join(errs...))
}
