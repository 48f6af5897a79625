package tpm

import (
	"crypto"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"fmt"
	"io"

	"github.com/google/go-tpm/tpm2"
)

// Decrypter is a crypto.Decrypter for an RSA key held in the TPM
// (TPM2_RSA_Decrypt). It does RSAES-PKCS1-v1_5 (opts nil or
// *rsa.PKCS1v15DecryptOptions) and RSAES-OAEP (*rsa.OAEPOptions).
type Decrypter struct {
	dev *Device
	key *keyInfo
}

var _ crypto.Decrypter = (*Decrypter)(nil)

// ECDH is a key agreement key held in the TPM (TPM2_ECDH_ZGen). It
// implements the trust package's ECDH-key interface.
type ECDH struct {
	dev *Device
	key *keyInfo
	pub *ecdh.PublicKey
}

var _ ECDHKey = (*ECDH)(nil)

// OpenDecryptionKey loads the decryption key at handle: an RSA key gives a
// *Decrypter, an ECC key an *ECDH. Exactly one of the results is non-nil.
func OpenDecryptionKey(dev *Device, handle uint32) (*Decrypter, *ECDH, error) {
	k, err := readKey(dev, handle)
	if err != nil {
		return nil, nil, err
	}
	a := k.public.ObjectAttributes
	if !a.Decrypt || a.Restricted {
		return nil, nil, fmt.Errorf("key 0x%08x is not an unrestricted decryption key (decrypt=%v restricted=%v)", handle, a.Decrypt, a.Restricted)
	}
	if err := k.checkPasswordUse(); err != nil {
		return nil, nil, err
	}
	switch p := k.pub.(type) {
	case *rsa.PublicKey:
		if k.scheme != tpm2.TPMAlgNull && k.scheme != tpm2.TPMAlgOAEP && k.scheme != tpm2.TPMAlgRSAES {
			return nil, nil, fmt.Errorf("RSA key 0x%08x has scheme %s, not a decryption scheme", handle, algName(k.scheme))
		}
		return &Decrypter{dev: dev, key: k}, nil, nil
	case *ecdsa.PublicKey:
		if k.scheme != tpm2.TPMAlgNull && k.scheme != tpm2.TPMAlgECDH {
			return nil, nil, fmt.Errorf("ECC key 0x%08x has scheme %s, not ECDH", handle, algName(k.scheme))
		}
		pub, err := p.ECDH()
		if err != nil {
			return nil, nil, fmt.Errorf("ECC key 0x%08x: %w", handle, err)
		}
		return nil, &ECDH{dev: dev, key: k, pub: pub}, nil
	}
	return nil, nil, fmt.Errorf("key 0x%08x: unsupported type %T", handle, k.pub)
}

// Public returns the *rsa.PublicKey.
func (d *Decrypter) Public() crypto.PublicKey { return d.key.pub }

// Description says what the key is.
func (d *Decrypter) Description() KeyDescription { return d.key.describe() }

// Decrypt decrypts msg in the TPM. For OAEP the MGF1 hash must equal the
// label hash (the TPM uses one hash), and a non-empty label must end with a
// zero byte (the TPM treats labels as NUL-terminated strings). With
// PKCS1v15DecryptOptions.SessionKeyLen set, a decryption the TPM rejects
// returns random bytes of that length instead of an error, as rsa.PrivateKey
// does; a failure to reach the TPM is still an error.
func (d *Decrypter) Decrypt(_ io.Reader, msg []byte, opts crypto.DecrypterOpts) ([]byte, error) {
	scheme := tpm2.TPMTRSADecrypt{Scheme: tpm2.TPMAlgRSAES, Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgRSAES, &tpm2.TPMSEncSchemeRSAES{})}
	var label []byte
	sessionKeyLen := 0
	switch o := opts.(type) {
	case nil:
	case *rsa.PKCS1v15DecryptOptions:
		sessionKeyLen = o.SessionKeyLen
	case *rsa.OAEPOptions:
		if o.MGFHash != 0 && o.MGFHash != o.Hash {
			return nil, fmt.Errorf("OAEP with MGF1 hash %v and label hash %v: the TPM uses one hash for both", o.MGFHash, o.Hash)
		}
		alg, err := tpmHash(o.Hash)
		if err != nil {
			return nil, err
		}
		if len(o.Label) > 0 && o.Label[len(o.Label)-1] != 0 {
			return nil, errors.New("OAEP label must end with a zero byte for the TPM")
		}
		label = o.Label
		scheme = tpm2.TPMTRSADecrypt{Scheme: tpm2.TPMAlgOAEP, Details: tpm2.NewTPMUAsymScheme(tpm2.TPMAlgOAEP, &tpm2.TPMSEncSchemeOAEP{HashAlg: alg})}
	default:
		return nil, fmt.Errorf("unsupported decrypter options %T", opts)
	}
	if d.key.scheme != tpm2.TPMAlgNull && d.key.scheme != scheme.Scheme {
		return nil, fmt.Errorf("key 0x%08x is fixed to %s; cannot decrypt %s", uint32(d.key.handle), algName(d.key.scheme), algName(scheme.Scheme))
	}
	auth, release, err := d.dev.protect(true)
	if err != nil {
		return nil, err
	}
	defer release()
	cmd := tpm2.RSADecrypt{
		KeyHandle:  tpm2.AuthHandle{Handle: d.key.handle, Name: d.key.name, Auth: auth},
		CipherText: tpm2.TPM2BPublicKeyRSA{Buffer: msg},
		InScheme:   scheme,
	}
	if len(label) > 0 {
		cmd.Label = tpm2.TPM2BData{Buffer: label}
	}
	rsp, err := cmd.Execute(d.dev)
	// Only what the TPM itself rejected (bad padding: a TPM response code)
	// is masked; a TPM that cannot be reached is an error, not a random key.
	var rc tpm2.TPMRC
	if sessionKeyLen > 0 && (err == nil || errors.As(err, &rc)) {
		if err != nil || len(rsp.Message.Buffer) != sessionKeyLen {
			key := make([]byte, sessionKeyLen)
			if _, rerr := io.ReadFull(rand.Reader, key); rerr != nil {
				return nil, rerr
			}
			return key, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("tpm rsa decrypt (%s) with key 0x%08x: %w", algName(scheme.Scheme), uint32(d.key.handle), err)
	}
	return rsp.Message.Buffer, nil
}

// Public returns the key's public half.
func (e *ECDH) Public() *ecdh.PublicKey { return e.pub }

// Description says what the key is.
func (e *ECDH) Description() KeyDescription { return e.key.describe() }

// ECDH returns the shared secret Z (the x-coordinate of d*peer, as long as the
// curve's field size) computed in the TPM.
func (e *ECDH) ECDH(peer *ecdh.PublicKey) ([]byte, error) {
	if peer == nil {
		return nil, errors.New("ecdh: no peer key")
	}
	if peer.Curve() != e.pub.Curve() {
		return nil, fmt.Errorf("ecdh: peer key is on %v, the TPM key on %v", peer.Curve(), e.pub.Curve())
	}
	raw := peer.Bytes() // 0x04 || X || Y
	n := (len(raw) - 1) / 2
	if len(raw) != 1+2*n || raw[0] != 4 {
		return nil, errors.New("ecdh: peer key is not an uncompressed point")
	}
	auth, release, err := e.dev.protect(true)
	if err != nil {
		return nil, err
	}
	defer release()
	rsp, err := tpm2.ECDHZGen{
		KeyHandle: tpm2.AuthHandle{Handle: e.key.handle, Name: e.key.name, Auth: auth},
		InPoint: tpm2.New2B(tpm2.TPMSECCPoint{
			X: tpm2.TPM2BECCParameter{Buffer: raw[1 : 1+n]},
			Y: tpm2.TPM2BECCParameter{Buffer: raw[1+n:]},
		}),
	}.Execute(e.dev)
	if err != nil {
		return nil, fmt.Errorf("tpm ecdh zgen with key 0x%08x: %w", uint32(e.key.handle), err)
	}
	pt, err := rsp.OutPoint.Contents()
	if err != nil {
		return nil, fmt.Errorf("tpm ecdh zgen: %w", err)
	}
	x := pt.X.Buffer
	if len(x) > n {
		return nil, fmt.Errorf("tpm ecdh zgen: x-coordinate is %d bytes, want %d", len(x), n)
	}
	z := make([]byte, n)
	copy(z[n-len(x):], x)
	return z, nil
}
