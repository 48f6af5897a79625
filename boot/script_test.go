package boot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sztp/sztp/internal/testenv"
)

// Scripts: ok, warning, error (C76, C77) and what the runner refuses.
func TestRunScriptStatus(t *testing.T) {
	tests := []struct {
		name       string
		script     string
		wantStatus ScriptStatus
		wantCode   int
		wantOutput string
	}{
		{"ok", "#!/bin/sh\necho all good\n", ScriptOK, 0, "all good\n"},
		{"warning-C77", "#!/bin/sh\necho soft problem >&2\nexit 10\n", ScriptWarning, ExitWarning, "soft problem\n"},
		{"error-C76", "#!/bin/sh\necho hard problem\nexit 1\n", ScriptError, 1, "hard problem\n"},
		{"error-other-code", "#!/bin/sh\nexit 20\n", ScriptError, 20, ""},
		{"signal", "#!/bin/sh\nkill -TERM $$\n", ScriptError, -1, ""},
		{"interleaved", "#!/bin/sh\necho out\necho err >&2\necho out2\n", ScriptOK, 0, "out\nerr\nout2\n"},
		{"no-shell-interpolation", "#!/bin/cat\n$(touch /nonexistent-sztp) `x` $HOME\n", ScriptOK, 0, "#!/bin/cat\n$(touch /nonexistent-sztp) `x` $HOME\n"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := NewScriptRunner(filepath.Join(t.TempDir(), "scripts"), Options{Logger: testLogger(t)})
			res, err := r.RunScript(context.Background(), "pre-configuration-script", []byte(tc.script))
			if err != nil {
				t.Fatalf("RunScript: %v", err)
			}
			if res.Status != tc.wantStatus || res.ExitCode != tc.wantCode {
				t.Errorf("status %v code %d, want %v code %d (output %q)", res.Status, res.ExitCode, tc.wantStatus, tc.wantCode, res.Output)
			}
			if res.Output != tc.wantOutput {
				t.Errorf("output %q, want %q", res.Output, tc.wantOutput)
			}
		})
	}
}

func TestRunScriptRefuses(t *testing.T) {
	tests := []struct {
		name, script, scriptName string
		wantErr                  error
		wantMsg                  string
	}{
		{"plain-text", "echo hi\n", "pre", ErrNotExecutable, `starts with "echo hi\n"`},
		{"empty", "", "pre", ErrNotExecutable, "empty"},
		{"empty-shebang", "#!\necho hi\n", "pre", ErrNotExecutable, "empty #! line"},
		{"path-name", "#!/bin/sh\n", "../evil", nil, "not a plain file name"},
		{"slash-name", "#!/bin/sh\n", "a/b", nil, "not a plain file name"},
		{"dot-name", "#!/bin/sh\n", ".hidden", nil, "not a plain file name"},
		{"missing-interpreter", "#!/nonexistent/sztp-interp\n", "pre", nil, "no such file"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "s")
			r := NewScriptRunner(dir, Options{})
			res, err := r.RunScript(context.Background(), tc.scriptName, []byte(tc.script))
			if err == nil {
				t.Fatalf("RunScript succeeded (%+v), want an error", res)
			}
			if tc.wantErr != nil && !errors.Is(err, tc.wantErr) {
				t.Errorf("err = %v, want %v", err, tc.wantErr)
			}
			if !strings.Contains(err.Error(), tc.wantMsg) {
				t.Errorf("err = %q, want it to mention %q", err, tc.wantMsg)
			}
		})
	}
}

// The timeout kills the script and everything it started, and is reported
// as an error naming the timeout.
func TestRunScriptTimeoutKillsGroup(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "s")
	pidFile := filepath.Join(t.TempDir(), "child.pid")
	script := "#!/bin/sh\necho started\nsleep 1000 &\necho $! > " + pidFile + "\nwait\n"
	// The script must get to record its child before the timeout: generous
	// on a loaded machine (no wall-clock assertion either way).
	r := NewScriptRunner(dir, Options{Timeout: 5 * time.Second, Logger: testLogger(t)})
	res, err := r.RunScript(context.Background(), "post-configuration-script", []byte(script))
	if !errors.Is(err, ErrTimeout) {
		t.Fatalf("err = %v, want ErrTimeout", err)
	}
	if !strings.Contains(err.Error(), "after 5s") {
		t.Errorf("err = %q, want it to name the timeout 5s", err)
	}
	if res == nil || res.Status != ScriptError || !strings.Contains(res.Output, "started") {
		t.Fatalf("result %+v, want ScriptError with the output so far", res)
	}
	b, rerr := os.ReadFile(pidFile)
	if rerr != nil {
		t.Fatalf("the script did not record its child: %v", rerr)
	}
	pid, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	waitGone(t, pid)
}

// waitGone fails unless pid disappears (or is a zombie) soon.
func waitGone(t *testing.T, pid int) {
	t.Helper()
	for range 1200 { // up to 30s on a loaded machine; usually at once
		st, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
		if err != nil {
			return
		}
		if f := strings.Fields(string(st)); len(f) > 2 && f[2] == "Z" {
			return
		}
		time.Sleep(25 * time.Millisecond)
	}
	syscall.Kill(pid, syscall.SIGKILL)
	t.Errorf("child %d of the timed-out script is still running", pid)
}

// A deadline on the caller's context is a timeout too, whether it passes
// while the script runs or before it could be started (a loaded machine).
func TestRunScriptCallerDeadline(t *testing.T) {
	for _, tc := range []struct {
		name     string
		deadline time.Duration
	}{
		{"while-running", time.Second},
		{"before-start", -time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), tc.deadline)
			defer cancel()
			r := NewScriptRunner(filepath.Join(t.TempDir(), "s"), Options{})
			res, err := r.RunScript(ctx, "pre", []byte("#!/bin/sh\nsleep 1000\n"))
			if !errors.Is(err, ErrTimeout) || !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("err = %v, want ErrTimeout and DeadlineExceeded", err)
			}
			if res == nil || res.Status != ScriptError {
				t.Errorf("result %+v, want ScriptError", res)
			}
		})
	}
}

func TestRunScriptCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r := NewScriptRunner(filepath.Join(t.TempDir(), "s"), Options{})
	_, err := r.RunScript(ctx, "pre", []byte("#!/bin/sh\nsleep 1000\n"))
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
}

// Scripts get a private directory, a clean environment with SZTP_* and
// Options.Env, and run in that directory.
func TestRunScriptEnvironment(t *testing.T) {
	t.Setenv("SZTP_TEST_SECRET", "leaked")
	dir := filepath.Join(t.TempDir(), "s")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	r := NewScriptRunner(dir, Options{Env: []string{"VENDOR=acme", "SZTP_STEP=overridden"}})
	res, err := r.RunScript(context.Background(), "pre-configuration-script", []byte("#!/bin/sh\nenv | sort\npwd\n"))
	if err != nil || res.Status != ScriptOK {
		t.Fatalf("RunScript: %v %+v", err, res)
	}
	for _, want := range []string{
		"SZTP_STEP=pre-configuration-script\n",
		"SZTP_SCRIPT=" + filepath.Join(dir, "pre-configuration-script") + "\n",
		"VENDOR=acme\n",
		basePath + "\n",
		dir + "\n",
	} {
		if !strings.Contains(res.Output, want) {
			t.Errorf("output lacks %q:\n%s", want, res.Output)
		}
	}
	if strings.Contains(res.Output, "leaked") || strings.Contains(res.Output, "overridden") {
		t.Errorf("agent environment or an override leaked into the script:\n%s", res.Output)
	}
	fi, err := os.Stat(dir)
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("script dir mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
	fi, err = os.Stat(filepath.Join(dir, "pre-configuration-script"))
	if err != nil || fi.Mode().Perm() != 0o700 {
		t.Errorf("script mode %v (%v), want 0700", fi.Mode().Perm(), err)
	}
}

// ELF binaries run directly too.
func TestRunScriptELF(t *testing.T) {
	elf, err := os.ReadFile("/bin/true")
	if err != nil {
		t.Skip("no /bin/true")
	}
	r := NewScriptRunner(filepath.Join(t.TempDir(), "s"), Options{})
	res, err := r.RunScript(context.Background(), "post", elf)
	if err != nil || res.Status != ScriptOK {
		t.Fatalf("RunScript(/bin/true): %v %+v", err, res)
	}
}

// Output is bounded: only the tail is kept, with a note.
func TestRunScriptOutputBounded(t *testing.T) {
	r := NewScriptRunner(filepath.Join(t.TempDir(), "s"), Options{})
	// 200 KiB of 'x' then a marker.
	res, err := r.RunScript(context.Background(), "pre", []byte("#!/bin/sh\nhead -c 204800 /dev/zero | tr '\\0' x\necho\necho END\n"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.Output, "[first ") || !strings.HasSuffix(res.Output, "END\n") {
		t.Errorf("output not cut to its tail: starts %q ends %q", res.Output[:min(40, len(res.Output))], res.Output[max(0, len(res.Output)-10):])
	}
	if len(res.Output) > MaxOutput+64 {
		t.Errorf("output is %d bytes, want about %d", len(res.Output), MaxOutput)
	}
}

func TestTailBuffer(t *testing.T) {
	tests := []struct {
		writes []string
		want   string
	}{
		{[]string{"ab", "cd"}, "abcd"},
		{[]string{"abcdef"}, "[first 2 bytes of output cut]\ncdef"},
		{[]string{"abc", "def"}, "[first 2 bytes of output cut]\ncdef"},
		{[]string{"a", "b", "c", "d", "e"}, "[first 1 bytes of output cut]\nbcde"},
		{[]string{"abcd", "efghij"}, "[first 6 bytes of output cut]\nghij"},
	}
	for _, tc := range tests {
		tb := &tailBuffer{max: 4}
		for _, w := range tc.writes {
			tb.Write([]byte(w))
		}
		if got := tb.String(); got != tc.want {
			t.Errorf("writes %q: got %q, want %q", tc.writes, got, tc.want)
		}
	}
}

// A script directory that exists but belongs to someone else (another user
// could pre-create a predictable name under /tmp and swap the script between
// write and exec) is refused, and nothing is written or run there.
func TestRunScriptRefusesForeignDir(t *testing.T) {
	testenv.NeedRoot(t)
	dir := filepath.Join(t.TempDir(), "s")
	if err := os.Mkdir(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	const nobody = 65534
	if err := os.Chown(dir, nobody, nobody); err != nil {
		t.Fatal(err)
	}
	r := NewScriptRunner(dir, Options{})
	res, err := r.RunScript(context.Background(), "pre", []byte("#!/bin/sh\nexit 0\n"))
	if err == nil || !strings.Contains(err.Error(), "owned by uid 65534") {
		t.Fatalf("RunScript in a directory owned by uid %d: %+v, %v; want a refusal naming the owner", nobody, res, err)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 0 {
		t.Errorf("%d entries written to the foreign directory, want none", len(ents))
	}
}

func TestValidScriptName(t *testing.T) {
	tests := map[string]bool{
		"pre-configuration-script": true, "post.sh": true, "a": true, "A_9": true,
		"": false, ".hidden": false, "-x": false, "_x": false, "../evil": false, "a/b": false,
		"sp ace": false, "tab\t": false, "ü": false,
		strings.Repeat("a", 128): true, strings.Repeat("a", 129): false,
	}
	for name, want := range tests {
		if got := validScriptName(name); got != want {
			t.Errorf("validScriptName(%q) = %v, want %v", name, got, want)
		}
	}
}
