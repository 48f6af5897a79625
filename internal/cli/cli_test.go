package cli

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
)

func tree(ran *string) *Command {
	root := &Command{Use: "sztp", Long: "root help"}
	root.PersistentFlags().String("log-level", "info", "log level")
	run := &Command{Use: "run [flags]", Short: "bootstrap", Args: NoArgs,
		RunE: func(c *Command, args []string) error {
			lvl, _ := c.Flags().GetString("log-level")
			once, _ := c.Flags().GetBool("once")
			*ran = "run " + lvl + " " + map[bool]string{true: "once", false: "loop"}[once]
			return nil
		}}
	run.Flags().Bool("once", false, "one pass")
	tpm := &Command{Use: "tpm", Short: "TPM tools"}
	info := &Command{Use: "info", Short: "show", Args: ExactArgs(0), RunE: func(c *Command, a []string) error { *ran = "tpm info"; return nil }}
	fetch := &Command{Use: "fetch URI...", Short: "fetch", Args: MinimumNArgs(1), RunE: func(c *Command, a []string) error { *ran = "fetch " + strings.Join(a, ","); return nil }}
	tpm.AddCommand(info)
	root.AddCommand(run, tpm, fetch)
	return root
}

func TestExecute(t *testing.T) {
	tests := []struct {
		args      []string
		want      string // what ran
		wantHelp  string // substring of the output
		wantUsage bool
	}{
		{args: []string{"run"}, want: "run info loop"},
		{args: []string{"run", "--once", "--log-level", "debug"}, want: "run debug once"},
		{args: []string{"run", "--log-level=warn"}, want: "run warn loop"},
		{args: []string{"tpm", "info"}, want: "tpm info"},
		{args: []string{"fetch", "a", "b"}, want: "fetch a,b"},
		{args: []string{"fetch"}, wantUsage: true},
		{args: []string{"run", "extra"}, wantUsage: true},
		{args: []string{"run", "--nope"}, wantUsage: true},
		{args: []string{"bogus"}, wantUsage: true},
		{args: []string{"tpm", "bogus"}, wantUsage: true},
		{args: []string{}, wantHelp: "Commands:\n  fetch"},
		{args: []string{"tpm"}, wantHelp: "info  show"},
		{args: []string{"run", "--help"}, wantHelp: "--once"},
		{args: []string{"run", "-h"}, wantHelp: "Global Flags:\n      --log-level"},
		{args: []string{"help", "run"}, wantHelp: "sztp run [flags]"},
		{args: []string{"help", "nothing"}, wantUsage: true},
	}
	for _, tc := range tests {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			var ran string
			root := tree(&ran)
			var out bytes.Buffer
			root.SetOut(&out)
			root.SetArgs(tc.args)
			err := root.ExecuteContext(context.Background())
			var ue *UsageError
			if tc.wantUsage {
				if !errors.As(err, &ue) {
					t.Fatalf("err = %v, want a UsageError", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if ran != tc.want {
				t.Errorf("ran %q, want %q", ran, tc.want)
			}
			if !strings.Contains(out.String(), tc.wantHelp) {
				t.Errorf("output lacks %q:\n%s", tc.wantHelp, out.String())
			}
		})
	}
}

func TestFlagErrorFunc(t *testing.T) {
	var ran string
	root := tree(&ran)
	sentinel := errors.New("wrapped")
	root.SetFlagErrorFunc(func(c *Command, err error) error { return errors.Join(sentinel, err) })
	root.SetArgs([]string{"run", "--once=maybe"})
	if err := root.Execute(); !errors.Is(err, sentinel) {
		t.Fatalf("err = %v, want the flag error func's error", err)
	}
}

func TestContextAndOutputInherited(t *testing.T) {
	type key struct{}
	ctx := context.WithValue(context.Background(), key{}, "v")
	root := &Command{Use: "x"}
	var got any
	var w bytes.Buffer
	sub := &Command{Use: "sub", RunE: func(c *Command, _ []string) error {
		got = c.Context().Value(key{})
		c.OutOrStdout().Write([]byte("hi"))
		return nil
	}}
	root.AddCommand(sub)
	root.SetOut(&w)
	root.SetArgs([]string{"sub"})
	if err := root.ExecuteContext(ctx); err != nil {
		t.Fatal(err)
	}
	if got != "v" || w.String() != "hi" {
		t.Errorf("context value %v, output %q", got, w.String())
	}
}
