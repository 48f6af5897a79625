package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/dhcpopts"
)

// Issue 4 item 4: `sztp run --lease-file F` takes the bootstrap server from
// option 143 in an ISC dhclient lease file; the server is untrusted (C90):
// it is asked with signed-data-preferred, its signed onboarding information
// is acted on, and it gets no progress report.
func TestRunFromLeaseFile(t *testing.T) {
	const serial = "LEASE-1"
	d := newTestDevice(t, serial)
	dir, files, s := d.dir, d.files, d.server
	owner, voucherCA := newOwner(t, dir)
	s.SetResponse(serial, &sztptest.Response{Build: sztptest.Signed(&conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("from-lease\n"),
	}}, sztptest.SignedOptions{PKI: owner, Serial: serial, Nonce: true})})
	opt, err := dhcpopts.Encode([]string{s.URL})
	if err != nil {
		t.Fatal(err)
	}
	hex := make([]string, len(opt))
	for i, b := range opt {
		hex[i] = fmt.Sprintf("%x", b)
	}
	lease := filepath.Join(dir, "dhclient.eth0.leases")
	os.WriteFile(lease, []byte("lease {\n  interface \"eth0\";\n  fixed-address 192.0.2.10;\n"+
		"  option unknown-143 "+strings.Join(hex, ":")+";\n  expire 4 2036/01/03 00:00:00;\n}\n"), 0o600)
	cfg := filepath.Join(dir, "CFG")
	out, errOut, code := runSztp(t, "run", "--once", "--lease-file", lease,
		"--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"],
		"--voucher-trust-anchor", voucherCA, "--state-dir", filepath.Join(dir, "state"),
		"--config-hook", "file:"+cfg, "--config", "", "--cmdline-file", "", "--os-release", "")
	if code != 0 {
		t.Fatalf("exit %d\n%s\n%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(cfg); string(data) != "from-lease\n" {
		t.Errorf("config %q", data)
	}
	if reqs := s.Requests(); len(reqs) != 1 || !reqs[0].GBD.SignedDataPreferred {
		t.Errorf("requests %+v", reqs)
	}
	if r := s.Reports(); len(r) != 0 {
		t.Errorf("reports to an untrusted server: %v", r)
	}
}
