package dhcpopts

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Lease file formats ReadLeaseFile recognises.
const (
	FormatISC            = "dhclient"         // ISC dhclient (also NetworkManager's dhclient backend)
	FormatNetworkd       = "systemd-networkd" // KEY=VALUE (also NetworkManager's internal client)
	FormatNMDevice       = "networkmanager"   // /run/NetworkManager/devices/<ifindex> keyfile
	FormatDhcpcd         = "dhcpcd"           // raw DHCPv4 packet
	FormatDhcpcd6        = "dhcpcd6"          // raw DHCPv6 message
	maxLeaseFileSize     = 1 << 20
	leaseFileHeaderBytes = 512
)

// leaseFileGlobs are the usual places of lease files, most specific first.
var leaseFileGlobs = []string{
	"/var/lib/dhcp/dhclient*.leases",  // Debian, Ubuntu: ISC dhclient
	"/var/lib/dhclient/*.leases",      // RHEL, Fedora: ISC dhclient
	"/var/lib/dhcp/dhclient*.lease",   // some initramfs scripts
	"/run/systemd/netif/leases/*",     // systemd-networkd (file name = ifindex)
	"/var/lib/NetworkManager/*.lease", // NetworkManager (dhclient-*.lease, internal-*.lease)
	"/run/NetworkManager/devices/*",   // NetworkManager device state with [dhcp4]/[dhcp6]
	"/var/lib/dhcpcd/*.lease",         // dhcpcd 9+
	"/var/lib/dhcpcd/*.lease6",
	"/var/lib/dhcpcd5/*.lease", // Raspberry Pi OS
	"/var/lib/dhcpcd5/*.lease6",
	"/var/db/dhcpcd/*.lease",
	"/var/db/dhcpcd/*.lease6",
}

// FindLeaseFiles lists the lease files of the usual DHCP clients that exist
// on this host (ISC dhclient, systemd-networkd, NetworkManager, dhcpcd),
// most recently modified first.
func FindLeaseFiles() []string { return findLeaseFiles("/") }

func findLeaseFiles(root string) []string {
	type file struct {
		path string
		mod  time.Time
	}
	var files []file
	seen := map[string]bool{}
	for _, g := range leaseFileGlobs {
		matches, _ := filepath.Glob(filepath.Join(root, g))
		for _, m := range matches {
			fi, err := os.Stat(m)
			if err != nil || !fi.Mode().IsRegular() || seen[m] {
				continue
			}
			seen[m] = true
			files = append(files, file{m, fi.ModTime()})
		}
	}
	// Newest first; stable so that equal times keep the glob order.
	for i := 1; i < len(files); i++ {
		for j := i; j > 0 && files[j].mod.After(files[j-1].mod); j-- {
			files[j], files[j-1] = files[j-1], files[j]
		}
	}
	out := make([]string, len(files))
	for i, f := range files {
		out[i] = f.path
	}
	return out
}

// ReadLeaseFile reads the lease file of an operating system DHCP client
// and returns its current leases, those without SZTP URIs included (their
// Warnings say why). The format is recognised from the content: ISC
// dhclient (and NetworkManager's dhclient backend), systemd-networkd (and
// NetworkManager's internal client), NetworkManager's device state file,
// and dhcpcd's raw DHCPv4/DHCPv6 lease. Each Lease has Source set to path.
//
// Note that systemd-networkd keeps only private options 224-254 in its
// lease files, so a networkd lease carries option 143 only if it is
// stored as OPTION_143 by a future or patched networkd.
func ReadLeaseFile(path string) ([]Lease, error) {
	// Only regular files: opening a FIFO would block until a writer
	// comes, and a device could be read forever.
	if fi, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("reading lease file: %w", err)
	} else if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("lease file %s is not a regular file (%s)", path, fi.Mode().Type())
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading lease file: %w", err)
	}
	defer f.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(io.LimitReader(f, maxLeaseFileSize+1)); err != nil {
		return nil, fmt.Errorf("reading lease file %s: %w", path, err)
	}
	if buf.Len() > maxLeaseFileSize {
		return nil, fmt.Errorf("lease file %s is larger than %d octets", path, maxLeaseFileSize)
	}
	leases, _, err := ParseLeaseFile(path, buf.Bytes(), time.Now())
	if err != nil {
		return nil, fmt.Errorf("lease file %s: %w", path, err)
	}
	return leases, nil
}

// ParseLeaseFile parses lease file content; name (the file's path) helps to
// recognise the format and the interface. now decides whether an ISC lease
// has expired. It returns the leases and the format recognised.
func ParseLeaseFile(name string, data []byte, now time.Time) ([]Lease, string, error) {
	format := detectFormat(name, data)
	var leases []Lease
	var err error
	switch format {
	case FormatDhcpcd:
		leases, err = parseDhcpcd4(data)
	case FormatDhcpcd6:
		leases, err = parseDhcpcd6(data)
	case FormatISC:
		leases, err = parseISC(data, now)
	case FormatNMDevice:
		leases, err = parseNMDevice(data)
	case FormatNetworkd:
		leases, err = parseKeyValue(data)
	default:
		return nil, "", errors.New("not a lease file of dhclient, systemd-networkd, NetworkManager or dhcpcd")
	}
	if err != nil {
		return nil, format, err
	}
	ifname := interfaceFromPath(name, format)
	for i := range leases {
		if leases[i].Interface == "" {
			leases[i].Interface = ifname
		}
		leases[i].Source = name
	}
	return leases, format, nil
}

// hasISCBlock reports whether a line starts a "lease {" or "lease6 {" block.
func hasISCBlock(data []byte) bool {
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(strings.ReplaceAll(line, "{", " { "))
		if len(f) >= 2 && (f[0] == "lease" || f[0] == "lease6") && f[1] == "{" {
			return true
		}
	}
	return false
}

func detectFormat(name string, data []byte) string {
	head := data
	if len(head) > leaseFileHeaderBytes {
		head = head[:leaseFileHeaderBytes]
	}
	if bytes.IndexByte(head, 0) >= 0 || !isText(head) {
		if len(data) >= v4OptionsOff && [4]byte(data[v4CookieOff:v4OptionsOff]) == magicCookie {
			return FormatDhcpcd
		}
		if strings.HasSuffix(name, ".lease6") || len(data) > 4 && data[0] == dhcp6Reply {
			return FormatDhcpcd6
		}
		return ""
	}
	if hasISCBlock(data) {
		return FormatISC
	}
	for _, line := range strings.Split(string(data), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' && strings.HasSuffix(line, "]") {
			return FormatNMDevice
		}
		if k, _, ok := strings.Cut(line, "="); ok && k != "" && strings.ToUpper(k) == k {
			return FormatNetworkd
		}
		return ""
	}
	return ""
}

func isText(b []byte) bool {
	for _, c := range b {
		if c < 0x20 && c != '\n' && c != '\r' && c != '\t' {
			return false
		}
	}
	return true
}

// nmLeaseIface returns <iface> from NetworkManager's lease file names
// "internal-<uuid>-<iface>.lease" and "dhclient[6]-<uuid>-<iface>.lease".
func nmLeaseIface(base string) (string, bool) {
	rest, ok := strings.CutSuffix(base, ".lease")
	if !ok {
		return "", false
	}
	for _, p := range []string{"internal-", "internal6-", "dhclient-", "dhclient6-"} {
		if r, ok := strings.CutPrefix(rest, p); ok && len(r) > 37 && r[36] == '-' && isUUID(r[:36]) {
			return r[37:], true
		}
	}
	return "", false
}

func isUUID(s string) bool {
	for i, c := range s {
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !strings.ContainsRune("0123456789abcdefABCDEF", c) {
				return false
			}
		}
	}
	return len(s) == 36
}

// interfaceFromPath guesses the interface from the file name conventions of
// each client: networkd and NetworkManager device files are named by
// ifindex, NetworkManager lease files end in -<iface>.lease, dhcpcd's are
// <iface>.lease.
func interfaceFromPath(path, format string) string {
	base := filepath.Base(path)
	if name, ok := nmLeaseIface(base); ok {
		return name
	}
	switch format {
	case FormatNetworkd, FormatNMDevice:
		if idx, err := strconv.Atoi(base); err == nil {
			if ifi, err := net.InterfaceByIndex(idx); err == nil {
				return ifi.Name
			}
		}
	case FormatDhcpcd, FormatDhcpcd6:
		// dhcpcd names leases <iface>.lease[6], older versions
		// dhcpcd-<iface>.lease, wireless ones <iface>-<ssid>.lease.
		name := strings.TrimSuffix(strings.TrimSuffix(base, "6"), ".lease")
		name = strings.TrimPrefix(name, "dhcpcd-")
		name, _, _ = strings.Cut(name, "-")
		return name
	case FormatISC:
		// dhclient.<iface>.leases, dhclient6-<iface>.leases
		for _, p := range []string{"dhclient.", "dhclient-", "dhclient6.", "dhclient6-"} {
			if r, ok := strings.CutPrefix(base, p); ok {
				return strings.TrimSuffix(strings.TrimSuffix(r, ".leases"), ".lease")
			}
		}
	}
	return ""
}

// parseDhcpcd4 reads dhcpcd's IPv4 lease: the DHCP ACK as received.
func parseDhcpcd4(data []byte) ([]Lease, error) {
	l, err := LeaseFromV4Packet(data)
	if err != nil {
		return nil, fmt.Errorf("dhcpcd lease: %w", err)
	}
	return []Lease{l}, nil
}

// parseDhcpcd6 reads dhcpcd's IPv6 lease: the DHCPv6 reply as received.
func parseDhcpcd6(data []byte) ([]Lease, error) {
	l, err := LeaseFromV6Packet(data)
	if err != nil {
		return nil, fmt.Errorf("dhcpcd6 lease: %w", err)
	}
	return []Lease{l}, nil
}

// hexOrText decodes an option value written as hex (with or without colons,
// as systemd and NetworkManager write them) or, failing that, as text.
func hexOrText(v string) []byte {
	v = strings.TrimSpace(v)
	if len(v) >= 2 && v[0] == '"' && v[len(v)-1] == '"' {
		return []byte(v[1 : len(v)-1])
	}
	if strings.Contains(v, ":") && !strings.Contains(v, "://") {
		var out []byte
		for _, h := range strings.Split(v, ":") {
			b, err := strconv.ParseUint(h, 16, 8)
			if err != nil {
				return []byte(v)
			}
			out = append(out, byte(b))
		}
		return out
	}
	if b, err := hex.DecodeString(v); err == nil && len(v) > 0 {
		return b
	}
	return []byte(v)
}

func fieldsOf(v string) []string {
	return strings.FieldsFunc(v, func(r rune) bool { return r == ' ' || r == ',' || r == ';' || r == '\t' })
}

func addrsOf(v string) []netip.Addr {
	var out []netip.Addr
	for _, f := range fieldsOf(v) {
		if a, err := netip.ParseAddr(f); err == nil {
			out = append(out, a)
		}
	}
	return out
}

func maskBits(v string) int {
	m, err := netip.ParseAddr(v)
	if err != nil || !m.Is4() {
		if n, err := strconv.Atoi(v); err == nil && n >= 0 && n <= 32 {
			return n
		}
		return -1
	}
	b := m.As4()
	ones, bits := net.IPMask(b[:]).Size()
	if bits == 0 {
		return -1
	}
	return ones
}

func (l *Lease) takeValue(v []byte, code int) {
	l.takeOption(v, code)
}

// parseKeyValue reads systemd-networkd's lease file
// (/run/systemd/netif/leases/<ifindex>), also used by NetworkManager's
// internal client: ADDRESS=, NETMASK=, ROUTER=, DNS=, DOMAINNAME=,
// DOMAIN_SEARCH_LIST=, SERVER_ADDRESS=, and OPTION_<code>=<hex>.
func parseKeyValue(data []byte) ([]Lease, error) {
	l := Lease{Family: FamilyIPv4}
	var addr netip.Addr
	bits := -1
	found := false
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		v = strings.Trim(v, `"'`)
		switch k {
		case "ADDRESS":
			addr, _ = netip.ParseAddr(v)
		case "NETMASK":
			bits = maskBits(v)
		case "ROUTER":
			l.Routers = addrsOf(v)
		case "DNS":
			l.DNS = addrsOf(v)
		case "SERVER_ADDRESS":
			l.Server, _ = netip.ParseAddr(v)
		case "BROADCAST":
			l.Broadcast, _ = netip.ParseAddr(v)
		case "DOMAINNAME":
			l.Search = appendUnique(l.Search, v)
		case "DOMAIN_SEARCH_LIST":
			l.Search = appendUnique(l.Search, fieldsOf(v)...)
		case "OPTION_143":
			found = true
			b, err := hex.DecodeString(v)
			if err != nil {
				b = hexOrText(v)
			}
			l.takeValue(b, OptionV4SZTPRedirect)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	if !addr.IsValid() {
		return nil, errors.New("no ADDRESS= line")
	}
	if bits < 0 {
		bits = 32
	}
	l.Address = netip.PrefixFrom(addr, bits)
	if !found {
		l.Warnings = append(l.Warnings, "the lease has no option 143 (systemd-networkd keeps only options 224-254 in its lease file)")
	}
	return []Lease{l}, nil
}

// nmSZTPKey reports whether a NetworkManager [dhcp4]/[dhcp6] key names the
// SZTP option: unknown_N, private_N, option_N (N = 143 or 136, also with a
// dhcp6_ prefix), or any key containing "sztp".
func nmSZTPKey(k string, code int) bool {
	k = strings.TrimPrefix(strings.ToLower(k), "dhcp6_")
	n := strconv.Itoa(code)
	return k == "unknown_"+n || k == "private_"+n || k == "option_"+n || strings.Contains(k, "sztp")
}

// parseNMDevice reads /run/NetworkManager/devices/<ifindex>: a keyfile whose
// [dhcp4] and [dhcp6] sections hold the options of the current leases.
func parseNMDevice(data []byte) ([]Lease, error) {
	var leases []Lease
	var cur *Lease
	var found bool
	var addr netip.Addr
	bits := -1
	flush := func() {
		if cur == nil {
			return
		}
		if addr.IsValid() {
			if cur.Family == FamilyIPv6 {
				bits = 128
			} else if bits < 0 {
				bits = 32
			}
			cur.Address = netip.PrefixFrom(addr, bits)
		}
		if !found {
			code := OptionV4SZTPRedirect
			if cur.Family == FamilyIPv6 {
				code = OptionV6SZTPRedirect
			}
			cur.Warnings = append(cur.Warnings, fmt.Sprintf("the lease has no option %d", code))
		}
		leases = append(leases, *cur)
		cur, found, addr, bits = nil, false, netip.Addr{}, -1
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || line[0] == '#' || line[0] == ';' {
			continue
		}
		if line[0] == '[' {
			flush()
			switch strings.Trim(line, "[]") {
			case "dhcp4":
				cur = &Lease{Family: FamilyIPv4}
			case "dhcp6":
				cur = &Lease{Family: FamilyIPv6}
			}
			continue
		}
		if cur == nil {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok {
			continue
		}
		k = strings.TrimSpace(k)
		code := OptionV4SZTPRedirect
		if cur.Family == FamilyIPv6 {
			code = OptionV6SZTPRedirect
		}
		switch k {
		case "ip_address", "ip6_address":
			addr, _ = netip.ParseAddr(strings.TrimSpace(v))
		case "subnet_mask":
			bits = maskBits(strings.TrimSpace(v))
		case "routers":
			cur.Routers = addrsOf(v)
		case "domain_name_servers", "dhcp6_name_servers":
			cur.DNS = addrsOf(v)
		case "domain_search", "dhcp6_domain_search", "domain_name":
			cur.Search = appendUnique(cur.Search, fieldsOf(v)...)
		case "dhcp_server_identifier":
			cur.Server, _ = netip.ParseAddr(strings.TrimSpace(v))
		default:
			if nmSZTPKey(k, code) {
				found = true
				cur.takeValue(hexOrText(v), code)
			}
		}
	}
	if err := sc.Err(); err != nil {
		return nil, err
	}
	flush()
	if len(leases) == 0 {
		return nil, errors.New("no [dhcp4] or [dhcp6] section")
	}
	return leases, nil
}
