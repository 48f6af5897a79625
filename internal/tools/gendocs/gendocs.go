package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/cobra/doc"
	"github.com/spf13/pflag"
)

// manDate is the date in every man page header: fixed, so that the pages do
// not change with the day they were generated.
var manDate = time.Date(2026, time.December, 1, 0, 0, 0, 0, time.UTC)

// command and flagDoc mirror cmd/sztp's docCommand and docFlag (the JSON of
// `sztp __docs`).
type command struct {
	Use      string    `json:"use"`
	Short    string    `json:"short"`
	Long     string    `json:"long"`
	Example  string    `json:"example"`
	Runnable bool      `json:"runnable"`
	Flags    []flagDoc `json:"flags"`
	Global   []flagDoc `json:"persistent-flags"`
	Commands []command `json:"commands"`
}

type flagDoc struct {
	Name         string `json:"name"`
	Shorthand    string `json:"shorthand"`
	Usage        string `json:"usage"`
	Type         string `json:"type"`
	Default      string `json:"default"`
	NoOptDefault string `json:"no-opt-default"`
	Hidden       bool   `json:"hidden"`
}

// readTree builds the agent and runs `sztp __docs`.
func readTree(pkg string) (*command, error) {
	dir, err := os.MkdirTemp("", "gendocs-*")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	bin := filepath.Join(dir, "sztp")
	build := exec.Command("go", "build", "-o", bin, pkg)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("building %s: %w\n%s", pkg, err, out)
	}
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(bin, "__docs")
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("sztp __docs: %w: %s", err, stderr.Bytes())
	}
	var tree command
	if err := json.Unmarshal(stdout.Bytes(), &tree); err != nil {
		return nil, fmt.Errorf("sztp __docs: %w", err)
	}
	return &tree, nil
}

// value is a flag value that only reports its type, so that pflag prints
// the flag as the agent does (--state-dir string, --once, --retry-max
// duration, --bootstrap-url strings).
type value struct{ typ, s string }

func (v *value) String() string     { return v.s }
func (v *value) Set(s string) error { v.s = s; return nil }
func (v *value) Type() string       { return v.typ }

func addFlags(fs *pflag.FlagSet, flags []flagDoc) {
	for _, f := range flags {
		fs.AddFlag(&pflag.Flag{Name: f.Name, Shorthand: f.Shorthand, Usage: f.Usage,
			Value: &value{f.Type, f.Default}, DefValue: f.Default, NoOptDefVal: f.NoOptDefault, Hidden: f.Hidden})
	}
}

// cobraTree rebuilds the command tree.
func cobraTree(c *command) *cobra.Command {
	cc := &cobra.Command{Use: c.Use, Short: c.Short, Long: c.Long, Example: c.Example, DisableAutoGenTag: true}
	if c.Runnable {
		cc.Run = func(*cobra.Command, []string) {}
	}
	addFlags(cc.Flags(), c.Flags)
	addFlags(cc.PersistentFlags(), c.Global)
	for i := range c.Commands {
		cc.AddCommand(cobraTree(&c.Commands[i]))
	}
	return cc
}

// generate writes out/man and out/cli afresh.
func generate(tree *command, out string) error {
	root := cobraTree(tree)
	man, md := filepath.Join(out, "man"), filepath.Join(out, "cli")
	for _, d := range []string{man, md} {
		if err := os.RemoveAll(d); err != nil {
			return err
		}
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
	}
	header := &doc.GenManHeader{Title: "SZTP", Section: "1", Source: "sztp", Manual: "sztp manual", Date: &manDate}
	if err := doc.GenManTree(root, header, man); err != nil {
		return fmt.Errorf("man pages: %w", err)
	}
	if err := doc.GenMarkdownTree(root, md); err != nil {
		return fmt.Errorf("markdown: %w", err)
	}
	return nil
}
