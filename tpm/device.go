package tpm

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"
	"sync"
	"time"

	"github.com/google/go-tpm/tpm2/transport"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
)

// maxResponse bounds a response read from a stream transport. TPM responses
// are at most MAX_RESPONSE_SIZE (4096 on swtpm, similar on hardware); 64 KiB
// leaves room for any TPM while refusing garbage lengths.
const maxResponse = 64 << 10

// headerSize is the size of a TPM response header: tag, size, response code.
const headerSize = 10

// Device is an open TPM. It runs one command at a time, so it can be shared
// by the signer, the decrypter and the NV reader of one identity. It
// implements go-tpm's transport.TPM.
type Device struct {
	mu    sync.Mutex
	t     transport.TPM
	c     io.Closer // nil: not ours to close
	name  string
	stuck error // set when a command did not finish in time
	sess  sessionState
}

var _ transport.TPM = (*Device)(nil)

// Open opens the TPM at path: a character device (/dev/tpmrm0, /dev/tpm0),
// tcp://HOST:PORT or unix://PATH for swtpm's server socket.
func Open(path string) (*Device, error) {
	switch {
	case strings.HasPrefix(path, "tcp://"):
		return dialStream("tcp", strings.TrimPrefix(path, "tcp://"), path)
	case strings.HasPrefix(path, "unix://"):
		return dialStream("unix", strings.TrimPrefix(path, "unix://"), path)
	case strings.Contains(path, "://"):
		return nil, fmt.Errorf("tpm %q: unknown scheme (want a device path, tcp:// or unix://)", path)
	case path == "":
		path = DefaultPath
	}
	t, err := linuxtpm.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening tpm %s: %w", path, err)
	}
	return &Device{t: t, c: t, name: path}, nil
}

// NewDevice wraps an already open go-tpm transport (e.g. the reference
// simulator in tests). Close closes t when it is an io.Closer.
func NewDevice(t transport.TPM, name string) *Device {
	d := &Device{t: t, name: name}
	if c, ok := t.(io.Closer); ok {
		d.c = c
	}
	return d
}

func dialStream(network, addr, name string) (*Device, error) {
	if addr == "" {
		return nil, fmt.Errorf("tpm %q: missing address", name)
	}
	conn, err := net.DialTimeout(network, addr, 10*time.Second)
	if err != nil {
		return nil, fmt.Errorf("connecting to tpm %s: %w", name, err)
	}
	s := &stream{conn: conn}
	return &Device{t: s, c: s, name: name}, nil
}

// String is the path the device was opened from.
func (d *Device) String() string { return d.name }

// commandTimeout bounds one command on any transport. A character device
// has no read deadline (go-tpm polls it without a timeout), so a TPM or
// driver that stops answering would otherwise hang the agent for good.
var commandTimeout = ioTimeout

// Send runs one TPM command and returns its response. A command that does
// not finish within commandTimeout fails, and so does every later command on
// this Device until the abandoned one finishes after all (a TPM that is
// merely slow recovers; one that never answers stays failed).
func (d *Device) Send(cmd []byte) ([]byte, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.t == nil {
		return nil, errors.New("tpm: device closed")
	}
	if d.stuck != nil {
		return nil, d.stuck
	}
	type result struct {
		rsp []byte
		err error
	}
	done := make(chan result, 1)
	t := d.t
	go func() {
		rsp, err := t.Send(cmd)
		done <- result{rsp, err}
	}()
	timer := time.NewTimer(commandTimeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.rsp, r.err
	case <-timer.C:
		d.stuck = fmt.Errorf("tpm %s did not answer a command within %v; not using it until it does", d.name, commandTimeout)
		go func() {
			<-done // the late response belongs to the abandoned command
			d.mu.Lock()
			d.stuck = nil
			d.mu.Unlock()
		}()
		return nil, d.stuck
	}
}

// Close releases the TPM.
func (d *Device) Close() error {
	d.closeSessions()
	d.mu.Lock()
	defer d.mu.Unlock()
	c := d.c
	d.t, d.c = nil, nil
	if c == nil {
		return nil
	}
	return c.Close()
}

// stream talks to a TPM over a byte stream (swtpm's --server socket): write
// the command, then read exactly one framed response. go-tpm's transport/tcp
// speaks the Microsoft simulator protocol instead, and its ReadWriteCloser
// wrapper assumes one Read returns the whole response, which TCP does not
// promise.
type stream struct {
	conn   net.Conn
	broken error // set after a failed exchange: the framing may be lost
}

// ioTimeout bounds one command: a TPM answers in well under a minute even for
// RSA key generation.
const ioTimeout = 2 * time.Minute

func (s *stream) Send(cmd []byte) ([]byte, error) {
	if s.broken != nil {
		return nil, fmt.Errorf("tpm connection unusable after an earlier failure (reopen it): %w", s.broken)
	}
	rsp, err := s.exchange(cmd)
	if err != nil {
		// A late or partial response would be read as the answer to the
		// next command: never reuse the connection.
		s.broken = err
		s.conn.Close()
	}
	return rsp, err
}

func (s *stream) exchange(cmd []byte) ([]byte, error) {
	if err := s.conn.SetDeadline(time.Now().Add(ioTimeout)); err != nil {
		return nil, err
	}
	if _, err := s.conn.Write(cmd); err != nil {
		return nil, fmt.Errorf("sending tpm command: %w", err)
	}
	return readFrame(s.conn)
}

func (s *stream) Close() error { return s.conn.Close() }

// readFrame reads one TPM response: a 10-byte header whose bytes 2..6 give
// the total size, then the rest.
func readFrame(r io.Reader) ([]byte, error) {
	hdr := make([]byte, headerSize)
	if _, err := io.ReadFull(r, hdr); err != nil {
		return nil, fmt.Errorf("reading tpm response header: %w", err)
	}
	size := binary.BigEndian.Uint32(hdr[2:6])
	if size < headerSize || size > maxResponse {
		return nil, fmt.Errorf("tpm response size %d out of range [%d, %d]", size, headerSize, maxResponse)
	}
	rsp := make([]byte, size)
	copy(rsp, hdr)
	if _, err := io.ReadFull(r, rsp[headerSize:]); err != nil {
		return nil, fmt.Errorf("reading tpm response body (%d bytes): %w", size-headerSize, err)
	}
	return rsp, nil
}
