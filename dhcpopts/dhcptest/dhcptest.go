package dhcptest

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sztp/sztp/internal/testenv"
	"golang.org/x/sys/unix"
)

// Options say what dnsmasq serves.
type Options struct {
	// IPv4 and IPv6 enable DHCPv4 and DHCPv6 service; if neither is set,
	// both are on.
	IPv4, IPv6 bool
	// Option143 is sent as the raw data of DHCPv4 option 143 when not nil
	// (dnsmasq sends it only to clients that request it).
	Option143 []byte
	// Option143Text, when not empty, is sent as a text option 143 instead
	// (the non-conformant form some deployments use).
	Option143Text string
	// Option136 is sent as the raw data of DHCPv6 option 136 when not nil.
	Option136 []byte
	// DNS makes dnsmasq announce this name server (options 6 / 23); it is
	// not actually served.
	DNS []netip.Addr
	// ClientUp brings the client end of the veth up; by default it stays
	// down, so the client must bring it up itself.
	ClientUp bool
	// Args are extra dnsmasq arguments.
	Args []string
}

// Network is one test network.
type Network struct {
	// ClientNS and ServerNS are the namespace names (see ip-netns(8)).
	ClientNS, ServerNS string
	// ClientIf and ServerIf are the veth ends in each namespace.
	ClientIf, ServerIf string
	// Subnet4 and Prefix6 are the served networks; ServerV4 and ServerV6
	// are the server side's addresses in them.
	Subnet4  netip.Prefix
	Prefix6  netip.Prefix
	ServerV4 netip.Addr
	ServerV6 netip.Addr
	// Dir holds dnsmasq's log and lease file.
	Dir string

	t       testing.TB
	dnsmasq *exec.Cmd
	done    chan struct{}
}

// Need skips or fails t unless root, ip and dnsmasq are available.
func Need(t testing.TB) {
	t.Helper()
	testenv.NeedRoot(t)
	testenv.NeedCommands(t, "ip", "dnsmasq")
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	rand.Read(b)
	return b
}

// Start is New followed by Serve.
func Start(t testing.TB, o Options) *Network {
	t.Helper()
	n := New(t)
	n.Serve(t, o)
	return n
}

// New creates the namespaces, the veth pair and the server's addresses. Use
// it instead of Start when the options depend on the addresses (for example
// a URI naming ServerV4 and a port from Listen), then call Serve.
func New(t testing.TB) *Network {
	t.Helper()
	Need(t)
	id := hex.EncodeToString(randomBytes(3))
	r := randomBytes(3)
	n := &Network{
		ClientNS: "sztp-" + id + "-c",
		ServerNS: "sztp-" + id + "-s",
		ClientIf: "sz" + id + "c",
		ServerIf: "sz" + id + "s",
		Subnet4:  netip.PrefixFrom(netip.AddrFrom4([4]byte{198, 18 + r[0]&1, r[1], 0}), 24),
		Dir:      t.TempDir(),
		t:        t,
	}
	p6 := [16]byte{0x20, 0x01, 0x0d, 0xb8, r[1], r[2], 0x5a, 0x7f}
	n.Prefix6 = netip.PrefixFrom(netip.AddrFrom16(p6), 64)
	n.ServerV4 = n.Subnet4.Addr().Next()
	n.ServerV6 = n.Prefix6.Addr().Next()

	t.Cleanup(n.stop)
	n.ip(t, "netns", "add", n.ServerNS)
	n.ip(t, "netns", "add", n.ClientNS)
	n.ip(t, "link", "add", n.ServerIf, "netns", n.ServerNS, "type", "veth", "peer", "name", n.ClientIf, "netns", n.ClientNS)
	n.ip(t, "-n", n.ServerNS, "link", "set", "lo", "up")
	n.ip(t, "-n", n.ClientNS, "link", "set", "lo", "up")
	n.ip(t, "-n", n.ServerNS, "addr", "add", prefixOf(n.ServerV4, n.Subnet4).String(), "dev", n.ServerIf)
	n.ip(t, "-n", n.ServerNS, "addr", "add", prefixOf(n.ServerV6, n.Prefix6).String(), "dev", n.ServerIf, "nodad")
	n.ip(t, "-n", n.ServerNS, "link", "set", n.ServerIf, "up")
	return n
}

// Serve starts dnsmasq with o and returns once it is serving. Call it once.
func (n *Network) Serve(t testing.TB, o Options) {
	t.Helper()
	if n.dnsmasq != nil {
		t.Fatal("dhcptest: Serve called twice")
	}
	if !o.IPv4 && !o.IPv6 {
		o.IPv4, o.IPv6 = true, true
	}
	if o.ClientUp {
		n.ip(t, "-n", n.ClientNS, "link", "set", n.ClientIf, "up")
	}

	log := filepath.Join(n.Dir, "dnsmasq.log")
	args := []string{"netns", "exec", n.ServerNS, "dnsmasq", "--keep-in-foreground", "--conf-file=/dev/null",
		"--port=0", "--interface=" + n.ServerIf, "--bind-interfaces", "--user=root",
		"--dhcp-leasefile=" + filepath.Join(n.Dir, "leases"), "--pid-file=" + filepath.Join(n.Dir, "dnsmasq.pid"),
		"--log-dhcp", "--log-facility=" + log, "--dhcp-authoritative",
		// No ICMP check before an offer: it costs 3 s per lease and the
		// namespace holds no other host.
		"--no-ping"}
	if o.IPv4 {
		first, last := n.Subnet4.Addr().As4(), n.Subnet4.Addr().As4()
		first[3], last[3] = 100, 150
		args = append(args, fmt.Sprintf("--dhcp-range=%s,%s,255.255.255.0,10m", netip.AddrFrom4(first), netip.AddrFrom4(last)))
		if o.Option143 != nil {
			args = append(args, "--dhcp-option=143,"+colonHex(o.Option143))
		}
		if o.Option143Text != "" {
			args = append(args, "--dhcp-option=143,"+o.Option143Text)
		}
		if v4 := filterDNS(o.DNS, true); v4 != "" {
			args = append(args, "--dhcp-option=6,"+v4)
		}
	}
	if o.IPv6 {
		first, last := n.Prefix6.Addr().As16(), n.Prefix6.Addr().As16()
		first[14], first[15], last[14], last[15] = 1, 0, 1, 0xff
		args = append(args, fmt.Sprintf("--dhcp-range=%s,%s,64,10m", netip.AddrFrom16(first), netip.AddrFrom16(last)))
		if o.Option136 != nil {
			args = append(args, "--dhcp-option=option6:136,"+colonHex(o.Option136))
		}
		if v6 := filterDNS(o.DNS, false); v6 != "" {
			args = append(args, "--dhcp-option=option6:dns-server,"+v6)
		}
	}
	args = append(args, o.Args...)
	cmd := exec.Command("ip", args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting dnsmasq: %v", err)
	}
	n.dnsmasq = cmd
	n.done = make(chan struct{})
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait(); close(n.done) }()
	deadline := time.Now().Add(10 * time.Second)
	for {
		b, _ := os.ReadFile(log)
		if bytes.Contains(b, []byte("DHCP")) {
			break
		}
		select {
		case err := <-exited:
			t.Fatalf("dnsmasq exited (%v) before serving: %s\n%s", err, stderr.String(), b)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("dnsmasq not serving after 10s: %s\n%s", stderr.String(), b)
		}
	}
}

func prefixOf(a netip.Addr, p netip.Prefix) netip.Prefix { return netip.PrefixFrom(a, p.Bits()) }

func colonHex(b []byte) string {
	parts := make([]string, len(b))
	for i, c := range b {
		parts[i] = fmt.Sprintf("%02x", c)
	}
	return strings.Join(parts, ":")
}

func filterDNS(addrs []netip.Addr, v4 bool) string {
	var out []string
	for _, a := range addrs {
		if a.Is4() == v4 {
			out = append(out, a.String())
			if !v4 {
				out[len(out)-1] = "[" + a.String() + "]"
			}
		}
	}
	return strings.Join(out, ",")
}

func (n *Network) ip(t testing.TB, args ...string) {
	t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		t.Fatalf("ip %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// stop kills dnsmasq (by its PID) and deletes both namespaces, which
// removes the veth pair.
func (n *Network) stop() {
	if n.dnsmasq != nil {
		n.dnsmasq.Process.Kill()
		select {
		case <-n.done:
		case <-time.After(5 * time.Second):
			n.t.Logf("dnsmasq (pid %d) did not exit after SIGKILL", n.dnsmasq.Process.Pid)
		}
	}
	for _, ns := range []string{n.ClientNS, n.ServerNS} {
		// The namespace may not exist if Start failed early.
		exec.Command("ip", "netns", "del", ns).Run()
	}
	if n.t.Failed() {
		if b, err := os.ReadFile(filepath.Join(n.Dir, "dnsmasq.log")); err == nil {
			n.t.Logf("dnsmasq log:\n%s", b)
		}
	}
}

// Log returns dnsmasq's log so far.
func (n *Network) Log() string {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "dnsmasq.log"))
	return string(b)
}

// Command returns a command that runs name in the client namespace.
func (n *Network) Command(ctx context.Context, name string, args ...string) *exec.Cmd {
	return exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", n.ClientNS, name}, args...)...)
}

// Listen opens a listener in the server namespace (for example for a
// bootstrap server at https://ServerV4:port). The listener keeps the
// namespace after Listen returns; serve it from any goroutine.
func (n *Network) Listen(network, address string) (net.Listener, error) {
	var l net.Listener
	err := inNamespace(n.ServerNS, func() error {
		var err error
		l, err = net.Listen(network, address)
		return err
	})
	return l, err
}

// InClient runs f on an OS thread that is in the client namespace. Sockets
// f opens stay there; goroutines f starts do not.
func (n *Network) InClient(f func() error) error { return inNamespace(n.ClientNS, f) }

var nsMu sync.Mutex

func inNamespace(name string, f func() error) error {
	nsMu.Lock()
	defer nsMu.Unlock()
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: it exits with the goroutine, so
		// no other goroutine runs in the namespace by accident.
		runtime.LockOSThread()
		fd, err := unix.Open(filepath.Join("/run/netns", name), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("opening namespace %s: %w", name, err)
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("entering namespace %s: %w", name, err)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// Build compiles the main package pkg (an import path, or a directory
// relative to the test's working directory) as a static binary in a
// temporary directory of t and returns its path.
func Build(t testing.TB, pkg string) string {
	t.Helper()
	testenv.NeedCommands(t, "go")
	bin := filepath.Join(t.TempDir(), "prog")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, pkg)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}
