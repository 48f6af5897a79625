package client_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/client/sztptest"
)

// bootstrapComplete returns the bootstrap-complete input the server got.
func bootstrapComplete(t *testing.T, s *sztptest.Server) *conveyed.ReportProgressInput {
	t.Helper()
	var found *conveyed.ReportProgressInput
	for _, r := range s.Requests() {
		if r.Report == nil {
			continue
		}
		if r.Report.ProgressType != conveyed.BootstrapComplete {
			if len(r.Report.SSHHostKeys) > 0 || len(r.Report.TrustAnchorCerts) > 0 {
				t.Errorf("C66: %s carries ssh-host-keys or trust-anchor-certs", r.Report.ProgressType)
			}
			continue
		}
		found = r.Report
	}
	if found == nil {
		t.Fatal("no bootstrap-complete report")
	}
	return found
}

// C66: the device's SSH host keys and trust-anchor certificates go with
// bootstrap-complete, and with no other report. They are read after the
// post-configuration script, which may have made them.
func TestC66_BootstrapCompleteCarriesHostKeysAndTrustAnchors(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding(), ReportingLevel: conveyed.Verbose})
	ta, err := sztptest.CertsOnly(e.pki.DeviceRoot.Cert, e.pki.DeviceCA.Cert)
	if err != nil {
		t.Fatal(err)
	}
	key := conveyed.SSHHostKey{Algorithm: "ssh-ed25519", KeyData: sshBlob("ssh-ed25519", bytes.Repeat([]byte{7}, 32))}
	cfg := e.config(s.URL)
	var calledAfter []string
	cfg.Completion = func(context.Context) (*client.Completion, error) {
		calledAfter = e.hooks.Steps()
		return &client.Completion{SSHHostKeys: []conveyed.SSHHostKey{key}, TrustAnchorCerts: [][]byte{ta}}, nil
	}
	if _, err := e.agent(cfg).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(calledAfter) == 0 || calledAfter[len(calledAfter)-1] != "post" {
		t.Errorf("completion info read after steps %v, want after the post-configuration script", calledAfter)
	}
	in := bootstrapComplete(t, s)
	if len(in.SSHHostKeys) != 1 || in.SSHHostKeys[0].Algorithm != key.Algorithm || !bytes.Equal(in.SSHHostKeys[0].KeyData, key.KeyData) {
		t.Errorf("ssh-host-keys %+v, want %+v", in.SSHHostKeys, key)
	}
	if len(in.TrustAnchorCerts) != 1 || !bytes.Equal(in.TrustAnchorCerts[0], ta) {
		t.Errorf("trust-anchor-certs: %d entries", len(in.TrustAnchorCerts))
	}
}

// C66: when the keys cannot be read, bootstrap-complete still goes, and its
// message says what was not sent and why.
func TestC66_UnreadableHostKeysAreNamedInTheMessage(t *testing.T) {
	e := newEnv(t)
	s := e.server()
	s.SetResponse(testSerial, &sztptest.Response{Conveyed: onboarding()})
	cfg := e.config(s.URL)
	cfg.Completion = func(context.Context) (*client.Completion, error) {
		return nil, errors.New("/etc/ssh/ssh_host_ed25519_key.pub: no such file")
	}
	if _, err := e.agent(cfg).RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := s.ProgressTypes(); !slices.Equal(got, fullReports) {
		t.Errorf("reports %v, want %v", got, fullReports)
	}
	in := bootstrapComplete(t, s)
	if len(in.SSHHostKeys) != 0 || !strings.Contains(in.Message, "ssh_host_ed25519_key.pub") {
		t.Errorf("bootstrap-complete %+v: want no keys and a message naming the file", in)
	}
}

func sshBlob(parts ...any) []byte {
	var b []byte
	for _, p := range parts {
		var s []byte
		switch v := p.(type) {
		case string:
			s = []byte(v)
		case []byte:
			s = v
		}
		b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
		b = append(b, s...)
	}
	return b
}

func TestParseSSHPublicKey(t *testing.T) {
	ed := sshBlob("ssh-ed25519", bytes.Repeat([]byte{1}, 32))
	b64 := base64.StdEncoding.EncodeToString(ed)
	for _, tc := range []struct {
		name, in string
		want     string // error substring, "" for success
	}{
		{"with comment", "ssh-ed25519 " + b64 + " root@device\n", ""},
		{"without comment", "ssh-ed25519 " + b64, ""},
		{"comment lines and blanks first", "# host key\n\nssh-ed25519 " + b64 + "\n", ""},
		{"no key", "# nothing\n", "no public key"},
		{"one field", "ssh-ed25519\n", "want ALGORITHM BASE64"},
		{"bad base64", "ssh-ed25519 !!!\n", "base64"},
		{"algorithm mismatch", "ssh-rsa " + b64 + "\n", `names "ssh-ed25519"`},
		{"truncated blob", "ssh-ed25519 " + base64.StdEncoding.EncodeToString(ed[:6]) + "\n", "truncated"},
		{"unprintable algorithm", "ssh-\x01 " + base64.StdEncoding.EncodeToString(sshBlob("ssh-\x01", []byte{1})) + "\n", "not printable"},
		{"private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n", "want ALGORITHM BASE64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			k, err := client.ParseSSHPublicKey([]byte(tc.in))
			if tc.want != "" {
				if err == nil || !strings.Contains(err.Error(), tc.want) {
					t.Fatalf("error %v, want %q", err, tc.want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm != "ssh-ed25519" || !bytes.Equal(k.KeyData, ed) {
				t.Errorf("got %+v", k)
			}
		})
	}
}

// A host key made by ssh-keygen (ssh-keygen -t ecdsa, kept in testdata) parses.
func TestParseSSHPublicKeyFromSSHKeygen(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "ssh_host_ecdsa_key.pub"))
	if err != nil {
		t.Fatal(err)
	}
	k, err := client.ParseSSHPublicKey(data)
	if err != nil {
		t.Fatal(err)
	}
	if k.Algorithm != "ecdsa-sha2-nistp256" || len(k.KeyData) < 100 {
		t.Errorf("got %s with %d octets of key data", k.Algorithm, len(k.KeyData))
	}
}

func FuzzParseSSHPublicKey(f *testing.F) {
	f.Add([]byte("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEBAQEB c\n"))
	f.Add([]byte("# x\n\nssh-rsa AAAA\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := client.ParseSSHPublicKey(data)
		if err == nil && (k.Algorithm == "" || len(k.KeyData) == 0) {
			t.Errorf("accepted an empty key: %+v", k)
		}
	})
}
