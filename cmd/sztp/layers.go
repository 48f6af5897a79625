package main

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/sztp/sztp/internal/settings"
)

// loadLayers reads the config file and kernel command line named by cmd's
// --config and --cmdline-file (internal/settings); the keys accepted are the
// flags of cmd and of known.
func loadLayers(cmd *cobra.Command, known ...*cobra.Command) (*settings.Layers, error) {
	sets := []*pflag.FlagSet{cmd.Flags()}
	for _, c := range known {
		sets = append(sets, c.Flags())
	}
	return settings.Load(cmd.Flags(), settings.FlagNames(sets...), logger(cmd))
}
