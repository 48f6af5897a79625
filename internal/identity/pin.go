package identity

import (
	"bytes"
	"encoding/hex"
	"errors"
	"log/slog"
	"os"

	"github.com/sztp/sztp/internal/atomicfile"
)

// SaltPinName is the state file holding the Name of the TPM key that salts
// the agent's protected sessions, recorded on first use (trust on first
// use, normally in the factory) and required on later runs: a bus
// interposer cannot substitute its own salt key afterwards. Remove it after
// clearing the TPM (TPM2_Clear changes the storage root key).
const SaltPinName = "tpm-salt-key.name"

func (f *Flags) readSaltPin(log *slog.Logger) []byte {
	if f.SaltPinFile == "" {
		return nil
	}
	data, err := os.ReadFile(f.SaltPinFile)
	if err != nil {
		if !errors.Is(err, os.ErrNotExist) {
			log.Warn("reading the tpm salt key pin", "err", err)
		}
		return nil
	}
	name, err := hex.DecodeString(string(bytes.TrimSpace(data)))
	if err != nil || len(name) < 4 {
		log.Warn("ignoring a damaged tpm salt key pin", "file", f.SaltPinFile)
		return nil
	}
	return name
}

func (f *Flags) recordSaltPin(pinned []byte, log *slog.Logger) {
	if f.SaltPinFile == "" || pinned != nil || f.Device == nil {
		return
	}
	name, err := f.Device.SaltKeyName()
	if err != nil {
		log.Warn("tpm salt key", "err", err)
		return
	}
	if err := atomicfile.WriteFile(f.SaltPinFile, []byte(hex.EncodeToString(name)+"\n"), 0o644); err != nil {
		log.Warn("recording the tpm salt key pin", "err", err)
		return
	}
	log.Info("pinned the TPM key that salts protected sessions", "name", hex.EncodeToString(name), "file", f.SaltPinFile)
}
