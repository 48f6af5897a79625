package e2e_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/e2e/internal/harness"
)

// TestHarnessQEMU proves the test's real parts without the agent: QEMU boots
// a u-root initramfs (probe as uinit) in our namespace, gets a DHCP lease
// carrying option 143 from dnsmasq, reads the IDevID certificate that
// tpm2-tools provisioned into swtpm, downloads a kernel + initrd bundle from
// the host-side server and kexecs into it; the second kernel's command line
// carries a random marker that the probe prints.
func TestHarnessQEMU(t *testing.T) {
	needE2E(t)
	ctx := testContext(t, 12*time.Minute)
	dir := t.TempDir()
	kernel := fetchKernel(t, ctx)
	initrd := buildInitramfs(t, ctx, filepath.Join(dir, "probe.cpio"),
		"--cmd", "./e2e/cmd/e2e-probe", "--uinit", "e2e-probe")
	server := goBuild(t, ctx, dir, "./e2e/cmd/sztp-e2e-server")

	marker := randomHex(t, 8)
	serial := "SZTP-E2E-" + strings.ToUpper(randomHex(t, 4))
	files := filepath.Join(dir, "www")
	if err := os.Mkdir(files, 0o755); err != nil {
		t.Fatal(err)
	}
	writeBundle(t, filepath.Join(files, "bundle.tar"), kernel, initrd,
		"console=ttyS0 panic=-1 e2e.stage=2 e2e.marker="+marker)

	n := newNetns(t, ctx)
	id, err := harness.ProvisionIDevID(ctx, n, dir, serial)
	if err != nil {
		t.Fatal(err)
	}
	uri := fmt.Sprintf("https://%s:8443", n.Host.Addr())
	dns, err := harness.StartDNSMasq(ctx, n, dir, harness.DHCPConfig{
		First: netip.MustParseAddr("192.0.2.100"), Last: netip.MustParseAddr("192.0.2.150"),
		BootstrapURIs: []string{uri},
	})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, dns)
	t.Cleanup(func() {
		if t.Failed() {
			showLog(t, "dnsmasq log", filepath.Join(dir, "dnsmasq.log"))
		}
	})

	ready := filepath.Join(dir, "server.url")
	srv, err := harness.Start("server", filepath.Join(dir, "server.log"), n.Exec(server, "-files", files,
		"-listen", n.Host.Addr().String(), "-ready", ready)...)
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, srv)
	if err := harness.WaitForLog(ctx, srv, ready, "http://", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	url, _ := os.ReadFile(ready)

	vtpm, err := harness.StartVTPM(ctx, id.StateDir, filepath.Join(dir, "vtpm.sock"), filepath.Join(dir, "vtpm.log"))
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vtpm)
	console := filepath.Join(dir, "console.log")
	vm, err := harness.StartVM(n, harness.VMConfig{
		Kernel: kernel, Initrd: initrd, Tap: n.Tap, TPMSocket: filepath.Join(dir, "vtpm.sock"), Console: console,
		Append: "console=ttyS0 panic=-1 e2e.stage=1 e2e.bundle=" + strings.TrimSpace(string(url)) + "/bundle.tar",
	})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vm)
	t.Logf("qemu pid %d: %v", vm.PID(), harness.Accel())
	if err := harness.WaitForLog(ctx, vm, console, "E2E-PROBE marker ", 5*time.Minute); err != nil {
		t.Fatal(err)
	}
	// Let QEMU finish (the probe powers off) so the console is complete.
	wctx, wcancel := context.WithTimeout(ctx, 30*time.Second)
	_ = vm.Wait(wctx)
	wcancel()

	got := linesWith(t, console, "E2E-PROBE ")
	for _, l := range got {
		t.Log(l)
	}
	want := []string{
		"E2E-PROBE stage 1",
		"E2E-PROBE option-143 " + uri,
		"E2E-PROBE idevid ",
		"E2E-PROBE bundle downloaded",
		"E2E-PROBE kexec",
		"E2E-PROBE stage 2",
		"E2E-PROBE marker " + marker,
	}
	i := 0
	for _, l := range got {
		if i < len(want) && strings.HasPrefix(l, want[i]) {
			i++
		}
	}
	if i != len(want) {
		showLog(t, "console", console)
		t.Fatalf("console lacks %q (in this order: %q)", want[i], want)
	}
	var subject string
	for _, l := range got {
		if s, ok := strings.CutPrefix(l, "E2E-PROBE idevid "); ok {
			subject = s
		}
	}
	if !strings.Contains(subject, serial) {
		t.Errorf("IDevID read in the guest has subject %q, want serial number %s", subject, serial)
	}
	if cl := linesWith(t, console, "Kernel command line:"); len(cl) < 2 || !strings.Contains(cl[len(cl)-1], "e2e.marker="+marker) {
		t.Errorf("the second kernel's command line lacks e2e.marker=%s: %q", marker, cl)
	}
}
