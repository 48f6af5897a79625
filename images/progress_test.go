package images

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
	"time"
)

// TestLogProgress: issue 6 item 1: without a terminal, one log line per 10%.
func TestLogProgress(t *testing.T) {
	tests := []struct {
		name      string
		total     int64
		step      int64
		wantLines int
	}{
		{"known length, small steps", 1000, 7, 10},
		{"known length, 1 MiB chunks", 10 << 20, 1 << 20, 10},
		{"unknown length", -1, 16 << 20, 4}, // 256 MiB: one line per 64 MiB
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			p := LogProgress(slog.New(slog.NewTextHandler(&buf, nil)))
			end := tc.total
			if end < 0 {
				end = 256 << 20
			}
			for done := int64(0); done < end; done += tc.step {
				p.Update("http://x/img", done, tc.total)
			}
			p.Update("http://x/img", end, tc.total)
			p.Finish("http://x/img", end, nil)
			lines := strings.Count(buf.String(), "\n")
			if lines != tc.wantLines {
				t.Errorf("%d log lines, want %d:\n%s", lines, tc.wantLines, buf.String())
			}
			if tc.total > 0 && !strings.Contains(buf.String(), "percent=100") {
				t.Errorf("no 100%% line:\n%s", buf.String())
			}
		})
	}
}

// TestBar: the terminal bar redraws in place, at most every 100 ms, and
// always draws the last update.
func TestBar(t *testing.T) {
	var buf bytes.Buffer
	b := NewBar(&buf)
	clock := time.Unix(0, 0)
	b.now = func() time.Time { return clock }
	total := int64(4 << 20)
	for done := int64(0); done <= total; done += 1 << 20 {
		b.Update("u", done, total)
		clock = clock.Add(60 * time.Millisecond)
	}
	b.Finish("u", total, nil)
	out := buf.String()
	draws := strings.Count(out, "\r")
	if draws != 3 { // t=0, t=120ms, t=240ms (the last, complete one)
		t.Errorf("%d redraws, want 3:\n%q", draws, out)
	}
	last := out[strings.LastIndex(out, "\r")+1:]
	want := "[" + strings.Repeat("=", 30) + "] 100% 4.0 MiB/4.0 MiB 16.7 MiB/s\x1b[K\n"
	if last != want {
		t.Errorf("final line %q, want %q", last, want)
	}
}

// TestBarPastTotal: a server whose body runs past the length it declared
// (a chunked 206 with a wrong Content-Range) must not crash the bar; the
// fetch itself fails on the length mismatch.
func TestBarPastTotal(t *testing.T) {
	var buf bytes.Buffer
	b := NewBar(&buf)
	b.Update("u", 3<<20, 2<<20)
	if !strings.Contains(buf.String(), "["+strings.Repeat("=", 30)+"]") {
		t.Errorf("bar past the total drew %q, want a full bar", buf.String())
	}
}
