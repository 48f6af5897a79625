package harness

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"strconv"
)

// VMConfig describes one QEMU guest.
type VMConfig struct {
	Kernel, Initrd, Append string
	// Firmware is QEMU's -bios; "" is its default (SeaBIOS on amd64).
	// QBootROM with an ELF Kernel (fetch-kernel's VMLINUX) boots through
	// the PVH entry point: no BIOS option ROMs, no boot-stub
	// decompression (issue 13 item 1).
	Firmware string
	// Arch is the guest's architecture: "amd64" (the default; a pc machine
	// with an e1000 NIC and a tpm-tis TPM) or "arm64" (a `virt` machine
	// under TCG with -cpu max, a virtio-net NIC on virtio-mmio and a
	// tpm-tis-device TPM).
	Arch      string
	CPUs      int    // -smp; default 1
	MemoryMiB int    // default 1024 (the stage-1 guest holds the downloaded bundle in RAM)
	Tap       string // tap device in the namespace; "" for no NIC
	// NIC is the -device of the tap's NIC; "" for the architecture's
	// default. "virtio-net-pci" on amd64 needs the modules of
	// `e2e/build-initramfs --virtio-net`; its link is up at once.
	NIC       string
	TPMSocket string // swtpm control socket; "" for no TPM
	// USBStick is a raw disk image attached read-only as a USB mass-storage
	// device behind an xHCI controller; "" for none.
	USBStick string
	// Console receives the guest's serial console (and QEMU's own messages).
	Console string
}

// Accel returns the QEMU accelerator arguments: KVM when /dev/kvm is usable
// and the CPU has hardware virtualisation, TCG otherwise. TCG uses -cpu max:
// it emulates RDRAND, without which a TCG guest's getrandom blocks and the
// DHCP client hangs (platform-recipes 3). SZTP_E2E_ACCEL=kvm|tcg overrides.
func Accel() []string {
	tcg := []string{"-accel", "tcg", "-cpu", "max"}
	kvm := []string{"-accel", "kvm", "-cpu", "host"}
	switch os.Getenv("SZTP_E2E_ACCEL") {
	case "tcg":
		return tcg
	case "kvm":
		return kvm
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return tcg
	}
	f.Close()
	info, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || !(bytes.Contains(info, []byte(" vmx")) || bytes.Contains(info, []byte(" svm"))) {
		// /dev/kvm can exist without usable VT-x (nested setups): QEMU then
		// fails setting MSRs. Only trust KVM when the CPU advertises it.
		return tcg
	}
	return kvm
}

// QBootROM is qboot, QEMU's minimal x86 firmware (Debian's
// qemu-system-data). Unlike SeaBIOS it keeps its ACPI tables (the TPM's
// among them) below 1 MiB: with SeaBIOS, QEMU's PVH loader puts the
// initramfs over the tables SeaBIOS built at the top of RAM once a TPM's
// log area makes them larger than the room QEMU leaves for them, and the
// guest never starts.
const QBootROM = "/usr/share/qemu/qboot.rom"

// qemuArch is what differs between the architectures' command lines.
type qemuArch struct {
	binary  string
	machine []string // -M ..., and the accelerator
	nic     string   // -device for the tap
	tpm     string   // -device for the TPM emulator
}

func archOf(arch string) qemuArch {
	if arch == "arm64" {
		// TCG only: this harness runs on amd64 hosts. -cpu max has FEAT_RNG
		// (RNDR), which seeds the guest's random pool at once.
		return qemuArch{"qemu-system-aarch64", []string{"-M", "virt", "-accel", "tcg", "-cpu", "max"},
			"virtio-net-device", "tpm-tis-device"}
	}
	return qemuArch{"qemu-system-x86_64", Accel(), "e1000", "tpm-tis"}
}

// QEMUArgs returns the qemu-system-x86_64 (or, for Arch arm64,
// qemu-system-aarch64) command line for cfg.
func QEMUArgs(cfg VMConfig) []string {
	mem := cfg.MemoryMiB
	if mem == 0 {
		mem = 1024
	}
	a := archOf(cfg.Arch)
	argv := []string{a.binary}
	argv = append(argv, a.machine...)
	if cfg.CPUs > 1 {
		argv = append(argv, "-smp", strconv.Itoa(cfg.CPUs))
	}
	if cfg.Arch != "arm64" {
		// No VGA card: its option ROM's initialisation in SeaBIOS is slow
		// under TCG, and -nographic never shows it (issue 13 item 1).
		argv = append(argv, "-vga", "none")
	}
	if cfg.Firmware != "" {
		argv = append(argv, "-bios", cfg.Firmware)
	}
	argv = append(argv, "-nographic", "-no-reboot", "-m", strconv.Itoa(mem),
		"-kernel", cfg.Kernel, "-initrd", cfg.Initrd, "-append", cfg.Append)
	if cfg.NIC != "" {
		a.nic = cfg.NIC
	}
	if cfg.Tap != "" {
		argv = append(argv, "-netdev", "tap,id=n0,ifname="+cfg.Tap+",script=no,downscript=no",
			"-device", a.nic+",netdev=n0")
	} else {
		argv = append(argv, "-nic", "none")
	}
	if cfg.TPMSocket != "" {
		argv = append(argv, "-chardev", "socket,id=chrtpm,path="+cfg.TPMSocket,
			"-tpmdev", "emulator,id=tpm0,chardev=chrtpm", "-device", a.tpm+",tpmdev=tpm0")
	}
	if cfg.USBStick != "" {
		argv = append(argv, "-drive", "if=none,id=stick,format=raw,readonly=on,file="+cfg.USBStick,
			"-device", "qemu-xhci,id=xhci", "-device", "usb-storage,bus=xhci.0,drive=stick")
	}
	return argv
}

// StartVM boots cfg in QEMU, inside the namespace n when it is not nil. The
// guest's console goes to cfg.Console; stdin is /dev/null, so a shell the
// guest starts on its console ends at once (and, with panic=-1 and
// -no-reboot, so does QEMU).
func StartVM(n *Netns, cfg VMConfig) (*Process, error) {
	argv := QEMUArgs(cfg)
	if n != nil {
		argv = n.Exec(argv...)
	}
	if _, err := exec.LookPath(argv[0]); err != nil {
		return nil, err
	}
	if cfg.Firmware != "" {
		if _, err := os.Stat(cfg.Firmware); err != nil {
			return nil, fmt.Errorf("qemu firmware (qboot is in Debian's qemu-system-data): %w", err)
		}
	}
	return Start("qemu", cfg.Console, argv...)
}
