package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/dnssrc/dnstest"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

const dnsZoneHead = `$ORIGIN example.test.
$TTL 60
@ IN SOA ns.example.test. admin.example.test. 1 3600 600 86400 60
@ IN NS ns.example.test.
ns IN A 127.0.0.1
`

func onboardingDoc(t *testing.T, config string) []byte {
	t.Helper()
	doc, err := (&conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte(config),
	}}).Encode(conveyed.JSON)
	if err != nil {
		t.Fatal(err)
	}
	return doc
}

func txtRecords(serial string, a trust.Artifacts) string {
	var b strings.Builder
	for _, kv := range []struct {
		k string
		v []byte
	}{{"ci", a.ConveyedInformation}, {"oc", a.OwnerCertificate}, {"ov", a.OwnershipVoucher}} {
		if kv.v != nil {
			fmt.Fprintf(&b, "%s._sztp IN TXT %s\n", serial, dnstest.TXT(kv.k, kv.v))
		}
	}
	return b.String()
}

// Issue 11: a signed bootstrap through a DNS TXT record served by NSD ends
// with success (C92, C93, C95: the signed artifacts are larger than a UDP
// answer); the data is validated for the device's serial number (RFC 8572
// 5.4) and no server is contacted. The DNS settings come from the kernel
// command line, and the first name server does not answer: after its query
// timeout the second is asked.
func TestRunFromDNSTXT(t *testing.T) {
	const serial = "DNS-1"
	d := newTestDevice(t, serial)
	owner, voucherCA := newOwner(t, d.dir)
	a, err := owner.Artifacts(onboardingDoc(t, "from-dns\n"), trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: serial})
	if err != nil {
		t.Fatal(err)
	}
	addr := dnstest.NSD(t, "example.test", dnsZoneHead+txtRecords(serial, a))
	cfg := filepath.Join(d.dir, "CFG")
	// The DNS settings come from the kernel command line; the first name
	// server never answers.
	silent, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	cmdline := filepath.Join(d.dir, "cmdline")
	os.WriteFile(cmdline, []byte("ro sztp.dhcp=false sztp.no-mdns sztp.dns-server="+silent.LocalAddr().String()+","+addr+" sztp.dns-domain=example.test\n"), 0o600)
	out, errOut, code := runSztp(t, append([]string{"run"}, append(d.identity(), "--once",
		"--voucher-trust-anchor", voucherCA, "--state-dir", filepath.Join(d.dir, "state"),
		"--dns-query-timeout", "2s",
		"--config-hook", "file:"+cfg, "--config", "", "--cmdline-file", cmdline, "--os-release", "")...)...)
	if code != 0 || strings.TrimSpace(out) != "success" {
		t.Fatalf("exit %d, stdout %q\n%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(cfg); string(data) != "from-dns\n" {
		t.Errorf("config %q", data)
	}
}

// Issue 11: DNS is untrusted (C93, C94). Unsigned onboarding information in
// a TXT record is refused with an error that says why, and so is unsigned
// onboarding information from a server learned from SRV records, which is
// contacted provisionally (signed-data-preferred, no progress reports).
func TestRunDNSUntrustedOnboardingRefused(t *testing.T) {
	const serial = "DNS-2"
	d := newTestDevice(t, serial)
	_, voucherCA := newOwner(t, d.dir)
	ci, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, onboardingDoc(t, "unsigned\n"))
	if err != nil {
		t.Fatal(err)
	}
	d.server.SetResponse(serial, &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("unsigned from server\n"),
	}}})
	u, err := url.Parse(d.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	zone := dnsZoneHead + txtRecords(serial, trust.Artifacts{ConveyedInformation: ci}) +
		fmt.Sprintf("_sztp._tcp IN SRV 10 0 %s %s.\n", u.Port(), u.Hostname())
	addr := dnstest.NSD(t, "example.test", zone)
	cfg := filepath.Join(d.dir, "CFG")
	out, errOut, code := runSztp(t, append([]string{"run"}, append(d.identity(), "--once", "--dhcp=false", "--no-mdns",
		"--dns-server", addr, "--dns-domain", "example.test",
		"--voucher-trust-anchor", voucherCA, "--state-dir", filepath.Join(d.dir, "state"),
		"--config-hook", "file:"+cfg, "--config", "", "--cmdline-file", "", "--os-release", "")...)...)
	if code != exitFailure {
		t.Fatalf("exit %d, want 1\n%s\n%s", code, out, errOut)
	}
	if _, err := os.Stat(cfg); err == nil {
		t.Error("unsigned onboarding information from DNS was acted on")
	}
	for _, want := range []string{
		"it is not signed data, and it did not come from a bootstrap server",
		"it is not signed data, and the server was contacted provisionally",
	} {
		if !strings.Contains(errOut, want) {
			t.Errorf("the error does not say %q:\n%s", want, errOut)
		}
	}
	if reqs := d.server.Requests(); len(reqs) != 1 || !reqs[0].GBD.SignedDataPreferred {
		t.Errorf("requests to the SRV-learned server %+v, want one with signed-data-preferred", reqs)
	}
	if r := d.server.Reports(); len(r) != 0 {
		t.Errorf("progress reports to an untrusted server: %v", r)
	}
}

// Issue 11 item 4: `sztp dns --json` against NSD prints the TXT and SRV
// records (golden file); without usable records it exits 1.
func TestDNSCommandJSON(t *testing.T) {
	owner, err := trusttest.New()
	if err != nil {
		t.Fatal(err)
	}
	a, err := owner.Artifacts(onboardingDoc(t, "x\n"), trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: "DNS-3"})
	if err != nil {
		t.Fatal(err)
	}
	zone := dnsZoneHead + txtRecords("DNS-3", a) +
		"_sztp._tcp IN SRV 20 0 8443 b.example.test.\n_sztp._tcp IN SRV 10 0 443 a.example.test.\n"
	addr := dnstest.NSD(t, "example.test", zone)
	// A child process, so that the log (stderr) shows the TCP fallback.
	cmd := sztpProcess(t, t.TempDir(), "dns", "--json", "--serial-number", "DNS-3", "--dns-server", addr, "--dns-domain", "example.test", "--no-mdns")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("%v\n%s", err, stderr.String())
	}
	out := stdout.String()
	var got []dnsResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	golden(t, "dns.json", out)
	if !strings.Contains(stderr.String(), "asked again over TCP") {
		t.Errorf("log does not show the TCP fallback:\n%s", stderr.String())
	}
	_, _, code := runSztp(t, "dns", "--json", "--serial-number", "DNS-3", "--dns-server", addr, "--dns-domain", "other.test", "--no-mdns", "--timeout", "30s")
	if code != exitFailure {
		t.Errorf("no records: exit %d, want 1", code)
	}
}

// golden compares out with testdata/name (-update rewrites it).
func golden(t *testing.T, name, out string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *updateGolden {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if string(want) != out {
		t.Errorf("output differs from %s:\n%s\nwant:\n%s", path, out, want)
	}
}

// Issue 11 (C94): SRV records are tried in priority order; the first
// target's port is closed, the second serves signed onboarding information
// (bound to the request's nonce) and the bootstrap succeeds. Both target
// names resolve only through the DNS source's name server (NSD), and the
// untrusted server gets no progress report.
func TestRunFromDNSSRV(t *testing.T) {
	const serial = "DNS-4"
	d := newTestDevice(t, serial)
	owner, voucherCA := newOwner(t, d.dir)
	d.server.SetResponse(serial, &sztptest.Response{Build: sztptest.Signed(&conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("from-srv\n"),
	}}, sztptest.SignedOptions{PKI: owner, Serial: serial, Nonce: true})})
	u, err := url.Parse(d.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	closed := freeTCPPort(t)
	zone := dnsZoneHead + fmt.Sprintf(`_sztp._tcp IN SRV 20 0 %s boot.example.test.
_sztp._tcp IN SRV 10 0 %d dead.example.test.
boot IN A %s
dead IN A 127.0.0.1
`, u.Port(), closed, u.Hostname())
	addr := dnstest.NSD(t, "example.test", zone)
	cfg := filepath.Join(d.dir, "CFG")
	out, errOut, code := runSztp(t, append([]string{"run"}, append(d.identity(), "--once", "--dhcp=false", "--no-mdns",
		"--dns-server", addr, "--dns-domain", "example.test",
		"--voucher-trust-anchor", voucherCA, "--state-dir", filepath.Join(d.dir, "state"),
		"--config-hook", "file:"+cfg, "--config", "", "--cmdline-file", "", "--os-release", "")...)...)
	if code != 0 || strings.TrimSpace(out) != "success" {
		t.Fatalf("exit %d, stdout %q\n%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(cfg); string(data) != "from-srv\n" {
		t.Errorf("config %q", data)
	}
	if reqs := d.server.Requests(); len(reqs) != 1 || !reqs[0].GBD.SignedDataPreferred {
		t.Errorf("requests %+v", reqs)
	}
	if r := d.server.Reports(); len(r) != 0 {
		t.Errorf("reports to an untrusted server: %v", r)
	}
}

// freeTCPPort returns a loopback port nothing listens on.
func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Issue 11 (C93): unsigned redirect information in a TXT record is acted on:
// its server is contacted provisionally (any trust anchor in it dropped)
// and its signed onboarding information bootstraps the device.
func TestRunDNSTXTUnsignedRedirect(t *testing.T) {
	const serial = "DNS-5"
	d := newTestDevice(t, serial)
	owner, voucherCA := newOwner(t, d.dir)
	d.server.SetResponse(serial, &sztptest.Response{Build: sztptest.Signed(&conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("via-txt-redirect\n"),
	}}, sztptest.SignedOptions{PKI: owner, Serial: serial, Nonce: true})})
	u, err := url.Parse(d.server.URL)
	if err != nil {
		t.Fatal(err)
	}
	port, err := strconv.Atoi(u.Port())
	if err != nil {
		t.Fatal(err)
	}
	doc, err := (&conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{BootstrapServers: []conveyed.BootstrapServer{
		{Address: u.Hostname(), Port: uint16(port)},
	}}}).Encode(conveyed.JSON)
	if err != nil {
		t.Fatal(err)
	}
	ci, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, doc)
	if err != nil {
		t.Fatal(err)
	}
	addr := dnstest.NSD(t, "example.test", dnsZoneHead+txtRecords(serial, trust.Artifacts{ConveyedInformation: ci}))
	cfg := filepath.Join(d.dir, "CFG")
	out, errOut, code := runSztp(t, append([]string{"run"}, append(d.identity(), "--once", "--dhcp=false", "--no-mdns",
		"--dns-server", addr, "--dns-domain", "example.test",
		"--voucher-trust-anchor", voucherCA, "--state-dir", filepath.Join(d.dir, "state"),
		"--config-hook", "file:"+cfg, "--config", "", "--cmdline-file", "", "--os-release", "")...)...)
	if code != 0 || strings.TrimSpace(out) != "success" {
		t.Fatalf("exit %d, stdout %q\n%s", code, out, errOut)
	}
	if data, _ := os.ReadFile(cfg); string(data) != "via-txt-redirect\n" {
		t.Errorf("config %q", data)
	}
	if reqs := d.server.Requests(); len(reqs) != 1 || !reqs[0].GBD.SignedDataPreferred {
		t.Errorf("requests %+v, want one provisional (signed-data-preferred)", reqs)
	}
}
