package boot

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// argRule says whether a hook takes the ":ARG" part of its spec.
type argRule int

const (
	argNone     argRule = iota // "kexec"
	argOptional                // "reboot" or "reboot:/sbin/reboot"
	argRequired                // "file:/dev/sdb2"
)

// HookInfo describes a registered hook for help text.
type HookInfo struct {
	Name    string // "file"
	Usage   string // "file:PATH"
	Summary string // one line
}

type imageHook struct {
	HookInfo
	arg argRule
	new func(arg string, opts Options) (ImageInstaller, error)
}

type configHook struct {
	HookInfo
	arg argRule
	new func(arg string, opts Options) (ConfigApplier, error)
}

var (
	imageHooks  = map[string]imageHook{}
	configHooks = map[string]configHook{}
)

// registerImageHook adds an image hook; a duplicate name is a programming
// error and panics.
func registerImageHook(h imageHook) {
	if _, dup := imageHooks[h.Name]; dup {
		panic("boot: image hook registered twice: " + h.Name)
	}
	imageHooks[h.Name] = h
}

func registerConfigHook(h configHook) {
	if _, dup := configHooks[h.Name]; dup {
		panic("boot: config hook registered twice: " + h.Name)
	}
	configHooks[h.Name] = h
}

// ImageHookNames returns the image hook names, sorted.
func ImageHookNames() []string { return sortedKeys(imageHooks) }

// ConfigHookNames returns the configuration hook names, sorted.
func ConfigHookNames() []string { return sortedKeys(configHooks) }

// ImageHooks describes the image hooks, sorted by name.
func ImageHooks() []HookInfo {
	var out []HookInfo
	for _, n := range ImageHookNames() {
		out = append(out, imageHooks[n].HookInfo)
	}
	return out
}

// ConfigHooks describes the configuration hooks, sorted by name.
func ConfigHooks() []HookInfo {
	var out []HookInfo
	for _, n := range ConfigHookNames() {
		out = append(out, configHooks[n].HookInfo)
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	names := make([]string, 0, len(m))
	for n := range m {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// ErrUnknownHook is wrapped by errors for a spec naming no registered hook.
var ErrUnknownHook = errors.New("unknown hook")

// splitSpec splits "NAME[:ARG]" and checks ARG against rule.
func splitSpec(spec string, rule argRule, usage string) (name, arg string, err error) {
	name, arg, hasArg := strings.Cut(spec, ":")
	switch {
	case rule == argNone && hasArg:
		return "", "", fmt.Errorf("hook %q takes no argument (use %s)", spec, usage)
	case rule == argRequired && arg == "":
		return "", "", fmt.Errorf("hook %q needs an argument (use %s)", spec, usage)
	case rule == argOptional && hasArg && arg == "":
		return "", "", fmt.Errorf("hook %q has an empty argument (use %s)", spec, usage)
	}
	return name, arg, nil
}

// NewImageHook returns the image installer named by spec: one "NAME[:ARG]"
// (see ImageHooks), or several joined by "," which run in order on the same
// image, e.g. "file:/dev/sdb2,reboot". The Installed.Reboot of a chain is
// the last non-nil one.
func NewImageHook(spec string, opts Options) (ImageInstaller, error) {
	parts := strings.Split(spec, ",")
	var chain chainInstaller
	for _, p := range parts {
		name, _, _ := strings.Cut(p, ":")
		h, ok := imageHooks[name]
		if !ok {
			return nil, fmt.Errorf("boot: image hook %q: %w (known: %s)", p, ErrUnknownHook, strings.Join(ImageHookNames(), ", "))
		}
		_, arg, err := splitSpec(p, h.arg, h.Usage)
		if err != nil {
			return nil, fmt.Errorf("boot: %w", err)
		}
		in, err := h.new(arg, opts)
		if err != nil {
			return nil, fmt.Errorf("boot: image hook %q: %w", p, err)
		}
		chain = append(chain, in)
	}
	if len(chain) == 1 {
		return chain[0], nil
	}
	return chain, nil
}

// NewConfigHook returns the configuration applier named by spec
// ("NAME[:ARG]", see ConfigHooks).
func NewConfigHook(spec string, opts Options) (ConfigApplier, error) {
	name, _, _ := strings.Cut(spec, ":")
	h, ok := configHooks[name]
	if !ok {
		return nil, fmt.Errorf("boot: config hook %q: %w (known: %s)", spec, ErrUnknownHook, strings.Join(ConfigHookNames(), ", "))
	}
	_, arg, err := splitSpec(spec, h.arg, h.Usage)
	if err != nil {
		return nil, fmt.Errorf("boot: %w", err)
	}
	a, err := h.new(arg, opts)
	if err != nil {
		return nil, fmt.Errorf("boot: config hook %q: %w", spec, err)
	}
	return a, nil
}
