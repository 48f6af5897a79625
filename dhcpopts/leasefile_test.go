package dhcpopts

import (
	"bytes"
	"encoding/json"
	"flag"
	"net"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/insomniacslk/dhcp/dhcpv6"
)

var update = flag.Bool("update", false, "rewrite golden files and generated fixtures under testdata")

// fixtureNow is the time the lease fixtures are read at.
var fixtureNow = time.Date(2026, 11, 30, 12, 0, 0, 0, time.UTC)

// dhcpcdFixtures builds dhcpcd's raw lease files: the DHCPv4 ACK and the
// DHCPv6 Reply as dnsmasq would send them.
func dhcpcdFixtures(t *testing.T) map[string][]byte {
	t.Helper()
	data, err := Encode([]string{"https://198.51.100.7:8443", "https://bootstrap.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	ack, err := dhcpv4.New(dhcpv4.WithMessageType(dhcpv4.MessageTypeAck), dhcpv4.WithReply(&dhcpv4.DHCPv4{OpCode: dhcpv4.OpcodeBootRequest, HWType: 1, ClientHWAddr: net.HardwareAddr{0x52, 0x54, 0, 0x12, 0x34, 0x56}}),
		dhcpv4.WithTransactionID(dhcpv4.TransactionID{1, 2, 3, 4}),
		dhcpv4.WithYourIP(net.IPv4(198, 51, 100, 142)), dhcpv4.WithNetmask(net.CIDRMask(24, 32)),
		dhcpv4.WithServerIP(net.IPv4(198, 51, 100, 1)),
		dhcpv4.WithOption(dhcpv4.OptServerIdentifier(net.IPv4(198, 51, 100, 1))),
		dhcpv4.WithOption(dhcpv4.OptRouter(net.IPv4(198, 51, 100, 1))),
		dhcpv4.WithOption(dhcpv4.OptDNS(net.IPv4(198, 51, 100, 53))),
		dhcpv4.WithLeaseTime(600), dhcpv4.WithGeneric(codeV4, data))
	if err != nil {
		t.Fatal(err)
	}
	reply, err := dhcpv6.NewMessage(dhcpv6.WithDNS(net.ParseIP("2001:db8:5a7f::53")))
	if err != nil {
		t.Fatal(err)
	}
	reply.MessageType = dhcpv6.MessageTypeReply
	reply.TransactionID = dhcpv6.TransactionID{9, 8, 7}
	reply.AddOption(&dhcpv6.OptIANA{IaId: [4]byte{0, 0x12, 0x34, 0x56}, Options: dhcpv6.IdentityOptions{Options: []dhcpv6.Option{
		&dhcpv6.OptIAAddress{IPv6Addr: net.ParseIP("2001:db8:5a7f::1c4"), PreferredLifetime: 10 * time.Minute, ValidLifetime: 10 * time.Minute}}}})
	v6data, err := Encode([]string{"https://[2001:db8:5a7f::1]:8443"})
	if err != nil {
		t.Fatal(err)
	}
	reply.AddOption(&dhcpv6.OptionGeneric{OptionCode: codeV6, OptionData: v6data})
	return map[string][]byte{"eth0.lease": ack.ToBytes(), "eth0.lease6": reply.ToBytes()}
}

func TestLeaseFileGolden(t *testing.T) {
	dir := filepath.Join("testdata", "leases")
	if *update {
		for name, b := range dhcpcdFixtures(t) {
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	tests := []struct {
		file   string
		format string
	}{
		{"dhclient.eth0.leases", FormatISC},
		{"dhclient.ens3.leases", FormatISC},
		{"dhclient6.eth0.leases", FormatISC},
		{"4093", FormatNetworkd},
		{"internal-7c2d2a48-8b1c-4a60-9e9f-0d3b2f8c9a11-enp1s0.lease", FormatNetworkd},
		{"nm-devices/4094", FormatNMDevice},
		{"eth0.lease", FormatDhcpcd},
		{"eth0.lease6", FormatDhcpcd6},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			path := filepath.Join(dir, tc.file)
			data, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			leases, format, err := ParseLeaseFile(path, data, fixtureNow)
			if err != nil {
				t.Fatalf("ParseLeaseFile(%s): %v", tc.file, err)
			}
			if format != tc.format {
				t.Errorf("format = %q, want %q", format, tc.format)
			}
			got, err := json.MarshalIndent(leases, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			golden := path + ".golden.json"
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatalf("%v (run go test -update)", err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("leases of %s differ from %s:\n%s", tc.file, golden, got)
			}
		})
	}
}

// TestLeaseFileURIs pins the facts the golden files hold, so that a wrong
// -update cannot go unnoticed.
func TestLeaseFileURIs(t *testing.T) {
	two := []string{"https://198.51.100.7:8443", "https://bootstrap.example.com"}
	tests := []struct {
		file   string
		iface  string
		family string
		uris   []string
		text   []string // with --dhcp-text-uris (C88)
	}{
		{"dhclient.eth0.leases", "eth0", FamilyIPv4, two, two},
		{"dhclient.ens3.leases", "ens3", FamilyIPv4, nil, []string{"https://bootstrap:8080"}},
		{"dhclient6.eth0.leases", "eth0", FamilyIPv6, []string{"https://[2001:db8:5a7f::1]:8443", "https://bootstrap.example.com"}, []string{"https://[2001:db8:5a7f::1]:8443", "https://bootstrap.example.com"}},
		{"internal-7c2d2a48-8b1c-4a60-9e9f-0d3b2f8c9a11-enp1s0.lease", "enp1s0", FamilyIPv4, two, two},
		{"nm-devices/4094", "", FamilyIPv4, two, two},
		{"eth0.lease", "eth0", FamilyIPv4, two, two},
		{"eth0.lease6", "eth0", FamilyIPv6, []string{"https://[2001:db8:5a7f::1]:8443"}, []string{"https://[2001:db8:5a7f::1]:8443"}},
		{"4093", "", FamilyIPv4, nil, nil},
	}
	for _, tc := range tests {
		t.Run(tc.file, func(t *testing.T) {
			leases, err := ReadLeaseFile(filepath.Join("testdata", "leases", tc.file))
			if err != nil {
				t.Fatal(err)
			}
			l := leases[0]
			if l.Interface != tc.iface || l.Family != tc.family || !reflect.DeepEqual(l.URIs, tc.uris) {
				t.Errorf("first lease = %s %s %q, want %s %s %q", l.Interface, l.Family, l.URIs, tc.iface, tc.family, tc.uris)
			}
			if got := l.WithTextURIs().URIs; !reflect.DeepEqual(got, tc.text) {
				t.Errorf("with --dhcp-text-uris: %q, want %q", got, tc.text)
			}
			if len(tc.uris) == 0 && len(l.Warnings) == 0 {
				t.Error("a lease without URIs has no warning")
			}
		})
	}
}

func TestReadLeaseFileErrors(t *testing.T) {
	dir := t.TempDir()
	for name, content := range map[string]string{
		"empty":      "",
		"garbage":    "hello world\n",
		"unbalanced": "lease {\n interface \"eth0\";\n",
		"binary":     "\x00\x01\x02",
	} {
		p := filepath.Join(dir, name)
		os.WriteFile(p, []byte(content), 0o644)
		if l, err := ReadLeaseFile(p); err == nil {
			t.Errorf("ReadLeaseFile(%s) = %+v, want an error", name, l)
		}
	}
	if _, err := ReadLeaseFile(filepath.Join(dir, "missing")); err == nil || !strings.Contains(err.Error(), "missing") {
		t.Errorf("missing file: err = %v", err)
	}
}

// A lease file that is not a regular file (a FIFO nobody writes to, a
// character device) is refused at once instead of blocking the agent.
func TestReadLeaseFileRefusesNonRegularFiles(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{fifo, "/dev/zero"} {
		done := make(chan error, 1)
		go func() {
			_, err := ReadLeaseFile(p)
			done <- err
		}()
		select {
		case err := <-done:
			if err == nil || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("ReadLeaseFile(%s): err = %v, want not a regular file", p, err)
			}
		case <-time.After(30 * time.Second):
			t.Fatalf("ReadLeaseFile(%s) blocked", p)
		}
	}
}

func TestFindLeaseFiles(t *testing.T) {
	root := t.TempDir()
	for _, p := range []string{"var/lib/dhcp/dhclient.eth0.leases", "run/systemd/netif/leases/2", "var/lib/dhcpcd/eth0.lease", "var/lib/dhcp/unrelated.txt"} {
		full := filepath.Join(root, p)
		os.MkdirAll(filepath.Dir(full), 0o755)
		os.WriteFile(full, []byte("x"), 0o644)
	}
	// Newest first: networkd, then dhcpcd, then dhclient.
	for i, p := range []string{"run/systemd/netif/leases/2", "var/lib/dhcpcd/eth0.lease", "var/lib/dhcp/dhclient.eth0.leases"} {
		mt := fixtureNow.Add(-time.Duration(i) * time.Hour)
		if err := os.Chtimes(filepath.Join(root, p), mt, mt); err != nil {
			t.Fatal(err)
		}
	}
	got := findLeaseFiles(root)
	want := []string{filepath.Join(root, "run/systemd/netif/leases/2"), filepath.Join(root, "var/lib/dhcpcd/eth0.lease"), filepath.Join(root, "var/lib/dhcp/dhclient.eth0.leases")}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("findLeaseFiles = %q, want %q", got, want)
	}
}

func fuzzSeeds(f *testing.F, files ...string) {
	for _, name := range files {
		b, err := os.ReadFile(filepath.Join("testdata", "leases", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
}

func fuzzLeaseParser(f *testing.F, parse func([]byte) ([]Lease, error)) {
	f.Fuzz(func(t *testing.T, data []byte) {
		leases, err := parse(data)
		if err != nil {
			return
		}
		for _, l := range leases {
			for _, u := range l.URIs {
				if _, err := CheckURI(u); err != nil {
					t.Fatalf("parser returned invalid URI %q: %v", u, err)
				}
			}
		}
	})
}

func FuzzISCLeaseFile(f *testing.F) {
	fuzzSeeds(f, "dhclient.eth0.leases", "dhclient.ens3.leases", "dhclient6.eth0.leases")
	fuzzLeaseParser(f, func(b []byte) ([]Lease, error) { return parseISC(b, fixtureNow) })
}

func FuzzNetworkdLeaseFile(f *testing.F) {
	fuzzSeeds(f, "4093", "internal-7c2d2a48-8b1c-4a60-9e9f-0d3b2f8c9a11-enp1s0.lease")
	fuzzLeaseParser(f, parseKeyValue)
}

func FuzzNMDeviceFile(f *testing.F) {
	fuzzSeeds(f, "nm-devices/4094")
	fuzzLeaseParser(f, parseNMDevice)
}

func FuzzDhcpcdLeaseFile(f *testing.F) {
	fuzzSeeds(f, "eth0.lease", "eth0.lease6")
	fuzzLeaseParser(f, func(b []byte) ([]Lease, error) {
		if l, err := parseDhcpcd4(b); err == nil {
			return l, nil
		}
		return parseDhcpcd6(b)
	})
}

func FuzzParseLeaseFile(f *testing.F) {
	fuzzSeeds(f, "dhclient.eth0.leases", "4093", "nm-devices/4094", "eth0.lease", "eth0.lease6")
	fuzzLeaseParser(f, func(b []byte) ([]Lease, error) {
		l, _, err := ParseLeaseFile("fuzz", b, fixtureNow)
		return l, err
	})
}
