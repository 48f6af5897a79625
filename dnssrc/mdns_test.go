package dnssrc_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"
	"golang.org/x/sys/unix"

	"github.com/sztp/sztp/dhcpopts/dhcptest"
	"github.com/sztp/sztp/dnssrc"
	"github.com/sztp/sztp/dnssrc/dnstest"
	"github.com/sztp/sztp/internal/testenv"
)

// childEnv carries a Config to a copy of the test binary that runs Lookup
// inside the client namespace (Lookup opens sockets from many goroutines, so
// the whole process must be in the namespace).
const childEnv = "SZTP_DNSSRC_LOOKUP_CHILD"

func TestMain(m *testing.M) {
	if spec := os.Getenv(childEnv); spec != "" {
		os.Exit(lookupChild(spec))
	}
	os.Exit(m.Run())
}

func lookupChild(spec string) int {
	var cfg dnssrc.Config
	if err := json.Unmarshal([]byte(spec), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	res, err := dnssrc.Lookup(context.Background(), cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
	}
	out := childOutput{Records: res.Records}
	for _, r := range res.Records {
		for _, s := range r.Servers {
			u, _ := url.Parse(s)
			addrs, err := dnssrc.LookupHost(context.Background(), cfg, u.Hostname())
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
			out.Addrs = append(out.Addrs, addrs...)
		}
	}
	json.NewEncoder(os.Stdout).Encode(out)
	return 0
}

type childOutput struct {
	Records []dnssrc.Record
	Addrs   []string // of the SRV targets
}

// inNamespace runs f on a thread in network namespace ns; sockets f opens
// stay in it.
func inNamespace(ns string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: the thread dies with the goroutine
		fd, err := unix.Open(filepath.Join("/run/netns", ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
		if err != nil {
			errc <- err
			return
		}
		defer unix.Close(fd)
		if err := unix.Setns(fd, unix.CLONE_NEWNET); err != nil {
			errc <- err
			return
		}
		errc <- f()
	}()
	return <-errc
}

// Multicast DNS in namespaces the test creates (C91, C92): avahi-daemon
// publishes the _sztp._tcp service (found through DNS-SD, as avahi cannot
// publish an SRV record at _sztp._tcp.local. itself), and a responder of
// ours answers <serial>._sztp.local. TXT with binary values, which avahi's
// service files cannot hold. The client asks with one-shot queries (QU)
// on every up link, TXT before SRV.
func TestMDNS(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: no outside programs (avahi-daemon)")
	}
	testenv.NeedCommands(t, "avahi-daemon", "mount")
	n := dhcptest.New(t)
	client := n.Subnet4.Addr().Next().Next()
	for _, args := range [][]string{
		{"-n", n.ClientNS, "addr", "add", client.String() + "/24", "dev", n.ClientIf},
		{"-n", n.ClientNS, "link", "set", n.ClientIf, "up"},
	} {
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %v: %v\n%s", args, err, out)
		}
	}

	// Our responder, on 224.0.0.251:5353 beside avahi (both SO_REUSEADDR).
	r := dnstest.NewResponder()
	bin := string([]byte{0x30, 0x80, 0, '=', 0xff, '"', '\\'})
	r.Set("MDNS-1._sztp.local", dnsmessage.TypeTXT, dnstest.Reply{TXT: [][]string{{"ci=" + bin[:3], bin[3:]}, {"vendor=x"}}})
	err := inNamespace(n.ServerNS, func() error {
		ifi, err := net.InterfaceByName(n.ServerIf)
		if err != nil {
			return err
		}
		pc, err := net.ListenMulticastUDP("udp4", ifi, &net.UDPAddr{IP: net.IPv4(224, 0, 0, 251), Port: 5353})
		if err != nil {
			return err
		}
		t.Cleanup(func() { pc.Close() })
		go r.Serve(pc, true)
		return nil
	})
	if err != nil {
		t.Fatalf("responder: %v", err)
	}

	// avahi-daemon without D-Bus, its service file bind-mounted over
	// /etc/avahi/services in the private mount namespace of `ip netns
	// exec`, its runtime directory on a private tmpfs.
	dir := t.TempDir()
	svc := filepath.Join(dir, "services")
	os.Mkdir(svc, 0o755)
	os.WriteFile(filepath.Join(svc, "sztp.service"), []byte(`<?xml version="1.0" standalone='no'?>
<!DOCTYPE service-group SYSTEM "avahi-service.dtd">
<service-group><name>sztp-test</name><service><type>_sztp._tcp</type><port>8443</port></service></service-group>
`), 0o644)
	conf := filepath.Join(dir, "avahi-daemon.conf")
	os.WriteFile(conf, []byte(fmt.Sprintf(`[server]
host-name=sztp-mdns-test
use-ipv4=yes
use-ipv6=no
allow-interfaces=%s
enable-dbus=no
[wide-area]
enable-wide-area=no
[publish]
publish-hinfo=no
publish-workstation=no
`, n.ServerIf)), 0o644)
	logf, err := os.Create(filepath.Join(dir, "avahi.log"))
	if err != nil {
		t.Fatal(err)
	}
	avahi := exec.Command("ip", "netns", "exec", n.ServerNS, "sh", "-c",
		`mount -t tmpfs tmpfs /run && mkdir /run/avahi-daemon && mount --bind "$1" /etc/avahi/services && exec avahi-daemon --no-drop-root --no-chroot --no-rlimits -f "$2"`,
		"sh", svc, conf)
	avahi.Stdout, avahi.Stderr = logf, logf
	if err := avahi.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { avahi.Wait(); close(done) }()
	t.Cleanup(func() {
		avahi.Process.Kill() // `ip netns exec` and sh exec in place: this is avahi-daemon's PID
		<-done
		logf.Close()
		if t.Failed() {
			b, _ := os.ReadFile(logf.Name())
			t.Logf("avahi-daemon log:\n%s", b)
		}
	})

	spec, err := json.Marshal(dnssrc.Config{SerialNumber: "MDNS-1", MDNS: true, MDNSTimeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// avahi probes its names for a few seconds before it answers: ask
	// until both records come, for at most a minute.
	var recs []dnssrc.Record
	var addrs []string
	var stderr strings.Builder
	for deadline := time.Now().Add(time.Minute); ; {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := n.Command(ctx, os.Args[0], "-test.run=^$")
		cmd.Env = append(os.Environ(), childEnv+"="+string(spec))
		stderr.Reset()
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		cancel()
		if err != nil {
			t.Fatalf("lookup in the client namespace: %v\n%s", err, stderr.String())
		}
		var co childOutput
		if err := json.Unmarshal(out, &co); err != nil {
			t.Fatalf("%v: %s", err, out)
		}
		recs, addrs = co.Records, co.Addrs
		if len(recs) == 2 && len(addrs) > 0 || time.Now().After(deadline) {
			break
		}
		select {
		case <-done:
			t.Fatal("avahi-daemon exited")
		case <-time.After(500 * time.Millisecond):
		}
	}
	if len(recs) != 2 {
		t.Fatalf("records %+v; want TXT and SRV\n%s", recs, stderr.String())
	}
	txt, srv := recs[0], recs[1]
	if txt.Source != dnssrc.SourceMDNS || txt.Type != "TXT" || txt.Name != "MDNS-1._sztp.local." || string(txt.Artifacts.ConveyedInformation) != bin {
		t.Errorf("TXT record %+v", txt)
	}
	if srv.Source != dnssrc.SourceMDNS || srv.Type != "SRV" || len(srv.Servers) != 1 || srv.Servers[0] != "https://sztp-mdns-test.local:8443" {
		t.Errorf("SRV record %+v", srv)
	}
	// avahi's host name resolves over mDNS to its addresses on the link
	// (A, then AAAA).
	if want := []string{n.ServerV4.String(), n.ServerV6.String()}; !slices.Equal(addrs, want) {
		t.Errorf("sztp-mdns-test.local resolves to %v, want %v", addrs, want)
	}
}
