package dnstest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sztp/sztp/internal/testenv"
)

// NSD starts nsd serving zone (the zone file body, $ORIGIN origin) on
// 127.0.0.1 and returns its address (127.0.0.1:port, UDP and TCP). It is
// stopped, by its PID, when the test ends.
func NSD(t testing.TB, origin, zone string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: no outside programs (nsd)")
	}
	testenv.NeedCommands(t, "nsd")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "zone"), []byte(zone), 0o644); err != nil {
		t.Fatal(err)
	}
	for attempt := 0; ; attempt++ {
		port := freePort(t)
		conf := fmt.Sprintf(`server:
  ip-address: 127.0.0.1@%[2]d
  port: %[2]d
  username: ""
  chroot: ""
  zonesdir: "%[1]s"
  database: ""
  zonelistfile: "%[1]s/zone.list"
  xfrdfile: "%[1]s/xfrd.state"
  xfrdir: "%[1]s"
  pidfile: "%[1]s/nsd.pid"
  logfile: "%[1]s/nsd.log"
  server-count: 1
  reuseport: no
  verbosity: 2
remote-control:
  control-enable: no
zone:
  name: %[3]s
  zonefile: "zone"
`, dir, port, origin)
		cf := filepath.Join(dir, "nsd.conf")
		if err := os.WriteFile(cf, []byte(conf), 0o644); err != nil {
			t.Fatal(err)
		}
		cmd := exec.Command("nsd", "-d", "-c", cf)
		out, err := os.Create(filepath.Join(dir, "nsd.out"))
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stdout, cmd.Stderr = out, out
		if err := cmd.Start(); err != nil {
			t.Fatalf("starting nsd: %v", err)
		}
		done := make(chan struct{})
		go func() { cmd.Wait(); out.Close(); close(done) }()
		stop := func() {
			cmd.Process.Kill()
			<-done
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		if waitServing(addr, origin, done) {
			t.Cleanup(func() {
				stop()
				if t.Failed() {
					log, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
					t.Logf("nsd log:\n%s", log)
				}
			})
			return addr
		}
		stop()
		log, _ := os.ReadFile(filepath.Join(dir, "nsd.log"))
		o, _ := os.ReadFile(filepath.Join(dir, "nsd.out"))
		if attempt == 2 || !strings.Contains(string(log)+string(o), "in use") {
			t.Fatalf("nsd did not start:\n%s\n%s", log, o)
		}
	}
}

// waitServing waits until nsd answers an SOA query for origin over TCP
// with NOERROR (the zone is loaded).
func waitServing(addr, origin string, done chan struct{}) bool {
	for range 300 {
		select {
		case <-done:
			return false
		default:
		}
		if soa(addr, origin) {
			return true
		}
		time.Sleep(50 * time.Millisecond)
	}
	return false
}

func soa(addr, origin string) bool {
	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(2 * time.Second))
	b := dnsmessage.NewBuilder(make([]byte, 2, 64), dnsmessage.Header{ID: 1})
	b.StartQuestions()
	b.Question(dnsmessage.Question{Name: dnsmessage.MustNewName(strings.TrimSuffix(origin, ".") + "."), Type: dnsmessage.TypeSOA, Class: dnsmessage.ClassINET})
	q, err := b.Finish()
	if err != nil {
		return false
	}
	binary.BigEndian.PutUint16(q, uint16(len(q)-2))
	if _, err := c.Write(q); err != nil {
		return false
	}
	var lb [2]byte
	if _, err := io.ReadFull(c, lb[:]); err != nil {
		return false
	}
	resp := make([]byte, binary.BigEndian.Uint16(lb[:]))
	if _, err := io.ReadFull(c, resp); err != nil {
		return false
	}
	var p dnsmessage.Parser
	h, err := p.Start(resp)
	return err == nil && h.RCode == dnsmessage.RCodeSuccess && h.Authoritative
}

// freePort returns a port that is free for both UDP and TCP on 127.0.0.1
// right now.
func freePort(t testing.TB) int {
	t.Helper()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
		l.Close()
		if err == nil {
			u.Close()
			return port
		}
	}
	t.Fatal("no free port")
	return 0
}

// TXT renders key=value as the RDATA of a zone-file TXT record: quoted
// character-strings of at most 255 octets, one per line in parentheses, every octet that is not plain
// printable ASCII written as \DDD (RFC 1035 5.1).
func TXT(key string, value []byte) string {
	raw := append([]byte(key+"="), value...)
	var b strings.Builder
	b.WriteString("(")
	for len(raw) > 0 {
		n := min(len(raw), 255)
		b.WriteString("\n  \"")
		for _, c := range raw[:n] {
			if c < 0x20 || c > 0x7e || c == '"' || c == '\\' || c == ';' {
				fmt.Fprintf(&b, `\%03d`, c)
			} else {
				b.WriteByte(c)
			}
		}
		b.WriteString(`"`)
		raw = raw[n:]
	}
	b.WriteString(" )")
	return b.String()
}
