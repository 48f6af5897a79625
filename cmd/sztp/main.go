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
	root.PersistentFlags().String("log-level", "info", "log level: debug, info, warn, error")
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error { return usageError{err} })
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
	if err == nil {
		return exitOK
	}
	var ee exitError
	if errors.As(err, &ee) {
		if ee.err != nil && ee.code != exitOK {
			fmt.Fprintln(os.Stderr, "sztp:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(os.Stderr, "sztp:", err)
	var ue usageError
	if errors.As(err, &ue) || isCobraUsage(err) {
		return exitUsage
	}
	return exitFailure
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "required flag"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
