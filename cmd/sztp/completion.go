package main

import (
	"io"

	"github.com/spf13/cobra"
)

func init() { register(newCompletionCmd) }

// newCompletionCmd is `sztp completion bash|zsh|fish`: cobra's completion
// scripts, which ask `sztp __complete` for candidates. (cobra's own
// completion command would bind its output before tests can redirect it.)
func newCompletionCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "completion",
		Short: "print the shell completion script for bash, zsh or fish",
		Long: `Print the script that makes the shell complete sztp's commands and flags.

The Debian package installs the bash script as
/usr/share/bash-completion/completions/sztp; by hand:

  sztp completion bash > /etc/bash_completion.d/sztp       # bash (needs bash-completion)
  sztp completion zsh > "${fpath[1]}/_sztp"                # zsh (compinit enabled)
  sztp completion fish > ~/.config/fish/completions/sztp.fish`,
	}
	for _, sh := range []struct {
		name string
		gen  func(root *cobra.Command, w io.Writer) error
	}{
		{"bash", func(r *cobra.Command, w io.Writer) error { return r.GenBashCompletionV2(w, true) }},
		{"zsh", func(r *cobra.Command, w io.Writer) error { return r.GenZshCompletion(w) }},
		{"fish", func(r *cobra.Command, w io.Writer) error { return r.GenFishCompletion(w, true) }},
	} {
		cmd.AddCommand(&cobra.Command{
			Use:   sh.name,
			Short: "print the " + sh.name + " completion script",
			Args:  cobra.NoArgs,
			RunE: func(c *cobra.Command, _ []string) error {
				return sh.gen(c.Root(), c.OutOrStdout())
			},
		})
	}
	return cmd
}
