package e2e_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/e2e/internal/harness"
	"github.com/sztp/sztp/internal/testenv"
)

// usbDeviceConfig is the USB scenario's /etc/sztp/config.yaml; the kernel
// command line adds sztp.removable-storage=auto and the TPM.
const usbDeviceConfig = `# sztp e2e device configuration: bootstrapping data from a USB stick only.
voucher-trust-anchor: /etc/sztp/voucher-trust-anchor.pem
config-hook: file:/etc/sztp/running-config
script-timeout: 60s
retry-initial: 2s
retry-max: 10s
dhcp: false
dns: false
`

// TestQEMURemovableStorage is issue 11 item 5: no option 143, no network
// at all; the device (IDevID in swtpm) finds its onboarding information on
// a USB stick, a vfat image made with mkfs.vfat and mcopy and attached to
// QEMU as usb-storage behind an xHCI controller. Debian's kernel loads
// xhci, usb-storage, sd_mod and vfat from the initramfs; `sztp run` with
// sztp.removable-storage=auto finds the stick (not marked removable, but on
// USB), mounts it read-only, refuses the unsigned onboarding information in
// sztp/<serial>/ (C96) and bootstraps from the signed data in sztp/ (C97:
// device-specific first): pre-configuration script, configuration,
// post-configuration script, result success. No server is involved, so by
// RFC 8572 5.6 no progress report is sent (bootstrap-complete goes only to
// a trusted bootstrap server): the console is what the test observes.
func TestQEMURemovableStorage(t *testing.T) {
	needE2E(t)
	testenv.NeedCommands(t, "mkfs.vfat", "mcopy")
	ctx := testContext(t, 12*time.Minute)
	dir := t.TempDir()
	kernel := fetchKernel(t, ctx)
	server := goBuild(t, ctx, dir, "./e2e/cmd/sztp-e2e-server")

	pki := filepath.Join(dir, "pki")
	runCmd(t, ctx, "", server, "-init-pki", pki)
	serial := "SZTP-USB-" + strings.ToUpper(randomHex(t, 4))
	tree := filepath.Join(dir, "stick")
	runCmd(t, ctx, "", server, "-pki", pki, "-serial", serial, "-stick", tree)
	img := filepath.Join(dir, "stick.img")
	runCmd(t, ctx, "", "mkfs.vfat", "-C", "-n", "SZTP", img, "16384")
	mcopy := exec.CommandContext(ctx, "mcopy", "-s", "-i", img, filepath.Join(tree, "sztp"), "::/")
	mcopy.Env = append(os.Environ(), "MTOOLS_SKIP_CHECK=1")
	if out, err := mcopy.CombinedOutput(); err != nil {
		t.Fatalf("mcopy: %v\n%s", err, out)
	}

	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(usbDeviceConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	initrd := buildInitramfs(t, ctx, filepath.Join(dir, "initramfs.cpio"), "--usb-storage",
		"--voucher-trust-anchor", filepath.Join(pki, "manufacturer-ca.pem"),
		"--file", cfg+":etc/sztp/config.yaml")

	// The namespace only hosts swtpm's provisioning ports; the guest has
	// no NIC.
	n := newNetns(t, ctx)
	id, err := harness.ProvisionIDevID(ctx, n, dir, serial)
	if err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(dir, "vtpm.sock")
	vtpm, err := harness.StartVTPM(ctx, id.StateDir, sock, filepath.Join(dir, "vtpm.log"))
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vtpm)
	marker := randomHex(t, 8)
	console := filepath.Join(dir, "console.log")
	vm, err := harness.StartVM(nil, harness.VMConfig{
		Kernel: kernel, Initrd: initrd, TPMSocket: sock, Console: console, USBStick: img,
		Append: "console=ttyS0 panic=-1 sztp.removable-storage=auto sztp.removable-storage-timeout=120s sztp.e2e-marker=" + marker,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vm)
	t.Logf("device %s, USB stick %s, qemu pid %d %v", serial, img, vm.PID(), harness.Accel())

	if err := harness.WaitForLog(ctx, vm, console, "result=success", 8*time.Minute); err != nil {
		showLog(t, "console", console)
		t.Fatalf("no successful bootstrap from the USB stick: %v", err)
	}
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	if err := vm.Wait(wctx); err != nil {
		t.Logf("qemu did not exit by itself after the bootstrap (%v); stopping it", err)
	}
	wcancel()
	vm.Stop(5 * time.Second)

	for _, want := range []string{
		// auto found the stick through its USB device path, and mounted it.
		`fstype=vfat`,
		// C96: the device-specific directory's unsigned onboarding
		// information was read first and refused, saying why.
		`bootstrapping data from /dev/sda:sztp/` + serial,
		`it is not signed data`,
		// The signed data of sztp/ validated and was acted on in order.
		`signed data validated`,
		"pre-configuration script ran under marker " + marker,
		"post-configuration script ran under marker " + marker + " with configuration: hostname sztp-usb-device",
		"source=removable-storage server=\"\" signed=true",
	} {
		if len(linesWith(t, console, want)) == 0 {
			showLog(t, "console", console)
			t.Fatalf("the console does not show %q", want)
		}
	}
	for _, l := range append(linesWith(t, console, "removable storage"), linesWith(t, console, "result=success")...) {
		t.Logf("console: %s", oneLine(l))
	}
	if lines := linesWith(t, console, "unsigned-must-not-apply"); len(lines) != 0 {
		t.Errorf("the unsigned configuration was applied: %q", lines)
	}
	if lines := linesWith(t, console, "removable storage: unmount failed"); len(lines) != 0 {
		t.Errorf("the stick was not unmounted: %q", lines)
	}
}
