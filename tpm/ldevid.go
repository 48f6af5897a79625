package tpm

import (
	"context"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/go-tpm/tpm2"
)

// LDevID (RFC 9646): a key the agent creates in the TPM for a CSR, under
// the storage root key, persisted once the owner certified it.
const (
	// DefaultLDevIDHandle is where the LDevID key is persisted. It is never
	// 0x81020001, where implementations citing the TCG guidance put the IAK.
	DefaultLDevIDHandle = 0x81020002
	// DefaultLDevIDCertIndex is the owner NV index for the LDevID certificate.
	DefaultLDevIDCertIndex = 0x01020002
	// SRKHandle is the storage root key's well-known persistent handle (TCG).
	SRKHandle = 0x81000001
	iakHandle = 0x81020001
)

// LDevIDAlgorithms lists the LDevID key algorithms the TPM implements:
// ECC P-256 and P-384 as its ECC curve capability says, RSA 2048 when its
// algorithm capability lists RSA.
func LDevIDAlgorithms(dev *Device) ([]KeyAlgorithm, error) {
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapECCCurves, Property: 0, PropertyCount: 64}.Execute(dev)
	if err != nil {
		return nil, fmt.Errorf("reading tpm ecc curves: %w", err)
	}
	curves, err := rsp.CapabilityData.Data.ECCCurves()
	if err != nil {
		return nil, fmt.Errorf("reading tpm ecc curves: %w", err)
	}
	var out []KeyAlgorithm
	for _, c := range curves.ECCCurves {
		switch c {
		case tpm2.TPMECCNistP256:
			out = append(out, ECCP256)
		case tpm2.TPMECCNistP384:
			out = append(out, ECCP384)
		}
	}
	// RSA keys: the algorithm capability lists TPM_ALG_RSA (every TPM 2.0
	// with RSA does 2048 bits).
	rsp, err = tpm2.GetCapability{Capability: tpm2.TPMCapAlgs, Property: uint32(tpm2.TPMAlgRSA), PropertyCount: 1}.Execute(dev)
	if err != nil {
		return nil, fmt.Errorf("reading tpm algorithms: %w", err)
	}
	if algs, err := rsp.CapabilityData.Data.Algorithms(); err == nil && len(algs.AlgProperties) > 0 && algs.AlgProperties[0].Alg == tpm2.TPMAlgRSA {
		out = append(out, RSA2048)
	}
	return out, nil
}

// checkLDevIDHandle refuses the handles of the device's initial keys.
func checkLDevIDHandle(handle uint32) error {
	if handle == DefaultIDevIDHandle || handle == iakHandle || handle == SRKHandle {
		return fmt.Errorf("handle 0x%08x is reserved (IDevID 0x81020000, IAK 0x81020001, SRK 0x81000001); choose another LDevID handle", handle)
	}
	if handle>>24 != 0x81 {
		return fmt.Errorf("handle 0x%08x is not a persistent handle (0x81xxxxxx)", handle)
	}
	return nil
}

// CreateLDevID creates a signing key of alg as a child of the storage root
// key (fixedTPM, fixedParent, sensitiveDataOrigin: never exportable),
// persists it at handle, replacing an LDevID key already there, and
// returns its Signer.
func CreateLDevID(ctx context.Context, dev *Device, alg KeyAlgorithm, handle uint32, log *slog.Logger) (*Signer, error) {
	if err := checkLDevIDHandle(handle); err != nil {
		return nil, err
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	tmpl, err := KeySpec{Algorithm: alg, Usage: UsageSign}.template()
	if err != nil {
		return nil, err
	}
	parent, flush, err := storageRoot(dev)
	if err != nil {
		return nil, err
	}
	defer flush()
	auth, release, err := dev.protect(true)
	if err != nil {
		return nil, err
	}
	ld, err := tpm2.CreateLoaded{
		ParentHandle: tpm2.AuthHandle{Handle: parent.Handle, Name: parent.Name, Auth: auth},
		InPublic:     tpm2.New2BTemplate(&tmpl),
	}.Execute(dev)
	release()
	if err != nil {
		return nil, fmt.Errorf("creating the %s ldevid key: %w", alg, err)
	}
	defer tpm2.FlushContext{FlushHandle: ld.ObjectHandle}.Execute(dev)
	if _, err := checkName(ld.Name, &ld.OutPublic); err != nil {
		return nil, fmt.Errorf("the new ldevid key: %w", err)
	}
	if err := Evict(dev, handle); err != nil {
		return nil, err
	}
	_, err = tpm2.EvictControl{
		Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		ObjectHandle:     tpm2.NamedHandle{Handle: ld.ObjectHandle, Name: ld.Name},
		PersistentHandle: tpm2.TPMHandle(handle),
	}.Execute(dev)
	if err != nil {
		return nil, fmt.Errorf("persisting the ldevid key at 0x%08x: %w", handle, err)
	}
	if log != nil {
		log.Info("created LDevID key in the TPM", "handle", fmt.Sprintf("0x%08x", handle), "algorithm", alg)
	}
	return NewSigner(dev, handle, log)
}

// storageRoot returns the parent for LDevID keys: the persistent SRK at
// 0x81000001 when there is one (it must be a restricted decryption key
// fixed to this TPM), else a transient primary made in the owner hierarchy
// from the TCG ECC SRK template (the same template gives the same key).
func storageRoot(dev *Device) (tpm2.NamedHandle, func(), error) {
	k, err := readKey(dev, SRKHandle)
	if err == nil {
		a := k.public.ObjectAttributes
		if !a.Restricted || !a.Decrypt || !a.FixedTPM || a.SignEncrypt {
			return tpm2.NamedHandle{}, nil, fmt.Errorf("the object at 0x%08x is not a storage root key", SRKHandle)
		}
		return tpm2.NamedHandle{Handle: k.handle, Name: k.name}, func() {}, nil
	}
	if !errors.Is(err, tpm2.TPMRCHandle) {
		return tpm2.NamedHandle{}, nil, err
	}
	// The session salt key is that same primary when there is no SRK: reuse
	// it (a TPM without a resource manager has three object slots).
	if !dev.sess.unprotected {
		if sk, err := dev.saltKey(); err == nil && sk.srk {
			return tpm2.NamedHandle{Handle: sk.handle, Name: sk.name}, func() {}, nil
		}
	}
	cp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		InPublic:      tpm2.New2B(tpm2.ECCSRKTemplate),
	}.Execute(dev)
	if err != nil {
		return tpm2.NamedHandle{}, nil, fmt.Errorf("creating the storage root key: %w", err)
	}
	flush := func() { tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(dev) }
	return tpm2.NamedHandle{Handle: cp.ObjectHandle, Name: cp.Name}, flush, nil
}

// StoreLDevIDCertificate writes the DER certificate to the owner NV index,
// replacing what is there.
func StoreLDevIDCertificate(dev *Device, index uint32, der []byte) error {
	if err := UndefineNV(dev, index); err != nil {
		return err
	}
	return WriteNV(dev, index, der, false)
}

// ClearLDevID removes the LDevID key at handle and its certificate at the NV
// index (factory reset, RFC 9646 4.1.6). Missing objects are not errors.
func ClearLDevID(dev *Device, handle, index uint32) error {
	if err := checkLDevIDHandle(handle); err != nil {
		return err
	}
	if index == DefaultCertIndex || index == AltCertIndex {
		return fmt.Errorf("nv index 0x%08x holds the IDevID certificate; not clearing it", index)
	}
	return errors.Join(Evict(dev, handle), UndefineNV(dev, index))
}

// LDevIDInfo describes the LDevID, for `sztp tpm info`.
type LDevIDInfo struct {
	Key         *KeyDescription `json:"key,omitempty"`
	KeyError    string          `json:"key-error,omitempty"`
	Certificate *CertInfo       `json:"certificate,omitempty"`
	CertError   string          `json:"certificate-error,omitempty"`
}

// ReadLDevIDInfo reads the LDevID key and certificate.
func ReadLDevIDInfo(dev *Device, handle, index uint32) *LDevIDInfo {
	info := &LDevIDInfo{}
	k, err := readKey(dev, handle)
	if err != nil {
		info.KeyError = err.Error()
	} else {
		d := k.describe()
		info.Key = &d
	}
	cert, _, err := ReadCertificate(dev, []uint32{index})
	if err != nil {
		info.CertError = err.Error()
		return info
	}
	info.Certificate = &CertInfo{
		Source: fmt.Sprintf("nv:0x%08x", index), Subject: cert.Subject.String(), Issuer: cert.Issuer.String(),
		SerialNumber: cert.Subject.SerialNumber, CertificateSerial: fmt.Sprintf("%x", cert.SerialNumber),
		NotBefore: cert.NotBefore.UTC(), NotAfter: cert.NotAfter.UTC(), MatchesKey: k != nil && publicKeysEqual(cert.PublicKey, k.pub),
	}
	return info
}
