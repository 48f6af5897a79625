package main

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/enroll"
	"github.com/sztp/sztp/internal/identity"
	"github.com/sztp/sztp/tpm"
)

// ldevidFlags select the LDevID (RFC 9646) objects and its use.
type ldevidFlags struct {
	identity  string // auto, idevid, ldevid
	handle    string
	certIndex string
}

func addLDevIDFlags(fs *pflag.FlagSet, f *ldevidFlags, withIdentity bool) {
	if withIdentity {
		fs.StringVar(&f.identity, "identity", "auto", "TLS client identity: auto (the LDevID once enrolled, else the IDevID), idevid, or ldevid")
	}
	fs.StringVar(&f.handle, "ldevid-handle", fmt.Sprintf("0x%08x", tpm.DefaultLDevIDHandle), "persistent handle of the LDevID key made for an RFC 9646 CSR (never 0x81020001, the IAK's)")
	fs.StringVar(&f.certIndex, "ldevid-cert-index", fmt.Sprintf("0x%08x", tpm.DefaultLDevIDCertIndex), "owner NV index that holds the LDevID certificate")
}

func (f *ldevidFlags) handles() (uint32, uint32, error) {
	h, err := identity.ParseHandle("ldevid-handle", f.handle)
	if err != nil {
		return 0, 0, err
	}
	idx, err := identity.ParseHandle("ldevid-cert-index", f.certIndex)
	return h, idx, err
}

func (f *ldevidFlags) validate() error {
	switch f.identity {
	case "", "auto", "idevid", "ldevid":
	default:
		return usagef("--identity %q: want auto, idevid or ldevid", f.identity)
	}
	h, _, err := f.handles()
	if err != nil {
		return err
	}
	if h == 0x81020001 || h == tpm.DefaultIDevIDHandle {
		return usagef("--ldevid-handle 0x%08x is the IAK's or the IDevID's", h)
	}
	return nil
}

// ldevidEnv is what hooks and scripts learn about the LDevID key (set
// before the hooks are made; the CSR file exists once one was sent).
func (f *runFlags) ldevidEnv() []string {
	if f.stateDir == "" {
		return nil
	}
	env := []string{"SZTP_LDEVID_CSR=" + filepath.Join(f.stateDir, enroll.FileCSR)}
	if f.id.IDevIDKey == "" {
		return append(env, "SZTP_LDEVID_KEY_HANDLE="+f.ld.handle)
	}
	return append(env, "SZTP_LDEVID_KEY="+filepath.Join(f.stateDir, enroll.FileKey))
}

// setupLDevID makes the enroller (with a state directory) and picks the
// TLS identity (--identity).
func (f *runFlags) setupLDevID(cfg *client.Config, log *slog.Logger) error {
	id := cfg.Identity
	if f.stateDir == "" {
		if f.ld.identity == "ldevid" {
			return usagef("--identity ldevid needs a state directory")
		}
		return nil
	}
	h, idx, err := f.ld.handles()
	if err != nil {
		return err
	}
	e, err := enroll.New(enroll.Options{IDevID: id.Certificate, IDevIDSigner: id.Signer, StateDir: f.stateDir,
		Device: f.id.Device, Handle: h, CertIndex: idx, Logger: log})
	if err != nil {
		return err
	}
	cfg.Enroller = e
	if f.ld.identity == "idevid" {
		return nil
	}
	l, err := enroll.Load(f.stateDir, f.id.Device, log)
	switch {
	case err == nil:
		id.LDevID = l
		log.Info("TLS client identity: the LDevID", "subject", l.Certificate.Subject.String(), "issuer", l.Certificate.Issuer.String())
	case f.ld.identity == "ldevid":
		if errors.Is(err, os.ErrNotExist) {
			return exitError{exitFailure, errors.New("--identity ldevid: no LDevID is enrolled (an RFC 9646 bootstrap enrols one)")}
		}
		return exitError{exitFailure, fmt.Errorf("--identity ldevid: %w", err)}
	case !errors.Is(err, os.ErrNotExist):
		log.Warn("the enrolled LDevID is unusable; using the IDevID", "err", err)
	}
	return nil
}

// clearLDevID removes the LDevID: state files, and with a TPM its key and
// NV certificate (C103).
func clearLDevID(f *identity.Flags, ld *ldevidFlags, stateDir string, log *slog.Logger) error {
	h, idx, err := ld.handles()
	if err != nil {
		return err
	}
	rec, _ := enroll.ReadRecord(stateDir)
	if f.IDevIDKey == "" {
		cfg, err := f.TPMConfig()
		if err != nil {
			return err
		}
		dev, err := tpm.Open(cfg.Path)
		if err != nil {
			if rec != nil && rec.KeyHandle != "" {
				return fmt.Errorf("the LDevID key is in the TPM: %w", err)
			}
			log.Warn("no TPM to clear; clearing the state directory only", "err", err)
		} else {
			defer dev.Close()
			if err := tpm.ClearLDevID(dev, h, idx); err != nil {
				return err
			}
		}
	}
	return enroll.Clear(stateDir)
}

func newTPMClearLDevIDCmd() *cobra.Command {
	var f identity.Flags
	var ld ldevidFlags
	var stateDir string
	cmd := &cobra.Command{
		Use:   "clear-ldevid",
		Short: "Remove the LDevID key, its NV certificate and its state (factory reset, RFC 9646)",
		Long: `Remove what RFC 9646 enrolment made: the LDevID key at --ldevid-handle, its
certificate at NV index --ldevid-cert-index, and the ldevid.* files of the state
directory. The IDevID is never touched. With --idevid-key (an identity in files)
only the state directory is cleared.`,
		Example: "  sztp tpm clear-ldevid\n  sztp tpm clear-ldevid --tpm tcp://127.0.0.1:2321 --state-dir /var/lib/sztp",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := ld.validate(); err != nil {
				return err
			}
			if err := clearLDevID(&f, &ld, stateDir, logger(cmd)); err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), "LDevID cleared")
			return nil
		},
	}
	f.AddIdentity(cmd.Flags())
	addLDevIDFlags(cmd.Flags(), &ld, false)
	addStateDir(cmd.Flags(), &stateDir)
	return cmd
}
