package main

import "github.com/spf13/cobra"

func init() { register(newDisableCmd) }

func newDisableCmd() *cobra.Command {
	return newFlagCmd("disable", false, "turn SZTP off: `sztp run` then exits 0 without doing anything")
}
