package boot_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sztp/sztp/boot"
)

// A post-configuration script that warns: exit status 10.
func ExampleNewScriptRunner() {
	dir, _ := os.MkdirTemp("", "sztp-example-")
	defer os.RemoveAll(dir)
	r := boot.NewScriptRunner(filepath.Join(dir, "scripts"), boot.Options{})
	script := []byte("#!/bin/sh\necho \"NTP server unreachable, continuing\"\nexit 10\n")
	res, err := r.RunScript(context.Background(), "post-configuration-script", script)
	if err != nil {
		fmt.Println("error:", err)
		return
	}
	fmt.Printf("%s: %s", res.Status, res.Output)
	// Output: warning: NTP server unreachable, continuing
}

// Merging JSON configuration into a file, then rolling it back.
func ExampleNewConfigHook() {
	dir, _ := os.MkdirTemp("", "sztp-example-")
	defer os.RemoveAll(dir)
	running := filepath.Join(dir, "running.json")
	os.WriteFile(running, []byte(`{"hostname":"factory","sztp":{"enabled":true}}`), 0o600)

	h, err := boot.NewConfigHook("file:"+running, boot.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	undo, err := h.ApplyConfig(context.Background(), boot.Config{
		Data:     []byte(`{"hostname":"dpu-0042","sztp":{"enabled":false}}`),
		Handling: boot.HandlingMerge,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(running)
	fmt.Print(string(b))
	undo()
	b, _ = os.ReadFile(running)
	fmt.Println(string(b))
	// Output:
	// {
	//   "hostname": "dpu-0042",
	//   "sztp": {
	//     "enabled": false
	//   }
	// }
	// {"hostname":"factory","sztp":{"enabled":true}}
}

// The image hooks compiled in, for --help text.
func ExampleImageHooks() {
	for _, h := range boot.ImageHooks() {
		fmt.Println(h.Usage)
	}
	// Output:
	// exec:PROGRAM
	// file:PATH
	// kexec
	// none
	// reboot[:PROGRAM]
}
