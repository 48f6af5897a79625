package boot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/sztp/sztp/internal/atomicfile"
)

// Image is a verified boot image ready to install.
type Image struct {
	Path      string // the verified file
	OSName    string
	OSVersion string
}

// Installed is the outcome of an image installation.
type Installed struct {
	// Reboot, when non-nil, activates the image (reboot or kexec). The engine
	// calls it only after reporting boot-image-installed-rebooting.
	Reboot  func(ctx context.Context) error
	Message string
}

// ImageInstaller installs a verified image.
type ImageInstaller interface {
	InstallImage(ctx context.Context, img Image) (*Installed, error)
}

// Config is configuration to commit.
type Config struct {
	Data     []byte
	Handling string // "merge" or "replace"
}

// ConfigApplier commits configuration atomically. The returned undo, when
// non-nil, restores the configuration that was active before (used when a
// later step such as the post-configuration script fails, C81).
type ConfigApplier interface {
	ApplyConfig(ctx context.Context, cfg Config) (undo func() error, err error)
}

// ScriptStatus is the outcome class of a script.
type ScriptStatus int

const (
	ScriptOK ScriptStatus = iota
	ScriptWarning
	ScriptError
)

// ScriptResult is what a script did.
type ScriptResult struct {
	Status ScriptStatus
	Output string
}

// ScriptRunner runs a pre- or post-configuration script.
type ScriptRunner interface {
	RunScript(ctx context.Context, name string, script []byte) (*ScriptResult, error)
}

// Options are shared by the hooks.
type Options struct {
	Logger  *slog.Logger
	Timeout time.Duration
	DryRun  bool
}

// NewImageHook returns the image installer named by spec
// ("file:PATH", "exec:PROGRAM", "kexec", "reboot", "none").
func NewImageHook(spec string, opts Options) (ImageInstaller, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "file":
		if arg == "" {
			return nil, errors.New("boot: file hook needs a path (file:PATH)")
		}
		return fileHook{path: arg}, nil
	}
	return nil, fmt.Errorf("boot: unknown image hook %q", spec)
}

// NewConfigHook returns the configuration applier named by spec.
func NewConfigHook(spec string, opts Options) (ConfigApplier, error) {
	kind, arg, _ := strings.Cut(spec, ":")
	switch kind {
	case "file":
		if arg == "" {
			return nil, errors.New("boot: file hook needs a path (file:PATH)")
		}
		return fileHook{path: arg}, nil
	}
	return nil, fmt.Errorf("boot: unknown config hook %q", spec)
}

type fileHook struct{ path string }

func (h fileHook) InstallImage(ctx context.Context, img Image) (*Installed, error) {
	data, err := os.ReadFile(img.Path)
	if err != nil {
		return nil, err
	}
	if err := atomicfile.WriteFile(h.path, data, 0o644); err != nil {
		return nil, err
	}
	return &Installed{Message: "image written to " + h.path}, nil
}

func (h fileHook) ApplyConfig(ctx context.Context, cfg Config) (func() error, error) {
	old, err := os.ReadFile(h.path)
	existed := err == nil
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	if err := atomicfile.WriteFile(h.path, cfg.Data, 0o600); err != nil {
		return nil, err
	}
	return func() error {
		if !existed {
			return os.Remove(h.path)
		}
		return atomicfile.WriteFile(h.path, old, 0o600)
	}, nil
}

// NewScriptRunner returns a runner that writes scripts to dir (0700) and
// executes them directly.
func NewScriptRunner(dir string, opts Options) ScriptRunner {
	return &scriptRunner{dir: dir, opts: opts}
}

type scriptRunner struct {
	dir  string
	opts Options
}

func (r *scriptRunner) RunScript(ctx context.Context, name string, script []byte) (*ScriptResult, error) {
	if err := os.MkdirAll(r.dir, 0o700); err != nil {
		return nil, err
	}
	p := filepath.Join(r.dir, name)
	if err := atomicfile.WriteFile(p, script, 0o700); err != nil {
		return nil, err
	}
	return nil, errors.New("boot: script execution not implemented yet")
}
