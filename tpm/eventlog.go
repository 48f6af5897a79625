package tpm

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/sztp/sztp/internal/atomicfile"
)

// Measured onboarding: before the agent acts on an artifact it extends a
// PCR with the artifact's SHA-256 and appends a record to an event log in
// the JSON encoding of the TCG Canonical Event Log (CEL) format, so that a
// verifier can replay the log against the PCR (or a quote of it).

// EventLogFile is the event log's name in the state directory.
const EventLogFile = "eventlog.json"

// DefaultMeasurePCR is the PCR the agent extends by default.
const DefaultMeasurePCR = 14

// ContentTypeSZTP is the content_type of the agent's CEL records.
const ContentTypeSZTP = "sztp"

// Bounds on the event log: one bootstrap measures a handful of artifacts
// per server (redirects included, at most 64 connections).
const (
	MaxEventLogRecords = 4096
	maxEventLogSize    = 4 << 20
)

// CELDigest is one entry of a CEL record's digests.
type CELDigest struct {
	HashAlg string `json:"hashAlg"` // "sha256"
	Digest  string `json:"digest"`  // hex
}

// CELRecord is one record of the event log (CEL-JSON).
type CELRecord struct {
	RecNum      uint64      `json:"recnum"`
	PCR         int         `json:"pcr"`
	Digests     []CELDigest `json:"digests"`
	ContentType string      `json:"content_type"`
	Content     Event       `json:"content"`
}

// Event is the content of an sztp record: what was measured.
type Event struct {
	// Artifact names what the digest is of: ownership-voucher,
	// owner-certificate, conveyed-information, boot-image,
	// pre-configuration-script, configuration, post-configuration-script.
	Artifact string    `json:"artifact"`
	Size     int64     `json:"size"`
	Time     time.Time `json:"time"`
	// PCRBefore, on the first record of a log, is the PCR's value before
	// that record was extended (hex): all zeros after a TPM reset unless
	// something else (firmware, a boot loader, an earlier stage before a
	// kexec) extended the PCR first. Replay starts from it.
	PCRBefore string `json:"pcr-before,omitempty"`
}

// Measurer extends a PCR and keeps the event log. It is safe for
// concurrent use.
type Measurer struct {
	Dev    *Device
	PCR    int
	Path   string // the event log file
	Logger *slog.Logger
	Now    func() time.Time // nil: time.Now
	mu     sync.Mutex
}

// Measure extends the PCR with digest (the SHA-256 of artifact) and then
// appends the record to the log, atomically. The order is extend, then log:
// a failure in between leaves a PCR the log does not explain, which a
// verifier rejects (fail closed), never a log claiming what the PCR lacks.
func (m *Measurer) Measure(ctx context.Context, artifact string, digest []byte, size int64) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if len(digest) != sha256.Size {
		return fmt.Errorf("measuring %s: digest is %d bytes, want %d", artifact, len(digest), sha256.Size)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	recs, err := ReadEventLog(m.Path)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("measuring %s: %w", artifact, err)
	}
	before, err := ReadPCR(m.Dev, m.PCR)
	if err != nil {
		return fmt.Errorf("measuring %s: %w", artifact, err)
	}
	if len(recs) > 0 {
		// A log that no longer explains the PCR is from an earlier boot
		// (the PCR started over) or was overtaken by another extension:
		// keep it aside and start a log that begins at the PCR's value.
		if want, err := Replay(recs); err != nil || !bytes.Equal(want[m.PCR], before) {
			if err := os.Rename(m.Path, m.Path+".prev"); err != nil {
				return fmt.Errorf("measuring %s: setting aside an event log that no longer matches pcr %d: %w", artifact, m.PCR, err)
			}
			if m.Logger != nil {
				m.Logger.Info("event log set aside: it does not explain the PCR (an earlier boot?)", "pcr", m.PCR, "old", m.Path+".prev")
			}
			recs = nil
		}
	}
	if len(recs) >= MaxEventLogRecords {
		return fmt.Errorf("measuring %s: event log %s holds %d records already", artifact, m.Path, len(recs))
	}
	ev := Event{Artifact: artifact, Size: size, Time: m.now().UTC()}
	if len(recs) == 0 {
		ev.PCRBefore = hex.EncodeToString(before)
	}
	if err := ExtendPCR(m.Dev, m.PCR, digest); err != nil {
		return fmt.Errorf("measuring %s: %w", artifact, err)
	}
	rec := CELRecord{RecNum: uint64(len(recs)), PCR: m.PCR, ContentType: ContentTypeSZTP, Content: ev,
		Digests: []CELDigest{{HashAlg: "sha256", Digest: hex.EncodeToString(digest)}}}
	if len(recs) > 0 {
		rec.RecNum = recs[len(recs)-1].RecNum + 1
	}
	recs = append(recs, rec)
	data, err := json.MarshalIndent(recs, "", "  ")
	if err != nil {
		return err
	}
	if err := atomicfile.WriteFile(m.Path, append(data, '\n'), 0o644); err != nil {
		return fmt.Errorf("measuring %s: pcr %d extended but the event log not written: %w", artifact, m.PCR, err)
	}
	if m.Logger != nil {
		m.Logger.Info("measured", "artifact", artifact, "pcr", m.PCR, "sha256", hex.EncodeToString(digest), "recnum", rec.RecNum)
	}
	return nil
}

func (m *Measurer) now() time.Time {
	if m.Now != nil {
		return m.Now()
	}
	return time.Now()
}

// ReadEventLog reads and checks an event log file (at most 4 MiB and
// MaxEventLogRecords records; every record SHA-256 with a valid PCR).
func ReadEventLog(path string) ([]CELRecord, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxEventLogSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading event log: %w", err)
	}
	if len(data) > maxEventLogSize {
		return nil, fmt.Errorf("event log %s is larger than %d bytes", path, maxEventLogSize)
	}
	return ParseEventLog(data)
}

// ParseEventLog parses CEL-JSON records (a JSON array) and checks them.
func ParseEventLog(data []byte) ([]CELRecord, error) {
	var recs []CELRecord
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&recs); err != nil {
		return nil, fmt.Errorf("event log: %w", err)
	}
	if len(recs) > MaxEventLogRecords {
		return nil, fmt.Errorf("event log: %d records, at most %d", len(recs), MaxEventLogRecords)
	}
	for i, r := range recs {
		if r.PCR < 0 || r.PCR > MaxPCR {
			return nil, fmt.Errorf("event log record %d: pcr %d out of range", r.RecNum, r.PCR)
		}
		if i > 0 && r.RecNum != recs[i-1].RecNum+1 {
			return nil, fmt.Errorf("event log record %d follows record %d", r.RecNum, recs[i-1].RecNum)
		}
		if _, err := r.sha256(); err != nil {
			return nil, fmt.Errorf("event log record %d: %w", r.RecNum, err)
		}
	}
	return recs, nil
}

func (r CELRecord) sha256() ([]byte, error) {
	for _, d := range r.Digests {
		if d.HashAlg != "sha256" {
			continue
		}
		b, err := hex.DecodeString(d.Digest)
		if err != nil || len(b) != sha256.Size {
			return nil, fmt.Errorf("bad sha256 digest %q", d.Digest)
		}
		return b, nil
	}
	return nil, errors.New("no sha256 digest")
}

// Replay computes each PCR's SHA-256 value from the records: it starts
// from the first record's pcr-before (zeros when absent) and extends
// PCR = SHA-256(PCR || digest) for every record, in order.
func Replay(recs []CELRecord) (map[int][]byte, error) {
	out := map[int][]byte{}
	for _, r := range recs {
		d, err := r.sha256()
		if err != nil {
			return nil, fmt.Errorf("record %d: %w", r.RecNum, err)
		}
		cur, ok := out[r.PCR]
		if !ok {
			cur = make([]byte, sha256.Size)
			if r.Content.PCRBefore != "" {
				b, err := hex.DecodeString(r.Content.PCRBefore)
				if err != nil || len(b) != sha256.Size {
					return nil, fmt.Errorf("record %d: bad pcr-before %q", r.RecNum, r.Content.PCRBefore)
				}
				cur = b
			}
		}
		h := sha256.New()
		h.Write(cur)
		h.Write(d)
		out[r.PCR] = h.Sum(nil)
	}
	return out, nil
}

// VerifyEventLog replays recs and compares every PCR they touch with the
// TPM's current value. It returns the replayed values.
func VerifyEventLog(dev *Device, recs []CELRecord) (map[int][]byte, error) {
	want, err := Replay(recs)
	if err != nil {
		return nil, err
	}
	for pcr, v := range want {
		got, err := ReadPCR(dev, pcr)
		if err != nil {
			return want, err
		}
		if !bytes.Equal(got, v) {
			return want, fmt.Errorf("pcr %d is %x, the event log replays to %x", pcr, got, v)
		}
	}
	return want, nil
}

// EventLogPath is the event log in a state directory.
func EventLogPath(stateDir string) string { return filepath.Join(stateDir, EventLogFile) }
