// Command sztp is an on-device Secure Zero Touch Provisioning client
// (RFC 8572). See README.md and `sztp --help`.
package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/sztp/sztp/internal/cli"
	"github.com/sztp/sztp/internal/safetext"
)

// Exit codes, documented in `sztp --help` and the README.
const (
	exitOK      = 0 // success (or nothing to do: SZTP disabled, already bootstrapped)
	exitFailure = 1 // the operation failed, or a verification was invalid
	exitUsage   = 2 // bad flags or arguments
)

// usageError marks an error as the caller's fault (exit 2).
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, a ...any) error { return usageError{fmt.Errorf(format, a...)} }

// exitError carries an exit code with an already-printed outcome.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }
func (e exitError) Unwrap() error { return e.err }

// commands are added by each subcommand's file from init, so that the
// subcommands stay independent of each other.
var commands []func() *cli.Command

func register(f func() *cli.Command) { commands = append(commands, f) }

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

func newRoot() *cli.Command {
	root := &cli.Command{
		Use:           "sztp",
		Short:         "Secure Zero Touch Provisioning client (RFC 8572)",
		Long:          rootLong,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.PersistentFlags().Var(&levelFlag{"info"}, "log-level", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(c *cli.Command, err error) error { return usageError{err} })
	for _, f := range commands {
		root.AddCommand(f())
	}
	return root
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
	var ue usageError
	var ce *cli.UsageError
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.As(err, &ue), errors.As(err, &ce):
		return exitUsage
	}
	return exitFailure
}
