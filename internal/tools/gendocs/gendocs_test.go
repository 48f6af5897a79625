package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The committed docs/man, docs/cli and docs/config.yaml are what gendocs makes from the
// current command tree: run `make docs` after changing a command, flag or
// help text (issue 14 item 1).
func TestCommittedDocsAreCurrent(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	tmp := t.TempDir()
	if err := run("github.com/sztp/sztp/cmd/sztp", tmp); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"man", "cli"} {
		want := readDir(t, filepath.Join(tmp, sub))
		got := readDir(t, filepath.Join("..", "..", "..", "docs", sub))
		for name, data := range want {
			if g, ok := got[name]; !ok {
				t.Errorf("docs/%s/%s is missing: run make docs", sub, name)
			} else if g != data {
				t.Errorf("docs/%s/%s is stale: run make docs", sub, name)
			}
		}
		for name := range got {
			if _, ok := want[name]; !ok {
				t.Errorf("docs/%s/%s is no longer generated: run make docs", sub, name)
			}
		}
	}
	want, _ := os.ReadFile(filepath.Join(tmp, "config.yaml"))
	if got, err := os.ReadFile(filepath.Join("..", "..", "..", "docs", "config.yaml")); err != nil || string(got) != string(want) {
		t.Errorf("docs/config.yaml is stale or missing (%v): run make docs", err)
	}
}

func readDir(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	entries, err := os.ReadDir(dir)
	if err != nil && !os.IsNotExist(err) {
		t.Fatal(err)
	}
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		out[e.Name()] = string(data)
	}
	return out
}

// Every page the tree has: one per available command, man and Markdown.
func TestGenerateWritesAPagePerCommand(t *testing.T) {
	tree := &command{Use: "sztp", Short: "root", Global: []flagDoc{{Name: "log-level", Type: "string", Default: "info", Usage: "log level"}},
		Commands: []command{
			{Use: "run", Short: "bootstrap", Runnable: true, Flags: []flagDoc{{Name: "once", Type: "bool", NoOptDefault: "true", Usage: "one pass"}}},
			{Use: "tpm", Short: "tools", Commands: []command{{Use: "info", Short: "show", Runnable: true}}},
		}}
	dir := t.TempDir()
	if err := generate(tree, dir); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"man/sztp.1", "man/sztp-run.1", "man/sztp-tpm.1", "man/sztp-tpm-info.1",
		"cli/sztp.md", "cli/sztp_run.md", "cli/sztp_tpm.md", "cli/sztp_tpm_info.md"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Error(err)
		}
	}
	data, _ := os.ReadFile(filepath.Join(dir, "cli", "sztp_run.md"))
	for _, want := range []string{"sztp run [flags]", "--once", `--log-level string   log level (default "info")`} {
		if !strings.Contains(string(data), want) {
			t.Errorf("sztp_run.md lacks %q:\n%s", want, data)
		}
	}
}
