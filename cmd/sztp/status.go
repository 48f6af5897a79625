package main

import (
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/internal/safetext"
	"github.com/sztp/sztp/internal/settings"
	"github.com/sztp/sztp/internal/state"
)

func init() { register(newStatusCmd) }

// statusReport is the JSON shape of `sztp status --json` (documented in the
// README): every field is always present; absent records are null.
type statusReport struct {
	StateDir      string               `json:"state-dir"`
	Enabled       bool                 `json:"enabled"`
	Bootstrapped  bool                 `json:"bootstrapped"`
	Completed     *state.Completion    `json:"completed"`
	LastRun       *state.Run           `json:"last-run"`
	PendingReboot *state.PendingReboot `json:"pending-reboot"`
	Journal       []state.Entry        `json:"journal"`
}

const statusLong = `Print what the state directory records: whether SZTP is enabled, whether
the device has bootstrapped (then 'sztp run' exits 0 at once until
'sztp enable'), the last run's result and error, a reboot into a new image
that the next run expects, and the progress reports sent, newest last
(--last limits them). Nothing is changed; a state directory that does not
exist reads as the factory state (enabled, not bootstrapped).

Exit status: 0; 1 when a state file cannot be read.`

func newStatusCmd() *cobra.Command {
	var stateDir, cfgFile, cmdline string
	var asJSON bool
	var last int
	cmd := &cobra.Command{
		Use:     "status",
		Short:   "show what the state directory says (enabled, bootstrapped, last run, progress journal)",
		Long:    statusLong,
		Example: "  sztp status\n  sztp status --state-dir /var/lib/sztp --json --last 0",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := applySharedLayers(cmd); err != nil {
				return err
			}
			// Reading the status must not create the state directory.
			st := &state.Store{Dir: stateDir}
			r, err := readStatus(st)
			if err != nil {
				return err
			}
			if last > 0 && len(r.Journal) > last {
				r.Journal = r.Journal[len(r.Journal)-last:]
			}
			if asJSON {
				return printJSON(cmd.OutOrStdout(), r)
			}
			printStatus(cmd.OutOrStdout(), r)
			return nil
		},
	}
	fs := cmd.Flags()
	addStateDir(fs, &stateDir)
	settings.AddFlags(fs, &cfgFile, &cmdline)
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	fs.IntVar(&last, "last", 50, "show at most this many journal entries (0: all)")
	return cmd
}

func readStatus(st *state.Store) (*statusReport, error) {
	r := &statusReport{StateDir: st.Dir, Journal: []state.Entry{}}
	var err error
	if r.Enabled, err = st.Enabled(); err != nil {
		return nil, err
	}
	if r.Completed, err = st.Completed(); err != nil {
		return nil, err
	}
	r.Bootstrapped = r.Completed != nil
	if r.LastRun, err = st.LastRun(); err != nil {
		return nil, err
	}
	if r.PendingReboot, err = st.PendingReboot(); err != nil {
		return nil, err
	}
	j, err := st.Journal()
	if err != nil {
		return nil, err
	}
	if j != nil {
		r.Journal = j
	}
	return r, nil
}

func printStatus(w io.Writer, r *statusReport) {
	onOff := map[bool]string{true: "enabled", false: "disabled"}
	fmt.Fprintf(w, "state directory: %s\n", r.StateDir)
	fmt.Fprintf(w, "SZTP:            %s\n", onOff[r.Enabled])
	if c := r.Completed; c != nil {
		fmt.Fprintf(w, "bootstrapped:    yes, %s from %s (%s)\n", c.Time.Format(time.RFC3339), safetext.Clean(c.Server), safetext.Clean(c.Source))
	} else {
		fmt.Fprintf(w, "bootstrapped:    no\n")
	}
	if l := r.LastRun; l != nil {
		fmt.Fprintf(w, "last run:        %s at %s", l.Result, l.Finished.Format(time.RFC3339))
		if l.Error != "" {
			fmt.Fprintf(w, ": %s", indentLines(safetext.Clean(l.Error), "                 "))
		}
		fmt.Fprintln(w)
	}
	if p := r.PendingReboot; p != nil {
		fmt.Fprintf(w, "pending reboot:  expecting %s %s (installed %s)\n", safetext.Clean(p.OSName), safetext.Clean(p.OSVersion), p.Time.Format(time.RFC3339))
	}
	if len(r.Journal) > 0 {
		fmt.Fprintln(w, "progress journal:")
		for _, e := range r.Journal {
			sent := ""
			if !e.Sent {
				sent = " (not accepted: " + safetext.Clean(e.Error) + ")"
			}
			msg := ""
			if e.Message != "" {
				msg = ": " + indentLines(strings.TrimRight(safetext.Clean(e.Message), "\n"), "      ")
			}
			fmt.Fprintf(w, "  %s %s %s%s%s\n", e.Time.Format(time.RFC3339), safetext.Clean(e.Server), safetext.Clean(e.ProgressType), msg, sent)
		}
	}
}

// indentLines puts indent before every line of s but the first.
func indentLines(s, indent string) string {
	return strings.ReplaceAll(s, "\n", "\n"+indent)
}

// applySharedLayers applies the config file and kernel command line to a
// command other than run (e.g. for state-dir); keys are validated against
// run's flags, the superset.
func applySharedLayers(cmd *cobra.Command) error {
	l, err := loadLayers(cmd, newRunCmd())
	if err != nil {
		return err
	}
	return l.Apply(cmd.Flags())
}
