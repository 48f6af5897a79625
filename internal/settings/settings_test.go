package settings

import (
	"bytes"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"

	"github.com/sztp/sztp/internal/usage"
)

// flagSet is a command's flags: a few of run's, and --config/--cmdline-file.
func flagSet() *pflag.FlagSet {
	fs := pflag.NewFlagSet("run", pflag.ContinueOnError)
	var cfg, cmdline string
	AddFlags(fs, &cfg, &cmdline)
	fs.String("os-name", "", "")
	fs.String("os-version", "", "")
	fs.String("hw-model", "", "")
	fs.Bool("once", false, "")
	fs.StringSlice("bootstrap-url", nil, "")
	fs.Duration("retry-max", 0, "")
	return fs
}

// Precedence: flags > kernel command line > config file; a list from a
// stronger layer replaces the weaker one's.
func TestLayersPrecedence(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.yaml")
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cfgFile, []byte("os-name: FromConfig\nos-version: \"1.0\"\nhw-model: cfg-model\nbootstrap-url: [https://config.example]\nonce: true\n"), 0o600)
	os.WriteFile(cmdline, []byte("quiet sztp.os-version=2.0 sztp.url=https://kernel.example,https://k2.example\n"), 0o600)
	fs := flagSet()
	if err := fs.Parse([]string{"--config", cfgFile, "--cmdline-file", cmdline, "--hw-model", "flag-model"}); err != nil {
		t.Fatal(err)
	}
	l, err := Load(fs, FlagNames(fs), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(fs); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string]string{
		"os-name":       "FromConfig",                                  // config only
		"os-version":    "2.0",                                         // kernel beats config
		"hw-model":      "flag-model",                                  // flag beats both
		"bootstrap-url": "[https://kernel.example,https://k2.example]", // kernel replaces the config list
		"once":          "true",
	} {
		if got := fs.Lookup(name).Value.String(); got != want {
			t.Errorf("%s = %q, want %q", name, got, want)
		}
	}
	if l.Disabled() {
		t.Error("disabled without sztp.disable")
	}
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	write := func(name, data string) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(data), 0o600)
		return p
	}
	for _, tc := range []struct {
		name string
		args []string
		err  string // "" for success; else a usage error containing it
		warn string // substring of the log
	}{
		{"missing explicit config", []string{"--config", filepath.Join(dir, "missing"), "--cmdline-file", ""}, "no such file", ""},
		{"missing explicit cmdline", []string{"--config", "", "--cmdline-file", filepath.Join(dir, "missing")}, "kernel command line", ""},
		{"unknown config key", []string{"--config", write("u.yaml", "no-such-flag: 1\n"), "--cmdline-file", ""}, `unknown key "no-such-flag"`, ""},
		{"config key that names a file", []string{"--config", write("c.yaml", "config: /x\n"), "--cmdline-file", ""}, `unknown key "config"`, ""},
		{"syntax error", []string{"--config", write("s.yaml", "once\n"), "--cmdline-file", ""}, "line 1", ""},
		{"unknown kernel key is a warning", []string{"--config", "", "--cmdline-file", write("k", "sztp.bogus=1 sztp.once\n")}, "", "sztp.bogus"},
		{"extra keys", []string{"--config", write("e.yaml", "log-level: debug\ndisable: false\n"), "--cmdline-file", ""}, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fs := flagSet()
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			_, err := Load(fs, FlagNames(fs), slog.New(slog.NewTextHandler(&logs, nil)))
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) || !usage.Is(err) {
					t.Fatalf("error %v, want a usage error containing %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(logs.String(), tc.warn) {
				t.Errorf("log %q lacks %q", logs.String(), tc.warn)
			}
		})
	}
}

// A missing default config file or kernel command line is no error (the
// flags' defaults name files that need not exist).
func TestLoadMissingDefaults(t *testing.T) {
	fs := pflag.NewFlagSet("x", pflag.ContinueOnError)
	fs.String("config", filepath.Join(t.TempDir(), "missing.yaml"), "")
	fs.String("cmdline-file", filepath.Join(t.TempDir(), "missing"), "")
	l, err := Load(fs, nil, nil)
	if err != nil || len(l.File) != 0 || len(l.Kernel) != 0 {
		t.Errorf("Load: %+v, %v", l, err)
	}
}

func TestApplyErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    Layers
		err  string
	}{
		{"bad value", Layers{File: Values{"once": {"maybe"}}, FileName: "f"}, "config file f: once"},
		{"bad kernel duration", Layers{Kernel: Values{"retry-max": {"soon"}}}, "kernel command line: retry-max"},
		{"two values for a scalar", Layers{Kernel: Values{"os-name": {"a", "b"}}}, "takes one value, got 2"},
	} {
		fs := flagSet()
		fs.Parse(nil)
		err := tc.l.Apply(fs)
		if err == nil || !strings.Contains(err.Error(), tc.err) || !usage.Is(err) {
			t.Errorf("%s: error %v, want a usage error containing %q", tc.name, err, tc.err)
		}
	}
}

// C1: sztp.disable (bare, or =1/=true/=yes) and disable: true turn SZTP off;
// the kernel command line wins over the config file.
func TestDisabled(t *testing.T) {
	for _, tc := range []struct {
		name string
		l    Layers
		want bool
	}{
		{"nothing", Layers{}, false},
		{"bare kernel word", Layers{Kernel: ParseCmdline("ro sztp.disable")}, true},
		{"kernel =0", Layers{Kernel: Values{"disable": {"0"}}}, false},
		{"kernel yes", Layers{Kernel: Values{"disable": {"yes"}}}, true},
		{"config true", Layers{File: Values{"disable": {"true"}}}, true},
		{"kernel false beats config true", Layers{Kernel: Values{"disable": {"false"}}, File: Values{"disable": {"true"}}}, false},
	} {
		if got := tc.l.Disabled(); got != tc.want {
			t.Errorf("%s: Disabled() = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// Issue 10 item 6, C4: every trust input on the kernel command line is
// dropped with a warning naming it and saying why; the same keys from the
// config file (baked into the image) still apply.
func TestHardening10_6_KernelRefusesTrustInputs(t *testing.T) {
	dir := t.TempDir()
	cfgFile := filepath.Join(dir, "config.yaml")
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cfgFile, []byte("server-trust-anchor: /etc/sztp/anchor.pem\n"), 0o600)
	var words []string
	fs := flagSet()
	for k := range KernelRefused {
		words = append(words, "sztp."+k+"=/evil")
		if k == "server-trust-anchor" || k == "voucher-trust-anchor" || k == "assertion" || k == "idevid-cert-index" {
			fs.StringSlice(k, nil, "")
		} else {
			fs.String(k, "", "")
		}
	}
	os.WriteFile(cmdline, []byte(strings.Join(append(words, "sztp.os-name=ok"), " ")+"\n"), 0o600)
	if err := fs.Parse([]string{"--config", cfgFile, "--cmdline-file", cmdline}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	l, err := Load(fs, FlagNames(fs), slog.New(slog.NewTextHandler(&logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if err := l.Apply(fs); err != nil {
		t.Fatal(err)
	}
	for k := range KernelRefused {
		if _, ok := l.Kernel[k]; ok {
			t.Errorf("sztp.%s kept", k)
		}
		if !strings.Contains(logs.String(), "param=sztp."+k) {
			t.Errorf("no warning for sztp.%s", k)
		}
		if strings.Contains(fs.Lookup(k).Value.String(), "/evil") {
			t.Errorf("--%s set from the kernel command line", k)
		}
	}
	if got := fs.Lookup("server-trust-anchor").Value.String(); got != "[/etc/sztp/anchor.pem]" {
		t.Errorf("server-trust-anchor %q, want the config file's", got)
	}
	if got := fs.Lookup("os-name").Value.String(); got != "ok" {
		t.Errorf("os-name %q: other kernel settings must still apply", got)
	}
	if !strings.Contains(logs.String(), "unauthenticated network") {
		t.Errorf("the warning does not say why:\n%s", logs.String())
	}
}
