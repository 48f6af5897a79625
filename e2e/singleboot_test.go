package e2e_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/e2e/internal/harness"
)

// wantSingleBootReports: the device already runs the boot image it is
// given (C71: no image step, no report about it), so one boot runs the
// scripts and configuration to bootstrap-complete.
var wantSingleBootReports = []string{
	"bootstrap-initiated", "parsing-initiated", "parsing-complete",
	"pre-script-initiated", "pre-script-complete",
	"config-initiated", "config-complete",
	"post-script-initiated", "post-script-complete",
	"bootstrap-complete",
}

// TestQEMUSingleBootTimeline (issue 13 item 1): the single-boot scenario,
// signed onboarding information, TPM identity, scripts and configuration,
// with the boot image already current, and the timeline of the boot from
// power-on (QEMU start) to bootstrap-complete, one "timeline single-boot:"
// line per milestone. Only the sequence is asserted, never a time.
func TestQEMUSingleBootTimeline(t *testing.T) {
	needE2E(t)
	ctx := testContext(t, 12*time.Minute)
	dir := t.TempDir()
	kernel := fetchKernelPVH(t, ctx)
	server := goBuild(t, ctx, dir, "./e2e/cmd/sztp-e2e-server")
	pki := filepath.Join(dir, "pki")
	runCmd(t, ctx, "", server, "-init-pki", pki)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(deviceConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	initrd := buildInitramfs(t, ctx, filepath.Join(dir, "initramfs.cpio"),
		"--server-trust-anchor", filepath.Join(pki, "server-ca.pem"),
		"--voucher-trust-anchor", filepath.Join(pki, "manufacturer-ca.pem"),
		"--file", cfg+":etc/sztp/config.yaml", "--virtio-net")
	// The image the device already runs: its os-name and os-version match
	// the kernel command line, so it is never downloaded.
	version := "current-" + randomHex(t, 4)
	image := filepath.Join(dir, "image.bin")
	if err := os.WriteFile(image, []byte("the image the device runs\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	serial := "SZTP-E2E-" + strings.ToUpper(randomHex(t, 4))
	n := newNetns(t, ctx)
	id, err := harness.ProvisionIDevID(ctx, n, dir, serial)
	if err != nil {
		t.Fatal(err)
	}
	uri, reports := startBootstrapServer(t, ctx, n, dir, id, serial, bootstrapServer{bin: server, pki: pki, image: image, osVersion: version})
	startDHCP(t, ctx, n, dir, true, uri)
	sock := filepath.Join(dir, "vtpm.sock")
	vtpm, err := harness.StartVTPM(ctx, id.StateDir, sock, filepath.Join(dir, "vtpm.log"))
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vtpm)
	console := filepath.Join(dir, "console.log")
	tl := startTimeline(console)
	// Boot time (issue 13 item 1): virtio-net (link up at once; e1000's
	// autonegotiation costs seconds under TCG), loglevel=6 (the kernel's
	// KERN_INFO lines stay off the serial console, which TCG emulates byte
	// by byte; the banner and command line, KERN_NOTICE, stay), no NIC
	// option ROM (romfile=), the kernel booted through its PVH entry point
	// under qboot (the ELF inside Debian's bzImage: no SeaBIOS, no XZ
	// decompression by the boot stub, which took about 4 s under TCG), and
	// the TPM at its default /dev/tpmrm0 (sztp.tpm= is refused, C4).
	vm, err := harness.StartVM(n, harness.VMConfig{
		Kernel: kernel, Firmware: harness.QBootROM, Initrd: initrd, Tap: n.Tap, NIC: "virtio-net-pci,romfile=", TPMSocket: sock, Console: console,
		Append: "console=ttyS0 loglevel=6 panic=-1 sztp.os-name=" + e2eOSName + " sztp.os-version=" + version,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vm)
	t.Logf("device %s, bootstrap server %s (option 143), qemu pid %d %v", serial, uri, vm.PID(), harness.Accel())
	if err := harness.WaitForLog(ctx, vm, reports, `"bootstrap-complete"`, 8*time.Minute); err != nil {
		showLog(t, "console", console)
		t.Fatalf("no bootstrap-complete report: %v", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	_ = vm.Wait(wctx)
	wcancel()
	vm.Stop(5 * time.Second)
	tl.report(t, "single-boot", singleBootMilestones)

	var types []string
	for _, r := range readReports(t, reports) {
		types = append(types, r.ProgressType)
	}
	if strings.Join(types, " ") != strings.Join(wantSingleBootReports, " ") {
		showLog(t, "console", console)
		t.Fatalf("progress reports\n got %q\nwant %q", types, wantSingleBootReports)
	}
	if cl := linesWith(t, console, "Kernel command line:"); len(cl) != 1 {
		t.Errorf("want one kernel boot (no kexec), got %d", len(cl))
	}
}
