package images

import (
	"context"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The download pipeline: three goroutines connected by channels, passing a
// fixed set of buffers around, so that reading the socket, hashing and
// writing the staging file overlap and memory stays at nbuf*bufSize no
// matter how large the image is.
//
//	reader:  body -> buffer (filled up to bufSize)  -> hashed
//	hasher:  SHA-256 over the buffer; at checkpoints marshals the state
//	writer:  buffer -> staging file; hands checkpoints to the syncer; frees it
//	syncer:  fsync + sidecar, off the hot path
const (
	bufSize = 1 << 20
	nbuf    = 6
)

// localError marks errors of the local side (staging file, disk): trying
// another URI does not help.
type localError struct{ err error }

func (e localError) Error() string { return e.err.Error() }
func (e localError) Unwrap() error { return e.err }

type chunk struct {
	buf   []byte
	n     int
	state []byte // hash state after this chunk, at a checkpoint
}

type pipeResult struct {
	written int64 // bytes appended to the staging file (and hashed)
	readErr error // why the body ended early (nil at clean EOF)
}

type pipeline struct {
	body       io.Reader
	f          *os.File
	h          hash.Hash
	offset     int64 // file offset at start
	limit      int64 // max bytes to append (-1 none): size limit / expected length
	checkpoint int64 // bytes between checkpoints
	idle       time.Duration
	cancel     func() // aborts the body
	progress   func(done int64)
	commit     func(offset int64, state []byte) error // fsync + sidecar
}

// run streams the body to the file. It returns when the body ends or fails,
// or the file cannot be written (a localError). written bytes are always
// both in the file and in p.h.
func (p *pipeline) run(ctx context.Context) (pipeResult, error) {
	free := make(chan []byte, nbuf)
	for range nbuf {
		free <- make([]byte, bufSize)
	}
	toHash := make(chan chunk, nbuf)
	toWrite := make(chan chunk, nbuf)
	var (
		readErr  error
		tooLarge bool
		lastRead atomic.Int64
		idled    atomic.Bool
	)
	lastRead.Store(time.Now().UnixNano())
	stop := make(chan struct{})
	var stopOnce sync.Once
	halt := func() { stopOnce.Do(func() { close(stop); p.cancel() }) }

	// Watchdog: a body that stops delivering bytes is aborted.
	if p.idle > 0 {
		wd := time.NewTicker(p.idle / 4)
		defer wd.Stop()
		go func() {
			for {
				select {
				case <-stop:
					return
				case <-wd.C:
					if time.Since(time.Unix(0, lastRead.Load())) > p.idle {
						idled.Store(true)
						halt()
						return
					}
				}
			}
		}()
	}

	go func() { // reader
		defer close(toHash)
		var total int64
		for {
			var b []byte
			select {
			case b = <-free:
			case <-stop:
				return
			case <-ctx.Done():
				readErr = ctx.Err()
				return
			}
			n, err := fill(p.body, b, &lastRead)
			if n > 0 {
				total += int64(n)
				if p.limit >= 0 && total > p.limit {
					tooLarge = true
					return
				}
				toHash <- chunk{buf: b, n: n}
			}
			if err != nil {
				if err != io.EOF {
					readErr = err
				}
				return
			}
		}
	}()

	go func() { // hasher
		defer close(toWrite)
		off := p.offset
		next := p.offset + p.checkpoint
		for c := range toHash {
			p.h.Write(c.buf[:c.n])
			off += int64(c.n)
			if off >= next {
				c.state = marshalHash(p.h)
				next = off + p.checkpoint
			}
			toWrite <- c
		}
	}()

	// syncer: takes the newest checkpoint; a slow fsync never stalls writes.
	ckpt := make(chan ckptReq, 1)
	var syncErr error
	syncDone := make(chan struct{})
	go func() {
		defer close(syncDone)
		for r := range ckpt {
			if syncErr == nil {
				syncErr = p.commit(r.off, r.state)
			}
		}
	}()

	var (
		written  int64
		writeErr error
		kicked   int64
	)
	fd := int(p.f.Fd())
	for c := range toWrite {
		if writeErr == nil {
			if _, err := p.f.Write(c.buf[:c.n]); err != nil {
				writeErr = err
				halt()
			} else {
				written += int64(c.n)
				if written-kicked >= 8*bufSize {
					startWriteback(fd, p.offset+kicked, written-kicked)
					kicked = written
				}
				if p.progress != nil {
					p.progress(p.offset + written)
				}
				if c.state != nil {
					select {
					case ckpt <- ckptReq{p.offset + written, c.state}:
					default: // the syncer is busy; the next checkpoint will do
					}
				}
			}
		}
		free <- c.buf
	}
	close(ckpt)
	<-syncDone
	halt()

	if writeErr != nil {
		// What was written may be more than what was hashed-and-written in
		// order; only trust it up to what we know.
		return pipeResult{written: written}, localError{fmt.Errorf("writing staging file: %w", writeErr)}
	}
	if syncErr != nil {
		return pipeResult{written: written}, localError{fmt.Errorf("checkpointing staging file: %w", syncErr)}
	}
	if tooLarge {
		return pipeResult{written: written}, fmt.Errorf("%w: more than %d bytes", ErrTooLarge, p.limit+p.offset)
	}
	if idled.Load() {
		readErr = fmt.Errorf("no data for %v", p.idle)
	}
	return pipeResult{written: written, readErr: readErr}, nil
}

type ckptReq struct {
	off   int64
	state []byte
}

// fill reads into b until it is full, the body ends, or fails.
func fill(r io.Reader, b []byte, last *atomic.Int64) (int, error) {
	n := 0
	for n < len(b) {
		m, err := r.Read(b[n:])
		n += m
		if m > 0 {
			last.Store(time.Now().UnixNano())
		}
		if err != nil {
			return n, err
		}
	}
	return n, nil
}

// isNoSpace reports whether err means the file system is full.
func isNoSpace(err error) bool {
	return errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT)
}
