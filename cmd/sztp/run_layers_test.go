package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

// Issue 2 item 5: the bootstrap server can come from sztp.url= on the
// kernel command line, and the device's settings from the config file.
func TestRunFromKernelCommandLineAndConfigFile(t *testing.T) {
	d := newTestDevice(t, "KC-1")
	dir, files, s := d.dir, d.files, d.server
	s.SetResponse("KC-1", &sztptest.Response{Conveyed: &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("layered\n"),
	}}})
	out := filepath.Join(dir, "running.cfg")
	config := filepath.Join(dir, "config.yaml")
	os.WriteFile(config, []byte(
		"# device settings\n"+
			"idevid-cert: "+files["device.pem"]+"\n"+
			"idevid-key: "+files["device.key"]+"\n"+
			"server-trust-anchor:\n  - "+files["ca.pem"]+"\n"+
			"config-hook: file:"+out+"\n"+
			"state-dir: "+filepath.Join(dir, "state")+"\n"+
			"bootstrap-url: [https://192.0.2.1:1]\n"+ // replaced by the kernel's
			"os-release: ''\n"), 0o600)
	cmdline := filepath.Join(dir, "cmdline")
	os.WriteFile(cmdline, []byte("BOOT_IMAGE=/vmlinuz ro quiet sztp.url="+s.URL+" sztp.once\n"), 0o600)
	stdout, errOut, code := runSztp(t, "run", "--config", config, "--cmdline-file", cmdline)
	if code != 0 || stdout != "success\n" {
		t.Fatalf("exit %d, stdout %q\n%s", code, stdout, errOut)
	}
	if data, _ := os.ReadFile(out); string(data) != "layered\n" {
		t.Errorf("config hook wrote %q", data)
	}
}
