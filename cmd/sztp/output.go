package main

import (
	"encoding/json"
	"io"
	"log/slog"
	"os"

	"github.com/sztp/sztp/internal/cli"
)

// logger returns the slog logger for a command, at the --log-level given.
// Logs go to stderr; results go to stdout.
func logger(cmd *cli.Command) *slog.Logger {
	lvl := new(slog.LevelVar)
	if s, err := cmd.Flags().GetString("log-level"); err == nil {
		if err := lvl.UnmarshalText([]byte(s)); err != nil {
			lvl.Set(slog.LevelInfo)
		}
	}
	return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: lvl}))
}

// printJSON writes v as indented JSON followed by a newline.
func printJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
