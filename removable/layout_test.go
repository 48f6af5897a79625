package removable

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// tree writes files (path -> content; content "->TARGET" makes a symlink,
// "|fifo" a FIFO) under a new temporary directory.
func tree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		switch {
		case strings.HasPrefix(c, "->"):
			err = os.Symlink(c[2:], full)
		case c == "|fifo":
			err = syscall.Mkfifo(full, 0o644)
		default:
			err = os.WriteFile(full, []byte(c), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

const sn = "SN-0001"

// TestReadDirLayout: sztp/<serial>/ before sztp/ (C97), other devices'
// directories ignored, the .vcj voucher taken when there is no .cms one.
func TestReadDirLayout(t *testing.T) {
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  []string // Dir + ":" + ci + "/" + oc + "/" + ov
		err   error
	}{
		{"device-specific then independent", map[string]string{
			"sztp/SN-0001/conveyed-information.cms": "ci1", "sztp/SN-0001/owner-certificate.cms": "oc1", "sztp/SN-0001/ownership-voucher.cms": "ov1",
			"sztp/conveyed-information.cms":         "ci0",
			"sztp/SN-0002/conveyed-information.cms": "other device",
		}, []string{"sztp/SN-0001:ci1/oc1/ov1", "sztp:ci0//"}, nil},
		{"independent only", map[string]string{"sztp/conveyed-information.cms": "ci0", "sztp/ownership-voucher.vcj": "vcj"}, []string{"sztp:ci0//vcj"}, nil},
		{"cms voucher wins over vcj", map[string]string{"sztp/conveyed-information.cms": "c", "sztp/ownership-voucher.cms": "cms", "sztp/ownership-voucher.vcj": "vcj"}, []string{"sztp:c//cms"}, nil},
		{"only another device's data", map[string]string{"sztp/SN-0002/conveyed-information.cms": "x"}, nil, ErrNoData},
		{"no conveyed information", map[string]string{"sztp/owner-certificate.cms": "oc"}, nil, ErrNoData},
		{"empty medium", map[string]string{"README": "hello"}, nil, ErrNoData},
		{"symlink inside the medium is fine", map[string]string{"data/ci": "ci", "sztp/conveyed-information.cms": "->../data/ci"}, []string{"sztp:ci//"}, nil},
		{"dangling symlink is absent", map[string]string{"sztp/conveyed-information.cms": "->nothing"}, nil, ErrNoData},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ReadDir(tree(t, tc.files), sn, nil)
			if !errors.Is(err, tc.err) {
				t.Fatalf("err %v, want %v", err, tc.err)
			}
			var s []string
			for _, d := range got {
				a := d.Artifacts
				s = append(s, d.Dir+":"+string(a.ConveyedInformation)+"/"+string(a.OwnerCertificate)+"/"+string(a.OwnershipVoucher))
				if d.DeviceSpecific != (d.Dir != TopDir) {
					t.Errorf("%s: DeviceSpecific %v", d.Dir, d.DeviceSpecific)
				}
			}
			if !slices.Equal(s, tc.want) {
				t.Errorf("got %q, want %q", s, tc.want)
			}
		})
	}
}

// TestIssue11RefusedFiles: symlinks that leave the medium, files over their
// cap, FIFOs and empty files are refused, with a reason; the other
// directory's data is still used.
func TestIssue11RefusedFiles(t *testing.T) {
	outside := filepath.Join(t.TempDir(), "secret")
	if err := os.WriteFile(outside, []byte("not on the medium"), 0o644); err != nil {
		t.Fatal(err)
	}
	big := strings.Repeat("x", MaxOwnerCertificate+1)
	for _, tc := range []struct {
		name, file, content, why string
	}{
		{"absolute symlink", "sztp/SN-0001/conveyed-information.cms", "->" + outside, "escapes"},
		{"relative symlink up", "sztp/SN-0001/owner-certificate.cms", "->../../../../../../../../" + outside, "escapes"},
		{"symlinked directory leaving", "sztp/SN-0001", "->" + filepath.Dir(outside), "escapes"},
		{"owner certificate too large", "sztp/SN-0001/owner-certificate.cms", big, "file too large"},
		{"voucher too large", "sztp/SN-0001/ownership-voucher.cms", big, "file too large"},
		{"fifo", "sztp/SN-0001/ownership-voucher.cms", "|fifo", "not a regular file"},
		{"directory", "sztp/SN-0001/owner-certificate.cms/x", "x", "not a regular file"},
		{"empty", "sztp/SN-0001/ownership-voucher.cms", "", "empty file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			files := map[string]string{tc.file: tc.content}
			if tc.file != "sztp/SN-0001/conveyed-information.cms" && tc.file != "sztp/SN-0001" {
				files["sztp/SN-0001/conveyed-information.cms"] = "ci1"
			}
			root := tree(t, files)
			_, err := ReadDir(root, sn, nil)
			if err == nil || !strings.Contains(err.Error(), tc.why) {
				t.Fatalf("err %v, want it to say %q", err, tc.why)
			}
			// With device-independent data next to it, that is used and
			// the refusal is a warning.
			if err := os.WriteFile(filepath.Join(root, "sztp", "conveyed-information.cms"), []byte("ci0"), 0o644); err != nil {
				t.Fatal(err)
			}
			var warned []string
			got, err := ReadDir(root, sn, func(dir string, err error) { warned = append(warned, dir+": "+err.Error()) })
			if err != nil || len(got) != 1 || got[0].Dir != TopDir {
				t.Fatalf("got %v, %v; want the sztp/ data", got, err)
			}
			if len(warned) != 1 || !strings.Contains(warned[0], tc.why) {
				t.Errorf("warnings %q, want one saying %q", warned, tc.why)
			}
		})
	}
	// The conveyed information has its own, larger cap.
	root := tree(t, map[string]string{"sztp/conveyed-information.cms": big})
	if d, err := ReadDir(root, sn, nil); err != nil || len(d[0].Artifacts.ConveyedInformation) != len(big) {
		t.Errorf("a %d-byte conveyed-information.cms: %v", len(big), err)
	}
	if err := os.Truncate(filepath.Join(root, "sztp/conveyed-information.cms"), MaxConveyedInformation+1); err != nil {
		t.Fatal(err)
	}
	if _, err := ReadDir(root, sn, nil); !errors.Is(err, ErrTooLarge) {
		t.Errorf("conveyed information over its cap: %v", err)
	}
}

// TestIssue11SerialNumberIsOneComponent: a serial number that is not a
// single path component never selects a directory (a device whose serial
// number is "../x" must not read outside sztp/).
func TestIssue11SerialNumberIsOneComponent(t *testing.T) {
	for _, tc := range []struct {
		serial string
		want   []string
	}{
		{"SN-0001", []string{"sztp/SN-0001", "sztp"}},
		{"", []string{"sztp"}},
		{".", []string{"sztp"}},
		{"..", []string{"sztp"}},
		{"../x", []string{"sztp"}},
		{"a/b", []string{"sztp"}},
		{"a\x00b", []string{"sztp"}},
		{strings.Repeat("s", 256), []string{"sztp"}},
	} {
		if got := Dirs(tc.serial); !slices.Equal(got, tc.want) {
			t.Errorf("Dirs(%q) = %q, want %q", tc.serial, got, tc.want)
		}
	}
	root := tree(t, map[string]string{"x/conveyed-information.cms": "outside sztp/"})
	if _, err := ReadDir(root, "../x", nil); !errors.Is(err, ErrNoData) {
		t.Errorf("serial ../x: %v, want ErrNoData", err)
	}
}

func TestFilesystems(t *testing.T) {
	for _, tc := range []struct {
		name, proc string
		want       []string
	}{
		{"build host", "nodev\tsysfs\nnodev\ttmpfs\n\text3\n\text2\n\text4\n\tsquashfs\n\tfuseblk\n\txfs\n\terofs\n\tbtrfs\n",
			[]string{"vfat", "exfat", "ext4", "iso9660", "btrfs", "xfs", "squashfs", "erofs", "ext3", "ext2"}},
		{"debian guest", "nodev\tproc\n\tvfat\n\text4\n\tiso9660\n",
			[]string{"vfat", "exfat", "ext4", "iso9660"}},
		{"unreadable", "", []string{"vfat", "exfat", "ext4", "iso9660"}},
	} {
		if got := Filesystems([]byte(tc.proc)); !slices.Equal(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

// TestReadPathKinds: a directory PATH is read as a mounted medium; anything
// that is neither a directory nor a block device is an error.
func TestReadPathKinds(t *testing.T) {
	root := tree(t, map[string]string{"sztp/conveyed-information.cms": "ci0", "file": "x"})
	d, err := Read(context.Background(), Config{Path: root, SerialNumber: sn})
	if err != nil || len(d) != 1 || !bytes.Equal(d[0].Artifacts.ConveyedInformation, []byte("ci0")) || d[0].Medium != root {
		t.Fatalf("directory: %+v, %v", d, err)
	}
	for _, p := range []string{filepath.Join(root, "file"), filepath.Join(root, "missing"), ""} {
		if _, err := Read(context.Background(), Config{Path: p}); err == nil {
			t.Errorf("Read(%q) succeeded", p)
		}
	}
}

// C97 across media: every medium's device-specific data comes before any
// device-independent data, media in the order found.
func TestSortData(t *testing.T) {
	in := []Data{{Medium: "a", Dir: "sztp"}, {Medium: "a", Dir: "sztp/SN", DeviceSpecific: true},
		{Medium: "b", Dir: "sztp"}, {Medium: "b", Dir: "sztp/SN", DeviceSpecific: true}}
	var got []string
	for _, d := range sortData(in) {
		got = append(got, d.String())
	}
	if want := []string{"a:sztp/SN", "b:sztp/SN", "a:sztp", "b:sztp"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
}
