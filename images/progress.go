package images

import (
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"
)

// Progress receives download progress: done bytes of the image are staged
// (resumed bytes included) out of total (-1 when the server did not say).
// It is called from the download goroutine, often; it must be quick.
type Progress interface {
	Update(uri string, done, total int64)
	// Finish is called once per attempt on a URI, with the error that ended
	// it (nil when the image is verified).
	Finish(uri string, done int64, err error)
}

// LogProgress logs one line per 10% (per 64 MiB when the length is
// unknown) at info level. It is what a Fetcher uses when Progress is nil.
func LogProgress(l *slog.Logger) Progress { return &logProgress{l: l, next: -1} }

type logProgress struct {
	l    *slog.Logger
	uri  string
	next int64
}

func (p *logProgress) Update(uri string, done, total int64) {
	if p.l == nil {
		return
	}
	step := int64(64 << 20)
	if total > 0 {
		step = max(total/10, 1)
	}
	if uri != p.uri || p.next < 0 {
		p.uri = uri
		p.next = (done/step + 1) * step
	}
	if done < p.next {
		return
	}
	p.next = (done/step + 1) * step
	if total > 0 {
		p.l.Info("image download", "uri", uri, "bytes", done, "total", total, "percent", done*100/total)
	} else {
		p.l.Info("image download", "uri", uri, "bytes", done)
	}
}

func (p *logProgress) Finish(uri string, done int64, err error) { p.next = -1 }

// Bar draws a live progress bar on a terminal (w is typically os.Stderr
// when it is a tty), redrawn at most ten times a second.
type Bar struct {
	w     io.Writer
	mu    sync.Mutex
	last  time.Time
	start time.Time
	from  int64
	now   func() time.Time
}

// NewBar returns a Bar that writes to w.
func NewBar(w io.Writer) *Bar { return &Bar{w: w, now: time.Now} }

// Update implements Progress.
func (b *Bar) Update(uri string, done, total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	t := b.now()
	if b.start.IsZero() {
		b.start, b.from = t, done
	}
	if t.Sub(b.last) < 100*time.Millisecond && done != total {
		return
	}
	b.last = t
	fmt.Fprint(b.w, "\r"+b.line(done, total, t.Sub(b.start))+"\x1b[K")
}

// Finish implements Progress: it ends the bar's line.
func (b *Bar) Finish(uri string, done int64, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if !b.start.IsZero() {
		fmt.Fprintln(b.w)
	}
	b.start, b.last = time.Time{}, time.Time{}
}

func (b *Bar) line(done, total int64, el time.Duration) string {
	rate := ""
	if s := el.Seconds(); s > 0 {
		rate = fmt.Sprintf(" %s/s", human(int64(float64(done-b.from)/s)))
	}
	if total <= 0 {
		return fmt.Sprintf("%s%s", human(done), rate)
	}
	const width = 30
	// A body may run past the declared length (the fetch then fails on the
	// mismatch); the bar stays full rather than overflowing.
	fill := int(min(done, total) * width / total)
	return fmt.Sprintf("[%s%s] %3d%% %s/%s%s", strings.Repeat("=", fill), strings.Repeat(" ", width-fill),
		done*100/total, human(done), human(total), rate)
}

func human(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%d B", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit && exp < 4; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f %ciB", float64(n)/float64(div), "KMGTP"[exp])
}
