package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/dhcpopts"
	"github.com/sztp/sztp/dhcpopts/dhcptest"
)

var dhcpTestURIs = []string{"https://198.51.100.7:8443", "https://bootstrap.example.com"}

// runCLI runs the sztp command line in-process and returns stdout and the
// exit code run would give.
func runCLI(t *testing.T, args ...string) (string, int) {
	t.Helper()
	root := newRoot()
	var out bytes.Buffer
	root.SetOut(&out)
	root.SetErr(&out)
	root.SetArgs(args)
	err := root.ExecuteContext(context.Background())
	if err != nil {
		t.Logf("sztp %v: %v", args, err)
	}
	return out.String(), exitCode(err)
}

func decodeResults(t *testing.T, out string) []dhcpResult {
	t.Helper()
	var got []dhcpResult
	if err := json.Unmarshal([]byte(out), &got); err != nil {
		t.Fatalf("output is not a JSON array: %v\n%s", err, out)
	}
	return got
}

// TestDHCPLeaseFileJSON: issue 4 acceptance, a dhclient lease file with
// option 143 gives the URIs through `sztp dhcp --lease-file F --json`.
func TestDHCPLeaseFileJSON(t *testing.T) {
	f := filepath.Join("..", "..", "dhcpopts", "testdata", "leases", "dhclient.eth0.leases")
	out, code := runCLI(t, "dhcp", "--lease-file", f, "--interface", "eth0", "--json")
	if code != exitOK {
		t.Fatalf("exit %d: %s", code, out)
	}
	want := []dhcpResult{{Interface: "eth0", Family: "ipv4", URIs: dhcpTestURIs}}
	if got := decodeResults(t, out); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v", got, want)
	}
}

func TestDHCPLeaseFileWithoutURIs(t *testing.T) {
	f := filepath.Join("..", "..", "dhcpopts", "testdata", "leases", "4093")
	out, code := runCLI(t, "dhcp", "--lease-file", f, "--json")
	if code != exitFailure {
		t.Errorf("exit %d, want %d", code, exitFailure)
	}
	if got := decodeResults(t, out); len(got) != 0 {
		t.Errorf("got %+v, want []", got)
	}
}

func TestDHCPUsage(t *testing.T) {
	for _, args := range [][]string{{"dhcp", "--timeout", "0s"}, {"dhcp", "extra"}, {"dhcp", "--bogus"}} {
		if _, code := runCLI(t, args...); code != exitUsage {
			t.Errorf("sztp %v: exit %d, want %d", args, code, exitUsage)
		}
	}
}

// TestDHCPLive: issue 4 acceptance. dnsmasq in a namespace serves option 143
// (DHCPv4) and 136 (DHCPv6) with two URIs; `sztp dhcp --interface IF --json`
// prints both in order for each family.
func TestDHCPLive(t *testing.T) {
	dhcptest.Need(t)
	data, err := dhcpopts.Encode(dhcpTestURIs)
	if err != nil {
		t.Fatal(err)
	}
	bin := dhcptest.Build(t, ".")
	for _, tc := range []struct {
		family string
		opts   dhcptest.Options
	}{
		{"ipv4", dhcptest.Options{IPv4: true, Option143: data}},
		{"ipv6", dhcptest.Options{IPv6: true, Option136: data}},
	} {
		t.Run(tc.family, func(t *testing.T) {
			n := dhcptest.Start(t, tc.opts)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			cmd := n.Command(ctx, bin, "dhcp", "--interface", n.ClientIf, "--"+tc.family, "--json", "--timeout", "30s",
				"--resolv-conf", filepath.Join(t.TempDir(), "resolv.conf"))
			var stdout, stderr bytes.Buffer
			cmd.Stdout, cmd.Stderr = &stdout, &stderr
			if err := cmd.Run(); err != nil {
				t.Fatalf("sztp dhcp: %v\n%s", err, stderr.String())
			}
			want := []dhcpResult{{Interface: n.ClientIf, Family: tc.family, URIs: dhcpTestURIs}}
			if got := decodeResults(t, stdout.String()); !reflect.DeepEqual(got, want) {
				t.Errorf("got %+v, want %+v\nstderr:\n%s", got, want, stderr.String())
			}
		})
	}
}

// TestDHCPLiveAllLinks: without --interface every non-loopback link is
// used, both families run, and the output lists IPv4 before IPv6.
func TestDHCPLiveAllLinks(t *testing.T) {
	dhcptest.Need(t)
	v4, err := dhcpopts.Encode(dhcpTestURIs)
	if err != nil {
		t.Fatal(err)
	}
	v6, err := dhcpopts.Encode(dhcpTestURIs[1:])
	if err != nil {
		t.Fatal(err)
	}
	bin := dhcptest.Build(t, ".")
	n := dhcptest.Start(t, dhcptest.Options{Option143: v4, Option136: v6})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := n.Command(ctx, bin, "dhcp", "--no-configure", "--json")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sztp dhcp: %v\n%s", err, stderr.String())
	}
	want := []dhcpResult{
		{Interface: n.ClientIf, Family: "ipv4", URIs: dhcpTestURIs},
		{Interface: n.ClientIf, Family: "ipv6", URIs: dhcpTestURIs[1:]},
	}
	if got := decodeResults(t, stdout.String()); !reflect.DeepEqual(got, want) {
		t.Errorf("got %+v, want %+v\nstderr:\n%s", got, want, stderr.String())
	}
	// --no-configure: no address was added.
	if out, _ := exec.Command("ip", "-n", n.ClientNS, "-4", "addr", "show", "dev", n.ClientIf).CombinedOutput(); strings.Contains(string(out), "inet ") {
		t.Errorf("--no-configure added an address:\n%s", out)
	}
}

// Issue 10 item 8, C88: a lease file whose option 143 is plain text gives
// no URI unless --dhcp-text-uris asks for lenient parsing; without it the
// warning says how. Before the fix the plain text was used by default.
func TestHardening10_8_DHCPTextURIsIsOptIn(t *testing.T) {
	f := filepath.Join("..", "..", "dhcpopts", "testdata", "leases", "dhclient.ens3.leases")
	for _, tc := range []struct {
		args []string
		code int
		want []dhcpResult
		warn string
	}{
		{nil, exitFailure, []dhcpResult{}, "ignored (sztp --dhcp-text-uris accepts it)"},
		{[]string{"--dhcp-text-uris"}, exitOK, []dhcpResult{{Interface: "ens3", Family: "ipv4", URIs: []string{"https://bootstrap:8080"}}}, "accepted for compatibility"},
	} {
		cmd := sztpProcess(t, t.TempDir(), append([]string{"dhcp", "--lease-file", f, "--json"}, tc.args...)...)
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		cmd.Run()
		stdout, stderr, code := out.String(), errb.String(), cmd.ProcessState.ExitCode()
		if code != tc.code {
			t.Errorf("%v: exit %d, want %d: %s", tc.args, code, tc.code, stderr)
		}
		if got := decodeResults(t, stdout); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%v: got %+v, want %+v", tc.args, got, tc.want)
		}
		if !strings.Contains(stderr, tc.warn) {
			t.Errorf("%v: stderr lacks %q: %s", tc.args, tc.warn, stderr)
		}
	}
}
