package testenv

import (
	"flag"
	"fmt"
	"runtime"
	"strings"
	"testing"
)

// fakeTB records what Unavailable asks of the test and, like testing.T,
// ends the goroutine on Fatalf and Skipf.
type fakeTB struct {
	testing.TB
	fatal, skip string
}

func (f *fakeTB) Helper() {}
func (f *fakeTB) Fatalf(format string, args ...any) {
	f.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skipf(format string, args ...any) {
	f.skip = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (f *fakeTB) Skip(args ...any) {
	f.skip = fmt.Sprint(args...)
	runtime.Goexit()
}

// run calls need with f in a goroutine of its own, as a test would.
func (f *fakeTB) run(need func(testing.TB)) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		need(f)
	}()
	<-done
}

// Missing parts skip a test, but fail it when SZTP_REQUIRE_INTEGRATION=1
// (CI): an integration test is never skipped there.
func TestNeedCommands(t *testing.T) {
	const missing = "sztp-no-such-command-4711"
	for _, tc := range []struct {
		name, env string
		cmds      []string
		wantFatal bool
		wantSkip  bool
	}{
		{"present", "1", []string{"sh"}, false, false},
		{"missing-skips", "", []string{"sh", missing}, false, true},
		{"missing-other-value-skips", "yes", []string{missing}, false, true},
		{"missing-required-fails", "1", []string{missing}, true, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("SZTP_REQUIRE_INTEGRATION", tc.env)
			f := &fakeTB{}
			f.run(func(tb testing.TB) { NeedCommands(tb, tc.cmds...) })
			if (f.fatal != "") != tc.wantFatal || (f.skip != "") != tc.wantSkip {
				t.Fatalf("fatal %q, skip %q; want fatal %t, skip %t", f.fatal, f.skip, tc.wantFatal, tc.wantSkip)
			}
			if msg := f.fatal + f.skip; msg != "" && !strings.Contains(msg, "the command "+missing) {
				t.Errorf("message %q does not name the missing command", msg)
			}
		})
	}
}

// In -short mode a test that needs root is skipped, even where root is
// there and SZTP_REQUIRE_INTEGRATION=1: -short asks for no integration
// tests (make unit; make test-arm64, where every fork of an emulated
// process risks a qemu-user deadlock).
func TestNeedRootShort(t *testing.T) {
	was := flag.Lookup("test.short").Value.String()
	t.Cleanup(func() { flag.Set("test.short", was) })
	t.Setenv("SZTP_REQUIRE_INTEGRATION", "1")
	for _, short := range []bool{true, false} {
		flag.Set("test.short", fmt.Sprint(short))
		f := &fakeTB{}
		f.run(NeedRoot)
		switch {
		case short && (f.skip == "" || !strings.Contains(f.skip, "-short")):
			t.Errorf("-short: skip %q, fatal %q; want a skip naming -short", f.skip, f.fatal)
		case !short && strings.Contains(f.skip+f.fatal, "-short"):
			t.Errorf("without -short: %q mentions -short", f.skip+f.fatal)
		}
	}
}
