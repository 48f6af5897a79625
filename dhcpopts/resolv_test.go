package dhcpopts

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
)

func TestResolvConf(t *testing.T) {
	leases := []Lease{
		{DNS: []netip.Addr{netip.MustParseAddr("192.0.2.53")}, Search: []string{"lab.example.com"}},
		{DNS: []netip.Addr{netip.MustParseAddr("2001:db8::53"), netip.MustParseAddr("192.0.2.53")}, Search: []string{"example.com", "lab.example.com"}},
	}
	want := "# written by sztp from DHCP leases\nsearch lab.example.com example.com\nnameserver 192.0.2.53\nnameserver 2001:db8::53\n"
	if got := string(ResolvConf(leases)); got != want {
		t.Errorf("ResolvConf = %q, want %q", got, want)
	}
	if got := ResolvConf([]Lease{{Search: []string{"x"}}}); got != nil {
		t.Errorf("ResolvConf without name servers = %q, want nil", got)
	}

	// A symbolic link (as systemd-resolved sets up) is followed.
	dir := t.TempDir()
	target := filepath.Join(dir, "stub-resolv.conf")
	os.WriteFile(target, []byte("old\n"), 0o644)
	link := filepath.Join(dir, "resolv.conf")
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := writeResolvConf(link, leases, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != want {
		t.Errorf("target = %q, want %q", b, want)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("%s is no longer a symbolic link", link)
	}
	// No name servers: the file is left alone.
	if err := writeResolvConf(link, []Lease{{}}, nil); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(target); string(b) != want {
		t.Errorf("file changed without name servers: %q", b)
	}
}
