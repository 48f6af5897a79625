package boot

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

func TestHookNames(t *testing.T) {
	if got, want := ImageHookNames(), []string{"exec", "file", "kexec", "none", "reboot"}; !slices.Equal(got, want) {
		t.Errorf("ImageHookNames() = %v, want %v", got, want)
	}
	if got, want := ConfigHookNames(), []string{"exec", "file", "none"}; !slices.Equal(got, want) {
		t.Errorf("ConfigHookNames() = %v, want %v", got, want)
	}
	for _, h := range append(ImageHooks(), ConfigHooks()...) {
		if h.Usage == "" || h.Summary == "" || !strings.HasPrefix(h.Usage, h.Name) {
			t.Errorf("hook %q has usage %q summary %q", h.Name, h.Usage, h.Summary)
		}
	}
}

func TestRegisterTwicePanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("registering an image hook twice did not panic")
		}
	}()
	registerImageHook(imageHooks["none"])
}

func TestNewHookSpecs(t *testing.T) {
	prog := writeProgram(t, t.TempDir(), "prog", "exit 0\n")
	noexec := filepath.Join(t.TempDir(), "noexec")
	os.WriteFile(noexec, []byte("#!/bin/sh\n"), 0o644)
	tests := []struct {
		spec    string
		config  bool
		wantErr string // "" = ok
	}{
		{"none", false, ""},
		{"none", true, ""},
		{"kexec", false, ""},
		{"reboot", false, ""},
		{"reboot:" + prog, false, ""},
		{"file:/dev/sdb2", false, ""},
		{"file:/etc/sztp/running.json", true, ""},
		{"exec:" + prog, false, ""},
		{"exec:" + prog, true, ""},
		{"file:/dev/sdb2,reboot", false, ""},
		{"exec:" + prog + ",kexec", false, ""},
		{"kexec", true, "unknown hook"},
		{"reboot", true, "unknown hook"},
		{"", false, "unknown hook"},
		{"tftp:/x", false, `"tftp:/x": unknown hook (known: exec, file, kexec, none, reboot)`},
		{"file", false, "needs an argument (use file:PATH)"},
		{"file:", true, "needs an argument"},
		{"file:relative", false, "must be absolute"},
		{"kexec:/boot/vmlinuz", false, "takes no argument"},
		{"none:x", true, "takes no argument"},
		{"reboot:", false, "empty argument"},
		{"reboot:reboot", false, "must be an absolute path"},
		{"reboot:/nonexistent/sztp-reboot", false, "no such file"},
		{"reboot:" + noexec, false, "not an executable file"},
		{"exec:prog", false, "must be an absolute path"},
		{"exec:/nonexistent/sztp-hook", false, "no such file"},
		{"exec:" + noexec, true, "not an executable file"},
		{"file:/dev/sdb2,", false, "unknown hook"},
		{"file:/dev/sdb2,tftp", false, "unknown hook"},
	}
	for _, tc := range tests {
		var err error
		if tc.config {
			_, err = NewConfigHook(tc.spec, Options{})
		} else {
			_, err = NewImageHook(tc.spec, Options{})
		}
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("spec %q (config %t): %v", tc.spec, tc.config, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)):
			t.Errorf("spec %q (config %t): err = %v, want %q", tc.spec, tc.config, err, tc.wantErr)
		}
	}
	_, err := NewImageHook("tftp", Options{})
	if !errors.Is(err, ErrUnknownHook) {
		t.Errorf("unknown hook error %v does not wrap ErrUnknownHook", err)
	}
}

// A chain writes with every hook in order and reboots with the last one
// that asks for it; a failing hook stops the chain (RFC 8572 5.6).
func TestChain(t *testing.T) {
	dir := t.TempDir()
	target := filepath.Join(dir, "slot")
	img := writeImage(t, []byte("new image"))

	h, err := NewImageHook("file:"+target+",reboot", Options{DryRun: true})
	if err != nil {
		t.Fatal(err)
	}
	got, err := h.InstallImage(context.Background(), img)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != "new image" {
		t.Errorf("target %q", b)
	}
	if got.Reboot == nil || !strings.Contains(got.Message, "written to "+target+" (9 bytes); reboot to activate VendorOS 2.0") {
		t.Errorf("chain result %+v", got)
	}

	fail := writeProgram(t, dir, "fail", "echo cannot verify signature\nexit 1\n")
	h, _ = NewImageHook("exec:"+fail+",reboot", Options{DryRun: true})
	got, err = h.InstallImage(context.Background(), img)
	if got != nil || err == nil || !strings.Contains(err.Error(), "hook 1 of 2: exec hook") {
		t.Errorf("failing chain: %+v, %v", got, err)
	}
}

// The reboot hook: reboot(2) RESTART after sync, or a program; never in
// dry-run mode (TestMain makes the real call fail).
func TestRebootHook(t *testing.T) {
	h, _ := NewImageHook("reboot", Options{DryRun: true})
	got, err := h.InstallImage(context.Background(), Image{Path: "/x/image"})
	if err != nil || got.Reboot == nil || got.Message != "reboot to activate image" {
		t.Fatalf("InstallImage = %+v, %v", got, err)
	}
	if err := got.Reboot(context.Background()); err != nil {
		t.Errorf("dry-run Reboot: %v", err)
	}

	old := sysReboot
	t.Cleanup(func() { sysReboot = old })
	var cmd int
	sysReboot = func(c int) error { cmd = c; return unix.EPERM }
	h, _ = NewImageHook("reboot", Options{})
	got, _ = h.InstallImage(context.Background(), Image{Path: "/x/image"})
	if err := got.Reboot(context.Background()); !errors.Is(err, unix.EPERM) {
		t.Errorf("Reboot err = %v, want EPERM from reboot(2)", err)
	}
	if cmd != unix.LINUX_REBOOT_CMD_RESTART {
		t.Errorf("reboot(2) cmd %#x, want RESTART", cmd)
	}
}

func TestRebootProgram(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(dir, "rebooted")
	prog := writeProgram(t, dir, "reboot", "echo $SZTP_STEP > "+marker+"\n")
	failing := writeProgram(t, dir, "failing", "echo not allowed\nexit 1\n")

	h, _ := NewImageHook("reboot:"+prog, Options{DryRun: true})
	got, _ := h.InstallImage(context.Background(), Image{Path: "/x"})
	if err := got.Reboot(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Fatal("dry-run ran the reboot program")
	}

	old := rebootWait
	t.Cleanup(func() { rebootWait = old })
	rebootWait = 0
	h, _ = NewImageHook("reboot:"+prog, Options{})
	got, _ = h.InstallImage(context.Background(), Image{Path: "/x"})
	err := got.Reboot(context.Background())
	if b, _ := os.ReadFile(marker); string(b) != "reboot\n" {
		t.Errorf("reboot program saw SZTP_STEP %q", b)
	}
	if err == nil || !strings.Contains(err.Error(), "did not go down") {
		t.Errorf("Reboot err = %v, want 'did not go down'", err)
	}

	h, _ = NewImageHook("reboot:"+failing, Options{})
	got, _ = h.InstallImage(context.Background(), Image{Path: "/x"})
	if err := got.Reboot(context.Background()); err == nil || !strings.Contains(err.Error(), "exit status 1: not allowed") {
		t.Errorf("Reboot err = %v", err)
	}
}

func TestNoneHooks(t *testing.T) {
	h, _ := NewImageHook("none", Options{})
	got, err := h.InstallImage(context.Background(), Image{Path: "/x", OSName: "VendorOS", OSVersion: "3"})
	if err != nil || got.Reboot != nil || got.Message != "image VendorOS 3 not installed (image hook none)" {
		t.Errorf("none image: %+v, %v", got, err)
	}
	c, _ := NewConfigHook("none", Options{})
	undo, err := c.ApplyConfig(context.Background(), Config{Data: []byte("x"), Handling: "replace"})
	if err != nil || undo != nil {
		t.Errorf("none config: undo %v, %v", undo != nil, err)
	}
	if _, err := c.ApplyConfig(context.Background(), Config{Handling: ""}); err == nil {
		t.Error("none config accepted an empty configuration-handling")
	}
}
