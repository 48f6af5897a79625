package boot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"syscall"

	"github.com/sztp/sztp/internal/atomicfile"
)

// ErrNotExecutable is wrapped when a script is neither "#!" text nor ELF.
var ErrNotExecutable = errors.New("not an executable script (needs a #! line or an ELF header)")

// validScriptName keeps script names plain file names: 1..128 of
// [A-Za-z0-9._-], not starting with '.', '_' or '-'. (A loop rather than a
// regexp: regexp alone would cost the agent binary over 100 KiB.)
func validScriptName(name string) bool {
	if len(name) == 0 || len(name) > 128 {
		return false
	}
	for i, c := range []byte(name) {
		alnum := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
		if !alnum && (i == 0 || c != '.' && c != '_' && c != '-') {
			return false
		}
	}
	return true
}

// NewScriptRunner returns a runner that writes scripts to dir (created, and
// forced to mode 0700) and executes them directly: no shell, no arguments,
// a clean environment; see HOOKS.md for the convention.
func NewScriptRunner(dir string, opts Options) ScriptRunner {
	return &scriptRunner{dir: dir, opts: opts}
}

type scriptRunner struct {
	dir  string
	opts Options
}

// RunScript writes script to dir/name and runs it. Exit status 0 is
// ScriptOK, ExitWarning is ScriptWarning, anything else (or a signal, or the
// timeout) is ScriptError.
func (r *scriptRunner) RunScript(ctx context.Context, name string, script []byte) (*ScriptResult, error) {
	if !validScriptName(name) {
		return nil, fmt.Errorf("boot: script name %q is not a plain file name", name)
	}
	if err := checkExecutable(script); err != nil {
		return nil, fmt.Errorf("boot: script %s: %w", name, err)
	}
	if err := privateDir(r.dir); err != nil {
		return nil, fmt.Errorf("boot: script dir: %w", err)
	}
	path := filepath.Join(r.dir, name)
	if err := atomicfile.WriteFile(path, script, 0o700); err != nil {
		return nil, fmt.Errorf("boot: writing script %s: %w", name, err)
	}
	log := r.opts.logger().With("script", name)
	log.Info("running script", "path", path, "bytes", len(script))
	res, err := runProgram(ctx, r.opts, program{
		path: path,
		dir:  r.dir,
		env:  []string{"SZTP_STEP=" + name, "SZTP_SCRIPT=" + path},
	})
	out := &ScriptResult{Status: ScriptError, ExitCode: res.exitCode, Output: res.output}
	if err != nil {
		if errors.Is(err, ErrTimeout) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			log.Warn("script did not finish", "err", err)
			return out, fmt.Errorf("boot: script %s: %w", name, err)
		}
		return nil, fmt.Errorf("boot: script %s: %w", name, err)
	}
	switch {
	case res.signal == "" && res.exitCode == 0:
		out.Status = ScriptOK
	case res.signal == "" && res.exitCode == ExitWarning:
		out.Status = ScriptWarning
	}
	log.Info("script finished", "status", out.Status, "result", res.describe())
	return out, nil
}

// checkExecutable accepts "#!" scripts and ELF binaries only, so that data
// is never handed to a shell by accident.
func checkExecutable(b []byte) error {
	switch {
	case bytes.HasPrefix(b, []byte("#!")):
		line, _, _ := bytes.Cut(b[2:], []byte("\n"))
		if len(bytes.TrimSpace(line)) == 0 {
			return fmt.Errorf("%w: empty #! line", ErrNotExecutable)
		}
		return nil
	case bytes.HasPrefix(b, []byte("\x7fELF")):
		return nil
	case len(b) == 0:
		return fmt.Errorf("%w: empty", ErrNotExecutable)
	}
	n := min(len(b), 16)
	return fmt.Errorf("%w: starts with %q", ErrNotExecutable, b[:n])
}

// privateDir creates dir if needed and makes sure only we can use it. A
// directory that exists already must be ours: the script is written and then
// executed from it, and whoever owns the directory could swap the file in
// between (a predictable name under /tmp could be created by another user).
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	fi, err := os.Lstat(dir)
	if err != nil {
		return err
	}
	if !fi.IsDir() {
		return fmt.Errorf("%s is not a directory", dir)
	}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && int(st.Uid) != os.Geteuid() {
		return fmt.Errorf("%s is owned by uid %d, not by us (uid %d); refusing to run scripts from it", dir, st.Uid, os.Geteuid())
	}
	if fi.Mode().Perm() != 0o700 {
		if err := os.Chmod(dir, 0o700); err != nil {
			return err
		}
	}
	return nil
}
