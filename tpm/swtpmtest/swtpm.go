package swtpmtest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sztp/sztp/internal/testenv"
)

// SWTPM is a running swtpm.
type SWTPM struct {
	// Path is what the agent's --tpm flag takes: tcp://127.0.0.1:PORT or
	// unix://PATH.
	Path string
	// TCTI is the TPM2TOOLS_TCTI value for tpm2-tools.
	TCTI string
	// Dir is a scratch directory for this TPM.
	Dir string
	// StateDir holds swtpm's state (tpm2-00.permall). After Stop it can be
	// served again, e.g. by a swtpm acting as a QEMU vTPM.
	StateDir string
	PID      int

	ctrl []string // swtpm_ioctl arguments that reach the control channel
	stop func()
}

// Stop shuts swtpm down cleanly (swtpm_ioctl -s, then SIGTERM, then SIGKILL,
// by PID) so that its persistent state is complete. It is safe to call more
// than once; the test cleanup calls it too.
func (s *SWTPM) Stop() {
	if s.stop != nil {
		s.stop()
	}
}

// Start runs swtpm with a TCP server socket on a free loopback port. It is
// stopped when t ends.
func Start(t testing.TB) *SWTPM {
	t.Helper()
	return start(t, "tcp")
}

// StartUnix runs swtpm with a Unix server socket.
func StartUnix(t testing.TB) *SWTPM {
	t.Helper()
	return start(t, "unix")
}

func start(t testing.TB, network string) *SWTPM {
	t.Helper()
	testenv.NeedCommands(t, "swtpm")
	dir := t.TempDir()
	state := filepath.Join(dir, "state")
	if err := os.Mkdir(state, 0o700); err != nil {
		t.Fatal(err)
	}
	// swtpm takes a listening Unix socket as an fd, so that variant has no
	// race at all. For TCP it wants a port: pick a free one and retry if
	// another process took it in between.
	var last error
	for attempt := 0; attempt < 5; attempt++ {
		s, err := launch(t, dir, state, network)
		if err == nil {
			return s
		}
		last = err
	}
	t.Fatalf("swtpm did not come up: %v", last)
	return nil
}

func launch(t testing.TB, dir, state, network string) (*SWTPM, error) {
	s := &SWTPM{Dir: dir, StateDir: state}
	args := []string{"socket", "--tpm2", "--tpmstate", "dir=" + state,
		"--flags", "not-need-init,startup-clear",
		"--log", "file=" + filepath.Join(dir, "swtpm.log")}
	var extra []*os.File
	switch network {
	case "tcp":
		// tpm2-tools' swtpm TCTI expects the control port at port+1.
		port, err := freePortPair()
		if err != nil {
			return nil, err
		}
		s.Path = fmt.Sprintf("tcp://127.0.0.1:%d", port)
		s.TCTI = fmt.Sprintf("swtpm:host=127.0.0.1,port=%d", port)
		args = append(args, "--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port),
			"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", port+1))
		s.ctrl = []string{"--tcp", fmt.Sprintf("127.0.0.1:%d", port+1)}
	case "unix":
		sock := filepath.Join(dir, "tpm.sock")
		os.Remove(sock)
		l, err := net.Listen("unix", sock)
		if err != nil {
			return nil, err
		}
		f, err := listenerFile(l)
		l.Close()
		if err != nil {
			return nil, err
		}
		defer f.Close()
		extra = append(extra, f)
		s.Path = "unix://" + sock
		ctrl := filepath.Join(dir, "ctrl.sock")
		os.Remove(ctrl)
		args = append(args, "--server", "type=unixio,fd=3", "--ctrl", "type=unixio,path="+ctrl)
		s.ctrl = []string{"--unix", ctrl}
	}
	cmd := exec.Command("swtpm", args...)
	cmd.ExtraFiles = extra
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("starting swtpm: %w", err)
	}
	s.PID = cmd.Process.Pid
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	var once sync.Once
	stop := func() {
		once.Do(func() {
			if p, err := exec.LookPath("swtpm_ioctl"); err == nil {
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				_ = exec.CommandContext(ctx, p, append(s.ctrl, "-s")...).Run()
				cancel()
			}
			select {
			case <-exited:
				return
			case <-time.After(2 * time.Second):
			}
			_ = cmd.Process.Signal(syscall.SIGTERM)
			select {
			case <-exited:
			case <-time.After(5 * time.Second):
				_ = cmd.Process.Kill()
				<-exited
			}
		})
	}
	s.stop = stop
	if err := s.waitReady(exited); err != nil {
		stop()
		return nil, fmt.Errorf("%w (log: %s)", err, s.log())
	}
	t.Cleanup(stop)
	return s, nil
}

// freePortPair finds a loopback port P with P+1 also free.
func freePortPair() (int, error) {
	for i := 0; i < 20; i++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, err
		}
		port := l.Addr().(*net.TCPAddr).Port
		l2, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port+1))
		l.Close()
		if err == nil {
			l2.Close()
			return port, nil
		}
	}
	return 0, fmt.Errorf("no two consecutive free loopback ports")
}

func listenerFile(l net.Listener) (*os.File, error) {
	switch l := l.(type) {
	case *net.TCPListener:
		return l.File()
	case *net.UnixListener:
		l.SetUnlinkOnClose(false)
		return l.File()
	}
	return nil, fmt.Errorf("unsupported listener %T", l)
}

// Bounds on swtpm and tpm2-tools, generous for a loaded machine: they only
// matter when something hangs.
const (
	readyTimeout = 30 * time.Second
	toolTimeout  = 2 * time.Minute
)

// waitReady connects to the server socket until swtpm accepts. The socket is
// already listening, so this mostly waits for swtpm to initialise.
func (s *SWTPM) waitReady(exited chan error) error {
	network, addr := "tcp", strings.TrimPrefix(s.Path, "tcp://")
	if strings.HasPrefix(s.Path, "unix://") {
		network, addr = "unix", strings.TrimPrefix(s.Path, "unix://")
	}
	// TPM2_GetCapability(TPM_CAP_TPM_PROPERTIES, TPM_PT_MANUFACTURER, 1).
	cmd := []byte{0x80, 0x01, 0, 0, 0, 0x16, 0, 0, 0x01, 0x7a, 0, 0, 0, 6, 0, 0, 0x01, 0x05, 0, 0, 0, 1}
	deadline := time.Now().Add(readyTimeout)
	var last error
	for time.Now().Before(deadline) {
		select {
		case err := <-exited:
			exited <- err
			return fmt.Errorf("swtpm exited: %v", err)
		default:
		}
		c, err := net.DialTimeout(network, addr, time.Second)
		if err == nil {
			c.SetDeadline(time.Now().Add(3 * time.Second))
			_, err = c.Write(cmd)
			if err == nil {
				hdr := make([]byte, 10)
				_, err = c.Read(hdr)
			}
			c.Close()
			if err == nil {
				return nil
			}
		}
		last = err
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("timed out: %v", last)
}

func (s *SWTPM) log() string {
	b, _ := os.ReadFile(filepath.Join(s.Dir, "swtpm.log"))
	return strings.TrimSpace(string(b))
}

// Tool runs a tpm2-tools command against this TPM and returns its stdout.
func (s *SWTPM) Tool(t testing.TB, name string, args ...string) []byte {
	t.Helper()
	if s.TCTI == "" {
		t.Fatalf("%s: tpm2-tools need the TCP swtpm (Start), not the Unix socket one", name)
	}
	testenv.NeedCommands(t, name)
	return run(t, s.Dir, []string{"TPM2TOOLS_TCTI=" + s.TCTI}, name, args...)
}

// run runs a command in dir and fails t with its output on error, or when
// it does not finish within toolTimeout.
func run(t testing.TB, dir string, env []string, name string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), toolTimeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if ctx.Err() != nil {
		err = fmt.Errorf("%w after %v (%v)", ctx.Err(), toolTimeout, err)
	}
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, stderr.String())
	}
	return out
}
