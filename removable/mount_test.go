package removable_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sztp/sztp/removable"
	"github.com/sztp/sztp/removable/removabletest"
)

func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	root := t.TempDir()
	for p, c := range files {
		full := filepath.Join(root, p)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		var err error
		if target, ok := strings.CutPrefix(c, "->"); ok {
			err = os.Symlink(target, full)
		} else {
			err = os.WriteFile(full, []byte(c), 0o644)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	return root
}

// TestIssue11ExtBlockDevice reads a real ext4 medium on a loop device:
// the data of sztp/<serial>/ and sztp/, then nothing stays mounted and the
// private mount point is gone; a medium whose file is a symlink off the
// medium, or over its cap, is refused and unmounted as well.
func TestIssue11ExtBlockDevice(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	for _, tc := range []struct {
		name  string
		files map[string]string
		want  string // Dir:ci of each data, or the error's reason
	}{
		{"signed layout", map[string]string{
			"sztp/SN-0001/conveyed-information.cms": "ci1", "sztp/SN-0001/owner-certificate.cms": "oc1", "sztp/SN-0001/ownership-voucher.cms": "ov1",
			"sztp/conveyed-information.cms": "ci0", "sztp/SN-0002/conveyed-information.cms": "not mine",
		}, "sztp/SN-0001:ci1 sztp:ci0"},
		{"symlink leaving the medium", map[string]string{"sztp/SN-0001/conveyed-information.cms": "->/etc/hostname"}, "escapes"},
		{"oversized voucher", map[string]string{"sztp/conveyed-information.cms": "ci", "sztp/ownership-voucher.cms": strings.Repeat("v", removable.MaxOwnershipVoucher+1)}, "file too large"},
		{"no data", map[string]string{"photos/cat.jpg": "meow"}, "no SZTP data"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dev := removabletest.Ext4(t, writeTree(t, tc.files), 8)
			data, err := removable.Read(context.Background(), removable.Config{Path: dev, SerialNumber: "SN-0001"})
			var got []string
			for _, d := range data {
				if d.Medium != dev {
					t.Errorf("medium %q, want %q", d.Medium, dev)
				}
				got = append(got, d.Dir+":"+string(d.Artifacts.ConveyedInformation))
			}
			if err != nil {
				got = append(got, err.Error())
			}
			if s := strings.Join(got, " "); !strings.Contains(s, tc.want) {
				t.Errorf("got %q, want %q", s, tc.want)
			}
			if m := removabletest.Mounts(t, dev); len(m) != 0 {
				t.Errorf("%s still mounted on %q", dev, m)
			}
			if m := removabletest.TempMounts(t, tmp); len(m) != 0 {
				t.Errorf("mount points left behind: %q", m)
			}
		})
	}
}
