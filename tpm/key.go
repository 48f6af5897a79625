package tpm

import (
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// keyInfo is what the agent needs to know about a loaded TPM key.
type keyInfo struct {
	handle tpm2.TPMHandle
	name   tpm2.TPM2BName
	public tpm2.TPMTPublic
	pub    crypto.PublicKey // *ecdsa.PublicKey or *rsa.PublicKey
	scheme tpm2.TPMAlgID    // TPMAlgNull when the caller chooses
	hash   tpm2.TPMAlgID    // fixed hash of the scheme, or TPMAlgNull
}

// readKey reads the public area of the object at handle.
func readKey(t *Device, handle uint32) (*keyInfo, error) {
	h := tpm2.TPMHandle(handle)
	rsp, err := tpm2.ReadPublic{ObjectHandle: h}.Execute(t)
	if err != nil {
		return nil, fmt.Errorf("reading key 0x%08x: %w", handle, err)
	}
	pubArea, err := checkName(rsp.Name, &rsp.OutPublic)
	if err != nil {
		return nil, fmt.Errorf("key 0x%08x: %w", handle, err)
	}
	k := &keyInfo{handle: h, name: rsp.Name, public: *pubArea, scheme: tpm2.TPMAlgNull, hash: tpm2.TPMAlgNull}
	var details tpm2.TPMUAsymScheme
	switch pubArea.Type {
	case tpm2.TPMAlgECC:
		parms, err := pubArea.Parameters.ECCDetail()
		if err != nil {
			return nil, fmt.Errorf("key 0x%08x: %w", handle, err)
		}
		k.scheme, details = parms.Scheme.Scheme, parms.Scheme.Details
	case tpm2.TPMAlgRSA:
		parms, err := pubArea.Parameters.RSADetail()
		if err != nil {
			return nil, fmt.Errorf("key 0x%08x: %w", handle, err)
		}
		k.scheme, details = parms.Scheme.Scheme, parms.Scheme.Details
	default:
		return nil, fmt.Errorf("key 0x%08x: type %s is neither ECC nor RSA", handle, algName(pubArea.Type))
	}
	if k.scheme != tpm2.TPMAlgNull {
		if k.hash, err = schemeHash(k.scheme, details); err != nil {
			return nil, fmt.Errorf("key 0x%08x: %w", handle, err)
		}
	}
	if k.pub, err = tpm2.Pub(*pubArea); err != nil {
		return nil, fmt.Errorf("key 0x%08x: public key: %w", handle, err)
	}
	return k, nil
}

// checkPasswordUse fails for a key whose user role needs a policy session
// (userWithAuth clear): the agent authorizes with the key's empty password
// only, so such a key would fail at its first use (a TLS handshake) with a
// bare TPM error.
func (k *keyInfo) checkPasswordUse() error {
	if !k.public.ObjectAttributes.UserWithAuth {
		return fmt.Errorf("key 0x%08x can be used only through a policy session (userWithAuth is clear); the agent authorizes with the key's empty password", uint32(k.handle))
	}
	return nil
}

// schemeHash returns the hash fixed by an asymmetric scheme (TPMAlgNull for
// schemes without one that matters here: RSAES, ECDH).
func schemeHash(scheme tpm2.TPMAlgID, d tpm2.TPMUAsymScheme) (tpm2.TPMAlgID, error) {
	var h *tpm2.TPMSSchemeHash
	switch scheme {
	case tpm2.TPMAlgECDSA:
		s, err := d.ECDSA()
		if err != nil {
			return 0, err
		}
		h = (*tpm2.TPMSSchemeHash)(s)
	case tpm2.TPMAlgRSASSA:
		s, err := d.RSASSA()
		if err != nil {
			return 0, err
		}
		h = (*tpm2.TPMSSchemeHash)(s)
	case tpm2.TPMAlgRSAPSS:
		s, err := d.RSAPSS()
		if err != nil {
			return 0, err
		}
		h = (*tpm2.TPMSSchemeHash)(s)
	case tpm2.TPMAlgOAEP:
		s, err := d.OAEP()
		if err != nil {
			return 0, err
		}
		h = (*tpm2.TPMSSchemeHash)(s)
	case tpm2.TPMAlgRSAES, tpm2.TPMAlgECDH:
		// ECDH's hash is for the KDF, which ZGen does not use (and go-tpm
		// v0.9.8's ECDH() accessor checks the wrong selector).
		return tpm2.TPMAlgNull, nil
	default:
		return 0, fmt.Errorf("unsupported key scheme %s", algName(scheme))
	}
	return h.HashAlg, nil
}

// KeyDescription says what kind of key a handle holds, for `sztp tpm info`.
type KeyDescription struct {
	Handle     string   `json:"handle"`
	Type       string   `json:"type"`   // "ECC P-256", "RSA 2048"
	Scheme     string   `json:"scheme"` // "NULL" (any) or e.g. "ECDSA-SHA256"
	Attributes []string `json:"attributes"`
}

func (k *keyInfo) describe() KeyDescription {
	d := KeyDescription{Handle: fmt.Sprintf("0x%08x", uint32(k.handle)), Type: keyType(k.pub), Scheme: "NULL"}
	if k.scheme != tpm2.TPMAlgNull {
		d.Scheme = algName(k.scheme)
		if k.hash != tpm2.TPMAlgNull {
			d.Scheme += "-" + algName(k.hash)
		}
	}
	a := k.public.ObjectAttributes
	for _, f := range []struct {
		set  bool
		name string
	}{
		{a.FixedTPM, "fixedTPM"}, {a.FixedParent, "fixedParent"}, {a.SensitiveDataOrigin, "sensitiveDataOrigin"},
		{a.UserWithAuth, "userWithAuth"}, {a.AdminWithPolicy, "adminWithPolicy"}, {a.NoDA, "noDA"},
		{a.Restricted, "restricted"}, {a.Decrypt, "decrypt"}, {a.SignEncrypt, "sign"},
	} {
		if f.set {
			d.Attributes = append(d.Attributes, f.name)
		}
	}
	return d
}

func keyType(pub crypto.PublicKey) string {
	switch p := pub.(type) {
	case *ecdsa.PublicKey:
		return "ECC " + p.Curve.Params().Name
	case *rsa.PublicKey:
		return fmt.Sprintf("RSA %d", p.N.BitLen())
	}
	return fmt.Sprintf("%T", pub)
}

var algNames = map[tpm2.TPMAlgID]string{
	tpm2.TPMAlgRSA: "RSA", tpm2.TPMAlgECC: "ECC", tpm2.TPMAlgNull: "NULL",
	tpm2.TPMAlgSHA1: "SHA1", tpm2.TPMAlgSHA256: "SHA256", tpm2.TPMAlgSHA384: "SHA384", tpm2.TPMAlgSHA512: "SHA512",
	tpm2.TPMAlgECDSA: "ECDSA", tpm2.TPMAlgECDH: "ECDH", tpm2.TPMAlgECDAA: "ECDAA", tpm2.TPMAlgECSchnorr: "ECSCHNORR",
	tpm2.TPMAlgSM2: "SM2", tpm2.TPMAlgRSASSA: "RSASSA", tpm2.TPMAlgRSAPSS: "RSAPSS", tpm2.TPMAlgRSAES: "RSAES",
	tpm2.TPMAlgOAEP: "OAEP", tpm2.TPMAlgKeyedHash: "KEYEDHASH", tpm2.TPMAlgSymCipher: "SYMCIPHER",
}

func algName(a tpm2.TPMAlgID) string {
	if n, ok := algNames[a]; ok {
		return n
	}
	return fmt.Sprintf("alg 0x%04x", uint16(a))
}

// tpmHash maps a Go hash to the TPM algorithm.
func tpmHash(h crypto.Hash) (tpm2.TPMAlgID, error) {
	switch h {
	case crypto.SHA256:
		return tpm2.TPMAlgSHA256, nil
	case crypto.SHA384:
		return tpm2.TPMAlgSHA384, nil
	case crypto.SHA512:
		return tpm2.TPMAlgSHA512, nil
	case crypto.SHA1:
		return tpm2.TPMAlgSHA1, nil
	case 0:
		return 0, errors.New("no hash given: the TPM signs digests only")
	}
	return 0, fmt.Errorf("hash %v is not supported by the TPM signer", h)
}
