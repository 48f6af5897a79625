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
	dir := t.TempDir()
	p, err := sztptest.NewPKI("GET-0001")
	if err != nil {
		t.Fatal(err)
	}
	files, err := p.WriteFiles(dir)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sztptest.NewServer(sztptest.Options{Certificate: p.Server.TLS(), ClientCAs: p.ClientCAs()})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	s.SetResponse("GET-0001", &sztptest.Response{ReportingLevel: conveyed.Verbose, Conveyed: &conveyed.ConveyedInformation{
		Redirect: &conveyed.RedirectInformation{BootstrapServers: []conveyed.BootstrapServer{{Address: "sztp.example", Port: 8443}}}}})
	base := []string{"get", "--url", s.URL, "--idevid-cert", files["device.pem"], "--idevid-key", files["device.key"],
		"--config", "", "--cmdline-file", ""}
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
	out, _, code := runSztp(t, append(base, "--server-trust-anchor", filepath.Join(dir, "ca.pem"))...)
	if code != 0 || !strings.Contains(out, "trusted: true") || !strings.Contains(out, "sztp.example") {
		t.Errorf("text output (exit %d):\n%s", code, out)
	}
	if len(s.Reports()) != 0 {
		t.Error("sztp get sent progress reports")
	}
}
