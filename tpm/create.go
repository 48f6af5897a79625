package tpm

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"log/slog"

	"github.com/google/go-tpm/tpm2"
)

// KeyAlgorithm names a key type the agent can create.
type KeyAlgorithm string

// Key algorithms for CreateKey and Provision.
const (
	ECCP256 KeyAlgorithm = "ecc-p256"
	ECCP384 KeyAlgorithm = "ecc-p384"
	RSA2048 KeyAlgorithm = "rsa-2048"
)

// KeyUsage says whether a key signs or decrypts.
type KeyUsage int

// Key usages.
const (
	UsageSign KeyUsage = iota
	UsageDecrypt
)

// Hierarchies a key can be created in.
const (
	Endorsement = tpm2.TPMRHEndorsement
	Owner       = tpm2.TPMRHOwner
)

// ErrExists says a persistent handle or NV index is already in use.
var ErrExists = errors.New("already in use")

// KeySpec describes a key to create and persist.
type KeySpec struct {
	Algorithm KeyAlgorithm
	Usage     KeyUsage
	// FixedScheme fixes the key's scheme (e.g. tpm2.TPMAlgECDSA,
	// tpm2.TPMAlgRSASSA, tpm2.TPMAlgRSAPSS, tpm2.TPMAlgOAEP, tpm2.TPMAlgECDH)
	// with SHA-256 (SHA-384 on P-384); 0 leaves it NULL (caller chooses).
	FixedScheme tpm2.TPMAlgID
	Hierarchy   tpm2.TPMHandle // Endorsement (default) or Owner
	Handle      uint32         // persistent handle
	// RandomUnique makes a fresh key every time instead of the hierarchy's
	// deterministic key for the template.
	RandomUnique bool
	Force        bool // replace an object at Handle
}

// template builds the public area for spec.
func (spec KeySpec) template() (tpm2.TPMTPublic, error) {
	attrs := tpm2.TPMAObject{
		FixedTPM: true, FixedParent: true, SensitiveDataOrigin: true, UserWithAuth: true, NoDA: true,
		SignEncrypt: spec.Usage == UsageSign, Decrypt: spec.Usage == UsageDecrypt,
	}
	hash := tpm2.TPMAlgSHA256
	if spec.Algorithm == ECCP384 {
		hash = tpm2.TPMAlgSHA384
	}
	scheme := spec.FixedScheme
	if scheme == 0 {
		scheme = tpm2.TPMAlgNull
	}
	var unique []byte
	switch spec.Algorithm {
	case ECCP256, ECCP384:
		curve, size := tpm2.TPMECCNistP256, 32
		if spec.Algorithm == ECCP384 {
			curve, size = tpm2.TPMECCNistP384, 48
		}
		s := tpm2.TPMTECCScheme{Scheme: tpm2.TPMAlgNull}
		switch scheme {
		case tpm2.TPMAlgNull:
		case tpm2.TPMAlgECDSA:
			s = tpm2.TPMTECCScheme{Scheme: scheme, Details: tpm2.NewTPMUAsymScheme(scheme, &tpm2.TPMSSigSchemeECDSA{HashAlg: hash})}
		case tpm2.TPMAlgECDH:
			s = tpm2.TPMTECCScheme{Scheme: scheme, Details: tpm2.NewTPMUAsymScheme(scheme, &tpm2.TPMSKeySchemeECDH{HashAlg: hash})}
		default:
			return tpm2.TPMTPublic{}, fmt.Errorf("scheme %s does not fit an ECC key", algName(scheme))
		}
		if spec.RandomUnique {
			unique = make([]byte, size)
		}
		pt := tpm2.TPMSECCPoint{X: tpm2.TPM2BECCParameter{Buffer: unique}, Y: tpm2.TPM2BECCParameter{Buffer: unique}}
		if unique != nil {
			if _, err := rand.Read(unique); err != nil {
				return tpm2.TPMTPublic{}, err
			}
		}
		return tpm2.TPMTPublic{
			Type: tpm2.TPMAlgECC, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgECC, &tpm2.TPMSECCParms{
				Scheme: s, CurveID: curve, KDF: tpm2.TPMTKDFScheme{Scheme: tpm2.TPMAlgNull},
				Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull},
			}),
			Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgECC, &pt),
		}, nil
	case RSA2048:
		s := tpm2.TPMTRSAScheme{Scheme: tpm2.TPMAlgNull}
		switch scheme {
		case tpm2.TPMAlgNull:
		case tpm2.TPMAlgRSASSA:
			s = tpm2.TPMTRSAScheme{Scheme: scheme, Details: tpm2.NewTPMUAsymScheme(scheme, &tpm2.TPMSSigSchemeRSASSA{HashAlg: hash})}
		case tpm2.TPMAlgRSAPSS:
			s = tpm2.TPMTRSAScheme{Scheme: scheme, Details: tpm2.NewTPMUAsymScheme(scheme, &tpm2.TPMSSigSchemeRSAPSS{HashAlg: hash})}
		case tpm2.TPMAlgOAEP:
			s = tpm2.TPMTRSAScheme{Scheme: scheme, Details: tpm2.NewTPMUAsymScheme(scheme, &tpm2.TPMSEncSchemeOAEP{HashAlg: hash})}
		case tpm2.TPMAlgRSAES:
			s = tpm2.TPMTRSAScheme{Scheme: scheme, Details: tpm2.NewTPMUAsymScheme(scheme, &tpm2.TPMSEncSchemeRSAES{})}
		default:
			return tpm2.TPMTPublic{}, fmt.Errorf("scheme %s does not fit an RSA key", algName(scheme))
		}
		if spec.RandomUnique {
			unique = make([]byte, 256)
			if _, err := rand.Read(unique); err != nil {
				return tpm2.TPMTPublic{}, err
			}
		}
		return tpm2.TPMTPublic{
			Type: tpm2.TPMAlgRSA, NameAlg: tpm2.TPMAlgSHA256, ObjectAttributes: attrs,
			Parameters: tpm2.NewTPMUPublicParms(tpm2.TPMAlgRSA, &tpm2.TPMSRSAParms{
				Scheme: s, KeyBits: 2048, Symmetric: tpm2.TPMTSymDefObject{Algorithm: tpm2.TPMAlgNull},
			}),
			Unique: tpm2.NewTPMUPublicID(tpm2.TPMAlgRSA, &tpm2.TPM2BPublicKeyRSA{Buffer: unique}),
		}, nil
	}
	return tpm2.TPMTPublic{}, fmt.Errorf("unknown key algorithm %q (want %s, %s or %s)", spec.Algorithm, ECCP256, ECCP384, RSA2048)
}

// persistentExists reports whether an object is at handle.
func persistentExists(dev *Device, handle uint32) (bool, error) {
	_, err := tpm2.ReadPublic{ObjectHandle: tpm2.TPMHandle(handle)}.Execute(dev)
	if err == nil {
		return true, nil
	}
	if errors.Is(err, tpm2.TPMRCHandle) {
		return false, nil
	}
	return false, fmt.Errorf("checking handle 0x%08x: %w", handle, err)
}

// Evict removes the persistent object at handle (owner authorization). A
// free handle is not an error.
func Evict(dev *Device, handle uint32) error {
	rsp, err := tpm2.ReadPublic{ObjectHandle: tpm2.TPMHandle(handle)}.Execute(dev)
	if errors.Is(err, tpm2.TPMRCHandle) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("checking handle 0x%08x: %w", handle, err)
	}
	_, err = tpm2.EvictControl{
		Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		ObjectHandle:     tpm2.NamedHandle{Handle: tpm2.TPMHandle(handle), Name: rsp.Name},
		PersistentHandle: tpm2.TPMHandle(handle),
	}.Execute(dev)
	if err != nil {
		return fmt.Errorf("evicting 0x%08x: %w", handle, err)
	}
	return nil
}

// CreateKey creates a primary key from spec in its hierarchy and persists
// it at spec.Handle (owner authorization, empty auth values as in labs).
func CreateKey(ctx context.Context, dev *Device, spec KeySpec, log *slog.Logger) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	tmpl, err := spec.template()
	if err != nil {
		return err
	}
	exists, err := persistentExists(dev, spec.Handle)
	if err != nil {
		return err
	}
	if exists {
		if !spec.Force {
			return fmt.Errorf("handle 0x%08x: %w", spec.Handle, ErrExists)
		}
		if err := Evict(dev, spec.Handle); err != nil {
			return err
		}
		log.Info("evicted the old key", "handle", fmt.Sprintf("0x%08x", spec.Handle))
	}
	hier := spec.Hierarchy
	if hier == 0 {
		hier = Endorsement
	}
	cp, err := tpm2.CreatePrimary{
		PrimaryHandle: tpm2.AuthHandle{Handle: hier, Auth: tpm2.PasswordAuth(nil)},
		InPublic:      tpm2.New2B(tmpl),
	}.Execute(dev)
	if err != nil {
		return fmt.Errorf("creating %s key: %w", spec.Algorithm, err)
	}
	defer tpm2.FlushContext{FlushHandle: cp.ObjectHandle}.Execute(dev)
	_, err = tpm2.EvictControl{
		Auth:             tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)},
		ObjectHandle:     tpm2.NamedHandle{Handle: cp.ObjectHandle, Name: cp.Name},
		PersistentHandle: tpm2.TPMHandle(spec.Handle),
	}.Execute(dev)
	if err != nil {
		return fmt.Errorf("persisting key at 0x%08x: %w", spec.Handle, err)
	}
	log.Info("created TPM key", "handle", fmt.Sprintf("0x%08x", spec.Handle), "algorithm", spec.Algorithm)
	return nil
}
