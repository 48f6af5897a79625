package main

import (
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

func init() { register(newDocsCmd) }

// docCommand is one command of the tree as `sztp __docs` prints it (JSON),
// for internal/tools/gendocs, which rebuilds the tree and renders man pages
// and Markdown with cobra/doc; the agent does not link cobra/doc.
type docCommand struct {
	Use      string       `json:"use"`
	Short    string       `json:"short,omitempty"`
	Long     string       `json:"long,omitempty"`
	Example  string       `json:"example,omitempty"`
	Runnable bool         `json:"runnable,omitempty"`
	Flags    []docFlag    `json:"flags,omitempty"`
	Global   []docFlag    `json:"persistent-flags,omitempty"`
	Commands []docCommand `json:"commands,omitempty"`
}

// docFlag is a flag; Default is empty when pflag would not show it.
type docFlag struct {
	Name         string `json:"name"`
	Shorthand    string `json:"shorthand,omitempty"`
	Usage        string `json:"usage"`
	Type         string `json:"type"`
	Default      string `json:"default,omitempty"`
	NoOptDefault string `json:"no-opt-default,omitempty"`
	Hidden       bool   `json:"hidden,omitempty"`
}

func newDocsCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "__docs",
		Short:  "print the command tree as JSON (for internal/tools/gendocs)",
		Hidden: true,
		Args:   cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return printJSON(cmd.OutOrStdout(), describe(cmd.Root()))
		},
	}
}

// describe walks the available commands (not hidden, not help). A command
// that only groups subcommands is not runnable in the docs, though it runs
// to reject unknown subcommands (main.go).
func describe(c *cobra.Command) docCommand {
	d := docCommand{Use: c.Use, Short: c.Short, Long: c.Long, Example: c.Example,
		Runnable: c.Runnable() && !c.HasSubCommands()}
	d.Flags = describeFlags(c.LocalNonPersistentFlags())
	d.Global = describeFlags(c.PersistentFlags())
	for _, s := range c.Commands() {
		if s.IsAvailableCommand() {
			d.Commands = append(d.Commands, describe(s))
		}
	}
	return d
}

func describeFlags(fs *pflag.FlagSet) []docFlag {
	var out []docFlag
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Name == "help" {
			return
		}
		d := docFlag{Name: f.Name, Shorthand: f.Shorthand, Usage: f.Usage, Type: f.Value.Type(),
			NoOptDefault: f.NoOptDefVal, Hidden: f.Hidden}
		// pflag shows "(default X)" unless the default is its type's zero.
		one := pflag.NewFlagSet("", pflag.ContinueOnError)
		one.AddFlag(f)
		if !strings.HasSuffix(strings.TrimRight(one.FlagUsages(), "\n"), f.Usage) {
			d.Default = f.DefValue
		}
		out = append(out, d)
	})
	return out
}
