package main

import (
	"log/slog"
	"strconv"
	"strings"

	"github.com/spf13/pflag"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/tpm"
)

// addMeasureFlags adds --measure-pcr (measured onboarding).
func addMeasureFlags(fs *pflag.FlagSet, pcr *string) {
	fs.StringVar(pcr, "measure-pcr", strconv.Itoa(tpm.DefaultMeasurePCR), "PCR extended with the SHA-256 of every artifact before the agent acts on it (event log in the state directory; 'sztp tpm eventlog'), or none")
}

// parseMeasurePCR returns the PCR of --measure-pcr, or -1 for none.
func parseMeasurePCR(s string) (int, error) {
	s = strings.TrimSpace(s)
	if s == "none" || s == "" {
		return -1, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > tpm.MaxPCR {
		return 0, usagef("--measure-pcr %q: want a PCR 0..%d or none", s, tpm.MaxPCR)
	}
	return n, nil
}

// measurer builds the agent's Measurer: a TPM identity and a state
// directory measure; an identity in files (no TPM) or no state directory
// skip measuring, with a log line saying so.
func (f *runFlags) measurer(log *slog.Logger) (client.Measurer, error) {
	pcr, err := parseMeasurePCR(f.measurePCR)
	if err != nil || pcr < 0 {
		return nil, err
	}
	switch {
	case f.id.Device == nil:
		log.Info("measured onboarding skipped: the identity is in files, there is no TPM to extend", "measure-pcr", pcr)
		return nil, nil
	case f.stateDir == "":
		log.Warn("measured onboarding skipped: no state directory to keep the event log in", "measure-pcr", pcr)
		return nil, nil
	}
	log.Info("measured onboarding", "pcr", pcr, "event-log", tpm.EventLogPath(f.stateDir))
	return &tpm.Measurer{Dev: f.id.Device, PCR: pcr, Path: tpm.EventLogPath(f.stateDir), Logger: log}, nil
}
