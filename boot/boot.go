package boot

import (
	"context"
	"errors"
	"log/slog"
	"time"
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
	// calls it only after reporting boot-image-installed-rebooting (C75). It
	// returns only on failure, or in dry-run mode (nil).
	Reboot func(ctx context.Context) error
	// Abandon, when non-nil, undoes what InstallImage prepared for Reboot,
	// for an engine that will not call Reboot after all (the run was
	// cancelled, or it stopped before reporting): the kexec hook unloads the
	// kernel it loaded. It is not an image rollback.
	Abandon func() error
	// Rollback, when non-nil, restores what the target held before
	// InstallImage (C83). The engine calls it when the image was installed
	// without a reboot and a later step failed (pre-configuration script,
	// configuration, post-configuration script, bootstrap-complete), so the
	// device does not later boot software from a failed onboarding. file:
	// puts back the previous content it kept; exec: runs the program with
	// SZTP_STEP=boot-image-rollback (HOOKS.md).
	Rollback func(ctx context.Context) error
	// Commit, when non-nil, discards what Rollback would need (the kept
	// previous content); the engine calls it after a completed bootstrap.
	Commit  func() error
	Message string
}

// ImageInstaller installs a verified image. It either installs the whole
// image and returns a non-nil *Installed, or returns an error; an error means
// the target must not be considered installed (RFC 8572 5.6, C83). An
// installer that can undo the install sets Installed.Rollback.
type ImageInstaller interface {
	InstallImage(ctx context.Context, img Image) (*Installed, error)
}

// Configuration handling values (RFC 8572 configuration-handling).
const (
	HandlingMerge   = "merge"
	HandlingReplace = "replace"
)

// Config is configuration to commit.
type Config struct {
	Data     []byte
	Handling string // HandlingMerge or HandlingReplace
}

// ConfigApplier commits configuration atomically (C78): on error the previous
// configuration is still the active one (C79). The returned undo, when
// non-nil, restores the configuration that was active before (used when a
// later step such as the post-configuration script fails, C81).
type ConfigApplier interface {
	ApplyConfig(ctx context.Context, cfg Config) (undo func() error, err error)
}

// ScriptStatus is the outcome class of a script.
type ScriptStatus int

const (
	ScriptOK      ScriptStatus = iota // exit status 0
	ScriptWarning                     // exit status ExitWarning (C77: does not abort)
	ScriptError                       // any other exit status, a signal, or a timeout
)

func (s ScriptStatus) String() string {
	switch s {
	case ScriptOK:
		return "ok"
	case ScriptWarning:
		return "warning"
	case ScriptError:
		return "error"
	}
	return "unknown"
}

// ScriptResult is what a script did.
type ScriptResult struct {
	Status   ScriptStatus
	ExitCode int    // -1 when killed by a signal or the timeout
	Output   string // stdout and stderr interleaved, at most the last MaxOutput bytes
}

// ScriptRunner runs a pre- or post-configuration script.
//
// RunScript returns a non-nil result whenever the script was started. The
// error is non-nil when the script could not be run at all (bad name, not
// executable content, exec failure) or did not finish (timeout, context
// cancelled); the result then, if non-nil, has Status ScriptError and the
// output captured so far.
type ScriptRunner interface {
	RunScript(ctx context.Context, name string, script []byte) (*ScriptResult, error)
}

// Exit statuses of scripts and exec hooks; see HOOKS.md.
const (
	// ExitWarning from a script means "done, with a warning" (*-warning).
	ExitWarning = 10
	// ExitReboot from an exec image hook means "installed; reboot to
	// activate".
	ExitReboot = 20
)

// DefaultTimeout bounds scripts and exec hooks when Options.Timeout is zero.
const DefaultTimeout = 15 * time.Minute

// MaxOutput is how much of a program's output (the tail) is kept.
const MaxOutput = 64 << 10

// ErrTimeout is wrapped by errors from programs that ran out of time.
var ErrTimeout = errors.New("timed out")

// Options are shared by the hooks.
type Options struct {
	Logger  *slog.Logger  // nil: silent
	Timeout time.Duration // per script or exec hook run; 0: DefaultTimeout
	// DryRun does everything except what would reboot or kexec the host:
	// kexec images are unpacked and checked but not loaded, and Reboot
	// functions only log.
	DryRun bool
	// Env is added to the clean environment of scripts and exec hooks
	// ("KEY=VALUE"; it may override PATH, not the SZTP_* variables).
	Env []string
	// WorkDir holds temporary files (kexec bundles are unpacked there);
	// "" means os.TempDir().
	WorkDir string
}

func (o Options) logger() *slog.Logger {
	if o.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return o.Logger
}

func (o Options) timeout() time.Duration {
	if o.Timeout <= 0 {
		return DefaultTimeout
	}
	return o.Timeout
}
