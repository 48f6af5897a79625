package main

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/internal/identity"
	"github.com/sztp/sztp/internal/settings"
	"github.com/sztp/sztp/internal/state"
)

func init() { register(newEnableCmd) }

func newEnableCmd() *cobra.Command {
	return newFlagCmd("enable", true, "turn SZTP on (the factory default) and re-arm run-once, so that `sztp run` bootstraps again")
}

// newFlagCmd is `sztp enable` or `sztp disable` (RFC 8572 5.1 item 1, C1).
func newFlagCmd(name string, on bool, short string) *cobra.Command {
	var stateDir, cfgFile, cmdline string
	var factoryReset bool
	var idf identity.Flags
	var ld ldevidFlags
	cmd := &cobra.Command{
		Use:   name,
		Short: short,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applySharedLayers(cmd); err != nil {
				return err
			}
			st, err := state.Open(stateDir)
			if err != nil {
				return err
			}
			if factoryReset {
				// C103: the LDevID is user data; a factory reset erases it.
				if err := clearLDevID(&idf, &ld, st.Dir, logger(cmd)); err != nil {
					return fmt.Errorf("factory reset: %w", err)
				}
				fmt.Fprintln(cmd.OutOrStdout(), "LDevID cleared (factory reset)")
			}
			if err := st.SetEnabled(on); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "SZTP %sd in %s\n", name, st.Dir)
			return nil
		},
	}
	addStateDir(cmd.Flags(), &stateDir)
	settings.AddFlags(cmd.Flags(), &cfgFile, &cmdline)
	if on {
		cmd.Flags().BoolVar(&factoryReset, "factory-reset", false, "also erase the LDevID (key, NV certificate, state), as 'sztp tpm clear-ldevid' does (RFC 9646 4.1.6)")
		idf.AddIdentity(cmd.Flags())
		addLDevIDFlags(cmd.Flags(), &ld, false)
	}
	return cmd
}
