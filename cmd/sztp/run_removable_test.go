package main

import (
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/removable"
	"github.com/sztp/sztp/removable/removabletest"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// stickFiles writes conveyed information (and, when signed, the owner
// certificate and a voucher for serial without a nonce) into dir/sztp/sub.
func stickFiles(t *testing.T, dir, sub string, owner *trusttest.PKI, serial string, ci *conveyed.ConveyedInformation, signed bool) {
	t.Helper()
	doc, err := ci.Encode(conveyed.JSON)
	if err != nil {
		t.Fatal(err)
	}
	var a trust.Artifacts
	if signed {
		if a, err = owner.Artifacts(doc, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: serial}); err != nil {
			t.Fatal(err)
		}
	} else if a.ConveyedInformation, err = trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, doc); err != nil {
		t.Fatal(err)
	}
	d := filepath.Join(dir, removable.TopDir, sub)
	if err := os.MkdirAll(d, 0o755); err != nil {
		t.Fatal(err)
	}
	for name, b := range map[string][]byte{removable.ConveyedInformationFile: a.ConveyedInformation,
		removable.OwnerCertificateFile: a.OwnerCertificate, removable.VoucherFile: a.OwnershipVoucher} {
		if b != nil {
			if err := os.WriteFile(filepath.Join(d, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}

func onboardingConfig(cfg string) *conveyed.ConveyedInformation {
	return &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte(cfg),
	}}
}

// Issue 11 item 2 and its tests with real parts: `sztp run --once
// --removable-storage /dev/loopN` with an ext4 medium on a loop device (and
// with a directory PATH). Signed onboarding information in
// sztp/<serial-number>/ bootstraps the device (C96, C97: another device's
// directory and the device-independent one are not used); unsigned
// onboarding information is refused saying why; unsigned redirect
// information leads to a provisional connection (signed-data-preferred, no
// progress reports); a symlink off the medium and an oversized file are
// refused. After every run nothing of the medium is mounted and the private
// mount point is gone.
func TestIssue11RunFromRemovableStorage(t *testing.T) {
	const serial = "USB-SN-0011"
	d := newTestDevice(t, serial)
	owner, voucherCA := newOwner(t, d.dir)
	// A server for the redirect case: signed onboarding, nonce-bound.
	d.server.SetResponse(serial, &sztptest.Response{Build: sztptest.Signed(onboardingConfig("from-redirect\n"),
		sztptest.SignedOptions{PKI: owner, Serial: serial, Nonce: true})})
	other, _ := newOwner(t, t.TempDir())

	contacted := 0
	for _, tc := range []struct {
		name     string
		dir      bool // a directory PATH instead of an ext4 block device
		contacts bool // the run contacts the server (provisionally)
		stick    func(t *testing.T, dir string)
		wantCode int
		wantCfg  string
		wantErr  string // in stderr
	}{
		{name: "signed onboarding", wantCfg: "from-stick\n", stick: func(t *testing.T, dir string) {
			stickFiles(t, dir, serial, owner, serial, onboardingConfig("from-stick\n"), true)
			stickFiles(t, dir, "OTHER-SN", owner, "OTHER-SN", onboardingConfig("other device\n"), true)
			stickFiles(t, dir, "", owner, serial, onboardingConfig("device-independent\n"), true)
		}},
		{name: "signed onboarding in a directory", dir: true, wantCfg: "from-dir\n", stick: func(t *testing.T, dir string) {
			stickFiles(t, dir, serial, owner, serial, onboardingConfig("from-dir\n"), true)
		}},
		{name: "device-independent signed onboarding", wantCfg: "shared\n", stick: func(t *testing.T, dir string) {
			stickFiles(t, dir, "", owner, serial, onboardingConfig("shared\n"), true)
		}},
		{name: "unsigned onboarding is refused", wantCode: exitFailure, wantErr: "not signed data", stick: func(t *testing.T, dir string) {
			stickFiles(t, dir, serial, nil, serial, onboardingConfig("unsigned\n"), false)
		}},
		{name: "signed by an unknown owner", wantCode: exitFailure, wantErr: "bootstrapping data rejected", stick: func(t *testing.T, dir string) {
			stickFiles(t, dir, serial, other, serial, onboardingConfig("forged\n"), true)
		}},
		{name: "voucher for another serial number", wantCode: exitFailure, wantErr: "bootstrapping data rejected", stick: func(t *testing.T, dir string) {
			stickFiles(t, dir, serial, owner, "OTHER-SN", onboardingConfig("not mine\n"), true)
		}},
		{name: "unsigned redirect is followed provisionally", contacts: true, wantCfg: "from-redirect\n", stick: func(t *testing.T, dir string) {
			host, port := d.server.Host, d.server.Port
			stickFiles(t, dir, serial, nil, serial, &conveyed.ConveyedInformation{Redirect: &conveyed.RedirectInformation{
				BootstrapServers: []conveyed.BootstrapServer{{Address: host, Port: port}},
			}}, false)
		}},
		{name: "symlink off the medium", wantCode: exitFailure, wantErr: "escapes", stick: func(t *testing.T, dir string) {
			stickFiles(t, dir, serial, owner, serial, onboardingConfig("x\n"), true)
			link := filepath.Join(dir, "sztp", serial, removable.OwnerCertificateFile)
			os.Remove(link)
			if err := os.Symlink("/etc/hostname", link); err != nil {
				t.Fatal(err)
			}
		}},
		{name: "oversized conveyed information", wantCode: exitFailure, wantErr: "file too large", stick: func(t *testing.T, dir string) {
			stickFiles(t, dir, serial, owner, serial, onboardingConfig("x\n"), true)
			if err := os.Truncate(filepath.Join(dir, "sztp", serial, removable.ConveyedInformationFile), removable.MaxConveyedInformation+1); err != nil {
				t.Fatal(err)
			}
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := t.TempDir()
			tc.stick(t, src)
			path := src
			if !tc.dir {
				path = removabletest.Ext4(t, src, 48)
			}
			tmp := t.TempDir()
			t.Setenv("TMPDIR", tmp)
			cfg := filepath.Join(t.TempDir(), "running-config")
			out, errOut, code := runSztp(t, append([]string{"run", "--once", "--removable-storage", path,
				"--voucher-trust-anchor", voucherCA, "--state-dir", filepath.Join(t.TempDir(), "state"),
				"--config-hook", "file:" + cfg, "--config", "", "--cmdline-file", "", "--os-release", "", "--dhcp=false", "--dns=false"}, d.identity()...)...)
			if code != tc.wantCode {
				t.Fatalf("exit %d, want %d\nstdout: %s\nstderr: %s", code, tc.wantCode, out, errOut)
			}
			got, _ := os.ReadFile(cfg)
			if string(got) != tc.wantCfg {
				t.Errorf("configuration %q, want %q\n%s", got, tc.wantCfg, errOut)
			}
			if tc.wantCode == 0 && strings.TrimSpace(out) != "success" {
				t.Errorf("stdout %q, want success", out)
			}
			if !strings.Contains(errOut, tc.wantErr) {
				t.Errorf("stderr lacks %q:\n%s", tc.wantErr, errOut)
			}
			if !tc.dir {
				if m := removabletest.Mounts(t, path); len(m) != 0 {
					t.Errorf("%s still mounted on %q", path, m)
				}
			}
			if m := removabletest.TempMounts(t, tmp); len(m) != 0 {
				t.Errorf("mount points left behind: %q", m)
			}
			if tc.contacts {
				contacted++
			}
		})
	}
	// Only the redirect case contacted the server, provisionally (C90,
	// C96), and no progress report went to it (C62). Without root (an ext4
	// image, as with -short) that case is skipped: then nothing did.
	reqs := d.server.Requests()
	if len(reqs) != contacted {
		t.Errorf("requests %+v, want %d provisional get-bootstrapping-data", reqs, contacted)
	}
	for _, r := range reqs {
		if r.GBD == nil || !r.GBD.SignedDataPreferred {
			t.Errorf("request %+v, want a provisional get-bootstrapping-data", r)
		}
	}
	if r := d.server.Reports(); len(r) != 0 {
		t.Errorf("progress reports to a server learned from removable storage: %v", r)
	}
}

// Issue 11 item 3, C6: removable storage is the first source, before DHCP
// lease files, live DHCP, DNS and the configured servers; with only
// removable storage configured, DHCP and DNS still run after it by default.
func TestIssue11SourcesOrder(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	usb := removableFlags{path: "auto"}
	for _, tc := range []struct {
		f    runFlags
		set  []string // flags given
		want []string
	}{
		{runFlags{removable: usb}, nil, []string{"removable-storage", "dhcp", "dns"}},
		{runFlags{removable: usb}, []string{"dhcp", "dns"}, []string{"removable-storage"}},
		{runFlags{removable: usb, urls: []string{"https://a"}}, nil, []string{"removable-storage", "bootstrap-url"}},
		{runFlags{removable: usb, leaseFiles: []string{"x"}, urls: []string{"https://a"}, dhcp: true, dnsOpts: dnsFlags{dns: true}}, []string{"dhcp", "dns"},
			[]string{"removable-storage", "lease-file", "dhcp", "dns", "bootstrap-url"}},
	} {
		changed := func(name string) bool { return slices.Contains(tc.set, name) }
		srcs, err := tc.f.sources(changed, log)
		var names []string
		for _, s := range srcs {
			names = append(names, s.Name())
		}
		if err != nil || !slices.Equal(names, tc.want) {
			t.Errorf("%+v set=%v: sources %v err %v, want %v", tc.f, tc.set, names, err, tc.want)
		}
	}
}

// Issue 11 item 3 with real parts: sztp.removable-storage= on the kernel
// command line (the initramfs way), next to sztp.url=: the medium is read
// first and the configured server is never asked (C6).
func TestIssue11RemovableStorageFromKernelCommandLine(t *testing.T) {
	const serial = "USB-SN-0012"
	d := newTestDevice(t, serial)
	owner, voucherCA := newOwner(t, d.dir)
	d.server.SetResponse(serial, &sztptest.Response{Conveyed: onboardingConfig("from-server\n")})
	src := t.TempDir()
	stickFiles(t, src, serial, owner, serial, onboardingConfig("from-stick\n"), true)
	dev := removabletest.Ext4(t, src, 8)
	cfg := filepath.Join(d.dir, "running-config")
	cmdline := filepath.Join(d.dir, "cmdline")
	if err := os.WriteFile(cmdline, []byte("console=ttyS0 sztp.url="+d.server.URL+" sztp.removable-storage="+dev+" sztp.once\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := runSztp(t, append([]string{"run", "--cmdline-file", cmdline, "--config", "", "--os-release", "",
		"--voucher-trust-anchor", voucherCA, "--server-trust-anchor", d.files["ca.pem"],
		"--state-dir", filepath.Join(d.dir, "state"), "--config-hook", "file:" + cfg}, d.identity()...)...)
	if code != 0 || out != "success\n" {
		t.Fatalf("exit %d, stdout %q\n%s", code, out, errOut)
	}
	if got, _ := os.ReadFile(cfg); string(got) != "from-stick\n" {
		t.Errorf("configuration %q, want the stick's", got)
	}
	if r := d.server.Requests(); len(r) != 0 {
		t.Errorf("the configured server was asked before removable storage: %+v", r)
	}
	if m := removabletest.Mounts(t, dev); len(m) != 0 {
		t.Errorf("%s still mounted on %q", dev, m)
	}
}
