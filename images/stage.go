package images

import (
	"bytes"
	"crypto/sha256"
	"encoding"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/sztp/sztp/internal/atomicfile"
	"github.com/sztp/sztp/internal/privdir"
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
// exactly those K bytes. On resume the whole file is hashed again from disk;
// the state after its first K bytes must equal sha256_state, else the prefix
// changed on disk and the download starts from zero. Any bytes the file
// holds beyond K (written after the last checkpoint, e.g. before a SIGKILL)
// are hashed too, and the download continues at the file's length with a
// Range request. Bytes beyond K are not known to be durable: if a power loss
// garbled them the final hash fails, and a resumed download that fails
// verification is restarted once from zero.
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

// StagingSubdir is the private directory beside the output that holds the
// partial download when Fetcher.StagingDir is empty.
const StagingSubdir = ".sztp-staging"

func stageNames(dir, output string, want []byte) (part, side string) {
	if dir == "" {
		dir = filepath.Join(filepath.Dir(output), StagingSubdir)
	}
	part = filepath.Join(dir, hex.EncodeToString(want)+".part")
	return part, part + ".json"
}

// openStage opens the staging file and takes an exclusive lock on it, so
// two fetches of the same image do not interleave. The staging directory
// must be private (privdir.Ensure: ours, 0700, not a symbolic link). An
// existing .part is reused only when it is a regular file of ours with no
// group or other access and one link (privdir.OwnFile); anything else found
// under its name (a planted file, a symbolic link, a hard link) is removed,
// never followed, and a new file is created with O_EXCL.
func openStage(dir, output string, want []byte, log *slog.Logger) (*stage, error) {
	part, side := stageNames(dir, output, want)
	if err := privdir.Ensure(filepath.Dir(part), false); err != nil {
		return nil, fmt.Errorf("staging directory: %w", err)
	}
	f, err := openOwn(part, os.O_RDWR)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		log.Warn("discarding a staged image that is not the agent's own", "path", part, "reason", err)
		if err := os.Remove(part); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("removing %s: %w", part, err)
		}
		os.Remove(side)
	}
	if f == nil {
		os.Remove(side) // a sidecar without its file describes nothing
		f, err = os.OpenFile(part, os.O_RDWR|os.O_CREATE|os.O_EXCL|syscall.O_NOFOLLOW, 0o600)
		if err != nil {
			return nil, fmt.Errorf("creating staging file: %w", err)
		}
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

// openOwn opens an existing file without following a symbolic link and
// returns it only when privdir.OwnFile accepts it. A missing file is
// os.ErrNotExist; (nil, nil) is never returned.
func openOwn(path string, flag int) (*os.File, error) {
	f, err := os.OpenFile(path, flag|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ELOOP) {
			return nil, fmt.Errorf("%s is a symbolic link", path)
		}
		return nil, err
	}
	if err := privdir.OwnFile(f); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
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

// maxSidecar bounds the sidecar read: it holds a URI, two validators and a
// hash state.
const maxSidecar = 64 << 10

// load reads the sidecar. A missing, foreign (see openOwn), oversized or
// damaged one is nil: it only costs a fresh start.
func (s *stage) load() *sidecar {
	f, err := openOwn(s.side, os.O_RDONLY)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, maxSidecar+1))
	if err != nil || len(b) > maxSidecar {
		return nil
	}
	var sc sidecar
	if err := json.Unmarshal(b, &sc); err != nil {
		return nil
	}
	return &sc
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

// errPrefixChanged: the staged bytes no longer hash to the state that was
// checkpointed for them (bit rot, storage that lost acknowledged writes,
// another writer).
var errPrefixChanged = errors.New("staged bytes changed since their checkpoint")

// resume re-hashes the staged file from disk and returns the hash with the
// offset to continue at (the file's length), or an error when the staged
// state cannot be used. The stored hash state is never trusted for bytes
// it was not computed over in this process: it only serves as a check that
// the first sc.Offset bytes are still the ones that were downloaded
// (issue 10 item 1). Re-reading costs one sequential read of the prefix,
// and only on a resume; a full read-back before every rename would cost it
// on every download.
func (s *stage) resume(sc *sidecar) (hash.Hash, int64, error) {
	fi, err := s.f.Stat()
	if err != nil {
		return nil, 0, err
	}
	size := fi.Size()
	if sc.Offset < 0 || size < sc.Offset || (sc.Total >= 0 && size > sc.Total) {
		return nil, 0, fmt.Errorf("staging file is %d bytes, state says %d of %d", size, sc.Offset, sc.Total)
	}
	h := sha256.New()
	buf := make([]byte, rehashBuf)
	if _, err := s.f.Seek(0, io.SeekStart); err != nil {
		return nil, 0, err
	}
	if _, err := io.CopyBuffer(h, io.LimitReader(s.f, sc.Offset), buf); err != nil {
		return nil, 0, fmt.Errorf("re-hashing staged prefix: %w", err)
	}
	if !bytes.Equal(marshalHash(h), sc.HashState) {
		return nil, 0, fmt.Errorf("%w (first %d bytes)", errPrefixChanged, sc.Offset)
	}
	// Bytes past the checkpoint were written but not known to be durable;
	// they are hashed as they are and the final check decides.
	if _, err := io.CopyBuffer(h, io.LimitReader(s.f, size-sc.Offset), buf); err != nil {
		return nil, 0, fmt.Errorf("hashing staged tail: %w", err)
	}
	if _, err := s.f.Seek(size, io.SeekStart); err != nil {
		return nil, 0, err
	}
	return h, size, nil
}

// rehashBuf is the read size when re-hashing a staged prefix.
const rehashBuf = 256 << 10

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
