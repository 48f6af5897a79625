package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"

	"github.com/spf13/pflag"
)

// UsageError is a mistake in the command line: unknown command or flag, bad
// flag value, wrong number of arguments.
type UsageError struct{ Err error }

func (e *UsageError) Error() string { return e.Err.Error() }
func (e *UsageError) Unwrap() error { return e.Err }

// PositionalArgs validates the positional arguments of a command.
type PositionalArgs func(cmd *Command, args []string) error

// NoArgs rejects any positional argument.
func NoArgs(cmd *Command, args []string) error {
	if len(args) > 0 {
		return fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

// ExactArgs accepts exactly n positional arguments.
func ExactArgs(n int) PositionalArgs {
	return func(cmd *Command, args []string) error {
		if len(args) != n {
			return fmt.Errorf("%s accepts %d arg(s), received %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

// MinimumNArgs accepts n or more positional arguments.
func MinimumNArgs(n int) PositionalArgs {
	return func(cmd *Command, args []string) error {
		if len(args) < n {
			return fmt.Errorf("%s requires at least %d arg(s), only received %d", cmd.CommandPath(), n, len(args))
		}
		return nil
	}
}

// Command is one command or subcommand.
type Command struct {
	Use     string // "name [flags] ARGS..." — the first word is the name
	Short   string // one line for the parent's command list
	Long    string // the help text; Short is used when empty
	Example string
	Args    PositionalArgs // nil accepts anything
	RunE    func(cmd *Command, args []string) error

	// SilenceUsage and SilenceErrors are accepted for cobra compatibility;
	// this package never prints usage on error and never prints errors.
	SilenceUsage, SilenceErrors bool

	parent      *Command
	children    []*Command
	flags       *pflag.FlagSet
	pflags      *pflag.FlagSet
	ctx         context.Context
	args        []string
	argsSet     bool
	out, errOut io.Writer
	flagErr     func(*Command, error) error
}

// Name is the first word of Use.
func (c *Command) Name() string {
	name, _, _ := strings.Cut(c.Use, " ")
	return name
}

// CommandPath is the names from the root down to c.
func (c *Command) CommandPath() string {
	if c.parent == nil {
		return c.Name()
	}
	return c.parent.CommandPath() + " " + c.Name()
}

// Flags are the command's flags, including (once parsed) the persistent
// flags of its ancestors.
func (c *Command) Flags() *pflag.FlagSet {
	if c.flags == nil {
		c.flags = pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
		c.flags.SetOutput(io.Discard)
	}
	return c.flags
}

// PersistentFlags are flags of this command that its subcommands share.
func (c *Command) PersistentFlags() *pflag.FlagSet {
	if c.pflags == nil {
		c.pflags = pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
		c.pflags.SetOutput(io.Discard)
	}
	return c.pflags
}

// AddCommand adds subcommands.
func (c *Command) AddCommand(cmds ...*Command) {
	for _, s := range cmds {
		s.parent = c
		c.children = append(c.children, s)
	}
}

// Commands returns the subcommands sorted by name.
func (c *Command) Commands() []*Command {
	out := append([]*Command(nil), c.children...)
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out
}

// SetArgs sets the arguments Execute parses instead of os.Args[1:].
func (c *Command) SetArgs(args []string) { c.args, c.argsSet = args, true }

// SetOut sets where results and help go (default stdout).
func (c *Command) SetOut(w io.Writer) { c.out = w }

// SetErr sets where diagnostics go (default stderr).
func (c *Command) SetErr(w io.Writer) { c.errOut = w }

// SetFlagErrorFunc lets the caller wrap flag parsing errors.
func (c *Command) SetFlagErrorFunc(f func(*Command, error) error) { c.flagErr = f }

// OutOrStdout is the output writer, inherited from the parents.
func (c *Command) OutOrStdout() io.Writer {
	for x := c; x != nil; x = x.parent {
		if x.out != nil {
			return x.out
		}
	}
	return os.Stdout
}

// ErrOrStderr is the diagnostics writer, inherited from the parents.
func (c *Command) ErrOrStderr() io.Writer {
	for x := c; x != nil; x = x.parent {
		if x.errOut != nil {
			return x.errOut
		}
	}
	return os.Stderr
}

// Context is the context given to ExecuteContext.
func (c *Command) Context() context.Context {
	for x := c; x != nil; x = x.parent {
		if x.ctx != nil {
			return x.ctx
		}
	}
	return context.Background()
}

// Execute runs the command line with a background context.
func (c *Command) Execute() error { return c.ExecuteContext(context.Background()) }

// ExecuteContext finds the subcommand named by the arguments, parses its
// flags and runs it.
func (c *Command) ExecuteContext(ctx context.Context) error {
	args := c.args
	if !c.argsSet {
		args = os.Args[1:]
	}
	c.ctx = ctx
	target, rest := c.find(args)
	target.ctx = ctx
	if len(rest) > 0 && rest[0] == "help" && target == c {
		// "sztp help [command...]"
		t, extra := c.find(rest[1:])
		if len(extra) > 0 && !strings.HasPrefix(extra[0], "-") {
			return &UsageError{fmt.Errorf("unknown help topic %q", strings.Join(rest[1:], " "))}
		}
		return t.Help()
	}
	if err := target.ParseFlags(rest); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return target.Help()
		}
		return err
	}
	if help, _ := target.Flags().GetBool("help"); help {
		return target.Help()
	}
	pos := target.Flags().Args()
	if target.RunE == nil {
		if len(pos) > 0 {
			return &UsageError{fmt.Errorf("unknown command %q for %q", pos[0], target.CommandPath())}
		}
		return target.Help()
	}
	if target.Args != nil {
		if err := target.Args(target, pos); err != nil {
			return &UsageError{err}
		}
	}
	return target.RunE(target, pos)
}

// find walks subcommand names at the front of args (flags may not come
// before a subcommand name).
func (c *Command) find(args []string) (*Command, []string) {
	cur := c
	for len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		var next *Command
		for _, s := range cur.children {
			if s.Name() == args[0] {
				next = s
			}
		}
		if next == nil {
			break
		}
		cur, args = next, args[1:]
	}
	return cur, args
}

// ParseFlags parses args into the command's flags, including inherited
// persistent flags and -h/--help.
func (c *Command) ParseFlags(args []string) error {
	fs := c.Flags()
	if c.pflags != nil {
		fs.AddFlagSet(c.pflags)
	}
	for p := c.parent; p != nil; p = p.parent {
		if p.pflags != nil {
			fs.AddFlagSet(p.pflags)
		}
	}
	if fs.Lookup("help") == nil {
		fs.BoolP("help", "h", false, "help for "+c.Name())
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, pflag.ErrHelp) {
			return err
		}
		err = &UsageError{err}
		for x := c; x != nil; x = x.parent {
			if x.flagErr != nil {
				return x.flagErr(c, err)
			}
		}
		return err
	}
	return nil
}

// Help writes the command's help to its output.
func (c *Command) Help() error {
	_, err := io.WriteString(c.OutOrStdout(), c.HelpText())
	return err
}

// HelpText renders the help: description, usage, subcommands, examples,
// flags and inherited flags.
func (c *Command) HelpText() string {
	var b strings.Builder
	desc := c.Long
	if desc == "" {
		desc = c.Short
	}
	if desc != "" {
		b.WriteString(strings.TrimRight(desc, "\n") + "\n\n")
	}
	b.WriteString("Usage:\n")
	if c.RunE != nil {
		use := c.Use
		if c.parent != nil {
			use = c.parent.CommandPath() + " " + use
		}
		fmt.Fprintf(&b, "  %s\n", use)
	}
	if len(c.children) > 0 {
		fmt.Fprintf(&b, "  %s COMMAND [flags]\n\nCommands:\n", c.CommandPath())
		w := 0
		for _, s := range c.children {
			w = max(w, len(s.Name()))
		}
		for _, s := range c.Commands() {
			fmt.Fprintf(&b, "  %-*s  %s\n", w, s.Name(), s.Short)
		}
	}
	if c.Example != "" {
		fmt.Fprintf(&b, "\nExamples:\n%s\n", strings.TrimRight(c.Example, "\n"))
	}
	local := pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
	inherited := pflag.NewFlagSet(c.Name(), pflag.ContinueOnError)
	fromParent := map[*pflag.Flag]bool{}
	for p := c.parent; p != nil; p = p.parent {
		if p.pflags != nil {
			p.pflags.VisitAll(func(f *pflag.Flag) {
				if inherited.Lookup(f.Name) == nil {
					inherited.AddFlag(f)
				}
				fromParent[f] = true
			})
		}
	}
	for _, fs := range []*pflag.FlagSet{c.flags, c.pflags} {
		if fs != nil {
			fs.VisitAll(func(f *pflag.Flag) {
				if !fromParent[f] && local.Lookup(f.Name) == nil {
					local.AddFlag(f)
				}
			})
		}
	}
	if local.Lookup("help") == nil {
		local.BoolP("help", "h", false, "help for "+c.Name())
	}
	fmt.Fprintf(&b, "\nFlags:\n%s", local.FlagUsages())
	if inherited.HasFlags() {
		fmt.Fprintf(&b, "\nGlobal Flags:\n%s", inherited.FlagUsages())
	}
	if len(c.children) > 0 {
		fmt.Fprintf(&b, "\nUse \"%s COMMAND --help\" for more about a command.\n", c.CommandPath())
	}
	return b.String()
}
