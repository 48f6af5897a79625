package boot

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"
)

// basePath is the PATH of scripts and exec hooks: they get a clean
// environment, not the agent's.
const basePath = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

// pipeGrace bounds how long the output pipe is read after the program
// exited (or was killed): a background child that keeps stdout open does
// not block the agent.
const pipeGrace = 2 * time.Second

// program is one run of a script or exec hook.
type program struct {
	path  string    // executed directly, argv = [path]
	dir   string    // working directory ("" = inherit)
	env   []string  // SZTP_* variables; basePath and Options.Env are added
	stdin io.Reader // nil = /dev/null
}

// runResult is how a program ended.
type runResult struct {
	exitCode int    // -1 when killed by a signal
	signal   string // set when killed by a signal
	output   string // tail of stdout+stderr
}

// describe is a short human summary: "exit status 3", "killed by signal 9".
func (r runResult) describe() string {
	if r.signal != "" {
		return "killed by " + r.signal
	}
	return fmt.Sprintf("exit status %d", r.exitCode)
}

// runProgram runs p with opts' timeout, in its own process group, and
// captures its output. The error is non-nil only when the program could not
// be started or did not finish (timeout wraps ErrTimeout, cancellation wraps
// the context's error); a non-zero exit status is not an error here. The
// result is valid whenever the program was started.
func runProgram(ctx context.Context, opts Options, p program) (runResult, error) {
	timeout := opts.timeout()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()

	out := &tailBuffer{max: MaxOutput}
	env := append([]string{basePath}, opts.Env...)
	env = append(env, p.env...) // later entries win: SZTP_* cannot be overridden
	build := func() *exec.Cmd {
		cmd := exec.CommandContext(rctx, p.path)
		cmd.Dir = p.dir
		cmd.Env = env
		cmd.Stdin = p.stdin
		cmd.Stdout, cmd.Stderr = out, out
		cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
		cmd.Cancel = func() error {
			// The whole group: a script's children go too.
			return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		}
		cmd.WaitDelay = pipeGrace
		return cmd
	}
	cmd, err := startRetryBusy(rctx, build)
	if err != nil {
		if cerr := contextErr(ctx, rctx, p.path, timeout); cerr != nil {
			// Out of time before the program ran: the same timeout or
			// cancellation as while it runs.
			return runResult{exitCode: -1}, cerr
		}
		return runResult{exitCode: -1}, fmt.Errorf("starting %s: %w", p.path, err)
	}
	opts.logger().Debug("started program", "path", p.path, "pid", cmd.Process.Pid, "timeout", timeout)
	werr := cmd.Wait()

	res := runResult{exitCode: -1, output: out.String()}
	if ps := cmd.ProcessState; ps != nil {
		if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			res.signal = "signal " + ws.Signal().String()
		} else {
			res.exitCode = ps.ExitCode()
		}
	}
	if err := contextErr(ctx, rctx, p.path, timeout); err != nil {
		return res, err
	}
	var exitErr *exec.ExitError
	if werr != nil && !errors.As(werr, &exitErr) && !errors.Is(werr, exec.ErrWaitDelay) {
		return res, fmt.Errorf("waiting for %s: %w", p.path, werr)
	}
	return res, nil
}

// contextErr says why a program run with rctx (ctx plus timeout) was cut
// short, or nil when it was not.
func contextErr(ctx, rctx context.Context, path string, timeout time.Duration) error {
	switch {
	case errors.Is(ctx.Err(), context.DeadlineExceeded):
		// The caller's own deadline: still a timeout of this program.
		return fmt.Errorf("%s: %w (%w)", path, ErrTimeout, ctx.Err())
	case ctx.Err() != nil:
		return fmt.Errorf("%s: %w", path, ctx.Err())
	case rctx.Err() != nil:
		return fmt.Errorf("%s: %w after %s", path, ErrTimeout, timeout)
	}
	return nil
}

// startRetryBusy starts the command, retrying a few times on ETXTBSY: a
// file just written may still be open for writing in a child forked
// concurrently by another goroutine until that child execs (golang/go#22315).
func startRetryBusy(ctx context.Context, build func() *exec.Cmd) (*exec.Cmd, error) {
	delay := 5 * time.Millisecond
	for attempt := 0; ; attempt++ {
		cmd := build()
		err := cmd.Start()
		if err == nil || !errors.Is(err, syscall.ETXTBSY) || attempt == 8 {
			return cmd, err
		}
		select {
		case <-ctx.Done():
			return cmd, err
		case <-time.After(delay):
		}
		delay *= 2
	}
}

// tailBuffer keeps the last max bytes written to it.
type tailBuffer struct {
	mu      sync.Mutex
	max     int
	buf     []byte
	dropped int64
}

func (t *tailBuffer) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := len(p)
	if len(p) >= t.max {
		t.dropped += int64(len(t.buf) + len(p) - t.max)
		t.buf = append(t.buf[:0], p[len(p)-t.max:]...)
		return n, nil
	}
	if over := len(t.buf) + len(p) - t.max; over > 0 {
		t.dropped += int64(over)
		t.buf = append(t.buf[:0], t.buf[over:]...)
	}
	t.buf = append(t.buf, p...)
	return n, nil
}

// String returns the kept output, prefixed with a note when bytes were cut.
func (t *tailBuffer) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.dropped == 0 {
		return string(t.buf)
	}
	return fmt.Sprintf("[first %d bytes of output cut]\n%s", t.dropped, t.buf)
}

// withOutput appends a program's output to a message, if there is any.
func withOutput(msg, output string) string { return msg + outputSuffix(output) }

// outputSuffix is ": OUTPUT" for a non-empty output.
func outputSuffix(output string) string {
	output = strings.TrimRight(output, "\n")
	if output == "" {
		return ""
	}
	return ": " + output
}
