package main

import (
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"
)

// levelFlag is --log-level: a level name checked when the flag is set, so a
// wrong one is a usage error. Its Type is "string" for GetString.
type levelFlag struct{ s string }

func (f *levelFlag) String() string { return f.s }
func (f *levelFlag) Type() string   { return "string" }
func (f *levelFlag) Set(s string) error {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return fmt.Errorf("unknown log level %q: want debug, info, warn or error", s)
	}
	f.s = s
	return nil
}

// logger returns the slog logger for a command, at the --log-level given.
// Logs go to stderr; results go to stdout.
func logger(cmd *cobra.Command) *slog.Logger {
	var lvl slog.Level
	if s, err := cmd.Flags().GetString("log-level"); err == nil {
		lvl.UnmarshalText([]byte(s)) // checked by levelFlag.Set
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// printJSON writes v as indented JSON followed by a newline.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
