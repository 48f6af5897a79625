package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/internal/testenv"
)

// Issue 14 item 1: `sztp completion bash|zsh|fish` prints cobra's scripts.
func TestCompletionScripts(t *testing.T) {
	for _, shell := range []string{"bash", "zsh", "fish"} {
		out, errOut, code := runSztp(t, "completion", shell)
		if code != exitOK || !strings.Contains(out, "__complete") || !strings.Contains(out, "sztp") {
			t.Errorf("completion %s: exit %d, %d bytes, stderr %q", shell, code, len(out), errOut)
		}
	}
}

// The completion protocol the scripts call: `sztp __complete ARGS... WORD`
// prints candidates, one a line (with a tab and a description), then
// :DIRECTIVE.
func TestCompleteSuggestions(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"run", "--st"}, []string{"--state-dir\t"}},
		{[]string{"run", "--log-l"}, []string{"--log-level\t"}},
		{[]string{"tp"}, []string{"tpm\t"}},
		{[]string{"tpm", "p"}, []string{"provision\t"}},
		{[]string{"help", "ve"}, []string{"verify\t", "version\t"}},
		{[]string{"completion", "f"}, []string{"fish\t"}},
	} {
		out, errOut, code := runSztp(t, append([]string{"__complete"}, tc.args...)...)
		if code != exitOK {
			t.Errorf("__complete %v: exit %d: %s", tc.args, code, errOut)
		}
		for _, w := range tc.want {
			if !strings.Contains(out, "\n"+w) && !strings.HasPrefix(out, w) {
				t.Errorf("__complete %v lacks %q:\n%s", tc.args, w, out)
			}
		}
	}
}

// The bash script loads (bash -n) and, sourced the way bash-completion
// sources it, completes `sztp run --st` to --state-dir and `sztp tp` to tpm
// by calling sztp (here the test binary behind a wrapper named sztp).
func TestBashCompletion(t *testing.T) {
	testenv.NeedCommands(t, "bash")
	const bashCompletion = "/usr/share/bash-completion/bash_completion"
	if _, err := os.Stat(bashCompletion); err != nil {
		testenv.Unavailable(t, "bash-completion (Debian package): "+err.Error())
	}
	dir := t.TempDir()
	out, _, code := runSztp(t, "completion", "bash")
	if code != exitOK {
		t.Fatalf("completion bash: exit %d", code)
	}
	script := filepath.Join(dir, "sztp.bash")
	wrapper := filepath.Join(dir, "sztp")
	if err := os.WriteFile(script, []byte(out), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(wrapper, []byte("#!/bin/sh\nSZTP_TEST_MAIN_ARGS=\"$*\" exec "+os.Args[0]+"\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("bash", "-n", script).CombinedOutput(); err != nil {
		t.Fatalf("bash -n: %v\n%s", err, b)
	}
	for _, tc := range []struct {
		line string
		want string
	}{
		{"sztp run --st", "--state-dir"},
		{"sztp tp", "tpm"},
		{"sztp tpm info --idevid-h", "--idevid-handle"},
	} {
		prog := `source ` + bashCompletion + `; source ` + script + `
COMP_LINE="` + tc.line + `"; read -ra COMP_WORDS <<< "$COMP_LINE"; COMP_CWORD=$((${#COMP_WORDS[@]} - 1)); COMP_POINT=${#COMP_LINE}
__start_sztp 2>/dev/null
printf '%s\n' "${COMPREPLY[@]}"`
		cmd := exec.Command("bash", "-c", prog)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		got, err := cmd.Output()
		if err != nil {
			t.Errorf("%q: %v", tc.line, err)
		}
		if strings.TrimSpace(string(got)) != tc.want {
			t.Errorf("%q completes to %q, want %q", tc.line, got, tc.want)
		}
	}
}
