package main

import (
	"encoding/json"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/spf13/pflag"

	"github.com/sztp/sztp/internal/settings"
)

// Precedence: flags > kernel command line > config file.
func TestSettingsPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.yaml")
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cfgFile, []byte("os-name: FromConfig\nos-version: \"1.0\"\nhw-model: cfg-model\nbootstrap-url: [https://config.example]\n"), 0o600)
	os.WriteFile(cmdline, []byte("quiet sztp.os-version=2.0 sztp.url=https://kernel.example\n"), 0o600)
	cmd := newRunCmd()
	if err := cmd.ParseFlags([]string{"--config", cfgFile, "--cmdline-file", cmdline, "--hw-model", "flag-model"}); err != nil {
		t.Fatal(err)
	}
	l, err := loadLayers(cmd)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(cmd.Flags()); err != nil {
		t.Fatal(err)
	}
	get := func(name string) string { return cmd.Flags().Lookup(name).Value.String() }
	for name, want := range map[string]string{
		"os-name":       "FromConfig",               // config only
		"os-version":    "2.0",                      // kernel beats config
		"hw-model":      "flag-model",               // flag beats config
		"bootstrap-url": "[https://kernel.example]", // kernel replaces the config list
	} {
		if got := get(name); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
}

func TestConfigFileErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("no-such-flag: 1\n"), 0o600)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"run", "--once", "--config", filepath.Join(dir, "missing.yaml"), "--cmdline-file", ""}, "no such file"},
		{[]string{"run", "--once", "--config", bad, "--cmdline-file", ""}, `unknown key "no-such-flag"`},
		{[]string{"run", "--once", "--dhcp=false", "--dns=false", "--config", "", "--cmdline-file", ""}, "no bootstrap server"},
	} {
		_, errOut, code := runSztp(t, tc.args...)
		if code != exitUsage || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 and %q", tc.args, code, errOut, tc.want)
		}
	}
}

// C1, C2: enable/disable, run-once, and sztp.disable; status --json shape.
func TestEnableDisableStatus(t *testing.T) {
	dir := t.TempDir()
	sd := filepath.Join(dir, "state")
	noHost := []string{"--config", "", "--cmdline-file", ""}
	status := func() statusReport {
		t.Helper()
		out, errOut, code := runSztp(t, append([]string{"status", "--json", "--state-dir", sd}, noHost...)...)
		if code != 0 {
			t.Fatalf("status: %d %s", code, errOut)
		}
		var r statusReport
		if err := json.Unmarshal([]byte(out), &r); err != nil {
			t.Fatalf("status --json: %v\n%s", err, out)
		}
		for _, key := range []string{`"state-dir"`, `"enabled"`, `"bootstrapped"`, `"completed"`, `"last-run"`, `"pending-reboot"`, `"journal"`} {
			if !strings.Contains(out, key) {
				t.Errorf("status --json lacks %s:\n%s", key, out)
			}
		}
		return r
	}
	if r := status(); !r.Enabled || r.Bootstrapped {
		t.Errorf("factory state: %+v, want enabled and not bootstrapped", r)
	}
	if _, errOut, code := runSztp(t, append([]string{"disable", "--state-dir", sd}, noHost...)...); code != 0 {
		t.Fatal(errOut)
	}
	if r := status(); r.Enabled {
		t.Error("still enabled after sztp disable")
	}
	// Disabled: run exits 0 at once, even with an unreachable server.
	out, errOut, code := runSztp(t, append([]string{"run", "--once", "--state-dir", sd, "--bootstrap-url", "https://127.0.0.1:1",
		"--idevid-cert", "/nonexistent", "--idevid-key", "/nonexistent"}, noHost...)...)
	if code == 0 {
		t.Log(out)
	} else {
		// The identity is loaded before the state is consulted; a
		// disabled device must not need one.
		t.Errorf("disabled run: exit %d: %s", code, errOut)
	}
	if _, errOut, code := runSztp(t, append([]string{"enable", "--state-dir", sd}, noHost...)...); code != 0 {
		t.Fatal(errOut)
	}
	if r := status(); !r.Enabled {
		t.Error("not enabled after sztp enable")
	}
	// sztp.disable on the kernel command line.
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cmdline, []byte("ro sztp.disable\n"), 0o600)
	if _, errOut, code := runSztp(t, "run", "--once", "--state-dir", sd, "--config", "", "--cmdline-file", cmdline); code != 0 {
		t.Errorf("run with sztp.disable: exit %d: %s", code, errOut)
	}
}

func TestConfigLogLevel(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "c.yaml")
	os.WriteFile(cfg, []byte("log-level: debug\nstate-dir: "+filepath.Join(dir, "st")+"\n"), 0o600)
	out, errOut, code := runSztp(t, "status", "--json", "--config", cfg, "--cmdline-file", "")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if !strings.Contains(out, filepath.Join(dir, "st")) {
		t.Errorf("state-dir from the config file not used:\n%s", out)
	}
}

func TestClockFlag(t *testing.T) {
	built := time.Date(2026, 11, 30, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		mode      string
		now       time.Time
		untrusted bool
		err       bool
	}{
		{"trusted", built.Add(-time.Hour), false, false},
		{"untrusted", built.Add(time.Hour), true, false},
		{"auto", built.Add(-time.Hour), true, false}, // before the build: reset clock
		{"auto", built.Add(time.Hour), false, false},
		{"sometimes", built, false, true},
	} {
		got, err := clockUntrusted(tc.mode, tc.now, built)
		if (err != nil) != tc.err || got != tc.untrusted {
			t.Errorf("%s at %v: untrusted=%v err=%v", tc.mode, tc.now, got, err)
		}
	}
}

// C6: lease files and DHCP come before DNS, which comes before the
// configured servers; DHCP and DNS run by default only when nothing else is
// configured (DNS also when a DNS domain or server is given).
func TestSourcesOrder(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	for _, tc := range []struct {
		f    runFlags
		set  []string // flags given
		want []string
	}{
		{runFlags{}, nil, []string{"dhcp", "dns"}},
		{runFlags{urls: []string{"https://a"}}, nil, []string{"bootstrap-url"}},
		{runFlags{urls: []string{"https://a"}, dhcp: true}, []string{"dhcp"}, []string{"dhcp", "bootstrap-url"}},
		{runFlags{leaseFiles: []string{"auto"}}, nil, []string{"lease-file", "dns"}},
		{runFlags{leaseFiles: []string{"x"}, urls: []string{"https://a"}, dhcp: true}, []string{"dhcp"}, []string{"lease-file", "dhcp", "bootstrap-url"}},
		{runFlags{urls: []string{"https://a"}, dnsOpts: dnsFlags{domains: []string{"example.test"}}}, nil, []string{"dns", "bootstrap-url"}},
		{runFlags{urls: []string{"https://a"}, dnsOpts: dnsFlags{dns: true}}, []string{"dns"}, []string{"dns", "bootstrap-url"}},
		{runFlags{dnsOpts: dnsFlags{servers: []string{"127.0.0.1"}}}, []string{"dhcp", "dns"}, nil}, // --dns=false wins
		{runFlags{}, []string{"dhcp"}, []string{"dns"}},
		{runFlags{}, []string{"dhcp", "dns"}, nil}, // --dhcp=false --dns=false and nothing else: usage error
	} {
		changed := func(name string) bool { return slices.Contains(tc.set, name) }
		srcs, err := tc.f.sources(changed, log)
		var names []string
		for _, s := range srcs {
			names = append(names, s.Name())
		}
		if !slices.Equal(names, tc.want) || (tc.want == nil) != (err != nil) {
			t.Errorf("%+v set=%v: sources %v err %v, want %v", tc.f, tc.set, names, err, tc.want)
		}
	}
}

// Every repeatable flag splits at commas on the kernel command line
// (sztp.ssh-host-key=a.pub,b.pub), and only those do.
func TestListFlagsAreTheRepeatableFlags(t *testing.T) {
	slices := map[string]bool{}
	for _, c := range newRoot().Commands() {
		c.Flags().VisitAll(func(f *pflag.Flag) {
			if _, ok := f.Value.(pflag.SliceValue); ok {
				slices[f.Name] = true
			}
		})
	}
	for name := range slices {
		if !settings.ListKeys[name] {
			t.Errorf("repeatable flag --%s is not split at commas on the kernel command line", name)
		}
	}
	for name := range settings.ListKeys {
		if !slices[name] {
			t.Errorf("settings.ListKeys names %q, which is no repeatable flag", name)
		}
	}
}

// docs/config.yaml (the .deb's /etc/sztp/config.yaml, made by make docs)
// names every setting of run, and uncommented it is a valid config file that
// sets each flag to its default (issue 14 item 4).
func TestConfigExampleIsValid(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "..", "docs", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	keys := map[string]bool{}
	for _, l := range strings.Split(string(data), "\n") {
		rest, ok := strings.CutPrefix(l, "# ")
		key, _, isKey := strings.Cut(rest, ": ")
		if ok && isKey && key != "" && !strings.ContainsAny(key, " /'") {
			lines = append(lines, rest)
			keys[key] = true
		}
	}
	cfg := filepath.Join(t.TempDir(), "config.yaml")
	os.WriteFile(cfg, []byte(strings.Join(lines, "\n")+"\n"), 0o600)
	cmd := newRunCmd()
	if err := cmd.ParseFlags([]string{"--config", cfg, "--cmdline-file", ""}); err != nil {
		t.Fatal(err)
	}
	l, err := loadLayers(cmd)
	if err != nil {
		t.Fatalf("uncommented docs/config.yaml: %v", err)
	}
	if err := l.Apply(cmd.Flags()); err != nil {
		t.Fatalf("uncommented docs/config.yaml: %v", err)
	}
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden || f.Name == "config" || f.Name == "cmdline-file" {
			return
		}
		if !keys[f.Name] {
			t.Errorf("docs/config.yaml lacks %s: run make docs", f.Name)
		} else if f.Value.String() != f.DefValue {
			t.Errorf("docs/config.yaml sets %s to %q, not its default %q", f.Name, f.Value.String(), f.DefValue)
		}
	})
	if !keys["log-level"] || !keys["disable"] {
		t.Error("docs/config.yaml lacks log-level or disable")
	}
}
