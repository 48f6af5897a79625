package boot

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
)

// Values of SZTP_STEP for exec hooks.
const (
	StepBootImage      = "boot-image"
	StepImageRollback  = "boot-image-rollback"
	StepConfiguration  = "configuration"
	StepConfigRollback = "configuration-rollback"
)

const (
	envStep           = "SZTP_STEP="
	envOSName         = "SZTP_OS_NAME="
	envOSVersion      = "SZTP_OS_VERSION="
	envImage          = "SZTP_IMAGE="
	envConfigHandling = "SZTP_CONFIG_HANDLING="
	envAction         = "SZTP_ACTION="
)

// Values of SZTP_ACTION for the exec image hook.
const (
	ActionInstall  = "install"
	ActionRollback = "rollback"
)

func init() {
	registerImageHook(imageHook{
		HookInfo: HookInfo{Name: "exec", Usage: "exec:PROGRAM",
			Summary: "run PROGRAM (absolute path) with SZTP_STEP=boot-image and SZTP_IMAGE=path; exit 0 installed, 20 installed+reboot (HOOKS.md)"},
		arg: argRequired,
		new: func(arg string, opts Options) (ImageInstaller, error) { return newExecHook(arg, opts) },
	})
	registerConfigHook(configHook{
		HookInfo: HookInfo{Name: "exec", Usage: "exec:PROGRAM",
			Summary: "run PROGRAM with SZTP_STEP=configuration, the configuration on stdin; undo runs it with SZTP_STEP=configuration-rollback (HOOKS.md)"},
		arg: argRequired,
		new: func(arg string, opts Options) (ConfigApplier, error) { return newExecHook(arg, opts) },
	})
}

// execHook runs a vendor program; the protocol is in HOOKS.md and doc.go.
type execHook struct {
	prog string
	opts Options
}

func newExecHook(prog string, opts Options) (*execHook, error) {
	if err := checkProgram(prog); err != nil {
		return nil, err
	}
	return &execHook{prog: prog, opts: opts}, nil
}

// checkProgram makes sure a hook's program is an absolute path to an
// executable file when the hook is set up, not when it is first needed.
func checkProgram(prog string) error {
	if !filepath.IsAbs(prog) {
		return fmt.Errorf("program %q must be an absolute path", prog)
	}
	fi, err := os.Stat(prog)
	if err != nil {
		return err
	}
	if !fi.Mode().IsRegular() || fi.Mode().Perm()&0o111 == 0 {
		return fmt.Errorf("program %s is not an executable file (mode %v)", prog, fi.Mode())
	}
	return nil
}

// InstallImage runs the program with the image path in SZTP_IMAGE and
// nothing on stdin (images can be GiB; the program opens the file). An
// image installed without a reboot can be rolled back: the program runs
// again with SZTP_STEP=boot-image-rollback and SZTP_ACTION=rollback (C83).
func (h *execHook) InstallImage(ctx context.Context, img Image) (*Installed, error) {
	log := h.opts.logger().With("hook", "exec", "program", h.prog)
	log.Info("installing image", "image", img.Path, "os-name", img.OSName, "os-version", img.OSVersion)
	res, err := h.runImage(ctx, StepBootImage, ActionInstall, img)
	if err != nil {
		return nil, err
	}
	switch {
	case res.signal == "" && res.exitCode == 0:
		return &Installed{
			Message: withOutput("installed by "+h.prog, res.output),
			Rollback: func(ctx context.Context) error {
				log.Warn("rolling back the image")
				// A rollback is not cancelled with the step that failed.
				res, err := h.runImage(context.WithoutCancel(ctx), StepImageRollback, ActionRollback, img)
				if err != nil {
					return err
				}
				if res.signal != "" || res.exitCode != 0 {
					return fmt.Errorf("exec hook %s %s: %s", h.prog, StepImageRollback, withOutput(res.describe(), res.output))
				}
				return nil
			},
		}, nil
	case res.signal == "" && res.exitCode == ExitReboot:
		return &Installed{
			Message: withOutput("installed by "+h.prog+", reboot requested", res.output),
			Reboot:  systemReboot(h.opts),
		}, nil
	}
	return nil, fmt.Errorf("exec hook %s: %s", h.prog, withOutput(res.describe(), res.output))
}

func (h *execHook) runImage(ctx context.Context, step, action string, img Image) (runResult, error) {
	res, err := runProgram(ctx, h.opts, program{
		path: h.prog,
		dir:  "/",
		env: []string{
			envStep + step,
			envAction + action,
			envImage + img.Path,
			envOSName + img.OSName,
			envOSVersion + img.OSVersion,
		},
	})
	if err != nil {
		return res, fmt.Errorf("exec hook %s: %w%s", step, err, outputSuffix(res.output))
	}
	return res, nil
}

// ApplyConfig runs the program with the configuration on stdin. The program
// owns atomicity: on a non-zero exit it must have left the previous
// configuration active.
func (h *execHook) ApplyConfig(ctx context.Context, cfg Config) (func() error, error) {
	if err := checkHandling(cfg.Handling); err != nil {
		return nil, err
	}
	log := h.opts.logger().With("hook", "exec", "program", h.prog)
	log.Info("applying configuration", "handling", cfg.Handling, "bytes", len(cfg.Data))
	if err := h.runConfig(ctx, StepConfiguration, cfg.Handling, cfg.Data); err != nil {
		return nil, err
	}
	undo := func() error {
		log.Warn("rolling back configuration")
		// A rollback is not cancelled with the step that failed.
		return h.runConfig(context.WithoutCancel(ctx), StepConfigRollback, cfg.Handling, nil)
	}
	return undo, nil
}

func (h *execHook) runConfig(ctx context.Context, step, handling string, data []byte) error {
	res, err := runProgram(ctx, h.opts, program{
		path:  h.prog,
		dir:   "/",
		env:   []string{envStep + step, envConfigHandling + handling},
		stdin: bytes.NewReader(data),
	})
	if err != nil {
		return fmt.Errorf("exec hook %s: %w%s", step, err, outputSuffix(res.output))
	}
	if res.signal != "" || res.exitCode != 0 {
		return fmt.Errorf("exec hook %s %s: %s", h.prog, step, withOutput(res.describe(), res.output))
	}
	return nil
}

// checkHandling accepts the two configuration-handling values.
func checkHandling(h string) error {
	switch h {
	case HandlingMerge, HandlingReplace:
		return nil
	}
	return fmt.Errorf("boot: configuration-handling %q is neither merge nor replace", h)
}
