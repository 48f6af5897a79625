package main

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/dhcpopts"
	"github.com/sztp/sztp/dhcpopts/dhcptest"
)

// Issue 4 acceptance: a full `sztp run` that gets its bootstrap server URI
// from dnsmasq (DHCPv4 option 143, in a network namespace of its own) and
// bootstraps from sztptest. The DHCP-learned server is untrusted (C90), so
// it serves signed onboarding information, and gets no progress report.
func TestRunFromDHCP(t *testing.T) {
	n := dhcptest.New(t)
	const serial = "DHCP-SN-0007"
	p, err := sztptest.NewPKI(serial)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	owner, voucherCA := newOwner(t, dir)
	cert, err := sztptest.NewServerCert(p.ServerCA, "bootstrap", nil, []net.IP{net.IP(n.ServerV4.AsSlice())})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := n.Listen("tcp", net.JoinHostPort(n.ServerV4.String(), "0"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := sztptest.NewServer(sztptest.Options{Certificate: cert.TLS(), ClientCAs: p.ClientCAs(), Listener: ln})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetResponse(serial, &sztptest.Response{Build: sztptest.Signed(&conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("from-dhcp\n"),
	}}, sztptest.SignedOptions{PKI: owner, Serial: serial, Nonce: true})})
	opt, err := dhcpopts.Encode([]string{s.URL})
	if err != nil {
		t.Fatal(err)
	}
	n.Serve(t, dhcptest.Options{IPv4: true, Option143: opt})

	files, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "CFG")
	bin := dhcptest.Build(t, ".")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	// No --bootstrap-url: with nothing configured, run asks DHCP.
	cmd := n.Command(ctx, bin, "run", "--once", "--interface", n.ClientIf,
		"--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"],
		"--voucher-trust-anchor", voucherCA, "--state-dir", filepath.Join(dir, "state"),
		"--config-hook", "file:"+cfg, "--resolv-conf", filepath.Join(dir, "resolv.conf"),
		"--config", "", "--cmdline-file", "", "--os-release", "")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sztp run: %v\n%s\ndnsmasq:\n%s", err, out, n.Log())
	}
	if data, _ := os.ReadFile(cfg); string(data) != "from-dhcp\n" {
		t.Errorf("config %q\n%s", data, out)
	}
	reqs := s.Requests()
	if len(reqs) != 1 || reqs[0].GBD == nil || !reqs[0].GBD.SignedDataPreferred {
		t.Errorf("requests %+v, want one provisional get-bootstrapping-data", reqs)
	}
	if r := s.Reports(); len(r) != 0 {
		t.Errorf("C62: progress reports to a DHCP-learned (untrusted) server: %v", r)
	}
	if !strings.Contains(string(out), "bootstrap server from DHCP") {
		t.Errorf("output does not show the DHCP source:\n%s", out)
	}
}
