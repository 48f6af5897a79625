package trusttest

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/sztp/sztp/trust"
)

// Artifact file names inside a case directory (the RFC 8572 4.1 examples).
const (
	ConveyedInformationFile = "conveyed-information.cms"
	OwnerCertificateFile    = "owner-certificate.cms"
	OwnershipVoucherFile    = "ownership-voucher.cms"
	ManifestFile            = "manifest.json"
)

// ManifestEntry describes one case directory in manifest.json.
type ManifestEntry struct {
	Name       string   `json:"name"`
	Serial     string   `json:"serial,omitempty"`
	Nonce      string   `json:"nonce,omitempty"` // hex
	Now        string   `json:"now,omitempty"`   // RFC 3339
	Clock      string   `json:"clock"`           // trusted or untrusted
	Assertions []string `json:"assertions,omitempty"`
	Key        string   `json:"key,omitempty"`
	NoIDevID   bool     `json:"no-idevid,omitempty"`
	WantStep   string   `json:"want-step,omitempty"`
}

// maxWritten skips cases too large to commit (the oversized artifact).
const maxWritten = 1 << 20

// WriteMatrix writes each case to dir/NAME/ and the list to
// dir/manifest.json, replacing what was there.
func WriteMatrix(dir string, cases []Case) error {
	if err := os.RemoveAll(dir); err != nil {
		return err
	}
	var entries []ManifestEntry
	for _, c := range cases {
		a := c.Artifacts
		if len(a.ConveyedInformation)+len(a.OwnerCertificate)+len(a.OwnershipVoucher) > maxWritten {
			continue
		}
		cd := filepath.Join(dir, c.Name)
		if err := os.MkdirAll(cd, 0o755); err != nil {
			return err
		}
		for name, b := range map[string][]byte{ConveyedInformationFile: a.ConveyedInformation, OwnerCertificateFile: a.OwnerCertificate, OwnershipVoucherFile: a.OwnershipVoucher} {
			if b == nil {
				continue
			}
			if err := os.WriteFile(filepath.Join(cd, name), b, 0o644); err != nil {
				return err
			}
		}
		e := ManifestEntry{Name: c.Name, Serial: c.Serial, Clock: "trusted", Assertions: c.Assertions, Key: c.Key, NoIDevID: c.NoIDevID, WantStep: string(c.WantStep)}
		if c.ClockUntrusted {
			e.Clock = "untrusted"
		}
		if c.Nonce != nil {
			e.Nonce = hex.EncodeToString(c.Nonce)
		}
		if !c.Now.IsZero() {
			e.Now = c.Now.UTC().Format(time.RFC3339)
		}
		entries = append(entries, e)
	}
	b, err := json.MarshalIndent(entries, "", "  ")
	if err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, ManifestFile), append(b, '\n'), 0o644)
}

// ReadMatrix reads what WriteMatrix wrote.
func ReadMatrix(dir string) ([]Case, error) {
	b, err := os.ReadFile(filepath.Join(dir, ManifestFile))
	if err != nil {
		return nil, err
	}
	var entries []ManifestEntry
	if err := json.Unmarshal(b, &entries); err != nil {
		return nil, fmt.Errorf("%s: %w", ManifestFile, err)
	}
	var cases []Case
	for _, e := range entries {
		c := Case{Name: e.Name, Serial: e.Serial, ClockUntrusted: e.Clock == "untrusted", Assertions: e.Assertions, Key: e.Key, NoIDevID: e.NoIDevID, WantStep: trust.Step(e.WantStep)}
		if e.Nonce != "" {
			if c.Nonce, err = hex.DecodeString(e.Nonce); err != nil {
				return nil, fmt.Errorf("%s: nonce: %w", e.Name, err)
			}
		}
		if e.Now != "" {
			if c.Now, err = time.Parse(time.RFC3339, e.Now); err != nil {
				return nil, fmt.Errorf("%s: now: %w", e.Name, err)
			}
		}
		read := func(name string) ([]byte, error) {
			b, err := os.ReadFile(filepath.Join(dir, e.Name, name))
			if errors.Is(err, fs.ErrNotExist) {
				return nil, nil
			}
			return b, err
		}
		if c.Artifacts.ConveyedInformation, err = read(ConveyedInformationFile); err != nil {
			return nil, err
		}
		if c.Artifacts.OwnerCertificate, err = read(OwnerCertificateFile); err != nil {
			return nil, err
		}
		if c.Artifacts.OwnershipVoucher, err = read(OwnershipVoucherFile); err != nil {
			return nil, err
		}
		cases = append(cases, c)
	}
	return cases, nil
}
