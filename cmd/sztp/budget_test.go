package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The agent is flashed into firmware images: it must stay a static binary of
// at most 8 MiB (amd64, stripped). These packages each cost hundreds of KiB
// and have small replacements in the tree (internal/httpx, internal/cli, a
// loop instead of a regexp), so the agent must not link them.
var forbiddenDeps = map[string]string{
	"net/http":                              "use internal/httpx (net/http costs ~0.5 MiB, its Transport ~0.6 MiB more)",
	"text/template":                         "keeps every exported method alive through reflection",
	"html/template":                         "keeps every exported method alive through reflection",
	"regexp":                                "~0.2 MiB; write the check as a loop",
	"github.com/spf13/cobra":                "use internal/cli (cobra's help templates cost ~0.25 MiB)",
	"github.com/u-root/u-root/pkg/dhclient": "netlink costs ~1 MiB; dhcpopts has its own rtnetlink",
}

func TestAgentDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list -deps: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if why, bad := forbiddenDeps[dep]; bad {
			t.Errorf("cmd/sztp links %s: %s", dep, why)
		}
	}
}

const budget = 8 << 20 // bytes, amd64, -trimpath -ldflags='-s -w'

func TestAgentBinaryBudget(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the agent")
	}
	bin := filepath.Join(t.TempDir(), "sztp")
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s -w", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH=amd64")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	fi, err := os.Stat(bin)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("static stripped amd64 agent: %d bytes (%.2f MiB of 8)", fi.Size(), float64(fi.Size())/(1<<20))
	if fi.Size() > budget {
		t.Errorf("agent is %d bytes, over the %d-byte budget", fi.Size(), budget)
	}
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("agent has an ELF interpreter: not statically linked")
		}
	}
}
