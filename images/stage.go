package images

import (
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/sztp/sztp/internal/atomicfile"
)

// Staging layout. An image being downloaded lives in the staging directory
// as NAME.part; beside it NAME.part.json (written atomically) records what
// the committed prefix of NAME.part is:
//
//	{"uri": ..., "etag": ..., "last_modified": ..., "total": N,
//	 "offset": K, "sha256_state": base64}
//
// offset K bytes of the .part file were fsynced before the sidecar was
// written, and sha256_state is the marshalled SHA-256 state after hashing
// exactly those K bytes. On resume the hash state is restored, any bytes the
// file holds beyond K (written after the last checkpoint, e.g. before a
// SIGKILL) are hashed from the file, and the download continues at the file's
// length with a Range request. Bytes beyond K are not known to be durable: if
// a power loss garbled them the final hash fails, and a resumed download that
// fails verification is restarted once from zero.
type sidecar struct {
	URI          string `json:"uri"`
	ETag         string `json:"etag,omitempty"`
	LastModified string `json:"last_modified,omitempty"`
	Total        int64  `json:"total"` // -1 when unknown
	Offset       int64  `json:"offset"`
	HashState    []byte `json:"sha256_state"`
}

// stage is an open, locked staging file with its sidecar.
type stage struct {
	path string // the .part file
	side string // the sidecar
	f    *os.File
}

func stageNames(dir, output string, want []byte) (part, side string) {
	name := hex.EncodeToString(want)
	if dir == "" {
		dir = filepath.Dir(output)
		name = "." + filepath.Base(output) + "." + name[:16]
	}
	part = filepath.Join(dir, name+".part")
	return part, part + ".json"
}

// openStage opens (creating) the staging file and takes an exclusive lock
// on it, so two fetches of the same image do not interleave.
func openStage(dir, output string, want []byte) (*stage, error) {
	part, side := stageNames(dir, output, want)
	if err := os.MkdirAll(filepath.Dir(part), 0o700); err != nil {
		return nil, fmt.Errorf("creating staging dir: %w", err)
	}
	f, err := os.OpenFile(part, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening staging file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("locking staging file %s (another fetch of this image running?): %w", part, err)
	}
	// A crash while the sidecar was being replaced leaves atomicfile's temp
	// file; we hold the lock, so no one else is writing one.
	if tmps, _ := filepath.Glob(filepath.Join(filepath.Dir(side), "."+filepath.Base(side)+".tmp-*")); len(tmps) > 0 {
		for _, t := range tmps {
			os.Remove(t)
		}
	}
	return &stage{path: part, side: side, f: f}, nil
}

func (s *stage) close() error { return s.f.Close() }

// remove deletes the staging file and its sidecar.
func (s *stage) remove() {
	s.f.Close()
	os.Remove(s.side)
	os.Remove(s.path)
}

// removeIfEmpty removes a staging file that holds nothing worth resuming.
func (s *stage) removeIfEmpty() {
	if fi, err := s.f.Stat(); err == nil && fi.Size() == 0 {
		s.remove()
	}
}

func (s *stage) load() (*sidecar, error) {
	b, err := os.ReadFile(s.side)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("reading staging state: %w", err)
	}
	var sc sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil, nil // a damaged sidecar only costs a fresh start
	}
	return &sc, nil
}

func (s *stage) save(sc *sidecar) error {
	b, err := json.Marshal(sc)
	if err != nil {
		return err
	}
	return atomicfile.WriteFile(s.side, b, 0o600)
}

// reset empties the staging file for a fresh download.
func (s *stage) reset() (hash.Hash, error) {
	os.Remove(s.side)
	if err := s.f.Truncate(0); err != nil {
		return nil, fmt.Errorf("truncating staging file: %w", err)
	}
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	return sha256.New(), nil
}

// resume restores the hash over the staged prefix described by sc and
// returns it with the offset to continue at (the file's length), or an
// error when the staged state cannot be used.
func (s *stage) resume(sc *sidecar) (hash.Hash, int64, error) {
	h := sha256.New()
	if err := h.(encoding.BinaryUnmarshaler).UnmarshalBinary(sc.HashState); err != nil {
		return nil, 0, fmt.Errorf("restoring hash state: %w", err)
	}
	fi, err := s.f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size := fi.Size()
	if size < sc.Offset || (sc.Total >= 0 && size > sc.Total) {
		return nil, 0, fmt.Errorf("staging file is %d bytes, state says %d of %d", size, sc.Offset, sc.Total)
	}
	if _, err := s.f.Seek(sc.Offset, io.SeekStart); err != nil {
		return nil, 0, err
	}
	if _, err := io.Copy(h, io.LimitReader(s.f, size-sc.Offset)); err != nil {
		return nil, 0, fmt.Errorf("hashing staged tail: %w", err)
	}
	if _, err := s.f.Seek(size, io.SeekStart); err != nil {
		return nil, 0, err
	}
	return h, size, nil
}

func marshalHash(h hash.Hash) []byte {
	b, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		panic("images: sha256 state does not marshal: " + err.Error())
	}
	return b
}

// parseContentRange parses "bytes START-END/TOTAL" (TOTAL may be "*", then
// -1 is returned for it).
func parseContentRange(v string) (start, end, total int64, err error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(v), "bytes ")
	if !ok {
		return 0, 0, 0, fmt.Errorf("content-range %q: not a bytes range", v)
	}
	rng, tot, ok := strings.Cut(rest, "/")
	if !ok {
		return 0, 0, 0, fmt.Errorf("content-range %q: no total", v)
	}
	a, b, ok := strings.Cut(rng, "-")
	if !ok {
		return 0, 0, 0, fmt.Errorf("content-range %q: no range", v)
	}
	if start, err = parseNonNeg(a); err != nil {
		return 0, 0, 0, fmt.Errorf("content-range %q: %w", v, err)
	}
	if end, err = parseNonNeg(b); err != nil {
		return 0, 0, 0, fmt.Errorf("content-range %q: %w", v, err)
	}
	if end < start {
		return 0, 0, 0, fmt.Errorf("content-range %q: end before start", v)
	}
	if tot == "*" {
		return start, end, -1, nil
	}
	if total, err = parseNonNeg(tot); err != nil {
		return 0, 0, 0, fmt.Errorf("content-range %q: %w", v, err)
	}
	if end >= total {
		return 0, 0, 0, fmt.Errorf("content-range %q: end past total", v)
	}
	return start, end, total, nil
}

func parseNonNeg(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, fmt.Errorf("bad number %q", s)
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("bad number %q", s)
	}
	return n, nil
}
