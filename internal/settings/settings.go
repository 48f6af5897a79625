package settings

import (
	"errors"
	"log/slog"
	"os"

	"github.com/spf13/pflag"

	"github.com/sztp/sztp/internal/usage"
)

// The default places of the two files.
const (
	DefaultConfigFile  = "/etc/sztp/config.yaml"
	DefaultCmdlineFile = "/proc/cmdline"
)

// AddFlags adds --config and --cmdline-file, which name the two files.
func AddFlags(fs *pflag.FlagSet, cfg, cmdline *string) {
	fs.StringVar(cfg, "config", DefaultConfigFile, "config file (key: value lines; keys are flag names); a missing default file is ignored")
	fs.StringVar(cmdline, "cmdline-file", DefaultCmdlineFile, "kernel command line to read sztp.<flag>=value parameters from")
}

// KernelRefused are the trust inputs that are refused on the kernel command
// line (issue 10 item 6, C4), with why. A PXE/iPXE menu on an
// unauthenticated network can set the kernel command line: with these it
// could make the device trust (and send its HTTP password to) the
// attacker's server, accept another device's signed data, turn the clock
// checks off, or make the device claim another identity. Trust inputs
// come only from files baked into the image (the config file) and flags.
var KernelRefused = map[string]string{
	"server-trust-anchor":   "it decides which bootstrap servers are authenticated and receive the HTTP password",
	"voucher-trust-anchor":  "it decides whose ownership vouchers, and so whose signed data, are accepted",
	"assertion":             "it decides which voucher assertions are accepted",
	"clock":                 "it can turn the certificate and voucher time checks off",
	"serial-number":         "it is the identity the device claims",
	"password-file":         "it is the device's credential",
	"tpm":                   "it names the device's keys",
	"idevid-handle":         "it names the device's keys",
	"idevid-cert-index":     "it names the device's certificate",
	"idevid-cert":           "it names the device's certificate",
	"idevid-key":            "it names the device's keys",
	"idevid-chain":          "it names the device's certificate chain",
	"decryption-key":        "it names the device's keys",
	"decryption-key-handle": "it names the device's keys",
	"identity":              "it chooses the key that authenticates the device (IDevID or LDevID)",
	"ldevid-handle":         "it names the device's keys",
	"ldevid-cert-index":     "it names the device's certificate",
	"measure-pcr":           "it can turn measured onboarding off, or move it to a PCR an attacker can reset",
}

// ExtraKeys are settings that are not flags of a subcommand: sztp.disable,
// and the root's --log-level.
var ExtraKeys = map[string]bool{"disable": true, "log-level": true}

// notFromFiles are flags that make no sense in the config file or cmdline.
var notFromFiles = map[string]bool{"config": true, "cmdline-file": true, "help": true}

// Layers are the config file and kernel settings for a command.
type Layers struct {
	File, Kernel Values
	FileName     string
}

// Load reads the config file and kernel command line named by the --config
// and --cmdline-file flags of fs. known are the keys any command accepts
// (besides ExtraKeys); an unknown key in the file is an error, on the kernel
// command line a warning on log.
func Load(fs *pflag.FlagSet, known map[string]bool, log *slog.Logger) (*Layers, error) {
	l := &Layers{File: Values{}, Kernel: Values{}}
	if err := l.loadFile(fs, known); err != nil {
		return nil, err
	}
	if err := l.loadKernel(fs); err != nil {
		return nil, err
	}
	for k := range l.Kernel {
		if why, ok := KernelRefused[k]; ok {
			if log != nil {
				log.Warn("refusing a trust setting on the kernel command line: a boot menu on an unauthenticated network can set it, and "+why+"; set it in the config file or with a flag", "param", "sztp."+k)
			}
			delete(l.Kernel, k)
			continue
		}
		if !accepted(k, known) {
			if log != nil {
				log.Warn("ignoring unknown kernel command-line parameter", "param", "sztp."+k)
			}
			delete(l.Kernel, k)
		}
	}
	return l, nil
}

func accepted(k string, known map[string]bool) bool {
	return (known[k] || ExtraKeys[k]) && !notFromFiles[k]
}

// loadFile reads --config; a missing file is fine unless named explicitly.
func (l *Layers) loadFile(fs *pflag.FlagSet, known map[string]bool) error {
	name, _ := fs.GetString("config")
	if name == "" {
		return nil
	}
	data, err := os.ReadFile(name)
	switch {
	case errors.Is(err, os.ErrNotExist) && !fs.Changed("config"):
		return nil
	case err != nil:
		return usage.Errorf("config file: %w", err)
	}
	s, err := ParseConfigFile(data)
	if err != nil {
		return usage.Errorf("config file %s: %w", name, err)
	}
	for k := range s {
		if !accepted(k, known) {
			return usage.Errorf("config file %s: unknown key %q", name, k)
		}
	}
	l.File, l.FileName = s, name
	return nil
}

// loadKernel reads --cmdline-file; a missing file is fine unless named
// explicitly.
func (l *Layers) loadKernel(fs *pflag.FlagSet) error {
	name, _ := fs.GetString("cmdline-file")
	if name == "" {
		return nil
	}
	data, err := os.ReadFile(name)
	switch {
	case errors.Is(err, os.ErrNotExist) && !fs.Changed("cmdline-file"):
		return nil
	case err != nil:
		return usage.Errorf("kernel command line: %w", err)
	}
	l.Kernel = ParseCmdline(string(data))
	return nil
}

// Apply sets every flag of fs that was not given on the command line from
// the kernel command line, else from the config file.
func (l *Layers) Apply(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || notFromFiles[f.Name] {
			return
		}
		vals, from := l.Kernel[f.Name], "kernel command line"
		if vals == nil {
			vals, from = l.File[f.Name], "config file "+l.FileName
		}
		if vals == nil {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			if e := sv.Replace(vals); e != nil {
				err = usage.Errorf("%s: %s: %w", from, f.Name, e)
			}
			f.Changed = true
			return
		}
		if len(vals) != 1 {
			err = usage.Errorf("%s: %s takes one value, got %d", from, f.Name, len(vals))
			return
		}
		if e := fs.Set(f.Name, vals[0]); e != nil {
			err = usage.Errorf("%s: %s: %w", from, f.Name, e)
		}
	})
	return err
}

// Disabled reports whether sztp.disable (or disable: true) is set.
func (l *Layers) Disabled() bool {
	for _, s := range []Values{l.Kernel, l.File} {
		if v, ok := s["disable"]; ok {
			return len(v) == 0 || v[len(v)-1] == "true" || v[len(v)-1] == "1" || v[len(v)-1] == "yes"
		}
	}
	return false
}

// FlagNames lists the flag names of flag sets (the known keys for Load).
func FlagNames(sets ...*pflag.FlagSet) map[string]bool {
	out := map[string]bool{}
	for _, fs := range sets {
		fs.VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
	}
	return out
}
