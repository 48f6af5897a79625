package main

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Settings come from three places, strongest first:
//
//  1. command-line flags;
//  2. the kernel command line (/proc/cmdline): sztp.<flag-name>=value, with
//     sztp.url= as an alias of bootstrap-url and the bare word sztp.disable;
//  3. the config file (--config, default /etc/sztp/config.yaml): a strict
//     YAML subset of "key: value" lines whose keys are the long flag names.
//
// The kernel command line beats the config file because it is the per-boot
// override (set by a PXE/iPXE menu or a lab), while the config file is baked
// into the image. List values (bootstrap-url, server-trust-anchor, ...) from
// one layer replace, not extend, those of a weaker one.

const (
	defaultConfigFile  = "/etc/sztp/config.yaml"
	defaultCmdlineFile = "/proc/cmdline"
)

// settings maps flag names to their values from one layer.
type settings map[string][]string

// parseConfigFile parses the strict YAML subset:
//
//	# comment
//	key: value
//	key: "quoted value"      (double or single quotes)
//	key: [a, "b", c]         (flow list)
//	key:                     (block list)
//	  - a
//	  - b
//
// Keys are lowercase flag names. A key may appear once. Anything else
// (anchors, nested maps, multi-line strings, tabs for indentation) is an
// error naming the line.
func parseConfigFile(data []byte) (settings, error) {
	out := settings{}
	lines := strings.Split(strings.ReplaceAll(string(data), "\r\n", "\n"), "\n")
	var listKey string
	for i, raw := range lines {
		n := i + 1
		line := stripComment(raw)
		if strings.TrimSpace(line) == "" {
			continue
		}
		if strings.HasPrefix(line, "\t") || strings.Contains(leadingSpace(line), "\t") {
			return nil, fmt.Errorf("line %d: tabs are not allowed for indentation", n)
		}
		trimmed := strings.TrimSpace(line)
		if strings.HasPrefix(trimmed, "- ") || trimmed == "-" {
			if listKey == "" || leadingSpace(line) == "" {
				return nil, fmt.Errorf("line %d: list item outside a list", n)
			}
			v, err := scalar(strings.TrimSpace(strings.TrimPrefix(trimmed, "-")))
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			out[listKey] = append(out[listKey], v)
			continue
		}
		if leadingSpace(line) != "" {
			return nil, fmt.Errorf("line %d: unexpected indentation (nested maps are not supported)", n)
		}
		listKey = ""
		key, val, ok := strings.Cut(trimmed, ":")
		if !ok {
			return nil, fmt.Errorf("line %d: want \"key: value\", got %q", n, trimmed)
		}
		key = strings.TrimSpace(key)
		if !validKey(key) {
			return nil, fmt.Errorf("line %d: bad key %q (want a lowercase flag name such as bootstrap-url)", n, key)
		}
		if _, dup := out[key]; dup {
			return nil, fmt.Errorf("line %d: key %q given twice", n, key)
		}
		val = strings.TrimSpace(val)
		switch {
		case val == "":
			listKey = key
			out[key] = []string{}
		case strings.HasPrefix(val, "["):
			if !strings.HasSuffix(val, "]") {
				return nil, fmt.Errorf("line %d: unterminated list", n)
			}
			items, err := flowList(val[1 : len(val)-1])
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			out[key] = items
		default:
			v, err := scalar(val)
			if err != nil {
				return nil, fmt.Errorf("line %d: %w", n, err)
			}
			out[key] = []string{v}
		}
	}
	return out, nil
}

func leadingSpace(s string) string { return s[:len(s)-len(strings.TrimLeft(s, " \t"))] }

// stripComment removes a # comment that is outside quotes and starts the
// line or follows a space.
func stripComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == '#' && (i == 0 || s[i-1] == ' ' || s[i-1] == '\t'):
			return s[:i]
		}
	}
	return s
}

func validKey(k string) bool {
	if k == "" {
		return false
	}
	for _, c := range k {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func scalar(s string) (string, error) {
	if s == "" {
		return "", errors.New("empty value")
	}
	switch s[0] {
	case '"':
		v, err := strconv.Unquote(s)
		if err != nil {
			return "", fmt.Errorf("bad double-quoted string %s", s)
		}
		return v, nil
	case '\'':
		if len(s) < 2 || s[len(s)-1] != '\'' {
			return "", fmt.Errorf("bad single-quoted string %s", s)
		}
		inner := s[1 : len(s)-1]
		if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			return "", fmt.Errorf("bad single-quoted string %s", s)
		}
		return strings.ReplaceAll(inner, "''", "'"), nil
	case '[', '{', '&', '*', '!', '|', '>', '%', '@', '`':
		return "", fmt.Errorf("unsupported YAML syntax %q (quote the value)", s)
	}
	return s, nil
}

func flowList(s string) ([]string, error) {
	var items []string
	var cur strings.Builder
	var q byte
	flush := func() error {
		v := strings.TrimSpace(cur.String())
		cur.Reset()
		if v == "" {
			return errors.New("empty list item")
		}
		sv, err := scalar(v)
		if err != nil {
			return err
		}
		items = append(items, sv)
		return nil
	}
	if strings.TrimSpace(s) == "" {
		return []string{}, nil
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == q {
				q = 0
			}
		case c == '"' || c == '\'':
			q = c
		case c == ',':
			if err := flush(); err != nil {
				return nil, err
			}
			continue
		}
		cur.WriteByte(c)
	}
	if q != 0 {
		return nil, errors.New("unterminated quote in list")
	}
	if err := flush(); err != nil {
		return nil, err
	}
	return items, nil
}

// parseCmdline extracts sztp.* parameters from a kernel command line.
// sztp.url=A,B and repeated parameters make lists; a bare sztp.NAME means
// "true". Quoted values ("sztp.os-name=My OS") are honoured.
func parseCmdline(s string) settings {
	out := settings{}
	for _, w := range splitCmdline(s) {
		rest, ok := strings.CutPrefix(w, "sztp.")
		if !ok || rest == "" {
			continue
		}
		key, val, hasVal := strings.Cut(rest, "=")
		if !validKey(key) {
			continue
		}
		if key == "url" {
			key = "bootstrap-url"
		}
		if !hasVal {
			out[key] = append(out[key], "true")
			continue
		}
		if isListFlag(key) {
			for _, v := range strings.Split(val, ",") {
				if v = strings.TrimSpace(v); v != "" {
					out[key] = append(out[key], v)
				}
			}
			continue
		}
		out[key] = append(out[key], val)
	}
	return out
}

func splitCmdline(s string) []string {
	var words []string
	var cur strings.Builder
	inQ, has := false, false
	for _, c := range s {
		switch {
		case c == '"':
			inQ, has = !inQ, true
		case !inQ && (c == ' ' || c == '\t' || c == '\n'):
			if has {
				words = append(words, cur.String())
				cur.Reset()
				has = false
			}
		default:
			cur.WriteRune(c)
			has = true
		}
	}
	if has {
		words = append(words, cur.String())
	}
	return words
}

// listFlags are the repeatable flags; their kernel values split on commas.
var listFlags = map[string]bool{
	"bootstrap-url": true, "server-trust-anchor": true, "voucher-trust-anchor": true,
	"idevid-cert-index": true, "lease-file": true, "interface": true,
	"ssh-host-key": true, "trust-anchor-cert": true, "assertion": true,
}

func isListFlag(k string) bool { return listFlags[k] }

// extraKeys are settings that are not flags of a subcommand: sztp.disable,
// and the root's --log-level.
var extraKeys = map[string]bool{"disable": true, "log-level": true}

// notFromFiles are flags that make no sense in the config file or cmdline.
var notFromFiles = map[string]bool{"config": true, "cmdline-file": true, "help": true}

// layers are the config file and kernel settings for a command.
type layers struct {
	file, kernel settings
	fileName     string
}

// loadLayers reads the config file and kernel command line named by the
// command's --config and --cmdline-file flags. known are the keys any
// command accepts; an unknown key in the file is an error, on the kernel
// command line a warning.
func loadLayers(cmd *cobra.Command, known map[string]bool) (*layers, error) {
	l := &layers{file: settings{}, kernel: settings{}}
	fs := cmd.Flags()
	cfgFile, _ := fs.GetString("config")
	explicit := fs.Changed("config")
	if cfgFile != "" {
		data, err := os.ReadFile(cfgFile)
		switch {
		case err == nil:
			s, err := parseConfigFile(data)
			if err != nil {
				return nil, usagef("config file %s: %v", cfgFile, err)
			}
			for k := range s {
				if (!known[k] && !extraKeys[k]) || notFromFiles[k] {
					return nil, usagef("config file %s: unknown key %q", cfgFile, k)
				}
			}
			l.file, l.fileName = s, cfgFile
		case errors.Is(err, os.ErrNotExist) && !explicit:
			// A missing default config file is fine.
		default:
			return nil, usagef("config file: %v", err)
		}
	}
	cmdFile, _ := fs.GetString("cmdline-file")
	if cmdFile != "" {
		data, err := os.ReadFile(cmdFile)
		switch {
		case err == nil:
			l.kernel = parseCmdline(string(data))
		case errors.Is(err, os.ErrNotExist) && !fs.Changed("cmdline-file"):
		default:
			return nil, usagef("kernel command line: %v", err)
		}
	}
	log := logger(cmd)
	for k := range l.kernel {
		if (!known[k] && !extraKeys[k]) || notFromFiles[k] {
			log.Warn("ignoring unknown kernel command-line parameter", "param", "sztp."+k)
			delete(l.kernel, k)
		}
	}
	return l, nil
}

// apply sets every flag of fs that was not given on the command line from
// the kernel command line, else from the config file.
func (l *layers) apply(fs *pflag.FlagSet) error {
	var err error
	fs.VisitAll(func(f *pflag.Flag) {
		if err != nil || f.Changed || notFromFiles[f.Name] {
			return
		}
		vals, from := l.kernel[f.Name], "kernel command line"
		if vals == nil {
			vals, from = l.file[f.Name], "config file "+l.fileName
		}
		if vals == nil {
			return
		}
		if sv, ok := f.Value.(pflag.SliceValue); ok {
			if e := sv.Replace(vals); e != nil {
				err = usagef("%s: %s: %v", from, f.Name, e)
			}
			f.Changed = true
			return
		}
		if len(vals) != 1 {
			err = usagef("%s: %s takes one value, got %d", from, f.Name, len(vals))
			return
		}
		if e := fs.Set(f.Name, vals[0]); e != nil {
			err = usagef("%s: %s: %v", from, f.Name, e)
		}
	})
	return err
}

// disabled reports whether sztp.disable (or disable: true) is set.
func (l *layers) disabled() bool {
	for _, s := range []settings{l.kernel, l.file} {
		if v, ok := s["disable"]; ok {
			return len(v) == 0 || v[len(v)-1] == "true" || v[len(v)-1] == "1" || v[len(v)-1] == "yes"
		}
	}
	return false
}

// flagNames lists the flag names of a command (for validation).
func flagNames(cmds ...*cobra.Command) map[string]bool {
	out := map[string]bool{}
	for _, c := range cmds {
		c.Flags().VisitAll(func(f *pflag.Flag) { out[f.Name] = true })
	}
	return out
}
