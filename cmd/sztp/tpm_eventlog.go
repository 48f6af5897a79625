package main

import (
	"encoding/hex"
	"fmt"
	"io"
	"sort"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/internal/identity"
	"github.com/sztp/sztp/tpm"
)

func newTPMEventlogCmd() *cobra.Command {
	var f identity.Flags
	var stateDir string
	var verify, asJSON bool
	cmd := &cobra.Command{
		Use:   "eventlog",
		Short: "Print the measured-onboarding event log; --verify replays it against the TPM",
		Long: `Print the event log of measured onboarding: one record per artifact the
agent acted on (ownership voucher, owner certificate, conveyed information,
boot image, scripts, configuration), each with the SHA-256 extended into the
PCR (--measure-pcr of 'sztp run', default 14). The file is
STATE-DIR/eventlog.json in the JSON encoding of the TCG Canonical Event Log
(CEL-JSON); --json prints it as is.

With --verify the log is replayed (PCR := SHA-256(PCR || digest), from the
first record's pcr-before) and compared with the PCR's current value in the
TPM: exit 0 when they are equal, 1 when not (a log from an earlier boot,
or a PCR extended by something else after the agent).`,
		Example: `  sztp tpm eventlog --verify
  sztp tpm eventlog --state-dir /var/lib/sztp --tpm tcp://127.0.0.1:2321 --verify --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			recs, err := tpm.ReadEventLog(tpm.EventLogPath(stateDir))
			if err != nil {
				return exitError{exitFailure, fmt.Errorf("reading the event log: %w", err)}
			}
			out := cmd.OutOrStdout()
			replayed, err := tpm.Replay(recs)
			if err != nil {
				return exitError{exitFailure, err}
			}
			if asJSON {
				if err := printJSON(out, recs); err != nil {
					return err
				}
			} else {
				printEventLog(out, recs, replayed)
			}
			if !verify {
				return nil
			}
			cfg, err := f.TPMConfig()
			if err != nil {
				return err
			}
			dev, err := tpm.Open(cfg.Path)
			if err != nil {
				return err
			}
			defer dev.Close()
			if _, err := tpm.VerifyEventLog(dev, recs); err != nil {
				return exitError{exitFailure, fmt.Errorf("event log does not match the TPM: %w", err)}
			}
			if !asJSON {
				fmt.Fprintf(out, "verified: the TPM's PCR values equal the replay of %d records\n", len(recs))
			}
			return nil
		},
	}
	f.AddIdentity(cmd.Flags())
	addStateDir(cmd.Flags(), &stateDir)
	cmd.Flags().BoolVar(&verify, "verify", false, "replay the log and compare it with the TPM's PCR values")
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the CEL-JSON records")
	return cmd
}

func printEventLog(w io.Writer, recs []tpm.CELRecord, replayed map[int][]byte) {
	for _, r := range recs {
		d := ""
		if len(r.Digests) > 0 {
			d = r.Digests[0].Digest
		}
		fmt.Fprintf(w, "%3d  pcr %-2d  sha256:%s  %-26s %9d bytes  %s\n", r.RecNum, r.PCR, d, r.Content.Artifact, r.Content.Size, r.Content.Time.Format("2006-01-02T15:04:05Z"))
	}
	pcrs := make([]int, 0, len(replayed))
	for p := range replayed {
		pcrs = append(pcrs, p)
	}
	sort.Ints(pcrs)
	for _, p := range pcrs {
		fmt.Fprintf(w, "replay: pcr %d sha256 = %s\n", p, hex.EncodeToString(replayed[p]))
	}
}
