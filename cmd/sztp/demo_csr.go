//go:build sztp_demo

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/rsa"
	"crypto/x509"
	"fmt"
	"path/filepath"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/state"
)

// sztp demo --csr: the onboarding server asks for a CSR (RFC 9646), the
// agent makes a new key (in software: the demo's identity is in files) and
// a PKCS#10 request mirroring its IDevID subject, the server's CA issues an
// LDevID carried in the configuration's ietf-keystore, and a second
// bootstrap authenticates with that LDevID to a server that knows only the
// owner's CA.

func onboardingOf(d *demo) *conveyed.OnboardingInformation { return d.onb }

func (d *demo) csrSetup(onb *conveyed.OnboardingInformation) error {
	ca, err := sztptest.NewCA("demo owner LDevID CA", nil)
	if err != nil {
		return err
	}
	d.csrFlow = &sztptest.CSRFlow{CA: ca, Algorithm: client.AlgECCP256, Onboarding: onb}
	d.onboarding.SetResponse(demoSerial, &sztptest.Response{CSR: d.csrFlow})
	fmt.Fprintln(d.stdout, "csr: the onboarding server asks for a CSR (RFC 9646) and issues an LDevID from its own CA")
	return nil
}

func (d *demo) csrSecondBootstrap(ctx context.Context, first *runFlags) error {
	w := d.stdout
	issued := d.csrFlow.Issued()
	if len(issued) != 1 {
		return exitError{exitFailure, fmt.Errorf("demo: %d LDevID certificates issued, want 1", len(issued))}
	}
	c := issued[0]
	fmt.Fprintf(w, "\nLDevID enrolled: subject %s, issuer %s, key %s\n", c.Subject, c.Issuer, keyDesc(c.PublicKey))
	pool := x509.NewCertPool()
	pool.AddCert(d.csrFlow.CA.Cert)
	srv, err := sztptest.NewServer(sztptest.Options{Certificate: d.pki.Server.TLS(), ClientCAs: pool})
	if err != nil {
		return err
	}
	defer srv.Close()
	srv.SetResponse(demoSerial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("hostname demo-device\n! bootstrapped with the LDevID\n")}}})
	st, err := state.Open(first.stateDir)
	if err != nil {
		return err
	}
	if err := st.SetEnabled(true); err != nil { // re-arm run-once, as `sztp enable` does
		return err
	}
	f := *first
	f.urls = []string{srv.URL}
	f.imageHook, f.passwordFile = "", ""
	f.configHook = "file:" + filepath.Join(d.out, "running-config-ldevid.txt")
	f.ld.identity = "ldevid"
	fmt.Fprintf(w, "second bootstrap with --identity ldevid against %s (it trusts only the owner's LDevID CA)\n", srv.URL)
	cfg, closeFn, err := f.agentConfig(ctx, d.log)
	if err != nil {
		return err
	}
	defer closeFn()
	cfg.Sources = []client.Source{client.URLSource{Label: "bootstrap-url", URLs: f.urls, Mode: client.Opportunistic}}
	agent, err := client.New(cfg)
	if err != nil {
		return err
	}
	if _, err := agent.RunOnce(ctx); err != nil {
		return exitError{exitFailure, fmt.Errorf("demo: second bootstrap with the LDevID failed: %w", err)}
	}
	for _, r := range srv.Requests() {
		if r.RPC == "get-bootstrapping-data" {
			fmt.Fprintf(w, "server %s: get-bootstrapping-data from %s, authenticated by its LDevID\n", srv.Addr, r.Serial)
		}
	}
	fmt.Fprintln(w, "summary: LDevID enrolled and used; 'sztp tpm clear-ldevid' or 'sztp enable --factory-reset' removes it")
	return nil
}

func keyDesc(pub any) string {
	switch k := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECC " + k.Curve.Params().Name + " (generated in software: the demo's identity is in files)"
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", k.N.BitLen())
	}
	return fmt.Sprintf("%T", pub)
}
