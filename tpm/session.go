package tpm

import (
	"bytes"
	"errors"
	"fmt"
	"sync"

	"github.com/google/go-tpm/tpm2"
)

// Protected TPM sessions. The threat is an interposer on the bus between
// the SoC and a discrete TPM (SPI/I2C/LPC): it can read every command and
// response and change them in flight. The measures:
//
//   - Every command that carries a secret or a signature (Sign,
//     RSA_Decrypt, ECDH_ZGen, Create, NV writes) is authorized by a salted
//     HMAC session with AES-128-CFB parameter encryption: the digest, the
//     decrypted content-encryption key, the ECDH shared secret, the new
//     key's sensitive area and NV data cross the bus encrypted, and the
//     response HMAC (keyed by the session key only the agent and the TPM
//     know) makes any change to a response an error.
//   - The salt is encrypted to a key whose public part the agent checks: the
//     SRK at 0x81000001, else the EK at 0x81010001, else the SRK primary
//     made from the TCG template; it must be a restricted decryption key
//     fixed to the TPM, its Name must match its public area, and when a pin
//     is set (the Name recorded on first use) it must be that key.
//   - Every key's Name is computed from its public area and must equal the
//     Name the TPM returned: the HMAC binds the Name, so a substituted
//     public area (a key the interposer controls) cannot be used silently.
//   - Every signature from the TPM is verified against the key's public key
//     before it is used.

// Well-known persistent handles of the salt key candidates (TCG).
const ekHandle = 0x81010001

// ErrSaltKeyPin says the salt key is not the one pinned.
var ErrSaltKeyPin = errors.New("tpm salt key differs from the pinned one")

// saltKey is the key that encrypts session salts.
type saltKey struct {
	handle tpm2.TPMHandle
	pub    tpm2.TPMTPublic
	name   tpm2.TPM2BName
	flush  func()
	srk    bool // a transient primary from the SRK template (a storage parent too)
}

// sessionState is a Device's protected-session setup.
type sessionState struct {
	op   sync.Mutex // held across one protected command
	mu   sync.Mutex
	salt *saltKey
	err  error
	// pin, when set, is the Name the salt key must have.
	pin []byte
	// Unprotected turns protected sessions off (a TPM without AES-CFB).
	unprotected bool
}

// PinSaltKey makes the Device accept only the salt key with this Name
// (recorded by SaltKeyName on an earlier run).
func (d *Device) PinSaltKey(name []byte) {
	d.sess.mu.Lock()
	defer d.sess.mu.Unlock()
	d.sess.pin = append([]byte(nil), name...)
	d.sess.salt, d.sess.err = nil, nil
}

// SaltKeyName returns the Name of the salt key in use (set up on first use).
func (d *Device) SaltKeyName() ([]byte, error) {
	sk, err := d.saltKey()
	if err != nil {
		return nil, err
	}
	return sk.name.Buffer, nil
}

// checkName verifies that name is nameAlg || H(public area as received).
func checkName(name tpm2.TPM2BName, pub *tpm2.TPM2BPublic) (*tpm2.TPMTPublic, error) {
	area, err := pub.Contents()
	if err != nil {
		return nil, err
	}
	h, err := area.NameAlg.Hash()
	if err != nil {
		return nil, fmt.Errorf("name algorithm: %w", err)
	}
	hh := h.New()
	hh.Write(pub.Bytes())
	want := append([]byte{byte(area.NameAlg >> 8), byte(area.NameAlg)}, hh.Sum(nil)...)
	if !bytes.Equal(name.Buffer, want) {
		return nil, errors.New("the TPM returned a Name that does not match the key's public area (a tampered response?)")
	}
	return area, nil
}

func (d *Device) saltKey() (*saltKey, error) {
	s := &d.sess
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.salt != nil || s.err != nil {
		return s.salt, s.err
	}
	s.salt, s.err = d.findSaltKey()
	if s.err == nil && s.pin != nil && !bytes.Equal(s.pin, s.salt.name.Buffer) {
		s.salt.flush()
		s.salt, s.err = nil, fmt.Errorf("%w: name %x, pinned %x", ErrSaltKeyPin, s.salt.name.Buffer, s.pin)
	}
	return s.salt, s.err
}

func storageKeyOK(a tpm2.TPMAObject) bool {
	return a.Restricted && a.Decrypt && a.FixedTPM && a.FixedParent && !a.SignEncrypt
}

func (d *Device) findSaltKey() (*saltKey, error) {
	for _, h := range []tpm2.TPMHandle{SRKHandle, ekHandle} {
		rsp, err := tpm2.ReadPublic{ObjectHandle: h}.Execute(d)
		if errors.Is(err, tpm2.TPMRCHandle) {
			continue
		}
		if err != nil {
			return nil, fmt.Errorf("reading salt key 0x%08x: %w", uint32(h), err)
		}
		area, err := checkName(rsp.Name, &rsp.OutPublic)
		if err != nil {
			return nil, fmt.Errorf("salt key 0x%08x: %w", uint32(h), err)
		}
		if !storageKeyOK(area.ObjectAttributes) {
			continue // not a storage key: not usable (or not trustworthy) as salt key
		}
		return &saltKey{handle: h, pub: *area, name: rsp.Name, flush: func() {}}, nil
	}
	cp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(d)
	if err != nil {
		return nil, fmt.Errorf("creating the storage root key for session salts: %w", err)
	}
	flush := func() { tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(d) }
	area, err := checkName(cp.Name, &cp.OutPublic)
	if err == nil && !storageKeyOK(area.ObjectAttributes) {
		err = errors.New("the TPM made a storage root key that is not a restricted decryption key")
	}
	if err != nil {
		flush()
		return nil, fmt.Errorf("salt key: %w", err)
	}
	return &saltKey{handle: cp.ObjectHandle, pub: *area, name: cp.Name, flush: flush, srk: true}, nil
}

// protect returns the authorization for an object or hierarchy with an
// empty auth value: a salted HMAC session that encrypts the first command
// parameter (and the first response parameter when out is set).
//
// The caller must call release after the command: one protected command
// runs at a time, so that a TPM without a resource manager (few session
// slots) never runs out of sessions.
func (d *Device) protect(out bool) (auth tpm2.Session, release func(), err error) {
	if d.sess.unprotected {
		return tpm2.PasswordAuth(nil), func() {}, nil
	}
	sk, err := d.saltKey()
	if err != nil {
		return nil, nil, fmt.Errorf("protected tpm session: %w", err)
	}
	dir := tpm2.EncryptIn
	if out {
		dir = tpm2.EncryptInOut
	}
	d.sess.op.Lock()
	return tpm2.HMAC(tpm2.TPMAlgSHA256, 16, tpm2.Auth(nil), tpm2.Salted(sk.handle, sk.pub), tpm2.AESEncryption(128, dir)), d.sess.op.Unlock, nil
}

// closeSessions flushes a transient salt key.
func (d *Device) closeSessions() {
	d.sess.mu.Lock()
	sk := d.sess.salt
	d.sess.salt = nil
	d.sess.mu.Unlock()
	if sk != nil {
		sk.flush()
	}
}
