package e2e_test

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// timeline stamps every console line with the harness's clock as it
// arrives, counted from the moment QEMU is started (power-on), so that the
// boot can be read as a timeline of milestones (issue 13 item 1).
type timeline struct {
	path  string
	start time.Time
	quit  chan struct{}
	done  chan struct{}

	mu    sync.Mutex
	lines []stampedLine
}

type stampedLine struct {
	at   time.Duration
	text string
}

// milestone is a console line that marks a step of the boot: the nth
// (1-based) line containing every one of match.
type milestone struct {
	name  string
	match []string
	nth   int
}

// The milestones in the order the agent reaches them: it loads its
// identity from the TPM before the DHCP source brings the link up.

// twoBootMilestones is the factory image bootstrapping, installing the
// delivered image by kexec, and the second kernel completing.
var twoBootMilestones = []milestone{
	{"kernel-start", []string{"Linux version"}, 1},
	{"uinit-start", []string{"level=", "msg="}, 1},
	{"tpm-ready", []string{"msg=\"device identity\""}, 1},
	{"link-up", []string{"msg=\"dhcp: bringing link up\""}, 1},
	{"dhcp-lease-option-143", []string{"msg=\"bootstrap server from DHCP\""}, 1},
	{"first-tls-handshake", []string{"msg=\"connected to bootstrap server\""}, 1},
	{"onboarding-verified", []string{"msg=\"signed data validated"}, 1},
	{"image-verified", []string{"msg=\"image verified\""}, 1},
	{"kexec", []string{"kexec'ing into the new kernel"}, 1},
	{"second-kernel-start", []string{"Linux version"}, 2},
	{"bootstrap-complete", []string{"msg=done", "result=success"}, 1},
}

// singleBootMilestones is a device already running the image it is given.
var singleBootMilestones = []milestone{
	{"kernel-start", []string{"Linux version"}, 1},
	{"uinit-start", []string{"level=", "msg="}, 1},
	{"tpm-ready", []string{"msg=\"device identity\""}, 1},
	{"link-up", []string{"msg=\"dhcp: bringing link up\""}, 1},
	{"dhcp-lease-option-143", []string{"msg=\"bootstrap server from DHCP\""}, 1},
	{"first-tls-handshake", []string{"msg=\"connected to bootstrap server\""}, 1},
	{"onboarding-verified", []string{"msg=\"signed data validated"}, 1},
	{"bootstrap-complete", []string{"msg=done", "result=success"}, 1},
}

// startTimeline follows the console file at path; call it just before
// QEMU starts.
func startTimeline(path string) *timeline {
	tl := &timeline{path: path, start: time.Now(), quit: make(chan struct{}), done: make(chan struct{})}
	go tl.follow()
	return tl
}

func (tl *timeline) follow() {
	defer close(tl.done)
	var off int64
	var partial []byte
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for {
		stopping := false
		select {
		case <-tl.quit:
			stopping = true
		case <-tick.C:
		}
		if f, err := os.Open(tl.path); err == nil {
			buf := make([]byte, 1<<20)
			for {
				n, err := f.ReadAt(buf, off)
				if n > 0 {
					at := time.Since(tl.start)
					off += int64(n)
					partial = append(partial, buf[:n]...)
					for {
						i := bytes.IndexByte(partial, '\n')
						if i < 0 {
							break
						}
						tl.add(at, string(bytes.TrimRight(partial[:i], "\r")))
						partial = partial[i+1:]
					}
				}
				if err != nil || n == 0 {
					break
				}
			}
			f.Close()
		}
		if stopping {
			if len(partial) > 0 {
				tl.add(time.Since(tl.start), string(partial))
			}
			return
		}
	}
}

func (tl *timeline) add(at time.Duration, s string) {
	tl.mu.Lock()
	tl.lines = append(tl.lines, stampedLine{at, s})
	tl.mu.Unlock()
}

// stop reads the rest of the console and stops following it.
func (tl *timeline) stop() {
	select {
	case <-tl.quit:
	default:
		close(tl.quit)
	}
	<-tl.done
}

// report prints one line per milestone, "timeline SCENARIO: NAME 1.2s"
// (seconds since QEMU started), and fails the test when a milestone is
// missing or out of order. It asserts the sequence only, never a time.
func (tl *timeline) report(t *testing.T, scenario string, ms []milestone) {
	t.Helper()
	tl.stop()
	tl.mu.Lock()
	lines := append([]stampedLine(nil), tl.lines...)
	tl.mu.Unlock()
	var last time.Duration
	from := 0
	for _, m := range ms {
		seen, found := 0, -1
		for i, l := range lines {
			ok := true
			for _, s := range m.match {
				if !strings.Contains(l.text, s) {
					ok = false
					break
				}
			}
			if ok {
				seen++
				if seen == m.nth {
					found = i
					break
				}
			}
		}
		if found < 0 {
			t.Errorf("timeline %s: %s never appeared on the console", scenario, m.name)
			continue
		}
		at := lines[found].at
		if strings.Contains(m.match[0], "Linux version") {
			at = kernelStart(lines, found)
		}
		t.Logf("timeline %s: %s %.1fs", scenario, m.name, at.Seconds())
		if found < from || (at < last && found != from) {
			t.Errorf("timeline %s: %s (console line %d) came before the milestone preceding it", scenario, m.name, found+1)
		}
		from, last = found, at
	}
}

// kernelStart estimates when the kernel whose banner is lines[i] started:
// the kernel buffers its messages until the serial console registers, so
// the banner arrives late; each line "[   1.234567] ..." that kernel prints
// says how long after its start it was made, and the earliest arrival time
// minus that stamp, over the lines of this boot, bounds the start.
func kernelStart(lines []stampedLine, i int) time.Duration {
	best := lines[i].at
	for _, l := range lines[i:] {
		if l != lines[i] && strings.Contains(l.text, "Linux version") {
			break
		}
		open := strings.IndexByte(l.text, '[')
		end := strings.IndexByte(l.text, ']')
		if open < 0 || end < open {
			continue
		}
		secs, err := strconv.ParseFloat(strings.TrimSpace(l.text[open+1:end]), 64)
		if err != nil {
			continue
		}
		if s := l.at - time.Duration(secs*float64(time.Second)); s < best {
			best = max(s, 0)
		}
	}
	return best
}
