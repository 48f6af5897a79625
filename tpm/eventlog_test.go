package tpm

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/tpm/swtpmtest"
)

// Replay is PCR := SHA-256(PCR || digest) from zeros (or pcr-before).
func TestReplay(t *testing.T) {
	d1, d2 := sha256.Sum256([]byte("a")), sha256.Sum256([]byte("b"))
	zero := make([]byte, 32)
	step := func(cur, d []byte) []byte { h := sha256.Sum256(append(append([]byte{}, cur...), d...)); return h[:] }
	rec := func(n uint64, pcr int, d []byte, before string) CELRecord {
		return CELRecord{RecNum: n, PCR: pcr, Digests: []CELDigest{{HashAlg: "sha256", Digest: hex.EncodeToString(d)}}, ContentType: ContentTypeSZTP, Content: Event{PCRBefore: before}}
	}
	start := step(zero, d2[:])
	got, err := Replay([]CELRecord{rec(0, 14, d1[:], ""), rec(1, 14, d2[:], ""), rec(2, 15, d1[:], hex.EncodeToString(start))})
	if err != nil {
		t.Fatal(err)
	}
	if want := step(step(zero, d1[:]), d2[:]); hex.EncodeToString(got[14]) != hex.EncodeToString(want) {
		t.Errorf("pcr 14 = %x, want %x", got[14], want)
	}
	if want := step(start, d1[:]); hex.EncodeToString(got[15]) != hex.EncodeToString(want) {
		t.Errorf("pcr 15 = %x, want %x (from pcr-before)", got[15], want)
	}
}

// A hostile or damaged log is refused before any replay.
func TestParseEventLogRejects(t *testing.T) {
	d := strings.Repeat("ab", 32)
	for _, tc := range []struct{ name, doc, want string }{
		{"not json", `{`, "event log"},
		{"unknown field", `[{"recnum":0,"pcr":14,"digests":[{"hashAlg":"sha256","digest":"` + d + `"}],"content_type":"sztp","content":{},"x":1}]`, "unknown field"},
		{"pcr range", `[{"recnum":0,"pcr":24,"digests":[{"hashAlg":"sha256","digest":"` + d + `"}],"content_type":"sztp","content":{}}]`, "out of range"},
		{"no sha256", `[{"recnum":0,"pcr":14,"digests":[{"hashAlg":"sha1","digest":"00"}],"content_type":"sztp","content":{}}]`, "no sha256"},
		{"short digest", `[{"recnum":0,"pcr":14,"digests":[{"hashAlg":"sha256","digest":"abcd"}],"content_type":"sztp","content":{}}]`, "bad sha256"},
		{"recnum gap", `[{"recnum":0,"pcr":14,"digests":[{"hashAlg":"sha256","digest":"` + d + `"}],"content_type":"sztp","content":{}},{"recnum":2,"pcr":14,"digests":[{"hashAlg":"sha256","digest":"` + d + `"}],"content_type":"sztp","content":{}}]`, "follows"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ParseEventLog([]byte(tc.doc))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

// Measurer against swtpm: the PCR equals the replay after each record, and
// the log survives reopening.
func TestSWTPMMeasurer(t *testing.T) {
	sw := swtpmtest.Start(t)
	dev, err := Open(sw.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer dev.Close()
	m := &Measurer{Dev: dev, PCR: 16, Path: filepath.Join(t.TempDir(), EventLogFile)}
	for i, a := range []string{"conveyed-information", "configuration"} {
		sum := sha256.Sum256([]byte(a))
		if err := m.Measure(context.Background(), a, sum[:], int64(len(a))); err != nil {
			t.Fatal(err)
		}
		recs, err := ReadEventLog(m.Path)
		if err != nil || len(recs) != i+1 {
			t.Fatalf("log after %d measurements: %d records, %v", i+1, len(recs), err)
		}
		if _, err := VerifyEventLog(dev, recs); err != nil {
			t.Fatalf("after %s: %v", a, err)
		}
	}
	if err := m.Measure(context.Background(), "x", []byte{1}, 1); err == nil {
		t.Error("a digest that is not SHA-256 was accepted")
	}
	// Something else extends the PCR (or the TPM was reset): the log no
	// longer explains it, so the next measurement starts a new log from
	// the PCR's value and keeps the old one aside.
	other := sha256.Sum256([]byte("someone else"))
	if err := ExtendPCR(dev, 16, other[:]); err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte("post-configuration-script"))
	if err := m.Measure(context.Background(), "post-configuration-script", sum[:], 1); err != nil {
		t.Fatal(err)
	}
	recs, err := ReadEventLog(m.Path)
	if err != nil || len(recs) != 1 || recs[0].Content.PCRBefore == "" {
		t.Fatalf("new log: %+v, %v", recs, err)
	}
	if _, err := VerifyEventLog(dev, recs); err != nil {
		t.Fatalf("new log: %v", err)
	}
	if old, err := ReadEventLog(m.Path + ".prev"); err != nil || len(old) != 2 {
		t.Errorf("the old log was not kept aside: %d records, %v", len(old), err)
	}
}
