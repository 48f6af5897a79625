package trust

import (
	"bytes"
	"context"
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/asn1"
	"encoding/binary"
	"errors"
	"fmt"
	"math/big"
	"slices"
	"sort"
	"strings"
)

// envelopedData is RFC 5652 EnvelopedData.
type envelopedData struct {
	Version              int
	OriginatorInfo       asn1.RawValue `asn1:"optional,tag:0"`
	RecipientInfos       asn1.RawValue `asn1:"set"`
	EncryptedContentInfo encryptedContentInfo
	UnprotectedAttrs     asn1.RawValue `asn1:"optional,tag:1"`
}

// authEnvelopedData is RFC 5083 AuthEnvelopedData.
type authEnvelopedData struct {
	Version                  int
	OriginatorInfo           asn1.RawValue `asn1:"optional,tag:0"`
	RecipientInfos           asn1.RawValue `asn1:"set"`
	AuthEncryptedContentInfo encryptedContentInfo
	AuthAttrs                asn1.RawValue `asn1:"optional,tag:1"`
	MAC                      []byte
	UnauthAttrs              asn1.RawValue `asn1:"optional,tag:2"`
}

type encryptedContentInfo struct {
	ContentType                asn1.ObjectIdentifier
	ContentEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedContent           asn1.RawValue `asn1:"optional,tag:0"`
}

type keyTransRecipientInfo struct {
	Version                int
	RID                    asn1.RawValue
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	EncryptedKey           []byte
}

type keyAgreeRecipientInfo struct {
	Version                int
	Originator             asn1.RawValue `asn1:"explicit,tag:0"`
	UKM                    []byte        `asn1:"explicit,optional,tag:1"`
	KeyEncryptionAlgorithm pkix.AlgorithmIdentifier
	RecipientEncryptedKeys []recipientEncryptedKey
}

type recipientEncryptedKey struct {
	RID          asn1.RawValue
	EncryptedKey []byte
}

type originatorPublicKey struct {
	Algorithm pkix.AlgorithmIdentifier
	PublicKey asn1.BitString
}

type rsaesOAEPParams struct {
	Hash    pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:0"`
	MGF     pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:1"`
	PSource pkix.AlgorithmIdentifier `asn1:"explicit,optional,tag:2"`
}

type gcmParameters struct {
	Nonce  []byte
	ICVLen int `asn1:"optional,default:12"`
}

// eccCMSSharedInfo is the RFC 5753 KDF input.
type eccCMSSharedInfo struct {
	KeyInfo     pkix.AlgorithmIdentifier
	EntityUInfo []byte `asn1:"explicit,optional,tag:0"`
	SuppPubInfo []byte `asn1:"explicit,tag:2"`
}

// OIDs of the algorithms Open decrypts (and trusttest encrypts with).
var (
	OIDRSAESOAEP  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 7}
	OIDAES128CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 2}
	OIDAES192CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 22}
	OIDAES256CBC  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 42}
	OIDAES128GCM  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 6}
	OIDAES192GCM  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 26}
	OIDAES256GCM  = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 46}
	OIDAES128Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 5}
	OIDAES192Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 25}
	OIDAES256Wrap = asn1.ObjectIdentifier{2, 16, 840, 1, 101, 3, 4, 1, 45}
	// RFC 5753 / SEC 1 ephemeral-static ECDH with X9.63 KDFs.
	OIDECDHSHA1KDF   = asn1.ObjectIdentifier{1, 3, 133, 16, 840, 63, 0, 2}
	OIDECDHSHA224KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 0}
	OIDECDHSHA256KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 1}
	OIDECDHSHA384KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 2}
	OIDECDHSHA512KDF = asn1.ObjectIdentifier{1, 3, 132, 1, 11, 3}

	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidP256        = asn1.ObjectIdentifier{1, 2, 840, 10045, 3, 1, 7}
	oidP384        = asn1.ObjectIdentifier{1, 3, 132, 0, 34}
	oidP521        = asn1.ObjectIdentifier{1, 3, 132, 0, 35}
)

// decryptEnvelope decrypts the content of an id-envelopedData or
// id-ct-authEnvelopedData ContentInfo. It returns the inner content type and
// the plaintext.
func decryptEnvelope(outer asn1.ObjectIdentifier, der []byte, opts *Options) (asn1.ObjectIdentifier, []byte, error) {
	if opts.Decrypter == nil && opts.ECDH == nil {
		return nil, nil, errors.New("the artifact is encrypted and no decryption key is configured")
	}
	var (
		recips asn1.RawValue
		eci    encryptedContentInfo
		aad    []byte
		mac    []byte
		auth   = outer.Equal(OIDAuthEnvelopedData)
	)
	if auth {
		var ad authEnvelopedData
		if rest, err := asn1.Unmarshal(der, &ad); err != nil || len(rest) != 0 {
			return nil, nil, fmt.Errorf("AuthEnvelopedData: %v", errOrTrailing(err))
		}
		recips, eci, mac = ad.RecipientInfos, ad.AuthEncryptedContentInfo, ad.MAC
		if len(ad.AuthAttrs.FullBytes) != 0 {
			aad = append([]byte{0x31}, ad.AuthAttrs.FullBytes[1:]...)
		}
	} else {
		var ed envelopedData
		if rest, err := asn1.Unmarshal(der, &ed); err != nil || len(rest) != 0 {
			return nil, nil, fmt.Errorf("EnvelopedData: %v", errOrTrailing(err))
		}
		recips, eci = ed.RecipientInfos, ed.EncryptedContentInfo
	}
	ciphertext, err := encryptedOctets(eci.EncryptedContent)
	if err != nil {
		return nil, nil, err
	}
	keyLen, err := contentKeyLen(eci.ContentEncryptionAlgorithm.Algorithm, auth)
	if err != nil {
		return nil, nil, err
	}
	var decrypt func(cek []byte) ([]byte, error)
	if auth {
		decrypt, err = gcmDecrypter(eci.ContentEncryptionAlgorithm, ciphertext, mac, aad)
	} else {
		decrypt, err = cbcDecrypter(eci.ContentEncryptionAlgorithm, ciphertext, eci.ContentType)
	}
	if err != nil {
		return nil, nil, err
	}
	plain, err := openRecipients(recips.Bytes, keyLen, opts, decrypt)
	if err != nil {
		return nil, nil, err
	}
	return eci.ContentType, plain, nil
}

func errOrTrailing(err error) error {
	if err != nil {
		return err
	}
	return errors.New("trailing data")
}

// encryptedOctets reads [0] IMPLICIT OCTET STRING, primitive or (from BER)
// constructed.
func encryptedOctets(v asn1.RawValue) ([]byte, error) {
	if len(v.FullBytes) == 0 {
		return nil, errors.New("EncryptedContentInfo has no encryptedContent (detached content is not supported)")
	}
	if !v.IsCompound {
		return v.Bytes, nil
	}
	return flattenOctets(v.Bytes)
}

func contentKeyLen(alg asn1.ObjectIdentifier, auth bool) (int, error) {
	cbc := map[string]int{OIDAES128CBC.String(): 16, OIDAES192CBC.String(): 24, OIDAES256CBC.String(): 32}
	gcm := map[string]int{OIDAES128GCM.String(): 16, OIDAES192GCM.String(): 24, OIDAES256GCM.String(): 32}
	m, want := cbc, "AES-CBC (EnvelopedData)"
	if auth {
		m, want = gcm, "AES-GCM (AuthEnvelopedData)"
	}
	if n, ok := m[alg.String()]; ok {
		return n, nil
	}
	return 0, fmt.Errorf("content encryption algorithm %v is not supported; expected %s", alg, want)
}

// cbcDecrypter checks the AES-CBC parameters and returns the function that
// decrypts the content with a content-encryption key. Whatever goes wrong
// with a key gives one error: a padding error must not be told apart from
// the rest (with PKCS#1 v1.5 key transport a wrong key is a random one, see
// keyTransport). CBC has no integrity, so a plaintext that cannot be any
// SZTP content (a DER value, a JSON object or an XML document) counts as a
// wrong key too: a random key passes the padding check once in 256 tries.
func cbcDecrypter(alg pkix.AlgorithmIdentifier, ct []byte, innerType asn1.ObjectIdentifier) (func([]byte) ([]byte, error), error) {
	var iv []byte
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &iv); err != nil || len(rest) != 0 || len(iv) != aes.BlockSize {
		return nil, errors.New("AES-CBC parameters are not a 16-octet IV")
	}
	if len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("AES-CBC ciphertext of %d octets is not a whole number of blocks", len(ct))
	}
	return func(key []byte) ([]byte, error) {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		out := make([]byte, len(ct))
		cipher.NewCBCDecrypter(block, iv).CryptBlocks(out, ct)
		pad := int(out[len(out)-1])
		good := pad > 0 && pad <= aes.BlockSize
		for i := 1; good && i <= pad; i++ {
			good = int(out[len(out)-i]) == pad
		}
		if !good || !plausible(out[:len(out)-pad]) {
			return nil, errWrongKey
		}
		return out[:len(out)-pad], nil
	}, nil
}

// errWrongKey is the one error of content decryption with a wrong key.
var errWrongKey = errors.New("the content does not decrypt with the recovered key")

// plausible reports whether a decrypted plaintext can be SZTP content: a
// DER value (ContentInfo, SignedData), or a JSON or XML document.
func plausible(b []byte) bool {
	if len(b) > 0 && b[0] == 0x30 {
		// One whole DER or BER value, nothing after it.
		h, err := readHeader(b)
		return err == nil && (h.length < 0 || h.hdrLen+h.length == len(b))
	}
	b = bytes.TrimSpace(bytes.TrimPrefix(b, []byte("\xef\xbb\xbf")))
	return len(b) > 1 && (b[0] == '{' && b[len(b)-1] == '}' || b[0] == '<' && b[len(b)-1] == '>')
}

// gcmDecrypter checks the AES-GCM parameters and returns the function that
// decrypts and authenticates the content with a content-encryption key.
func gcmDecrypter(alg pkix.AlgorithmIdentifier, ct, mac, aad []byte) (func([]byte) ([]byte, error), error) {
	var p gcmParameters
	if rest, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil || len(rest) != 0 {
		return nil, errors.New("AES-GCM parameters are malformed")
	}
	if p.ICVLen != len(mac) || len(mac) < 12 || len(mac) > 16 {
		return nil, fmt.Errorf("AES-GCM tag of %d octets does not fit ICV length %d", len(mac), p.ICVLen)
	}
	if len(p.Nonce) != 12 {
		return nil, fmt.Errorf("AES-GCM nonce of %d octets is not supported (want 12)", len(p.Nonce))
	}
	sealed := append(append([]byte{}, ct...), mac...)
	return func(key []byte) ([]byte, error) {
		block, err := aes.NewCipher(key)
		if err != nil {
			return nil, err
		}
		g, err := cipher.NewGCMWithTagSize(block, len(mac))
		if err != nil {
			return nil, err
		}
		plain, err := g.Open(nil, p.Nonce, sealed, aad)
		if err != nil {
			return nil, errWrongKey
		}
		return plain, nil
	}, nil
}

// MaxRecipientTries bounds how many recipients of one artifact the device
// tries its key on: each try costs an RSA decryption or an ECDH, in a TPM
// perhaps a second or more (issue 10 item 2).
const MaxRecipientTries = 16

// maxRecipients bounds the RecipientInfos and RecipientEncryptedKeys of one
// artifact that are read at all (reading one costs no key operation).
const maxRecipients = 4096

// maxReasonLen bounds each reason quoted in a decryption error.
const maxReasonLen = 160

// ridMatch says whether a recipient identifier names the device's key.
type ridMatch int

const (
	ridOther   ridMatch = iota // names another certificate: skipped
	ridUnknown                 // cannot tell (no certificate of the key is known)
	ridDevice                  // names the device's certificate or key
)

// deviceIDs are the identifiers of one device decryption key: the issuer
// and serial number of its certificate (when the configured certificate
// holds that key) and its subject key identifiers.
type deviceIDs struct {
	cert *x509.Certificate // nil when no certificate of the key is known
	skis [][]byte
}

// idsOf returns the identifiers of a decryption key with public key pub,
// whose subjectPublicKey octets are spk. cert, when it holds pub, names it.
func idsOf(cert *x509.Certificate, pub crypto.PublicKey, spk []byte) deviceIDs {
	var ids deviceIDs
	if cert != nil && samePublicKey(cert.PublicKey, pub) {
		ids.cert = cert
		if len(cert.SubjectKeyId) != 0 {
			ids.skis = append(ids.skis, cert.SubjectKeyId)
		}
	}
	// RFC 5280 4.2.1.2 method 1 and RFC 7093 methods 1 and 4: how CAs that
	// do not choose their own derive a subject key identifier.
	s1 := sha1.Sum(spk)
	s256 := sha256.Sum256(spk)
	ids.skis = append(ids.skis, s1[:], s256[:20], s256[:])
	return ids
}

func samePublicKey(certKey, pub crypto.PublicKey) bool {
	switch k := pub.(type) {
	case *rsa.PublicKey:
		c, ok := certKey.(*rsa.PublicKey)
		return ok && c.Equal(k)
	case *ecdh.PublicKey:
		c, ok := certKey.(*ecdsa.PublicKey)
		if !ok {
			return false
		}
		e, err := c.ECDH()
		return err == nil && e.Equal(k)
	}
	return false
}

// match classifies a RecipientIdentifier (KeyTransRecipientInfo) or a
// KeyAgreeRecipientIdentifier (RecipientEncryptedKey): issuerAndSerialNumber,
// subjectKeyIdentifier [0] or rKeyId [0] (RFC 5652 6.2.1, 6.2.2).
func (ids deviceIDs) match(rid asn1.RawValue) ridMatch {
	switch {
	case rid.Class == asn1.ClassUniversal && rid.Tag == asn1.TagSequence:
		var ias struct {
			Issuer asn1.RawValue
			Serial *big.Int
		}
		if rest, err := asn1.Unmarshal(rid.FullBytes, &ias); err != nil || len(rest) != 0 {
			return ridOther
		}
		if ids.cert == nil {
			return ridUnknown
		}
		if bytes.Equal(ias.Issuer.FullBytes, ids.cert.RawIssuer) && ias.Serial.Cmp(ids.cert.SerialNumber) == 0 {
			return ridDevice
		}
		return ridOther
	case rid.Class == asn1.ClassContextSpecific && rid.Tag == 0:
		ski := rid.Bytes
		if rid.IsCompound { // rKeyId: RecipientKeyIdentifier, SKI first
			var first []byte
			if _, err := asn1.Unmarshal(rid.Bytes, &first); err != nil {
				return ridOther
			}
			ski = first
		}
		for _, s := range ids.skis {
			if bytes.Equal(s, ski) {
				return ridDevice
			}
		}
		if ids.cert == nil {
			return ridUnknown // a CA may have chosen the identifier
		}
		return ridOther
	}
	return ridOther
}

// candidate is a recipient that may be the device's.
type candidate struct {
	match ridMatch
	kt    *keyTransRecipientInfo
	ka    *keyAgreeRecipientInfo // RecipientEncryptedKeys: only those kept
}

// openRecipients tries the device's key on the recipients that may be its
// own, those that name it first, at most MaxRecipientTries of them, and
// returns the content decrypted with the first key that works. Recipients
// that name another certificate are skipped without a key operation: besides
// the cost, a wrong recipient's random key (PKCS#1 v1.5) makes a plausible
// plaintext once in many thousand tries, which then fails to parse.
func openRecipients(set []byte, keyLen int, opts *Options, decrypt func([]byte) ([]byte, error)) ([]byte, error) {
	ctx := opts.Context
	if ctx == nil {
		ctx = context.Background()
	}
	var rsaIDs, ecIDs deviceIDs
	var rsaSize int
	if opts.Decrypter != nil {
		if pub, ok := opts.Decrypter.Public().(*rsa.PublicKey); ok {
			rsaIDs = idsOf(opts.IDevID, pub, x509.MarshalPKCS1PublicKey(pub))
			rsaSize = pub.Size()
		}
	}
	if opts.ECDH != nil {
		pub := opts.ECDH.Public()
		ecIDs = idsOf(opts.IDevID, pub, pub.Bytes())
	}
	var (
		cands         []candidate
		seen, skipped int
		unsupported   []string
	)
	for len(set) > 0 {
		if seen++; seen > maxRecipients {
			return nil, fmt.Errorf("more than %d recipients", maxRecipients)
		}
		var ri asn1.RawValue
		rest, err := asn1.Unmarshal(set, &ri)
		if err != nil {
			return nil, fmt.Errorf("RecipientInfos: %w", err)
		}
		set = rest
		switch {
		case ri.Class == asn1.ClassUniversal && ri.Tag == asn1.TagSequence:
			kt := new(keyTransRecipientInfo)
			if _, err := asn1.Unmarshal(ri.FullBytes, kt); err != nil {
				return nil, fmt.Errorf("KeyTransRecipientInfo: %w", err)
			}
			if rsaSize == 0 {
				unsupported = appendOnce(unsupported, "key transport (no RSA decryption key)")
				continue
			}
			m := rsaIDs.match(kt.RID)
			if m == ridOther || len(kt.EncryptedKey) != rsaSize {
				skipped++
				continue
			}
			cands = append(cands, candidate{match: m, kt: kt})
		case ri.Class == asn1.ClassContextSpecific && ri.Tag == 1:
			ka := new(keyAgreeRecipientInfo)
			if _, err := asn1.Unmarshal(append([]byte{0x30}, ri.FullBytes[1:]...), ka); err != nil {
				return nil, fmt.Errorf("KeyAgreeRecipientInfo: %w", err)
			}
			if seen += len(ka.RecipientEncryptedKeys); seen > maxRecipients {
				return nil, fmt.Errorf("more than %d recipients", maxRecipients)
			}
			if opts.ECDH == nil {
				unsupported = appendOnce(unsupported, "key agreement (no ECDH key)")
				continue
			}
			best, keep := ridOther, ka.RecipientEncryptedKeys[:0:0]
			for _, rek := range ka.RecipientEncryptedKeys {
				m := ecIDs.match(rek.RID)
				if m == ridOther {
					skipped++
					continue
				}
				best = max(best, m)
				keep = append(keep, rek)
			}
			if len(keep) == 0 {
				continue
			}
			ka.RecipientEncryptedKeys = keep
			cands = append(cands, candidate{match: best, ka: ka})
		default:
			unsupported = appendOnce(unsupported, fmt.Sprintf("unsupported RecipientInfo [%d]", ri.Tag))
		}
	}
	if seen == 0 {
		return nil, errors.New("no RecipientInfo")
	}
	// Recipients that name the device first, then those that may be it.
	sort.SliceStable(cands, func(i, j int) bool { return cands[i].match > cands[j].match })
	var reasons []string
	tries := 0
	for _, c := range cands {
		if tries == MaxRecipientTries {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, fmt.Errorf("decryption stopped: %w", err)
		}
		tries++
		var (
			cek []byte
			who string
			err error
		)
		if c.kt != nil {
			who = "key transport to " + describeSID(c.kt.RID)
			cek, err = keyTransport(*c.kt, keyLen, opts.Decrypter)
		} else {
			who = "key agreement"
			cek, err = keyAgreement(*c.ka, keyLen, opts.ECDH)
		}
		if err == nil {
			var plain []byte
			if plain, err = decrypt(cek); err == nil {
				return plain, nil
			}
		}
		reasons = appendOnce(reasons, truncate(fmt.Sprintf("%s: %v", who, err), maxReasonLen))
	}
	msg := fmt.Sprintf("not encrypted to this device's key, or the content was altered: %d recipients, %d skipped as another's, %d tried", seen, skipped, tries)
	if tries < len(cands) {
		msg += fmt.Sprintf(", %d more not tried (at most %d are tried)", len(cands)-tries, MaxRecipientTries)
	}
	if why := append(reasons, unsupported...); len(why) > 0 {
		if len(why) > 3 {
			why = append(why[:3:3], "...")
		}
		msg += " (" + strings.Join(why, "; ") + ")"
	}
	return nil, errors.New(msg)
}

// appendOnce appends s unless list already holds it.
func appendOnce(list []string, s string) []string {
	if slices.Contains(list, s) {
		return list
	}
	return append(list, s)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

func keyTransport(kt keyTransRecipientInfo, keyLen int, d crypto.Decrypter) ([]byte, error) {
	if _, ok := d.Public().(*rsa.PublicKey); !ok {
		return nil, fmt.Errorf("decryption key is %T, not RSA", d.Public())
	}
	var opts crypto.DecrypterOpts
	switch alg := kt.KeyEncryptionAlgorithm; {
	case alg.Algorithm.Equal(oidRSAEncryption):
		// With SessionKeyLen a bad padding or a wrong key length yields a
		// random key instead of an error (in constant time for rsa keys; the
		// tpm Decrypter does the same), so the content decryption fails the
		// same way whatever was wrong: no Bleichenbacher oracle.
		opts = &rsa.PKCS1v15DecryptOptions{SessionKeyLen: keyLen}
	case alg.Algorithm.Equal(OIDRSAESOAEP):
		var p rsaesOAEPParams
		if len(alg.Parameters.FullBytes) != 0 && !isNull(alg.Parameters) {
			if _, err := asn1.Unmarshal(alg.Parameters.FullBytes, &p); err != nil {
				return nil, fmt.Errorf("RSAES-OAEP parameters: %w", err)
			}
		}
		h, err := oaepHash(p.Hash)
		if err != nil {
			return nil, err
		}
		mgfHash := crypto.SHA1
		if len(p.MGF.Algorithm) != 0 {
			if !p.MGF.Algorithm.Equal(oidMGF1) {
				return nil, fmt.Errorf("OAEP mask generation %v is not MGF1", p.MGF.Algorithm)
			}
			var mh pkix.AlgorithmIdentifier
			if _, err := asn1.Unmarshal(p.MGF.Parameters.FullBytes, &mh); err != nil {
				return nil, fmt.Errorf("OAEP MGF1 hash: %w", err)
			}
			if mgfHash, err = oaepHash(mh); err != nil {
				return nil, err
			}
		}
		if len(p.PSource.Algorithm) != 0 {
			return nil, errors.New("OAEP with a label (pSourceFunc) is not supported")
		}
		opts = &rsa.OAEPOptions{Hash: h, MGFHash: mgfHash}
	default:
		return nil, fmt.Errorf("key encryption algorithm %v is not RSA PKCS#1 v1.5 or OAEP", alg.Algorithm)
	}
	cek, err := d.Decrypt(rand.Reader, kt.EncryptedKey, opts)
	if err != nil {
		return nil, err
	}
	if len(cek) != keyLen {
		return nil, fmt.Errorf("recovered a %d-octet key, want %d", len(cek), keyLen)
	}
	return cek, nil
}

func isNull(v asn1.RawValue) bool {
	return v.Class == asn1.ClassUniversal && v.Tag == asn1.TagNull
}

func oaepHash(a pkix.AlgorithmIdentifier) (crypto.Hash, error) {
	if len(a.Algorithm) == 0 || a.Algorithm.Equal(oidSHA1) {
		return crypto.SHA1, nil
	}
	return hashForOID(a.Algorithm)
}

func keyAgreement(ka keyAgreeRecipientInfo, keyLen int, key ECDHKey) ([]byte, error) {
	// originator [0] EXPLICIT OriginatorIdentifierOrKey; only originatorKey
	// [1] (ephemeral-static) is supported.
	var orig asn1.RawValue
	if _, err := asn1.Unmarshal(ka.Originator.Bytes, &orig); err != nil {
		return nil, fmt.Errorf("originator: %w", err)
	}
	if orig.Class != asn1.ClassContextSpecific || orig.Tag != 1 {
		return nil, errors.New("originator is not an ephemeral public key (only ephemeral-static ECDH is supported)")
	}
	var opk originatorPublicKey
	if _, err := asn1.Unmarshal(append([]byte{0x30}, orig.FullBytes[1:]...), &opk); err != nil {
		return nil, fmt.Errorf("originator public key: %w", err)
	}
	our := key.Public()
	curve := our.Curve()
	if len(opk.Algorithm.Parameters.FullBytes) != 0 && !isNull(opk.Algorithm.Parameters) {
		var c asn1.ObjectIdentifier
		if _, err := asn1.Unmarshal(opk.Algorithm.Parameters.FullBytes, &c); err == nil {
			if want := curveOID(curve); want != nil && !c.Equal(want) {
				return nil, fmt.Errorf("originator key is on curve %v, the device key on %v", c, want)
			}
		}
	}
	peer, err := curve.NewPublicKey(opk.PublicKey.RightAlign())
	if err != nil {
		return nil, fmt.Errorf("originator public key: %w", err)
	}
	var h crypto.Hash
	switch alg := ka.KeyEncryptionAlgorithm.Algorithm; {
	case alg.Equal(OIDECDHSHA1KDF):
		h = crypto.SHA1
	case alg.Equal(OIDECDHSHA224KDF):
		h = crypto.SHA224
	case alg.Equal(OIDECDHSHA256KDF):
		h = crypto.SHA256
	case alg.Equal(OIDECDHSHA384KDF):
		h = crypto.SHA384
	case alg.Equal(OIDECDHSHA512KDF):
		h = crypto.SHA512
	default:
		return nil, fmt.Errorf("key agreement algorithm %v is not dhSinglePass-stdDH with an X9.63 KDF", alg)
	}
	var wrap pkix.AlgorithmIdentifier
	if _, err := asn1.Unmarshal(ka.KeyEncryptionAlgorithm.Parameters.FullBytes, &wrap); err != nil {
		return nil, fmt.Errorf("key wrap algorithm: %w", err)
	}
	var kekLen int
	switch {
	case wrap.Algorithm.Equal(OIDAES128Wrap):
		kekLen = 16
	case wrap.Algorithm.Equal(OIDAES192Wrap):
		kekLen = 24
	case wrap.Algorithm.Equal(OIDAES256Wrap):
		kekLen = 32
	default:
		return nil, fmt.Errorf("key wrap algorithm %v is not AES key wrap", wrap.Algorithm)
	}
	z, err := key.ECDH(peer)
	if err != nil {
		return nil, fmt.Errorf("ECDH: %w", err)
	}
	info := eccCMSSharedInfo{
		KeyInfo:     pkix.AlgorithmIdentifier{Algorithm: wrap.Algorithm},
		EntityUInfo: ka.UKM,
		SuppPubInfo: binary.BigEndian.AppendUint32(nil, uint32(kekLen*8)),
	}
	sharedInfo, err := asn1.Marshal(info)
	if err != nil {
		return nil, err
	}
	kek := X963KDF(h, z, sharedInfo, kekLen)
	var errs []string
	for _, rek := range ka.RecipientEncryptedKeys {
		cek, err := aesKeyUnwrap(kek, rek.EncryptedKey)
		if err != nil {
			errs = append(errs, err.Error())
			continue
		}
		if len(cek) != keyLen {
			errs = append(errs, fmt.Sprintf("unwrapped a %d-octet key, want %d", len(cek), keyLen))
			continue
		}
		return cek, nil
	}
	return nil, fmt.Errorf("no recipient key unwraps with this device's key (%s)", strings.Join(errs, "; "))
}

func curveOID(c ecdh.Curve) asn1.ObjectIdentifier {
	switch c {
	case ecdh.P256():
		return oidP256
	case ecdh.P384():
		return oidP384
	case ecdh.P521():
		return oidP521
	}
	return nil
}

// X963KDF is the ANSI X9.63 key derivation function (SEC 1 3.6.1) used by
// RFC 5753: Hash(Z || counter || sharedInfo) for counter = 1, 2, ...
func X963KDF(h crypto.Hash, z, sharedInfo []byte, n int) []byte {
	var out []byte
	for counter := uint32(1); len(out) < n; counter++ {
		d := h.New()
		d.Write(z)
		d.Write(binary.BigEndian.AppendUint32(nil, counter))
		d.Write(sharedInfo)
		out = d.Sum(out)
	}
	return out[:n]
}

var keyWrapIV = []byte{0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6, 0xa6}

// aesKeyUnwrap is the RFC 3394 AES key unwrap.
func aesKeyUnwrap(kek, wrapped []byte) ([]byte, error) {
	if len(wrapped) < 24 || len(wrapped)%8 != 0 {
		return nil, fmt.Errorf("wrapped key of %d octets is malformed", len(wrapped))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(wrapped)/8 - 1
	a := append([]byte{}, wrapped[:8]...)
	r := append([]byte{}, wrapped[8:]...)
	var b [16]byte
	for j := 5; j >= 0; j-- {
		for i := n; i >= 1; i-- {
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(b[:8], binary.BigEndian.Uint64(a)^t)
			copy(b[8:], r[(i-1)*8:i*8])
			block.Decrypt(b[:], b[:])
			copy(a, b[:8])
			copy(r[(i-1)*8:i*8], b[8:])
		}
	}
	if subtle.ConstantTimeCompare(a, keyWrapIV) != 1 {
		return nil, errors.New("AES key unwrap integrity check failed (wrong key)")
	}
	return r, nil
}

// AESKeyWrap is the RFC 3394 AES key wrap (for encrypting test artifacts).
func AESKeyWrap(kek, key []byte) ([]byte, error) {
	if len(key) < 16 || len(key)%8 != 0 {
		return nil, fmt.Errorf("key of %d octets cannot be wrapped", len(key))
	}
	block, err := aes.NewCipher(kek)
	if err != nil {
		return nil, err
	}
	n := len(key) / 8
	a := append([]byte{}, keyWrapIV...)
	r := append([]byte{}, key...)
	var b [16]byte
	for j := 0; j <= 5; j++ {
		for i := 1; i <= n; i++ {
			copy(b[:8], a)
			copy(b[8:], r[(i-1)*8:i*8])
			block.Encrypt(b[:], b[:])
			t := uint64(n*j + i)
			binary.BigEndian.PutUint64(a, binary.BigEndian.Uint64(b[:8])^t)
			copy(r[(i-1)*8:i*8], b[8:])
		}
	}
	return append(a, r...), nil
}

// NewECDHKey adapts an in-memory *ecdh.PrivateKey to ECDHKey.
func NewECDHKey(k *ecdh.PrivateKey) ECDHKey { return ecdhKey{k} }

type ecdhKey struct{ k *ecdh.PrivateKey }

func (k ecdhKey) Public() *ecdh.PublicKey                   { return k.k.PublicKey() }
func (k ecdhKey) ECDH(peer *ecdh.PublicKey) ([]byte, error) { return k.k.ECDH(peer) }
