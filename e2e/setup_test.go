package e2e_test

import (
	"archive/tar"
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/e2e/internal/harness"
	"github.com/sztp/sztp/internal/testenv"
)

// needE2E skips (or, under SZTP_REQUIRE_INTEGRATION=1, fails) unless the
// machine has what a QEMU end-to-end run needs.
func needE2E(t *testing.T) {
	t.Helper()
	if testing.Short() {
		if testenv.Required() {
			t.Fatal("the QEMU end-to-end test does not run with -short, and SZTP_REQUIRE_INTEGRATION=1 forbids skipping it")
		}
		t.Skip("skipping the QEMU end-to-end test in -short mode")
	}
	testenv.NeedRoot(t)
	testenv.NeedCommands(t, "ip", "dnsmasq", "swtpm", "swtpm_ioctl", "tpm2_createprimary", "tpm2_nvdefine",
		"openssl", "qemu-system-x86_64", "xz", "apt-get", "dpkg-deb", "go")
	if _, err := os.Stat("/dev/net/tun"); err != nil {
		testenv.Unavailable(t, "/dev/net/tun (for the guest's tap device)")
	}
}

// testContext ends after max, or a minute before the test binary's own
// -timeout, whichever is first: a test that times out through its context
// still runs its cleanups (stopping QEMU, removing the namespace), while the
// -timeout panic would skip them.
func testContext(t *testing.T, max time.Duration) context.Context {
	t.Helper()
	deadline := time.Now().Add(max)
	if d, ok := t.Deadline(); ok && d.Add(-time.Minute).Before(deadline) {
		deadline = d.Add(-time.Minute)
	}
	ctx, cancel := context.WithDeadline(context.Background(), deadline)
	t.Cleanup(cancel)
	return ctx
}

// repoRoot is the module root (the tests run in e2e/).
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return root
}

// fetchKernel runs e2e/fetch-kernel and returns the kernel's path.
func fetchKernel(t *testing.T, ctx context.Context) string {
	t.Helper()
	return fetchKernelFile(t, ctx, "KERNEL")
}

// fetchKernelPVH returns the ELF kernel inside Debian's bzImage, which
// QEMU boots through the PVH entry point (with harness.QBootROM).
func fetchKernelPVH(t *testing.T, ctx context.Context) string {
	t.Helper()
	return fetchKernelFile(t, ctx, "VMLINUX")
}

// fetchKernelFile runs e2e/fetch-kernel and returns its KEY= line's path.
func fetchKernelFile(t *testing.T, ctx context.Context, key string) string {
	t.Helper()
	out := runCmd(t, ctx, "", filepath.Join(repoRoot(t), "e2e", "fetch-kernel"))
	for _, l := range strings.Split(out, "\n") {
		if k, ok := strings.CutPrefix(l, key+"="); ok {
			return k
		}
	}
	t.Fatalf("fetch-kernel printed no %s= line:\n%s", key, out)
	return ""
}

// buildInitramfs runs e2e/build-initramfs with args and returns the image.
func buildInitramfs(t *testing.T, ctx context.Context, out string, args ...string) string {
	t.Helper()
	argv := append([]string{filepath.Join(repoRoot(t), "e2e", "build-initramfs"), "-o", out}, args...)
	t.Log(strings.TrimSpace(runCmd(t, ctx, "", argv...)))
	return out
}

// goBuild builds a host program of this module into dir.
func goBuild(t *testing.T, ctx context.Context, dir, pkg string) string {
	t.Helper()
	bin := filepath.Join(dir, filepath.Base(pkg))
	runCmd(t, ctx, repoRoot(t), "go", "build", "-o", bin, pkg)
	return bin
}

func runCmd(t *testing.T, ctx context.Context, dir string, argv ...string) string {
	t.Helper()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		t.Fatalf("%s: %v\n%s", strings.Join(argv, " "), err, out.String())
	}
	return out.String()
}

// writeBundle writes the boot image: a tar holding kernel, initrd and cmdline
// (the format of the boot package's kexec hook).
func writeBundle(t *testing.T, path, kernel, initrd, cmdline string) {
	t.Helper()
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tw := tar.NewWriter(f)
	add := func(name string, data []byte) {
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(data)), ModTime: time.Unix(0, 0)}); err != nil {
			t.Fatal(err)
		}
		if _, err := tw.Write(data); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range [][2]string{{"kernel", kernel}, {"initrd", initrd}} {
		data, err := os.ReadFile(p[1])
		if err != nil {
			t.Fatal(err)
		}
		add(p[0], data)
	}
	add("cmdline", []byte(cmdline+"\n"))
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// newNetns creates the test's namespace and removes it at cleanup. Cleanups
// run last-in first-out, so processes registered after it stop before the
// namespace goes.
func newNetns(t *testing.T, ctx context.Context) *harness.Netns {
	t.Helper()
	n, err := harness.NewNetns(ctx, "sztp-e2e")
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("network namespace %s, tap %s, host %s", n.Name, n.Tap, n.Host)
	t.Cleanup(func() {
		if err := n.Close(); err != nil {
			t.Errorf("teardown: %v", err)
		}
	})
	return n
}

// stopAtCleanup stops p by PID at cleanup, and shows its log if the test
// failed.
func stopAtCleanup(t *testing.T, p *harness.Process) {
	t.Helper()
	t.Cleanup(func() {
		p.Stop(5 * time.Second)
		if t.Failed() {
			showLog(t, p.Name, p.Log)
		}
	})
}

func showLog(t *testing.T, name, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Logf("%s log %s: %v", name, path, err)
		return
	}
	const max = 64 << 10
	if len(b) > max {
		b = append([]byte("...\n"), b[len(b)-max:]...)
	}
	t.Logf("---- %s (%s) ----\n%s\n---- end of %s ----", name, path, b, name)
}

// linesWith returns the console lines containing substr, without the
// terminal escapes SeaBIOS and the kernel print.
func linesWith(t *testing.T, path, substr string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r"); strings.Contains(l, substr) {
			out = append(out, l[strings.Index(l, substr):])
		}
	}
	return out
}

// bootstrapServer starts sztp-e2e-server in n for the device with the IDevID
// id and serial, with the image and os-name/os-version the onboarding
// information names, and returns its URL and the file its progress reports
// go to. It is stopped at cleanup.
type bootstrapServer struct {
	bin, pki, image, osVersion string
	extra                      []string // more flags, e.g. -csr
}

func startBootstrapServer(t *testing.T, ctx context.Context, n *harness.Netns, dir string, id *harness.IDevID, serial string, s bootstrapServer) (uri, reports string) {
	t.Helper()
	reports = filepath.Join(dir, "reports.jsonl")
	ready := filepath.Join(dir, "server.url")
	args := append([]string{"-pki", s.pki, "-listen", n.Host.Addr().String(), "-client-ca", id.CACert, "-serial", serial,
		"-image", s.image, "-os-name", e2eOSName, "-os-version", s.osVersion,
		"-reports", reports, "-ready", ready}, s.extra...)
	srv, err := harness.Start("bootstrap server", filepath.Join(dir, "server.log"), n.Exec(append([]string{s.bin}, args...)...)...)
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, srv)
	if err := harness.WaitForLog(ctx, srv, ready, "https://", 30*time.Second); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(ready)
	if err != nil {
		t.Fatal(err)
	}
	return strings.TrimSpace(string(b)), reports
}

// startDHCP starts dnsmasq in n, leasing 192.0.2.100-150 with the given
// option 143 URIs; it is stopped at cleanup.
func startDHCP(t *testing.T, ctx context.Context, n *harness.Netns, dir string, noPing bool, uris ...string) {
	t.Helper()
	dns, err := harness.StartDNSMasq(ctx, n, dir, harness.DHCPConfig{
		First: netip.MustParseAddr("192.0.2.100"), Last: netip.MustParseAddr("192.0.2.150"),
		BootstrapURIs: uris, NoPing: noPing,
	})
	if err != nil {
		t.Fatal(err)
	}
	stopAtCleanup(t, dns)
}
