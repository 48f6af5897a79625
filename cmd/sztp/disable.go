package main

import "github.com/sztp/sztp/internal/cli"

func init() { register(newDisableCmd) }

func newDisableCmd() *cli.Command {
	return newFlagCmd("disable", false, "turn SZTP off: `sztp run` then exits 0 without doing anything")
}
