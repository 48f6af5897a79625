package e2e_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/e2e/internal/harness"
)

// e2eOSName is the os-name of the delivered boot image; its os-version is
// the run's random marker, so the second stage can only match it if it runs
// under the delivered kernel command line.
const e2eOSName = "sztp-e2e-os"

// wantReports is the exact sequence of progress reports (reporting-level
// verbose) the server must record for one device: stage 1 installs the boot
// image and kexecs (C75), stage 2 finds the image running (C71) and runs the
// scripts and configuration in RFC order (C70) to bootstrap-complete (C64).
var wantReports = []string{
	// stage 1: the factory image
	"bootstrap-initiated", "parsing-initiated", "parsing-complete",
	"boot-image-mismatch", "boot-image-initiated", "boot-image-installed-rebooting",
	// stage 2: the delivered kernel + initrd
	"bootstrap-initiated", "parsing-initiated", "parsing-complete",
	"pre-script-initiated", "pre-script-complete",
	"config-initiated", "config-complete",
	"post-script-initiated", "post-script-complete",
	"bootstrap-complete",
}

// deviceConfig is baked into the initramfs as /etc/sztp/config.yaml; the
// kernel command line adds the running os-name/os-version. The TPM is a
// trust input, refused on the kernel command line (C4), so it is here.
const deviceConfig = `# sztp e2e device configuration. The server trust anchor is for sztp.url=;
# a server found through DHCP promotes the device with a signed redirect.
server-trust-anchor: /etc/sztp/server-trust-anchor.pem
voucher-trust-anchor: /etc/sztp/voucher-trust-anchor.pem
tpm: /dev/tpmrm0
image-hook: kexec
config-hook: file:/etc/sztp/running-config
script-timeout: 60s
retry-initial: 2s
retry-max: 10s
# DHCPv4 answers within seconds; do not wait the whole default for the DHCPv6
# exchange, which nobody answers in the test's namespace.
dhcp-timeout: 12s
`

// TestQEMUEndToEnd boots the agent in a u-root initramfs under QEMU with
// real parts only and checks the whole RFC 8572 flow: DHCP option 143 from
// dnsmasq, IDevID in swtpm (provisioned by tpm2-tools), signed onboarding
// information with voucher and owner certificate, a kernel + initrd bundle
// downloaded, verified and kexec'ed, and the second stage completing the
// bootstrap.
func TestQEMUEndToEnd(t *testing.T) {
	needE2E(t)
	ctx := testContext(t, 12*time.Minute)
	dir := t.TempDir()
	kernel := fetchKernel(t, ctx)
	server := goBuild(t, ctx, dir, "./e2e/cmd/sztp-e2e-server")

	// The owner's and manufacturer's PKI; the device trusts its server CA
	// (TLS) and manufacturer CA (vouchers).
	pki := filepath.Join(dir, "pki")
	runCmd(t, ctx, "", server, "-init-pki", pki)
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(deviceConfig), 0o644); err != nil {
		t.Fatal(err)
	}
	initrd := buildInitramfs(t, ctx, filepath.Join(dir, "initramfs.cpio"),
		"--server-trust-anchor", filepath.Join(pki, "server-ca.pem"),
		"--voucher-trust-anchor", filepath.Join(pki, "manufacturer-ca.pem"),
		"--file", cfg+":etc/sztp/config.yaml")

	// The boot image: the same kernel and initramfs, with a command line
	// carrying a marker. The kexec hook appends sztp.os-name/os-version.
	marker := randomHex(t, 8)
	serial := "SZTP-E2E-" + strings.ToUpper(randomHex(t, 4))
	bundle := filepath.Join(dir, "boot-image.tar")
	writeBundle(t, bundle, kernel, initrd, "console=ttyS0 panic=-1 sztp.e2e-marker="+marker)

	n := newNetns(t, ctx)
	id, err := harness.ProvisionIDevID(ctx, n, dir, serial)
	if err != nil {
		t.Fatal(err)
	}

	uri, reports := startBootstrapServer(t, ctx, n, dir, id, serial, bootstrapServer{bin: server, pki: pki, image: bundle, osVersion: marker})
	startDHCP(t, ctx, n, dir, false, uri)
	t.Cleanup(func() {
		if t.Failed() {
			showLog(t, "dnsmasq log", filepath.Join(dir, "dnsmasq.log"))
		}
	})

	sock := filepath.Join(dir, "vtpm.sock")
	vtpm, err := harness.StartVTPM(ctx, id.StateDir, sock, filepath.Join(dir, "vtpm.log"))
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, vtpm)
	console := filepath.Join(dir, "console.log")
	tl := startTimeline(console) // issue 13 item 1
	// The factory kernel boots through its PVH entry point under qboot
	// (issue 13 item 1); the image it installs is the bzImage, which the
	// kexec hook loads with kexec_file_load.
	vm, err := harness.StartVM(n, harness.VMConfig{
		Kernel: fetchKernelPVH(t, ctx), Firmware: harness.QBootROM, Initrd: initrd, Tap: n.Tap, TPMSocket: sock, Console: console,
		Append: "console=ttyS0 panic=-1 sztp.os-name=" + e2eOSName + " sztp.os-version=factory",
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
	// After bootstrap-complete sztp exits; init's shell reads EOF and the
	// guest's init exits, which ends QEMU (panic=-1, -no-reboot).
	wctx, wcancel := context.WithTimeout(ctx, time.Minute)
	if err := vm.Wait(wctx); err != nil {
		t.Logf("qemu did not exit by itself after bootstrap-complete (%v); stopping it", err)
	}
	wcancel()
	vm.Stop(5 * time.Second)
	tl.report(t, "two-boot", twoBootMilestones)

	got := readReports(t, reports)
	var types []string
	for _, r := range got {
		t.Logf("progress: %-32s serial %s  %s", r.ProgressType, r.Serial, oneLine(r.Message))
		types = append(types, r.ProgressType)
		if r.Serial != serial {
			t.Errorf("report %s came from serial number %q, want %q", r.ProgressType, r.Serial, serial)
		}
	}
	if strings.Join(types, " ") != strings.Join(wantReports, " ") {
		showLog(t, "console", console)
		t.Fatalf("progress reports\n got %q\nwant %q", types, wantReports)
	}

	// Two kernels booted; the second one with the delivered command line.
	cmdlines := linesWith(t, console, "Kernel command line:")
	if len(cmdlines) != 2 {
		showLog(t, "console", console)
		t.Fatalf("want 2 kernel boots on the console, got %d: %q", len(cmdlines), cmdlines)
	}
	second := cmdlines[1]
	for _, want := range []string{"sztp.e2e-marker=" + marker, "sztp.os-name=" + e2eOSName, "sztp.os-version=" + marker} {
		if !strings.Contains(second, want) {
			t.Errorf("the second kernel's command line lacks %s: %q", want, second)
		}
	}
	if strings.Contains(cmdlines[0], marker) {
		t.Errorf("the first kernel's command line already carries the marker: %q", cmdlines[0])
	}
	// Stage 2 ran the scripts under the delivered kernel: they print the
	// marker they find on its command line.
	for _, script := range []string{"pre-configuration", "post-configuration"} {
		if want := script + " script ran under marker " + marker; len(linesWith(t, console, want)) == 0 {
			t.Errorf("the console does not show %q", want)
		}
	}
	// Measured onboarding: the post-configuration script replayed the
	// agent's event log against the vTPM's PCR 14 (tpm eventlog --verify).
	if l := linesWith(t, console, "verified: the TPM's PCR values equal the replay of"); len(l) == 0 {
		t.Errorf("the console does not show the event log verified against the vTPM")
	} else {
		t.Logf("measured onboarding, in the guest: %s", strings.TrimSpace(l[0]))
	}
	t.Logf("delivered kernel booted with marker %s: %s", marker, second)
}

type progressReport struct {
	Serial       string `json:"serial"`
	ProgressType string `json:"progress-type"`
	Message      string `json:"message"`
}

func readReports(t *testing.T, path string) []progressReport {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []progressReport
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		var r progressReport
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("reports file %s: %v in %q", path, err, sc.Text())
		}
		out = append(out, r)
	}
	return out
}

func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 120 {
		s = s[:117] + "..."
	}
	return fmt.Sprint(s)
}
