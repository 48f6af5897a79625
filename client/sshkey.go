package client

import (
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"

	"github.com/sztp/sztp/client/conveyed"
)

// Completion is what bootstrap-complete carries besides its type (C66):
// the device's SSH host keys and the trust anchors of its end-entity
// certificate, so that the server (or the NMS behind it) can authenticate
// the device when it next connects.
type Completion struct {
	SSHHostKeys []conveyed.SSHHostKey
	// TrustAnchorCerts are certs-only CMS structures, each one chain up to
	// a self-signed root whose last certificate issued the device's
	// end-entity certificate.
	TrustAnchorCerts [][]byte
}

// ParseSSHPublicKey reads an OpenSSH public key file (such as
// /etc/ssh/ssh_host_ed25519_key.pub: "ALGORITHM BASE64 [COMMENT]"; blank
// and # lines are skipped) into an ssh-host-key entry: the algorithm name
// and the RFC 4253 section 6.6 public key blob, which must name the same
// algorithm.
func ParseSSHPublicKey(data []byte) (conveyed.SSHHostKey, error) {
	for line := range bytes.Lines(data) {
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		f := bytes.Fields(line)
		if len(f) < 2 || bytes.HasPrefix(line, []byte("-----")) {
			return conveyed.SSHHostKey{}, errors.New("ssh public key: want ALGORITHM BASE64 [COMMENT] (an OpenSSH .pub file)")
		}
		alg := string(f[0])
		for _, c := range f[0] {
			if c < 0x21 || c > 0x7e {
				return conveyed.SSHHostKey{}, fmt.Errorf("ssh public key: algorithm name %q is not printable ASCII", alg)
			}
		}
		blob, err := base64.StdEncoding.DecodeString(string(f[1]))
		if err != nil {
			return conveyed.SSHHostKey{}, fmt.Errorf("ssh public key %s: key data is not base64: %w", alg, err)
		}
		if len(blob) < 4 || uint64(binary.BigEndian.Uint32(blob)) > uint64(len(blob)-4) {
			return conveyed.SSHHostKey{}, fmt.Errorf("ssh public key %s: key data truncated", alg)
		}
		if name := string(blob[4 : 4+binary.BigEndian.Uint32(blob)]); name != alg {
			return conveyed.SSHHostKey{}, fmt.Errorf("ssh public key %s: key data names %q", alg, name)
		}
		return conveyed.SSHHostKey{Algorithm: alg, KeyData: blob}, nil
	}
	return conveyed.SSHHostKey{}, errors.New("ssh public key: no public key in the file")
}
