// Command e2e-probe is the guest side of the harness self-test
// (TestHarnessQEMU): it proves the test's real parts work before the agent
// is involved. It is the uinit of a probe initramfs and, configured from the
// kernel command line, it
//
//   - gets a DHCPv4 lease asking for option 143 and prints the URIs,
//   - reads the IDevID certificate from the TPM's NV index and prints its
//     subject,
//   - stage 1 (e2e.stage=1): downloads a tar bundle (kernel, initrd,
//     cmdline) from e2e.bundle= and kexecs into it,
//   - stage 2 (e2e.stage=2): prints e2e.marker= and powers off.
//
// Every result line starts with "E2E-PROBE " on the console.
package main

import (
	"archive/tar"
	"context"
	"crypto/x509"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/google/go-tpm/tpm2"
	"github.com/google/go-tpm/tpm2/transport/linuxtpm"
	"github.com/insomniacslk/dhcp/dhcpv4"
	"github.com/u-root/u-root/pkg/boot/kexec"
	"github.com/u-root/u-root/pkg/dhclient"
	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

func say(format string, a ...any) { fmt.Printf("E2E-PROBE "+format+"\n", a...) }

func main() {
	if err := probe(); err != nil {
		say("FAIL %v", err)
	}
	_ = unix.Reboot(unix.LINUX_REBOOT_CMD_POWER_OFF)
}

func probe() error {
	raw, err := os.ReadFile("/proc/cmdline")
	if err != nil {
		return err
	}
	kv := map[string]string{}
	for _, f := range strings.Fields(string(raw)) {
		k, v, _ := strings.Cut(f, "=")
		kv[k] = v
	}
	stage := kv["e2e.stage"]
	say("stage %s", stage)
	if stage == "2" {
		say("marker %s", kv["e2e.marker"])
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	uris, err := lease(ctx)
	if err != nil {
		return err
	}
	say("option-143 %s", strings.Join(uris, " "))
	subject, err := idevidSubject()
	if err != nil {
		return err
	}
	say("idevid %s", subject)
	return kexecBundle(ctx, kv["e2e.bundle"])
}

// lease runs DHCPv4 on every non-loopback link, asking for option 143, and
// returns the URIs of the first lease (RFC 8572 8.3 framing).
func lease(ctx context.Context) ([]string, error) {
	links, err := netlink.LinkList()
	if err != nil {
		return nil, err
	}
	var ifs []netlink.Link
	for _, l := range links {
		if l.Attrs().Flags&(1<<3) != 0 || l.Attrs().Name == "lo" { // net.FlagLoopback
			continue
		}
		up, err := dhclient.IfUp(l.Attrs().Name, 10*time.Second)
		if err != nil {
			return nil, err
		}
		ifs = append(ifs, up)
	}
	if len(ifs) == 0 {
		return nil, fmt.Errorf("no network interface (is e1000.ko in /lib/modules?)")
	}
	opt := dhcpv4.GenericOptionCode(143)
	cfg := dhclient.Config{Timeout: 5 * time.Second, Retries: 5,
		Modifiers4: []dhcpv4.Modifier{dhcpv4.WithRequestedOptions(opt)}}
	for r := range dhclient.SendRequests(ctx, ifs, true, false, cfg, 10*time.Second) {
		if r.Err != nil {
			say("dhcp on %s: %v", r.Interface.Attrs().Name, r.Err)
			continue
		}
		if err := r.Lease.Configure(); err != nil {
			return nil, err
		}
		ack, _ := r.Lease.Message()
		say("lease %s on %s", ack.YourIPAddr, r.Interface.Attrs().Name)
		b := ack.Options.Get(opt)
		var uris []string
		for len(b) >= 2 {
			n := int(b[0])<<8 | int(b[1])
			if len(b) < 2+n {
				return nil, fmt.Errorf("option 143: truncated entry")
			}
			uris = append(uris, string(b[2:2+n]))
			b = b[2+n:]
		}
		if len(uris) == 0 {
			return nil, fmt.Errorf("lease without option 143")
		}
		return uris, nil
	}
	return nil, fmt.Errorf("no DHCPv4 lease")
}

// idevidSubject reads the certificate in NV index 0x01C90000 of /dev/tpmrm0.
func idevidSubject() (string, error) {
	t, err := linuxtpm.Open("/dev/tpmrm0")
	if err != nil {
		return "", err
	}
	defer t.Close()
	idx := tpm2.TPMHandle(0x01C90000)
	pub, err := tpm2.NVReadPublic{NVIndex: idx}.Execute(t)
	if err != nil {
		return "", fmt.Errorf("NV_ReadPublic: %w", err)
	}
	p, err := pub.NVPublic.Contents()
	if err != nil {
		return "", err
	}
	var der []byte
	for off := 0; off < int(p.DataSize); {
		n := min(int(p.DataSize)-off, 512)
		rsp, err := tpm2.NVRead{
			AuthHandle: tpm2.AuthHandle{Handle: idx, Name: pub.NVName, Auth: tpm2.PasswordAuth(nil)},
			NVIndex:    tpm2.NamedHandle{Handle: idx, Name: pub.NVName},
			Size:       uint16(n), Offset: uint16(off),
		}.Execute(t)
		if err != nil {
			return "", fmt.Errorf("NV_Read: %w", err)
		}
		der = append(der, rsp.Data.Buffer...)
		off += n
	}
	c, err := x509.ParseCertificate(der)
	if err != nil {
		return "", err
	}
	return c.Subject.String(), nil
}

// kexecBundle downloads a tar of kernel, initrd and cmdline and kexecs it.
func kexecBundle(ctx context.Context, url string) error {
	if url == "" {
		return fmt.Errorf("no e2e.bundle= on the command line")
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", url, resp.Status)
	}
	dir, err := os.MkdirTemp("", "bundle")
	if err != nil {
		return err
	}
	tr := tar.NewReader(resp.Body)
	files := map[string]string{}
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			return err
		}
		name := filepath.Base(h.Name)
		p := filepath.Join(dir, name)
		f, err := os.Create(p)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, tr); err != nil {
			return err
		}
		f.Close()
		files[name] = p
	}
	say("bundle downloaded")
	k, err := os.Open(files["kernel"])
	if err != nil {
		return err
	}
	i, err := os.Open(files["initrd"])
	if err != nil {
		return err
	}
	cmdline, err := os.ReadFile(files["cmdline"])
	if err != nil {
		return err
	}
	if err := kexec.FileLoad(k, i, strings.TrimSpace(string(cmdline))); err != nil {
		return fmt.Errorf("kexec_file_load: %w", err)
	}
	say("kexec")
	return kexec.Reboot()
}
