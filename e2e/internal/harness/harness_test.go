package harness

import (
	"bytes"
	"net/netip"
	"slices"
	"strings"
	"testing"
)

func TestOption143(t *testing.T) {
	long := "https://" + strings.Repeat("a", 250)
	tests := []struct {
		name    string
		uris    []string
		want    []byte
		wantErr string
	}{
		{name: "one URI (RFC 8572 8.3 framing)", uris: []string{"https://192.0.2.1:8443"},
			want: append([]byte{0, 22}, "https://192.0.2.1:8443"...)},
		{name: "two URIs in order", uris: []string{"https://a", "https://b:1"},
			want: append(append([]byte{0, 9}, "https://a"...), append([]byte{0, 11}, "https://b:1"...)...)},
		{name: "none", uris: nil, want: nil},
		{name: "empty URI", uris: []string{""}, wantErr: "out of range"},
		{name: "longer than one DHCP option", uris: []string{long}, wantErr: "more than one DHCP option"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Option143(tc.uris)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("Option143(%q) error = %v, want one containing %q", tc.uris, err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tc.want) {
				t.Errorf("Option143(%q) = %x, want %x", tc.uris, got, tc.want)
			}
		})
	}
}

func TestDNSMasqHex(t *testing.T) {
	if got, want := dnsmasqHex([]byte{0, 0x16, 0x68, 0xff}), "00:16:68:ff"; got != want {
		t.Errorf("dnsmasqHex = %q, want %q", got, want)
	}
}

func TestNetmask(t *testing.T) {
	for _, tc := range []struct{ prefix, want string }{
		{"192.0.2.1/24", "255.255.255.0"},
		{"10.0.0.1/8", "255.0.0.0"},
		{"10.1.2.3/30", "255.255.255.252"},
		{"10.1.2.3/32", "255.255.255.255"},
	} {
		if got := netipMask(netip.MustParsePrefix(tc.prefix)); got != tc.want {
			t.Errorf("netipMask(%s) = %s, want %s", tc.prefix, got, tc.want)
		}
	}
}

func TestQEMUArgs(t *testing.T) {
	t.Setenv("SZTP_E2E_ACCEL", "tcg")
	args := QEMUArgs(VMConfig{Kernel: "k", Initrd: "i", Append: "console=ttyS0", Tap: "tap0", TPMSocket: "/s", Console: "c"})
	for _, want := range [][]string{
		{"-accel", "tcg", "-cpu", "max"}, // entropy under TCG (platform-recipes 3)
		{"-no-reboot"},
		{"-kernel", "k", "-initrd", "i", "-append", "console=ttyS0"},
		{"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no", "-device", "e1000,netdev=n0"},
		{"-vga", "none"}, // issue 13 item 1
		{"-chardev", "socket,id=chrtpm,path=/s", "-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis,tpmdev=tpm0"},
	} {
		if !containsRun(args, want) {
			t.Errorf("QEMUArgs lacks %q: %q", want, args)
		}
	}
	// Issue 13 item 1: the single-boot scenario's virtio-net NIC.
	virtio := QEMUArgs(VMConfig{Kernel: "k", Initrd: "i", Tap: "tap0", NIC: "virtio-net-pci"})
	if !containsRun(virtio, []string{"-device", "virtio-net-pci,netdev=n0"}) {
		t.Errorf("QEMUArgs with NIC virtio-net-pci = %q", virtio)
	}
	// Issue 13 item 1: the single-boot scenario's PVH boot under qboot.
	pvh := QEMUArgs(VMConfig{Kernel: "vmlinux", Initrd: "i", Firmware: QBootROM})
	if !containsRun(pvh, []string{"-bios", QBootROM}) || !containsRun(pvh, []string{"-kernel", "vmlinux"}) {
		t.Errorf("QEMUArgs with Firmware = %q", pvh)
	}
	bare := QEMUArgs(VMConfig{Kernel: "k", Initrd: "i"})
	if !containsRun(bare, []string{"-nic", "none"}) || slices.Contains(bare, "-tpmdev") || slices.Contains(bare, "-bios") {
		t.Errorf("QEMUArgs without tap and TPM = %q", bare)
	}
	t.Setenv("SZTP_E2E_ACCEL", "kvm")
	if got := Accel(); !slices.Equal(got, []string{"-accel", "kvm", "-cpu", "host"}) {
		t.Errorf("Accel with SZTP_E2E_ACCEL=kvm = %q", got)
	}
}

// The arm64 guest (issue 15 item 2): a virt machine under TCG with
// virtio-net on virtio-mmio and tpm-tis-device, whatever /dev/kvm says.
func TestQEMUArgsArm64(t *testing.T) {
	t.Setenv("SZTP_E2E_ACCEL", "kvm")
	args := QEMUArgs(VMConfig{Arch: "arm64", CPUs: 2, Kernel: "k", Initrd: "i", Append: "console=ttyAMA0", Tap: "tap0", TPMSocket: "/s"})
	if args[0] != "qemu-system-aarch64" {
		t.Errorf("binary %q, want qemu-system-aarch64", args[0])
	}
	for _, want := range [][]string{
		{"-M", "virt", "-accel", "tcg", "-cpu", "max"},
		{"-smp", "2"},
		{"-kernel", "k", "-initrd", "i", "-append", "console=ttyAMA0"},
		{"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no", "-device", "virtio-net-device,netdev=n0"},
		{"-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", "tpm-tis-device,tpmdev=tpm0"},
	} {
		if !containsRun(args, want) {
			t.Errorf("QEMUArgs lacks %q: %q", want, args)
		}
	}
	if slices.Contains(QEMUArgs(VMConfig{Kernel: "k", Initrd: "i"}), "-smp") {
		t.Error("QEMUArgs without CPUs passes -smp")
	}
}

func containsRun(s, run []string) bool {
	for i := 0; i+len(run) <= len(s); i++ {
		if slices.Equal(s[i:i+len(run)], run) {
			return true
		}
	}
	return false
}
