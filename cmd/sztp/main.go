// Command sztp is an on-device Secure Zero Touch Provisioning client
// (RFC 8572). See README.md and `sztp --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/internal/safetext"
	"github.com/sztp/sztp/internal/usage"
)

// Exit codes, documented in `sztp --help` and the README.
const (
	exitOK      = 0 // success (or nothing to do: SZTP disabled, already bootstrapped)
	exitFailure = 1 // the operation failed, or a verification was invalid
	exitUsage   = 2 // bad flags or arguments
)

// usageError marks an error as the caller's fault (exit 2); internal/settings
// and internal/identity return the same type.
type usageError = usage.Error

func usagef(format string, a ...any) error { return usage.Errorf(format, a...) }

// exitError carries an exit code with an already-printed outcome.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// commands are added by each subcommand's file from init, so that the
// subcommands stay independent of each other.
var commands []func() *cobra.Command

func register(f func() *cobra.Command) { commands = append(commands, f) }

const rootLong = `sztp is an on-device Secure Zero Touch Provisioning client (RFC 8572).

It finds bootstrap servers (flags, kernel command line, config file, DHCP
options 143/136), authenticates with the device's IDevID (in a TPM or files),
verifies ownership voucher, owner certificate and signed conveyed information,
installs the boot image and configuration through hooks, runs the scripts, and
reports progress to the server.

Exit codes:
  0  success (or nothing to do: SZTP disabled or already bootstrapped)
  1  failure (bootstrap failed, artifact invalid, download not verified)
  2  usage error (bad flags or arguments)`

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:           "sztp",
		Short:         "Secure Zero Touch Provisioning client (RFC 8572)",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Var(&levelFlag{"info"}, "log-level", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{Err: err} })
	for _, f := range commands {
		root.AddCommand(f())
	}
	root.SetHelpCommand(newHelpCmd())
	root.InitDefaultHelpCmd()
	root.CompletionOptions.DisableDefaultCmd = true // completion.go has ours
	usageErrors(root)
	return root
}

// usageErrors makes every mistake in the command line exit 2: positional
// argument errors become usageErrors, and a command that only groups
// subcommands (sztp, sztp tpm, ...) rejects an unknown subcommand instead of
// printing its help and exiting 0, as cobra does by itself.
func usageErrors(c *cobra.Command) {
	if args := c.Args; args != nil {
		c.Args = func(cmd *cobra.Command, a []string) error {
			if err := args(cmd, a); err != nil {
				return usageError{Err: err}
			}
			return nil
		}
	}
	if c.HasSubCommands() && c.RunE == nil && c.Run == nil {
		c.Args = cobra.ArbitraryArgs
		c.RunE = func(cmd *cobra.Command, a []string) error {
			if len(a) > 0 {
				return unknownCommand(cmd, a[0])
			}
			return cmd.Help()
		}
	}
	for _, s := range c.Commands() {
		usageErrors(s)
	}
}

// unknownCommand is the usage error for a mistyped subcommand, with the
// commands it may have meant.
func unknownCommand(c *cobra.Command, name string) error {
	msg := fmt.Sprintf("unknown command %q for %q", name, c.CommandPath())
	if c.SuggestionsMinimumDistance <= 0 {
		c.SuggestionsMinimumDistance = 2
	}
	if s := c.SuggestionsFor(name); len(s) > 0 {
		msg += "\n\nDid you mean this?\n\t" + strings.Join(s, "\n\t")
	}
	return usageError{Err: errors.New(msg)}
}

// newHelpCmd is `sztp help [command]`; an unknown topic is a usage error
// (cobra's own help command prints the root help and exits 0).
func newHelpCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "help [command]",
		Short: "Help about any command",
		Long:  "Help prints the help of any command: sztp help [command].",
		ValidArgsFunction: func(c *cobra.Command, args []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
			cmd, _, err := c.Root().Find(args)
			if err != nil {
				return nil, cobra.ShellCompDirectiveNoFileComp
			}
			var out []cobra.Completion
			for _, s := range cmd.Commands() {
				if s.IsAvailableCommand() && strings.HasPrefix(s.Name(), toComplete) {
					out = append(out, cobra.CompletionWithDesc(s.Name(), s.Short))
				}
			}
			return out, cobra.ShellCompDirectiveNoFileComp
		},
		RunE: func(c *cobra.Command, args []string) error {
			cmd, rest, err := c.Root().Find(args)
			if err != nil || len(rest) > 0 {
				return usageError{Err: fmt.Errorf("unknown help topic %q", strings.Join(args, " "))}
			}
			return cmd.Help()
		},
	}
}

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	root := newRoot()
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	code := exitCode(err)
	var ee exitError
	switch {
	case err == nil:
	case errors.As(err, &ee):
		if ee.err != nil && ee.code != exitOK {
			fmt.Fprintln(os.Stderr, "sztp:", safetext.Clean(ee.err.Error()))
		}
	default:
		fmt.Fprintln(os.Stderr, "sztp:", safetext.Clean(err.Error()))
	}
	return code
}

// exitCode maps a command's error to the documented exit code.
func exitCode(err error) int {
	var ee exitError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case usage.Is(err):
		return exitUsage
	}
	return exitFailure
}
