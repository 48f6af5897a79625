package harness

import (
	"slices"
	"testing"
)

func TestQEMUArgsUSBStick(t *testing.T) {
	args := QEMUArgs(VMConfig{Kernel: "k", Initrd: "i", USBStick: "/x/stick.img"})
	want := []string{"-drive", "if=none,id=stick,format=raw,readonly=on,file=/x/stick.img",
		"-device", "qemu-xhci,id=xhci", "-device", "usb-storage,bus=xhci.0,drive=stick"}
	if !containsRun(args, want) {
		t.Errorf("QEMUArgs lacks %q: %q", want, args)
	}
	if slices.Contains(QEMUArgs(VMConfig{Kernel: "k", Initrd: "i"}), "qemu-xhci") {
		t.Error("a USB controller without a stick")
	}
}
