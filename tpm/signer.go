package tpm

import (
	"bytes"
	"crypto"
	"crypto/ecdsa"
	"crypto/rsa"
	_ "crypto/sha256" // hashes for RSA-PSS verification (MGF1)
	_ "crypto/sha512"
	"crypto/tls"
	"crypto/x509"
	"encoding/asn1"
	"fmt"
	"io"
	"log/slog"
	"math/big"

	"github.com/google/go-tpm/tpm2"
)

// Signer is a crypto.Signer whose private key stays in the TPM. It signs
// digests with ECDSA (DER output), RSASSA-PKCS1-v1_5 or RSA-PSS, honouring a
// scheme fixed in the key.
type Signer struct {
	dev    *Device
	key    *keyInfo
	hashes map[crypto.Hash]bool // hashes the TPM implements
	pssOK  bool                 // the TPM's PSS salt length equals the hash length
}

var _ crypto.Signer = (*Signer)(nil)

// NewSigner loads the signing key at the persistent handle. For RSA keys
// that may make PSS signatures it makes one test signature to learn whether
// the TPM uses salt length = hash length (TLS 1.3 needs that).
func NewSigner(dev *Device, handle uint32, log *slog.Logger) (*Signer, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	k, err := readKey(dev, handle)
	if err != nil {
		return nil, err
	}
	if !k.public.ObjectAttributes.SignEncrypt {
		return nil, fmt.Errorf("key 0x%08x is not a signing key", handle)
	}
	if k.public.ObjectAttributes.Restricted {
		return nil, fmt.Errorf("key 0x%08x is a restricted signing key (an attestation key); it cannot sign outside data", handle)
	}
	if err := k.checkPasswordUse(); err != nil {
		return nil, err
	}
	s := &Signer{dev: dev, key: k}
	if s.hashes, err = supportedHashes(dev); err != nil {
		return nil, err
	}
	if _, isRSA := k.pub.(*rsa.PublicKey); isRSA && (k.scheme == tpm2.TPMAlgNull || k.scheme == tpm2.TPMAlgRSAPSS) {
		s.pssOK = true // assume, then check
		h := crypto.SHA256
		if k.scheme == tpm2.TPMAlgRSAPSS {
			h = goHash(k.hash)
		}
		if h == 0 || !h.Available() {
			return nil, fmt.Errorf("key 0x%08x: RSA-PSS hash %s not supported", handle, algName(k.hash))
		}
		// Any bytes of the right length are a digest to the TPM.
		digest := bytes.Repeat([]byte{0x5a}, h.Size())
		if _, err := s.Sign(nil, digest, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash, Hash: h}); err != nil {
			s.pssOK = false
			log.Warn("TPM RSA-PSS signatures unusable for TLS 1.3; using PKCS#1 v1.5 (TLS 1.2) only", "handle", fmt.Sprintf("0x%08x", handle), "err", err)
		}
	}
	log.Debug("TPM signing key loaded", "handle", fmt.Sprintf("0x%08x", handle), "key", k.describe())
	return s, nil
}

// Public returns the key's public half (*ecdsa.PublicKey or *rsa.PublicKey).
func (s *Signer) Public() crypto.PublicKey { return s.key.pub }

// Handle is the persistent handle of the key.
func (s *Signer) Handle() uint32 { return uint32(s.key.handle) }

// Description says what the key is, for `sztp tpm info`.
func (s *Signer) Description() KeyDescription { return s.key.describe() }

// Sign signs digest, which must be the output of opts.HashFunc(). Passing
// *rsa.PSSOptions asks for RSA-PSS; the TPM uses salt length = hash length,
// which is checked on the result.
func (s *Signer) Sign(_ io.Reader, digest []byte, opts crypto.SignerOpts) ([]byte, error) {
	h := opts.HashFunc()
	alg, err := tpmHash(h)
	if err != nil {
		return nil, err
	}
	if len(digest) != h.Size() {
		return nil, fmt.Errorf("digest is %d bytes, %v needs %d", len(digest), h, h.Size())
	}
	pss, isPSS := opts.(*rsa.PSSOptions)
	var scheme tpm2.TPMAlgID
	switch s.key.pub.(type) {
	case *ecdsa.PublicKey:
		if isPSS {
			return nil, fmt.Errorf("RSA-PSS requested from an ECC key")
		}
		scheme = tpm2.TPMAlgECDSA
	case *rsa.PublicKey:
		scheme = tpm2.TPMAlgRSASSA
		if isPSS {
			scheme = tpm2.TPMAlgRSAPSS
			if pss.SaltLength != rsa.PSSSaltLengthEqualsHash && pss.SaltLength != rsa.PSSSaltLengthAuto && pss.SaltLength != h.Size() {
				return nil, fmt.Errorf("RSA-PSS salt length %d requested; the TPM signs with salt length = hash length (%d) only", pss.SaltLength, h.Size())
			}
		}
	}
	if s.key.scheme != tpm2.TPMAlgNull && (s.key.scheme != scheme || s.key.hash != alg) {
		return nil, fmt.Errorf("key 0x%08x is fixed to %s-%s; cannot sign %s-%s",
			uint32(s.key.handle), algName(s.key.scheme), algName(s.key.hash), algName(scheme), algName(alg))
	}
	auth, release, err := s.dev.protect(false)
	if err != nil {
		return nil, err
	}
	defer release()
	rsp, err := tpm2.Sign{
		KeyHandle: tpm2.AuthHandle{Handle: s.key.handle, Name: s.key.name, Auth: auth},
		Digest:    tpm2.TPM2BDigest{Buffer: digest},
		InScheme: tpm2.TPMTSigScheme{
			Scheme:  scheme,
			Details: tpm2.NewTPMUSigScheme(scheme, &tpm2.TPMSSchemeHash{HashAlg: alg}),
		},
		Validation: tpm2.TPMTTKHashCheck{Tag: tpm2.TPMSTHashCheck, Hierarchy: tpm2.TPMRHNull},
	}.Execute(s.dev)
	if err != nil {
		return nil, fmt.Errorf("tpm sign %s-%s with key 0x%08x: %w", algName(scheme), algName(alg), uint32(s.key.handle), err)
	}
	switch scheme {
	case tpm2.TPMAlgECDSA:
		sig, err := rsp.Signature.Signature.ECDSA()
		if err != nil {
			return nil, fmt.Errorf("tpm sign: %w", err)
		}
		der, err := ecdsaDER(sig.SignatureR.Buffer, sig.SignatureS.Buffer)
		if err != nil {
			return nil, err
		}
		// A signature is used only once it verifies (issue 12: TPM bus).
		if !ecdsa.VerifyASN1(s.key.pub.(*ecdsa.PublicKey), digest, der) {
			return nil, fmt.Errorf("the TPM's ECDSA signature with key 0x%08x does not verify", uint32(s.key.handle))
		}
		return der, nil
	case tpm2.TPMAlgRSAPSS:
		sig, err := rsp.Signature.Signature.RSAPSS()
		if err != nil {
			return nil, fmt.Errorf("tpm sign: %w", err)
		}
		pub := s.key.pub.(*rsa.PublicKey)
		if err := rsa.VerifyPSS(pub, h, digest, sig.Sig.Buffer, &rsa.PSSOptions{SaltLength: rsa.PSSSaltLengthEqualsHash}); err != nil {
			return nil, fmt.Errorf("the TPM's RSA-PSS signature does not use salt length = hash length (%d bytes), which TLS 1.3 needs: %w", h.Size(), err)
		}
		return sig.Sig.Buffer, nil
	default:
		sig, err := rsp.Signature.Signature.RSASSA()
		if err != nil {
			return nil, fmt.Errorf("tpm sign: %w", err)
		}
		if err := rsa.VerifyPKCS1v15(s.key.pub.(*rsa.PublicKey), h, digest, sig.Sig.Buffer); err != nil {
			return nil, fmt.Errorf("the TPM's RSA signature with key 0x%08x does not verify: %w", uint32(s.key.handle), err)
		}
		return sig.Sig.Buffer, nil
	}
}

// ecdsaDER encodes raw big-endian R and S as ASN.1 SEQUENCE{r, s}.
func ecdsaDER(r, s []byte) ([]byte, error) {
	return asn1.Marshal(struct{ R, S *big.Int }{new(big.Int).SetBytes(r), new(big.Int).SetBytes(s)})
}

// SignatureSchemes lists the TLS signature schemes this key can make, so
// that neither TLS 1.2 nor 1.3 negotiates one the TPM would refuse.
func (s *Signer) SignatureSchemes() []tls.SignatureScheme {
	type cand struct {
		scheme tls.SignatureScheme
		alg    tpm2.TPMAlgID
		hash   crypto.Hash
	}
	var cands []cand
	switch p := s.key.pub.(type) {
	case *ecdsa.PublicKey:
		cands = []cand{
			{tls.ECDSAWithP256AndSHA256, tpm2.TPMAlgECDSA, crypto.SHA256},
			{tls.ECDSAWithP384AndSHA384, tpm2.TPMAlgECDSA, crypto.SHA384},
			{tls.ECDSAWithP521AndSHA512, tpm2.TPMAlgECDSA, crypto.SHA512},
		}
		// Put the curve's own scheme first (the only one TLS 1.3 allows).
		switch p.Curve.Params().BitSize {
		case 384:
			cands[0], cands[1] = cands[1], cands[0]
		case 521:
			cands[0], cands[2] = cands[2], cands[0]
		}
	case *rsa.PublicKey:
		if s.pssOK {
			cands = append(cands,
				cand{tls.PSSWithSHA256, tpm2.TPMAlgRSAPSS, crypto.SHA256},
				cand{tls.PSSWithSHA384, tpm2.TPMAlgRSAPSS, crypto.SHA384},
				cand{tls.PSSWithSHA512, tpm2.TPMAlgRSAPSS, crypto.SHA512})
		}
		cands = append(cands,
			cand{tls.PKCS1WithSHA256, tpm2.TPMAlgRSASSA, crypto.SHA256},
			cand{tls.PKCS1WithSHA384, tpm2.TPMAlgRSASSA, crypto.SHA384},
			cand{tls.PKCS1WithSHA512, tpm2.TPMAlgRSASSA, crypto.SHA512})
	}
	var out []tls.SignatureScheme
	for _, c := range cands {
		if !s.hashes[c.hash] {
			continue
		}
		if s.key.scheme != tpm2.TPMAlgNull {
			if alg, _ := tpmHash(c.hash); s.key.scheme != c.alg || s.key.hash != alg {
				continue
			}
		}
		if c.alg == tpm2.TPMAlgRSAPSS && s.key.pub.(*rsa.PublicKey).Size() < 2*c.hash.Size()+2 {
			continue
		}
		out = append(out, c.scheme)
	}
	return out
}

// X509SignatureAlgorithm picks the certificate/CSR signature algorithm this
// key can make (preferring the key's fixed scheme, then SHA-256).
func (s *Signer) X509SignatureAlgorithm() x509.SignatureAlgorithm {
	schemes := s.SignatureSchemes()
	// Prefer PKCS#1 v1.5 for RSA CSRs (widest CA support) when allowed.
	for _, want := range []tls.SignatureScheme{tls.PKCS1WithSHA256, tls.PKCS1WithSHA384, tls.PKCS1WithSHA512} {
		for _, sc := range schemes {
			if sc == want {
				return x509Alg(sc)
			}
		}
	}
	if len(schemes) == 0 {
		return x509.UnknownSignatureAlgorithm
	}
	return x509Alg(schemes[0])
}

func x509Alg(sc tls.SignatureScheme) x509.SignatureAlgorithm {
	switch sc {
	case tls.ECDSAWithP256AndSHA256:
		return x509.ECDSAWithSHA256
	case tls.ECDSAWithP384AndSHA384:
		return x509.ECDSAWithSHA384
	case tls.ECDSAWithP521AndSHA512:
		return x509.ECDSAWithSHA512
	case tls.PSSWithSHA256:
		return x509.SHA256WithRSAPSS
	case tls.PSSWithSHA384:
		return x509.SHA384WithRSAPSS
	case tls.PSSWithSHA512:
		return x509.SHA512WithRSAPSS
	case tls.PKCS1WithSHA256:
		return x509.SHA256WithRSA
	case tls.PKCS1WithSHA384:
		return x509.SHA384WithRSA
	case tls.PKCS1WithSHA512:
		return x509.SHA512WithRSA
	}
	return x509.UnknownSignatureAlgorithm
}

func goHash(a tpm2.TPMAlgID) crypto.Hash {
	switch a {
	case tpm2.TPMAlgSHA1:
		return crypto.SHA1
	case tpm2.TPMAlgSHA256:
		return crypto.SHA256
	case tpm2.TPMAlgSHA384:
		return crypto.SHA384
	case tpm2.TPMAlgSHA512:
		return crypto.SHA512
	}
	return 0
}

// supportedHashes asks the TPM which hash algorithms it implements.
func supportedHashes(dev *Device) (map[crypto.Hash]bool, error) {
	out := map[crypto.Hash]bool{}
	next := uint32(0)
	for {
		from := next
		rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapAlgs, Property: next, PropertyCount: 64}.Execute(dev)
		if err != nil {
			return nil, fmt.Errorf("reading tpm algorithms: %w", err)
		}
		algs, err := rsp.CapabilityData.Data.Algorithms()
		if err != nil {
			return nil, fmt.Errorf("reading tpm algorithms: %w", err)
		}
		for _, a := range algs.AlgProperties {
			if h := goHash(a.Alg); h != 0 {
				out[h] = true
			}
			next = uint32(a.Alg) + 1
		}
		// A TPM that says "more" without moving on would loop us forever.
		if !rsp.MoreData || len(algs.AlgProperties) == 0 || next <= from {
			return out, nil
		}
	}
}
