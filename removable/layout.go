package removable

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"strings"
	"syscall"

	"github.com/sztp/sztp/trust"
)

// File names of the layout (RFC 8572 4.1 examples).
const (
	TopDir                  = "sztp"
	ConveyedInformationFile = "conveyed-information.cms"
	OwnerCertificateFile    = "owner-certificate.cms"
	VoucherFile             = "ownership-voucher.cms"
	VoucherJSONFile         = "ownership-voucher.vcj"
)

// Size caps of the files, checked before they are read. Conveyed
// information carries scripts and configuration (the boot image is only
// referenced), as a bootstrap server's response does (client's
// DefaultMaxResponseSize); an owner certificate or voucher is a few KiB.
const (
	MaxConveyedInformation = 16 << 20
	MaxOwnerCertificate    = 1 << 20
	MaxOwnershipVoucher    = 1 << 20
)

// ErrNoData means a medium holds no SZTP directory with conveyed information.
var ErrNoData = errors.New("no SZTP data (sztp/<serial-number>/ or sztp/ with " + ConveyedInformationFile + ")")

// Data is the bootstrapping data of one directory of a medium.
type Data struct {
	// Medium is the block device or directory the data came from.
	Medium string
	// Dir is the directory on the medium, e.g. "sztp/SN-0001" or "sztp".
	Dir string
	// DeviceSpecific is true for sztp/<serial-number>/.
	DeviceSpecific bool
	Artifacts      trust.Artifacts
}

func (d Data) String() string { return d.Medium + ":" + d.Dir }

// Dirs returns the directories to look in, in order: sztp/<serial>/ first
// (when serial is usable as one path component), then sztp/.
func Dirs(serial string) []string {
	if validComponent(serial) {
		return []string{TopDir + "/" + serial, TopDir}
	}
	return []string{TopDir}
}

// validComponent reports whether s names exactly one directory entry: not
// empty, ".", "..", and without "/" or NUL (a serial number of "../x" must not
// walk the medium).
func validComponent(s string) bool {
	return s != "" && s != "." && s != ".." && !strings.ContainsAny(s, "/\x00") && len(s) <= 255
}

// ReadDir reads the layout under root, the medium's top directory. It
// returns the data of every directory that has conveyed information, in
// order (device-specific first); ErrNoData when there is none. Errors of one
// directory (a file too large, a symlink leaving the medium) are returned
// joined when no directory yielded data, and otherwise passed to warn (if
// not nil).
func ReadDir(root, serial string, warn func(dir string, err error)) ([]Data, error) {
	r, err := os.OpenRoot(root)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", root, err)
	}
	defer r.Close()
	var out []Data
	var errs []error
	for _, dir := range Dirs(serial) {
		a, err := readArtifacts(r, dir)
		switch {
		case errors.Is(err, fs.ErrNotExist):
			continue
		case err != nil:
			err = fmt.Errorf("%s: %w", dir, err)
			if warn != nil {
				warn(dir, err)
			}
			errs = append(errs, err)
			continue
		}
		out = append(out, Data{Medium: root, Dir: dir, DeviceSpecific: dir != TopDir, Artifacts: *a})
	}
	if len(out) > 0 {
		return out, nil
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return nil, ErrNoData
}

// readArtifacts reads one directory. fs.ErrNotExist means it has no
// conveyed information.
func readArtifacts(r *os.Root, dir string) (*trust.Artifacts, error) {
	ci, err := readFile(r, path.Join(dir, ConveyedInformationFile), MaxConveyedInformation)
	if err != nil {
		return nil, err
	}
	a := &trust.Artifacts{ConveyedInformation: ci}
	if a.OwnerCertificate, err = readOptional(r, path.Join(dir, OwnerCertificateFile), MaxOwnerCertificate); err != nil {
		return nil, err
	}
	if a.OwnershipVoucher, err = readOptional(r, path.Join(dir, VoucherFile), MaxOwnershipVoucher); err != nil {
		return nil, err
	}
	if a.OwnershipVoucher == nil {
		if a.OwnershipVoucher, err = readOptional(r, path.Join(dir, VoucherJSONFile), MaxOwnershipVoucher); err != nil {
			return nil, err
		}
	}
	return a, nil
}

func readOptional(r *os.Root, name string, max int64) ([]byte, error) {
	b, err := readFile(r, name, max)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	return b, err
}

// ErrNotRegular and ErrTooLarge are wrapped by the errors of refused files.
var (
	ErrNotRegular = errors.New("not a regular file")
	ErrTooLarge   = errors.New("file too large")
	ErrEmpty      = errors.New("empty file")
)

// readFile reads name below r, at most max bytes. os.Root refuses paths
// and symlinks that leave the medium; O_NONBLOCK keeps a FIFO from blocking
// the open, and the file type is checked on the open file.
func readFile(r *os.Root, name string, max int64) ([]byte, error) {
	f, err := r.OpenFile(name, os.O_RDONLY|syscall.O_NONBLOCK|syscall.O_NOCTTY, 0)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, fmt.Errorf("refused: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s: %w (%s)", name, ErrNotRegular, st.Mode().Type())
	}
	if st.Size() > max {
		return nil, fmt.Errorf("%s: %w: %d bytes, at most %d", name, ErrTooLarge, st.Size(), max)
	}
	b, err := io.ReadAll(io.LimitReader(f, max+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if int64(len(b)) > max {
		return nil, fmt.Errorf("%s: %w: more than %d bytes", name, ErrTooLarge, max)
	}
	if len(b) == 0 {
		return nil, fmt.Errorf("%s: %w", name, ErrEmpty)
	}
	return b, nil
}
