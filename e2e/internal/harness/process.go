package harness

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"syscall"
	"time"
)

// Process is a child process started by Start. Stop ends it by its PID.
type Process struct {
	Name string
	Log  string // file holding its stdout and stderr

	cmd  *exec.Cmd
	done chan struct{}
	err  error // exit status, valid after done is closed
	once sync.Once
}

// Start runs argv with stdin from /dev/null and stdout and stderr appended to
// logPath. The process is not tied to ctx: it lives until Stop or its own
// exit, so that cleanup decides when it ends.
func Start(name, logPath string, argv ...string) (*Process, error) {
	if len(argv) == 0 {
		return nil, errors.New("harness: empty command")
	}
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, fmt.Errorf("harness: %s log: %w", name, err)
	}
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = logf
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		logf.Close()
		return nil, fmt.Errorf("harness: starting %s: %w", name, err)
	}
	p := &Process{Name: name, Log: logPath, cmd: cmd, done: make(chan struct{})}
	go func() {
		p.err = cmd.Wait()
		logf.Close()
		close(p.done)
	}()
	return p, nil
}

// PID is the process ID.
func (p *Process) PID() int { return p.cmd.Process.Pid }

// Done is closed when the process has exited.
func (p *Process) Done() <-chan struct{} { return p.done }

// Exited reports whether the process has exited, and its exit error.
func (p *Process) Exited() (bool, error) {
	select {
	case <-p.done:
		return true, p.err
	default:
		return false, nil
	}
}

// Wait waits for the process to exit or ctx to end.
func (p *Process) Wait(ctx context.Context) error {
	select {
	case <-p.done:
		return p.err
	case <-ctx.Done():
		return fmt.Errorf("harness: waiting for %s (pid %d): %w", p.Name, p.PID(), ctx.Err())
	}
}

// Stop sends SIGTERM to the process's PID, and SIGKILL if it has not exited
// after grace. It is safe to call more than once and after the process
// exited by itself.
func (p *Process) Stop(grace time.Duration) {
	p.once.Do(func() {
		select {
		case <-p.done:
			return
		default:
		}
		_ = p.cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			_ = p.cmd.Process.Kill()
			<-p.done
		}
	})
}

// run runs a short command to completion and returns its combined output in
// the error when it fails.
func run(ctx context.Context, argv ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	out, err := cmd.CombinedOutput()
	if err != nil {
		return out, fmt.Errorf("%v: %w: %s", argv, err, out)
	}
	return out, nil
}
