package swtpmtest

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

// The harness itself: two instances side by side, provisioning, a clean
// Stop that leaves the state behind, and teardown by PID.
func TestStartProvisionStop(t *testing.T) {
	a, b := Start(t), Start(t)
	if a.Path == b.Path || a.StateDir == b.StateDir {
		t.Fatalf("two instances share %s / %s", a.Path, a.StateDir)
	}
	id := a.ProvisionIDevID(t, IDevIDOptions{Alg: "ecc384:null", Subject: "/serialNumber=H-1/CN=h"})
	if id.Cert.Subject.SerialNumber != "H-1" || id.Cert.CheckSignatureFrom(id.CA) != nil {
		t.Fatalf("certificate %s not issued by the test CA", id.Cert.Subject)
	}
	out := a.Tool(t, "tpm2_getcap", "handles-persistent")
	if !strings.Contains(strings.ToLower(string(out)), "0x81020000") {
		t.Fatalf("persistent handles: %s", out)
	}
	a.Stop()
	if err := syscall.Kill(a.PID, 0); err == nil {
		t.Fatalf("swtpm %d still running after Stop", a.PID)
	}
	if _, err := os.Stat(filepath.Join(a.StateDir, "tpm2-00.permall")); err != nil {
		t.Fatalf("state not kept after Stop: %v", err)
	}
	a.Stop() // idempotent
	u := StartUnix(t)
	if !strings.HasPrefix(u.Path, "unix://") {
		t.Fatalf("unix path %q", u.Path)
	}
}
