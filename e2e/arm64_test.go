package e2e_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/e2e/internal/harness"
	"github.com/sztp/sztp/internal/testenv"
)

// wantReportsSingleBoot is the sequence of progress reports for a device
// that already runs the boot image the onboarding information names: no
// boot-image reports and no reboot (C71), then scripts and configuration in
// RFC order (C70) to bootstrap-complete (C64).
var wantReportsSingleBoot = []string{
	"bootstrap-initiated", "parsing-initiated", "parsing-complete",
	"pre-script-initiated", "pre-script-complete",
	"config-initiated", "config-complete",
	"post-script-initiated", "post-script-complete",
	"bootstrap-complete",
}

// arm64UInit is the arm64 guest's uinit (run by gosh). Debian's arm64 kernel
// has no driver for QEMU's TPM devices (CONFIG_TCG_TIS is not set; tpm_crb,
// which is built in, binds through ACPI only, and QEMU 7.2's virt machine
// offers tpm-tis-device alone), so the guest reaches the test's swtpm over
// the network (--tpm tcp://...: a flag, since the kernel command line may
// not name the TPM, C4). The agent loads its IDevID before its own DHCP,
// so the network comes up first, with `sztp dhcp` of the initramfs; then
// the release binary (built as `make dist` builds it) runs the bootstrap.
const arm64UInit = `# sztp e2e arm64 uinit: network first (the TPM is on it), then the bootstrap.
sztp dhcp --ipv4 --timeout 60s
/bin/sztp-dist run --tpm %s
`

// arm64TPM is where harness.StartNetworkTPM serves the TPM in the test's
// namespace (the host side of the tap, swtpm's port 2321).
var arm64TPM = "tcp://" + harness.DefaultHost.Addr().String() + ":2321"

// TestQEMUEndToEndArm64SingleBoot boots the agent on an aarch64 QEMU virt
// machine (TCG, Debian's arm64 kernel, the u-root arm64 initramfs of
// `make initramfs INITRAMFS_ARCH=arm64`, and the linux/arm64 binary of
// `make dist`) with real parts only: DHCP option 143 from dnsmasq on a
// virtio-net tap, the IDevID in swtpm (provisioned by tpm2-tools), signed
// onboarding information with voucher and owner certificate, and the server
// recording bootstrap-complete (issue 15 items 2 and 3).
//
// Single boot: the device already runs the image the onboarding information
// names, so there is no kexec. Debian's arm64 kernel is built without
// CONFIG_KEXEC_FILE, and the kexec hook uses kexec_file_load(2) (boot
// package), so the delivered kernel cannot be kexec'ed there.
func TestQEMUEndToEndArm64SingleBoot(t *testing.T) {
	needE2E(t)
	testenv.NeedCommands(t, "qemu-system-aarch64")
	ctx := testContext(t, 15*time.Minute)
	dir := t.TempDir()
	kernel := fetchKernelArm64(t, ctx)
	server := goBuild(t, ctx, dir, "./e2e/cmd/sztp-e2e-server")

	// The release binary, built as `make dist` builds it.
	dist := filepath.Join(dir, "sztp-linux-arm64")
	cmd := []string{"env", "CGO_ENABLED=0", "GOOS=linux", "GOARCH=arm64",
		"go", "build", "-trimpath", "-ldflags=-s -w", "-o", dist, "./cmd/sztp"}
	runCmd(t, ctx, repoRoot(t), cmd...)

	pki := filepath.Join(dir, "pki")
	runCmd(t, ctx, "", server, "-init-pki", pki)
	cfg := filepath.Join(dir, "config.yaml")
	uinit := filepath.Join(dir, "uinit.sh")
	for p, data := range map[string]string{cfg: deviceConfig, uinit: fmt.Sprintf(arm64UInit, arm64TPM)} {
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// The same script and arguments as `make initramfs INITRAMFS_ARCH=arm64`
	// (which adds the virtio-net modules of `e2e/fetch-kernel arm64`).
	initrd := buildInitramfs(t, ctx, filepath.Join(dir, "initramfs.cpio"), "--arch", "arm64",
		"--server-trust-anchor", filepath.Join(pki, "server-ca.pem"),
		"--voucher-trust-anchor", filepath.Join(pki, "manufacturer-ca.pem"),
		"--file", cfg+":etc/sztp/config.yaml",
		"--file", dist+":bin/sztp-dist",
		"--file", uinit+":etc/sztp/uinit.sh",
		"--uinit", "gosh /etc/sztp/uinit.sh")

	// The image is current: its os-version is the running one.
	marker := randomHex(t, 8)
	serial := "SZTP-E2E-A64-" + strings.ToUpper(randomHex(t, 4))
	bundle := filepath.Join(dir, "boot-image.tar")
	writeBundle(t, bundle, kernel, initrd, "console=ttyAMA0 panic=-1")

	n := newNetns(t, ctx)
	id, err := harness.ProvisionIDevID(ctx, n, dir, serial)
	if err != nil {
		t.Fatal(err)
	}
	host := n.Host.Addr().String()
	uri, reports := startBootstrapServer(t, ctx, n, dir, id, serial, bootstrapServer{bin: server, pki: pki, image: bundle, osVersion: marker})
	startDHCP(t, ctx, n, dir, false, uri)

	vtpm, tpmURL, err := harness.StartNetworkTPM(ctx, n, id.StateDir, host, filepath.Join(dir, "vtpm.log"))
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vtpm)
	if tpmURL != arm64TPM {
		t.Fatalf("swtpm serves the TPM at %s, the guest's uinit expects %s", tpmURL, arm64TPM)
	}

	console := filepath.Join(dir, "console.log")
	start := time.Now()
	vm, err := harness.StartVM(n, harness.VMConfig{
		Arch: "arm64", CPUs: 2, Kernel: kernel, Initrd: initrd, Tap: n.Tap, Console: console,
		Append: "console=ttyAMA0 panic=-1 sztp.e2e-marker=" + marker +
			" sztp.os-name=" + e2eOSName + " sztp.os-version=" + marker,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vm)
	t.Logf("device %s, bootstrap server %s (option 143), TPM %s, qemu pid %d", serial, uri, tpmURL, vm.PID())

	if err := harness.WaitForLog(ctx, vm, reports, `"bootstrap-complete"`, 10*time.Minute); err != nil {
		showLog(t, "console", console)
		t.Fatalf("no bootstrap-complete report: %v", err)
	}
	t.Logf("timeline arm64-single-boot: bootstrap-complete %.1fs", time.Since(start).Seconds())
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	if err := vm.Wait(wctx); err != nil {
		t.Logf("qemu did not exit by itself after bootstrap-complete (%v); stopping it", err)
	}
	wcancel()
	vm.Stop(5 * time.Second)

	var types []string
	for _, r := range readReports(t, reports) {
		t.Logf("progress: %-32s serial %s  %s", r.ProgressType, r.Serial, oneLine(r.Message))
		types = append(types, r.ProgressType)
		if r.Serial != serial {
			t.Errorf("report %s came from serial number %q, want %q", r.ProgressType, r.Serial, serial)
		}
	}
	if strings.Join(types, " ") != strings.Join(wantReportsSingleBoot, " ") {
		showLog(t, "console", console)
		t.Fatalf("progress reports\n got %q\nwant %q", types, wantReportsSingleBoot)
	}
	if n := len(linesWith(t, console, "Kernel command line:")); n != 1 {
		t.Errorf("want 1 kernel boot on the console, got %d", n)
	}
	for _, want := range []string{"Machine model: linux,dummy-virt", "pre-configuration script ran under marker " + marker,
		"post-configuration script ran under marker " + marker} {
		if len(linesWith(t, console, want)) == 0 {
			showLog(t, "console", console)
			t.Errorf("the console does not show %q", want)
		}
	}
}

// fetchKernelArm64 runs `e2e/fetch-kernel arm64` and returns the kernel's
// path (the modules go into the initramfs through build-initramfs).
func fetchKernelArm64(t *testing.T, ctx context.Context) string {
	t.Helper()
	out := runCmd(t, ctx, "", filepath.Join(repoRoot(t), "e2e", "fetch-kernel"), "arm64")
	for _, l := range strings.Split(out, "\n") {
		if k, ok := strings.CutPrefix(l, "KERNEL="); ok {
			return k
		}
	}
	t.Fatalf("fetch-kernel arm64 printed no KERNEL= line:\n%s", out)
	return ""
}
