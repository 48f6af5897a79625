package harness

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// IDevID is what ProvisionIDevID made: a TPM state directory whose TPM holds
// an ECC P-256 IDevID key at KeyHandle and its certificate at CertIndex, and
// the test CA that issued the certificate (the bootstrap server trusts it for
// client authentication).
type IDevID struct {
	StateDir     string
	SerialNumber string
	CACert       string // PEM
	Cert         string // DER, also in the TPM's NV index
	KeyHandle    string
	CertIndex    string
}

// Default IDevID locations (TCG provisioning guidance; the agent's defaults).
const (
	IDevIDKeyHandle = "0x81020000"
	IDevIDCertIndex = "0x01C90000"
)

// swtpm ports inside the namespace: its loopback is private to the test, so
// fixed ports cannot collide with anyone else's.
const (
	swtpmServerPort = 2321
	swtpmCtrlPort   = 2322
)

// ProvisionIDevID creates a TPM state in dir/tpm-state and provisions an
// IDevID into it with tpm2-tools and the openssl command line
// (platform-recipes 1c), running swtpm over TCP on the namespace's loopback.
// The swtpm is shut down cleanly before it returns.
func ProvisionIDevID(ctx context.Context, n *Netns, dir, serial string) (*IDevID, error) {
	id := &IDevID{
		StateDir:     filepath.Join(dir, "tpm-state"),
		SerialNumber: serial,
		CACert:       filepath.Join(dir, "idevid-ca.pem"),
		Cert:         filepath.Join(dir, "idevid.der"),
		KeyHandle:    IDevIDKeyHandle,
		CertIndex:    IDevIDCertIndex,
	}
	if err := os.MkdirAll(id.StateDir, 0o700); err != nil {
		return nil, err
	}
	sw, err := Start("swtpm-provision", filepath.Join(dir, "swtpm-provision.log"), n.Exec("swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+id.StateDir,
		"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", swtpmServerPort),
		"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=127.0.0.1", swtpmCtrlPort),
		"--flags", "not-need-init,startup-clear")...)
	if err != nil {
		return nil, err
	}
	defer sw.Stop(5 * time.Second)

	tcti := fmt.Sprintf("TPM2TOOLS_TCTI=swtpm:host=127.0.0.1,port=%d", swtpmServerPort)
	tpm := func(args ...string) []string { return n.Exec(append([]string{"env", tcti}, args...)...) }
	f := func(name string) string { return filepath.Join(dir, name) }

	// swtpm listens within a fraction of a second (it was started with
	// startup-clear); retry the first command until it answers.
	if err := retry(ctx, 10*time.Second, tpm("tpm2_getcap", "properties-fixed")...); err != nil {
		return nil, fmt.Errorf("harness: swtpm does not answer: %w", err)
	}
	if err := os.WriteFile(f("idevid.ext"), []byte("keyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n"), 0o644); err != nil {
		return nil, err
	}
	steps := [][]string{
		tpm("tpm2_createprimary", "-Q", "-C", "e", "-g", "sha256", "-G", "ecc256:null",
			"-a", "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|sign", "-c", f("idevid.ctx")),
		tpm("tpm2_evictcontrol", "-Q", "-C", "o", "-c", f("idevid.ctx"), id.KeyHandle),
		tpm("tpm2_readpublic", "-Q", "-c", id.KeyHandle, "-f", "pem", "-o", f("idevid.pub.pem")),
		{"openssl", "ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", f("idevid-ca.key")},
		{"openssl", "req", "-x509", "-new", "-key", f("idevid-ca.key"), "-subj", "/O=sztp e2e/CN=sztp e2e IDevID CA",
			"-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign",
			"-days", "2", "-out", id.CACert},
		{"openssl", "req", "-new", "-key", f("idevid-ca.key"), "-subj", "/CN=dummy", "-out", f("dummy.csr")},
		{"openssl", "x509", "-req", "-in", f("dummy.csr"), "-CA", id.CACert, "-CAkey", f("idevid-ca.key"),
			"-CAcreateserial", "-force_pubkey", f("idevid.pub.pem"),
			"-subj", "/O=sztp e2e/serialNumber=" + serial + "/CN=" + serial,
			"-days", "2", "-extfile", f("idevid.ext"), "-outform", "DER", "-out", id.Cert},
	}
	for _, s := range steps {
		if _, err := run(ctx, s...); err != nil {
			return nil, fmt.Errorf("harness: provisioning IDevID: %w", err)
		}
	}
	st, err := os.Stat(id.Cert)
	if err != nil {
		return nil, err
	}
	for _, s := range [][]string{
		tpm("tpm2_nvdefine", "-Q", id.CertIndex, "-C", "p", "-s", strconv.FormatInt(st.Size(), 10),
			"-a", "ppwrite|ppread|ownerread|authread|no_da|platformcreate"),
		tpm("tpm2_nvwrite", "-Q", id.CertIndex, "-C", "p", "-i", id.Cert),
		tpm("tpm2_nvread", "-Q", id.CertIndex, "-C", id.CertIndex, "-o", f("idevid.readback.der")),
	} {
		if _, err := run(ctx, s...); err != nil {
			return nil, fmt.Errorf("harness: storing the IDevID certificate: %w", err)
		}
	}
	a, errA := os.ReadFile(id.Cert)
	b, errB := os.ReadFile(f("idevid.readback.der"))
	if errA != nil || errB != nil || !bytes.Equal(a, b) {
		return nil, fmt.Errorf("harness: IDevID certificate read back from NV %s differs from the one written", id.CertIndex)
	}
	if _, err := run(ctx, n.Exec("swtpm_ioctl", "--tcp", fmt.Sprintf("127.0.0.1:%d", swtpmCtrlPort), "-s")...); err != nil {
		return nil, fmt.Errorf("harness: shutting down the provisioning swtpm: %w", err)
	}
	if err := sw.Wait(ctx); err != nil {
		return nil, fmt.Errorf("harness: provisioning swtpm: %w", err)
	}
	return id, nil
}

// retry runs argv until it succeeds or timeout passes.
func retry(ctx context.Context, timeout time.Duration, argv ...string) error {
	deadline := time.Now().Add(timeout)
	for {
		_, err := run(ctx, argv...)
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// StartVTPM starts swtpm on the provisioned state as a QEMU TPM emulator
// backend (control channel on a unix socket at sock). QEMU initialises it;
// swtpm exits when the VM does, so start one per boot.
func StartVTPM(ctx context.Context, stateDir, sock, logPath string) (*Process, error) {
	p, err := Start("swtpm", logPath, "swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+stateDir,
		"--ctrl", "type=unixio,path="+sock,
		"--log", "level=1")
	if err != nil {
		return nil, err
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if _, err := os.Stat(sock); err == nil {
			return p, nil
		}
		if done, err := p.Exited(); done {
			return nil, fmt.Errorf("harness: swtpm exited before creating %s: %v", sock, err)
		}
		if time.Now().After(deadline) {
			p.Stop(2 * time.Second)
			return nil, fmt.Errorf("harness: swtpm did not create %s", sock)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// StartNetworkTPM starts swtpm on the provisioned state in the namespace n,
// serving TPM 2.0 commands on addr:2321 (the host side of the tap), for a
// guest whose kernel has no driver for QEMU's TPM device: the guest's agent
// reaches it as --tpm tcp://ADDR:2321 once its network is up. The control
// channel is on ADDR:2322 (tpm2-tools' swtpm TCTI, which checks that the
// server answers, expects it on the next port of the same host). It returns
// the process and the agent's --tpm value.
func StartNetworkTPM(ctx context.Context, n *Netns, stateDir, addr, logPath string) (*Process, string, error) {
	p, err := Start("swtpm", logPath, n.Exec("swtpm", "socket", "--tpm2",
		"--tpmstate", "dir="+stateDir,
		"--server", fmt.Sprintf("type=tcp,port=%d,bindaddr=%s", swtpmServerPort, addr),
		"--ctrl", fmt.Sprintf("type=tcp,port=%d,bindaddr=%s", swtpmCtrlPort, addr),
		"--flags", "not-need-init,startup-clear", "--log", "level=1")...)
	if err != nil {
		return nil, "", err
	}
	tcti := fmt.Sprintf("TPM2TOOLS_TCTI=swtpm:host=%s,port=%d", addr, swtpmServerPort)
	if err := retry(ctx, 10*time.Second, n.Exec("env", tcti, "tpm2_getcap", "properties-fixed")...); err != nil {
		p.Stop(2 * time.Second)
		return nil, "", fmt.Errorf("harness: network swtpm does not answer: %w", err)
	}
	return p, fmt.Sprintf("tcp://%s:%d", addr, swtpmServerPort), nil
}
