package boot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The exec image hook protocol: environment, nothing on stdin, exit status
// meaning, output in the message.
func TestExecImageHook(t *testing.T) {
	tests := []struct {
		name       string
		body       string
		wantErr    string // substring; "" = success
		wantReboot bool
		wantMsg    string
	}{
		{"installed", "echo wrote $SZTP_IMAGE\nexit 0\n", "", false, "wrote "},
		{"reboot-requested", "echo flashed\nexit 20\n", "", true, "reboot requested: flashed"},
		{"error-status", "echo no space left >&2\nexit 3\n", "exit status 3: no space left", false, ""},
		{"warning-code-is-error", "exit 10\n", "exit status 10", false, ""},
		{"signal", "kill -KILL $$\n", "killed by signal killed", false, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			prog := writeProgram(t, dir, "install", tc.body)
			h, err := NewImageHook("exec:"+prog, Options{Logger: testLogger(t), DryRun: true})
			if err != nil {
				t.Fatal(err)
			}
			img := Image{Path: filepath.Join(dir, "image.bin"), OSName: "VendorOS", OSVersion: "17.2"}
			got, err := h.InstallImage(context.Background(), img)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
				}
				if got != nil {
					t.Errorf("a failed install returned %+v, want nil (RFC 8572 5.6)", got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if (got.Reboot != nil) != tc.wantReboot {
				t.Errorf("Reboot set = %t, want %t", got.Reboot != nil, tc.wantReboot)
			}
			if !strings.Contains(got.Message, tc.wantMsg) {
				t.Errorf("message %q, want it to contain %q", got.Message, tc.wantMsg)
			}
			if got.Reboot != nil {
				if err := got.Reboot(context.Background()); err != nil {
					t.Errorf("dry-run Reboot: %v", err)
				}
			}
		})
	}
}

func TestExecImageHookEnvironment(t *testing.T) {
	dir := t.TempDir()
	envOut := filepath.Join(dir, "env")
	stdinOut := filepath.Join(dir, "stdin")
	prog := writeProgram(t, dir, "install", "env > "+envOut+"\ncat > "+stdinOut+"\n")
	h, err := NewImageHook("exec:"+prog, Options{Env: []string{"EXTRA=1"}})
	if err != nil {
		t.Fatal(err)
	}
	img := Image{Path: filepath.Join(dir, "image.bin"), OSName: "VendorOS", OSVersion: "17.2R1.6"}
	if _, err := h.InstallImage(context.Background(), img); err != nil {
		t.Fatal(err)
	}
	env, _ := os.ReadFile(envOut)
	for _, want := range []string{
		"SZTP_STEP=boot-image", "SZTP_IMAGE=" + img.Path, "SZTP_OS_NAME=VendorOS",
		"SZTP_OS_VERSION=17.2R1.6", "EXTRA=1",
	} {
		if !strings.Contains(string(env), want+"\n") {
			t.Errorf("environment lacks %s:\n%s", want, env)
		}
	}
	if in, _ := os.ReadFile(stdinOut); len(in) != 0 {
		t.Errorf("stdin carried %d bytes, want none", len(in))
	}
}

func TestExecImageHookTimeout(t *testing.T) {
	prog := writeProgram(t, t.TempDir(), "install", "echo working\nsleep 1000\n")
	// Generous, so that the program prints before the timeout on a loaded
	// machine.
	h, err := NewImageHook("exec:"+prog, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.InstallImage(context.Background(), Image{Path: "/nonexistent"})
	if !errors.Is(err, ErrTimeout) || !strings.Contains(err.Error(), "timed out after 5s: working") {
		t.Fatalf("err = %v, want a timeout with the output", err)
	}
	if got != nil {
		t.Errorf("timed-out install returned %+v", got)
	}
}

// The exec config hook: configuration on stdin, handling in the
// environment, rollback as a second run.
func TestExecConfigHook(t *testing.T) {
	dir := t.TempDir()
	log := filepath.Join(dir, "log")
	prog := writeProgram(t, dir, "config", `
echo "$SZTP_STEP $SZTP_CONFIG_HANDLING $(cat)" >> `+log+`
case "$SZTP_STEP" in configuration) echo committed;; esac
`)
	h, err := NewConfigHook("exec:"+prog, Options{Logger: testLogger(t)})
	if err != nil {
		t.Fatal(err)
	}
	undo, err := h.ApplyConfig(context.Background(), Config{Data: []byte("<config/>"), Handling: "merge"})
	if err != nil {
		t.Fatal(err)
	}
	if undo == nil {
		t.Fatal("no undo from the exec config hook")
	}
	if err := undo(); err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(log)
	want := "configuration merge <config/>\nconfiguration-rollback merge \n"
	if string(got) != want {
		t.Errorf("program saw:\n%s\nwant:\n%s", got, want)
	}
}

func TestExecConfigHookErrors(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, body, handling, wantErr string
	}{
		{"commit-fails-C79", "echo syntax error on line 3 >&2\nexit 1\n", "replace", "exit status 1: syntax error on line 3"},
		{"bad-handling", "exit 0\n", "append", `"append" is neither merge nor replace`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			prog := writeProgram(t, dir, tc.name, tc.body)
			h, err := NewConfigHook("exec:"+prog, Options{})
			if err != nil {
				t.Fatal(err)
			}
			undo, err := h.ApplyConfig(context.Background(), Config{Data: []byte("x"), Handling: tc.handling})
			if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
				t.Fatalf("err = %v, want it to contain %q", err, tc.wantErr)
			}
			if undo != nil {
				t.Error("a failed apply returned an undo")
			}
		})
	}
}

func TestExecRollbackFailure(t *testing.T) {
	prog := writeProgram(t, t.TempDir(), "config", `[ "$SZTP_STEP" = configuration ] || { echo cannot roll back; exit 4; }`+"\n")
	h, _ := NewConfigHook("exec:"+prog, Options{})
	undo, err := h.ApplyConfig(context.Background(), Config{Data: []byte("x"), Handling: "replace"})
	if err != nil {
		t.Fatal(err)
	}
	if err := undo(); err == nil || !strings.Contains(err.Error(), "configuration-rollback: exit status 4: cannot roll back") {
		t.Fatalf("undo err = %v, want the rollback failure with its output", err)
	}
}
