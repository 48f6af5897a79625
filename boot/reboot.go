package boot

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// System calls that end the running system; tests replace them.
var (
	sysSync   = unix.Sync
	sysReboot = unix.Reboot
)

// rebootWait bounds how long a reboot program's "success" may take to
// actually take the system down.
var rebootWait = 5 * time.Minute

func init() {
	registerImageHook(imageHook{
		HookInfo: HookInfo{Name: "reboot", Usage: "reboot[:PROGRAM]",
			Summary: "nothing to write (another hook in the chain did it): reboot to activate, by reboot(2) or by running PROGRAM"},
		arg: argOptional,
		new: func(arg string, opts Options) (ImageInstaller, error) {
			// A missing reboot program would show only after
			// boot-image-installed-rebooting was reported.
			if arg != "" {
				if err := checkProgram(arg); err != nil {
					return nil, err
				}
			}
			return rebootHook{prog: arg, opts: opts}, nil
		},
	})
	registerImageHook(imageHook{
		HookInfo: HookInfo{Name: "none", Usage: "none",
			Summary: "accept the image without installing it (testing; logged as a warning)"},
		new: func(_ string, opts Options) (ImageInstaller, error) { return noneHook{opts}, nil },
	})
	registerConfigHook(configHook{
		HookInfo: HookInfo{Name: "none", Usage: "none",
			Summary: "accept the configuration without applying it (testing; logged as a warning)"},
		new: func(_ string, opts Options) (ConfigApplier, error) { return noneHook{opts}, nil },
	})
}

// rebootHook writes nothing; its Installed.Reboot restarts the system.
type rebootHook struct {
	prog string
	opts Options
}

func (h rebootHook) InstallImage(ctx context.Context, img Image) (*Installed, error) {
	if h.prog == "" {
		return &Installed{Message: "reboot to activate " + imageName(img), Reboot: systemReboot(h.opts)}, nil
	}
	return &Installed{
		Message: "reboot (" + h.prog + ") to activate " + imageName(img),
		Reboot:  h.runReboot,
	}, nil
}

// runReboot runs the reboot program, then waits for the system to go down.
func (h rebootHook) runReboot(ctx context.Context) error {
	log := h.opts.logger().With("hook", "reboot", "program", h.prog)
	if h.opts.DryRun {
		log.Warn("dry run: not running the reboot program")
		return nil
	}
	log.Warn("rebooting")
	sysSync()
	res, err := runProgram(ctx, h.opts, program{path: h.prog, dir: "/", env: []string{envStep + "reboot"}})
	if err != nil {
		return fmt.Errorf("boot: reboot program: %w%s", err, outputSuffix(res.output))
	}
	if res.signal != "" || res.exitCode != 0 {
		return fmt.Errorf("boot: reboot program %s: %s", h.prog, withOutput(res.describe(), res.output))
	}
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-time.After(rebootWait):
		return fmt.Errorf("boot: %s exited 0 but the system did not go down within %s", h.prog, rebootWait)
	}
}

// systemReboot returns a Reboot func that syncs and calls reboot(2).
func systemReboot(opts Options) func(context.Context) error {
	return func(context.Context) error {
		log := opts.logger()
		if opts.DryRun {
			log.Warn("dry run: not rebooting")
			return nil
		}
		log.Warn("rebooting (reboot(2))")
		sysSync()
		if err := sysReboot(unix.LINUX_REBOOT_CMD_RESTART); err != nil {
			return fmt.Errorf("boot: reboot(2): %w", err)
		}
		return nil
	}
}

// noneHook accepts everything and does nothing.
type noneHook struct{ opts Options }

func (h noneHook) InstallImage(ctx context.Context, img Image) (*Installed, error) {
	h.opts.logger().Warn("image hook none: image NOT installed", "image", img.Path, "os-name", img.OSName, "os-version", img.OSVersion)
	return &Installed{Message: "image " + imageName(img) + " not installed (image hook none)"}, nil
}

func (h noneHook) ApplyConfig(ctx context.Context, cfg Config) (func() error, error) {
	if err := checkHandling(cfg.Handling); err != nil {
		return nil, err
	}
	h.opts.logger().Warn("config hook none: configuration NOT applied", "handling", cfg.Handling, "bytes", len(cfg.Data))
	return nil, nil
}

// chainInstaller runs several installers on the same image, in order.
type chainInstaller []ImageInstaller

func (c chainInstaller) InstallImage(ctx context.Context, img Image) (*Installed, error) {
	var out Installed
	var msgs []string
	var abandons []func() error
	var rollbacks []func(context.Context) error
	var commits []func() error
	abandonAll := func() error {
		var errs []error
		for _, a := range abandons {
			errs = append(errs, a())
		}
		return errors.Join(errs...)
	}
	// Roll back in reverse order: the last hook's change first.
	rollbackAll := func(ctx context.Context) error {
		var errs []error
		for i := len(rollbacks) - 1; i >= 0; i-- {
			errs = append(errs, rollbacks[i](ctx))
		}
		return errors.Join(errs...)
	}
	for i, in := range c {
		got, err := in.InstallImage(ctx, img)
		if err != nil {
			// What earlier hooks installed is undone where they can (C83).
			err = errors.Join(err, abandonAll(), rollbackAll(context.WithoutCancel(ctx)))
			return nil, fmt.Errorf("hook %d of %d: %w", i+1, len(c), err)
		}
		if got.Message != "" {
			msgs = append(msgs, got.Message)
		}
		if got.Reboot != nil {
			out.Reboot = got.Reboot
		}
		if got.Abandon != nil {
			abandons = append(abandons, got.Abandon)
		}
		if got.Rollback != nil {
			rollbacks = append(rollbacks, got.Rollback)
		}
		if got.Commit != nil {
			commits = append(commits, got.Commit)
		}
	}
	out.Message = strings.Join(msgs, "; ")
	if len(abandons) > 0 {
		out.Abandon = abandonAll
	}
	if len(rollbacks) > 0 {
		out.Rollback = rollbackAll
	}
	if len(commits) > 0 {
		out.Commit = func() error {
			var errs []error
			for _, c := range commits {
				errs = append(errs, c())
			}
			return errors.Join(errs...)
		}
	}
	return &out, nil
}

func imageName(img Image) string {
	if img.OSName == "" && img.OSVersion == "" {
		return filepath.Base(img.Path)
	}
	return strings.TrimSpace(img.OSName + " " + img.OSVersion)
}
