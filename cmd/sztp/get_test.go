package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

// Issue 2 item 9: `sztp get --url URL --json` prints the decoded response.
func TestGetJSON(t *testing.T) {
	d := newTestDevice(t, "GET-0001")
	s, files := d.server, d.files
	s.SetResponse("GET-0001", &sztptest.Response{ReportingLevel: conveyed.Verbose, Conveyed: &conveyed.ConveyedInformation{
		Redirect: &conveyed.RedirectInformation{BootstrapServers: []conveyed.BootstrapServer{{Address: "sztp.example", Port: 8443}}}}})
	base := append([]string{"get", "--url", s.URL, "--config", "", "--cmdline-file", ""}, d.identity()...)
	for _, tc := range []struct {
		anchors []string
		trusted bool
	}{{[]string{"--server-trust-anchor", files["ca.pem"]}, true}, {nil, false}} {
		out, errOut, code := runSztp(t, append(append(base, "--json"), tc.anchors...)...)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		var rep getReport
		if err := json.Unmarshal([]byte(out), &rep); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if rep.Trusted != tc.trusted || rep.ReportingLevel != "verbose" || rep.Signed || rep.ValidationError != "" {
			t.Errorf("report %+v", rep)
		}
		if !strings.Contains(string(rep.ConveyedInformation), `"sztp.example"`) {
			t.Errorf("conveyed-information %s", rep.ConveyedInformation)
		}
	}
	out, _, code := runSztp(t, append(base, "--server-trust-anchor", filepath.Join(d.dir, "ca.pem"))...)
	if code != 0 || !strings.Contains(out, "trusted: true") || !strings.Contains(out, "sztp.example") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
	if len(s.Reports()) != 0 {
		t.Error("sztp get sent progress reports")
	}
}

// `sztp get` validates signed data (voucher bound to the nonce it sent) and
// says who the owner is; with the wrong voucher anchor it exits 1 naming the
// failed step.
func TestGetSigned(t *testing.T) {
	d := newTestDevice(t, "GET-0002")
	s, files := d.server, d.files
	owner, voucherCA := newOwner(t, d.dir)
	s.SetResponse("GET-0002", &sztptest.Response{Build: sztptest.Signed(&conveyed.ConveyedInformation{
		Redirect: &conveyed.RedirectInformation{BootstrapServers: []conveyed.BootstrapServer{{Address: "next.example"}}}},
		sztptest.SignedOptions{PKI: owner, Serial: "GET-0002", Nonce: true})})
	base := append([]string{"get", "--json", "--url", s.URL, "--config", "", "--cmdline-file", ""}, d.identity()...)
	out, errOut, code := runSztp(t, append(base, "--voucher-trust-anchor", voucherCA)...)
	var rep getReport
	if code != 0 || json.Unmarshal([]byte(out), &rep) != nil {
		t.Fatalf("exit %d: %s\n%s", code, out, errOut)
	}
	if !rep.Signed || rep.Owner == "" || !rep.OwnershipVoucher || !strings.Contains(string(rep.ConveyedInformation), "next.example") {
		t.Errorf("report %+v", rep)
	}
	out, _, code = runSztp(t, append(base, "--voucher-trust-anchor", files["ca.pem"])...)
	if code != 1 || !strings.Contains(out, "voucher-signature") {
		t.Errorf("wrong anchor: exit %d\n%s", code, out)
	}
}
