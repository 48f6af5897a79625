package trusttest

import (
	"crypto"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/asn1"
	"encoding/binary"
	"fmt"

	"github.com/sztp/sztp/trust"
)

var (
	oidECPublicKey = asn1.ObjectIdentifier{1, 2, 840, 10045, 2, 1}
	oidMGF1        = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 1, 8}
)

// EncryptOptions choose the algorithms of an encrypted artifact. The zero
// value is AES-256-CBC EnvelopedData, RSA PKCS#1 v1.5 key transport or ECDH
// with the SHA-256 X9.63 KDF and AES-256 key wrap.
type EncryptOptions struct {
	// GCM makes an AuthEnvelopedData with AES-GCM (RFC 5083).
	GCM bool
	// AES128 uses 128-bit content and wrap keys instead of 256-bit.
	AES128 bool
	// OAEP uses RSAES-OAEP (SHA-256) for RSA recipients.
	OAEP bool
	// KDF is the X9.63 KDF hash for EC recipients (default SHA-256).
	KDF crypto.Hash
	// OpensslStyle encrypts the whole ContentInfo under id-data, as
	// `openssl cms -encrypt` does, instead of the RFC 8572 form.
	OpensslStyle bool
	// SubjectKeyID names recipients by the subject key identifier of
	// their certificate instead of issuer and serial number.
	SubjectKeyID bool
}

// EncryptFor encrypts content (the inner content octets: a SignedData
// SEQUENCE for id-signedData, else the document) of type innerType to the
// recipient certificate's key with default options.
func EncryptFor(recipient *x509.Certificate, content []byte, innerType asn1.ObjectIdentifier) ([]byte, error) {
	return EncryptWith(recipient, content, innerType, EncryptOptions{})
}

// EncryptArtifact encrypts a whole artifact (a ContentInfo such as Sign,
// CertsOnly or trust.WrapUnsigned make) to recipient: in the RFC 8572 form
// the encrypted content type names the inner type; with OpensslStyle it is
// id-data around the whole ContentInfo.
func EncryptArtifact(recipient *x509.Certificate, artifact []byte, o EncryptOptions) ([]byte, error) {
	if o.OpensslStyle {
		return EncryptWith(recipient, artifact, trust.OIDData, o)
	}
	var ci struct {
		ContentType asn1.ObjectIdentifier
		Content     asn1.RawValue `asn1:"explicit,tag:0"`
	}
	if _, err := asn1.Unmarshal(artifact, &ci); err != nil {
		return nil, fmt.Errorf("trusttest: artifact is not a ContentInfo: %w", err)
	}
	content := ci.Content.Bytes
	if !ci.ContentType.Equal(trust.OIDSignedData) {
		var doc []byte
		if _, err := asn1.Unmarshal(content, &doc); err != nil {
			return nil, fmt.Errorf("trusttest: %v content is not an OCTET STRING: %w", ci.ContentType, err)
		}
		content = doc
	}
	return EncryptWith(recipient, content, ci.ContentType, o)
}

// EncryptWith is EncryptFor with options.
func EncryptWith(recipient *x509.Certificate, content []byte, innerType asn1.ObjectIdentifier, o EncryptOptions) ([]byte, error) {
	return EncryptToAll([]*x509.Certificate{recipient}, content, innerType, o)
}

// EncryptToAll is EncryptWith for several recipients, one RecipientInfo
// each, in the given order (the SET is not sorted). A recipient needs only
// RawIssuer, SerialNumber (or SubjectKeyId) and PublicKey.
func EncryptToAll(recipients []*x509.Certificate, content []byte, innerType asn1.ObjectIdentifier, o EncryptOptions) ([]byte, error) {
	keyLen := 32
	if o.AES128 {
		keyLen = 16
	}
	cek := make([]byte, keyLen)
	if _, err := rand.Read(cek); err != nil {
		return nil, err
	}
	var ris [][]byte
	riVersion := 0
	for _, r := range recipients {
		ri, v, err := recipientInfo(r, cek, o)
		if err != nil {
			return nil, err
		}
		ris, riVersion = append(ris, ri), max(riVersion, v)
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	recips := asn1.RawValue{FullBytes: rawList(0x31, ris)}
	if o.GCM {
		nonce := make([]byte, 12)
		if _, err := rand.Read(nonce); err != nil {
			return nil, err
		}
		g, err := cipher.NewGCM(block)
		if err != nil {
			return nil, err
		}
		sealed := g.Seal(nil, nonce, content, nil)
		ct, mac := sealed[:len(content)], sealed[len(content):]
		params, err := asn1.Marshal(struct {
			Nonce  []byte
			ICVLen int
		}{nonce, len(mac)})
		if err != nil {
			return nil, err
		}
		alg := trust.OIDAES256GCM
		if o.AES128 {
			alg = trust.OIDAES128GCM
		}
		eci, err := encryptedContentInfo(innerType, alg, params, ct)
		if err != nil {
			return nil, err
		}
		body, err := asn1.Marshal(struct {
			Version        int
			RecipientInfos asn1.RawValue
			ECI            asn1.RawValue
			MAC            []byte
		}{0, recips, asn1.RawValue{FullBytes: eci}, mac})
		if err != nil {
			return nil, err
		}
		return ContentInfo(trust.OIDAuthEnvelopedData, body)
	}
	iv := make([]byte, aes.BlockSize)
	if _, err := rand.Read(iv); err != nil {
		return nil, err
	}
	pad := aes.BlockSize - len(content)%aes.BlockSize
	padded := append(append([]byte{}, content...), make([]byte, pad)...)
	for i := len(content); i < len(padded); i++ {
		padded[i] = byte(pad)
	}
	ct := make([]byte, len(padded))
	cipher.NewCBCEncrypter(block, iv).CryptBlocks(ct, padded)
	params, err := asn1.Marshal(iv)
	if err != nil {
		return nil, err
	}
	alg := trust.OIDAES256CBC
	if o.AES128 {
		alg = trust.OIDAES128CBC
	}
	eci, err := encryptedContentInfo(innerType, alg, params, ct)
	if err != nil {
		return nil, err
	}
	version := 0
	if riVersion != 0 {
		version = 2
	}
	body, err := asn1.Marshal(struct {
		Version        int
		RecipientInfos asn1.RawValue
		ECI            asn1.RawValue
	}{version, recips, asn1.RawValue{FullBytes: eci}})
	if err != nil {
		return nil, err
	}
	return ContentInfo(trust.OIDEnvelopedData, body)
}

func encryptedContentInfo(typ, alg asn1.ObjectIdentifier, params, ct []byte) ([]byte, error) {
	return asn1.Marshal(struct {
		ContentType asn1.ObjectIdentifier
		Alg         struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue
		}
		Content asn1.RawValue
	}{
		ContentType: typ,
		Alg: struct {
			Algorithm  asn1.ObjectIdentifier
			Parameters asn1.RawValue
		}{alg, asn1.RawValue{FullBytes: params}},
		Content: asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: ct},
	})
}

func ias(c *x509.Certificate) (asn1.RawValue, error) {
	b, err := asn1.Marshal(issuerAndSerial{Issuer: fullRaw(c.RawIssuer), SerialNumber: c.SerialNumber})
	return asn1.RawValue{FullBytes: b}, err
}

type algID struct {
	Algorithm  asn1.ObjectIdentifier
	Parameters asn1.RawValue `asn1:"optional"`
}

// recipientInfo makes a KeyTransRecipientInfo (RSA) or a
// KeyAgreeRecipientInfo (EC) for cek; it returns the DER and the
// RecipientInfo version.
func recipientInfo(recipient *x509.Certificate, cek []byte, o EncryptOptions) ([]byte, int, error) {
	rid, err := ias(recipient)
	if err != nil {
		return nil, 0, err
	}
	if o.SubjectKeyID {
		rid = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, Bytes: recipient.SubjectKeyId}
		if _, ok := recipient.PublicKey.(*ecdsa.PublicKey); ok { // rKeyId
			ski, _ := asn1.Marshal(recipient.SubjectKeyId)
			rid = asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: 0, IsCompound: true, Bytes: ski}
		}
	}
	switch pub := recipient.PublicKey.(type) {
	case *rsa.PublicKey:
		var ek []byte
		alg := algID{Algorithm: oidRSAEncryption, Parameters: asn1.NullRawValue}
		if o.OAEP {
			ek, err = rsa.EncryptOAEP(crypto.SHA256.New(), rand.Reader, pub, cek, nil)
			sha256ID, _ := asn1.Marshal(algID{Algorithm: oidSHA256})
			mgf, _ := asn1.Marshal(algID{Algorithm: oidMGF1, Parameters: asn1.RawValue{FullBytes: sha256ID}})
			params, _ := asn1.Marshal(struct {
				Hash asn1.RawValue
				MGF  asn1.RawValue
			}{explicitTag(0, sha256ID), explicitTag(1, mgf)})
			alg = algID{Algorithm: trust.OIDRSAESOAEP, Parameters: asn1.RawValue{FullBytes: params}}
		} else {
			ek, err = rsa.EncryptPKCS1v15(rand.Reader, pub, cek)
		}
		if err != nil {
			return nil, 0, err
		}
		b, err := asn1.Marshal(struct {
			Version int
			RID     asn1.RawValue
			Alg     algID
			EK      []byte
		}{0, rid, alg, ek})
		return b, 0, err
	case *ecdsa.PublicKey:
		peer, err := pub.ECDH()
		if err != nil {
			return nil, 0, err
		}
		eph, err := peer.Curve().GenerateKey(rand.Reader)
		if err != nil {
			return nil, 0, err
		}
		z, err := eph.ECDH(peer)
		if err != nil {
			return nil, 0, err
		}
		h := o.KDF
		if h == 0 {
			h = crypto.SHA256
		}
		kdfOID := map[crypto.Hash]asn1.ObjectIdentifier{
			crypto.SHA1: trust.OIDECDHSHA1KDF, crypto.SHA224: trust.OIDECDHSHA224KDF,
			crypto.SHA256: trust.OIDECDHSHA256KDF, crypto.SHA384: trust.OIDECDHSHA384KDF,
			crypto.SHA512: trust.OIDECDHSHA512KDF,
		}[h]
		if kdfOID == nil {
			return nil, 0, fmt.Errorf("trusttest: no X9.63 KDF for %v", h)
		}
		wrapOID, kekLen := trust.OIDAES256Wrap, 32
		if o.AES128 {
			wrapOID, kekLen = trust.OIDAES128Wrap, 16
		}
		sharedInfo, err := asn1.Marshal(struct {
			KeyInfo     algID
			SuppPubInfo []byte `asn1:"explicit,tag:2"`
		}{algID{Algorithm: wrapOID}, binary.BigEndian.AppendUint32(nil, uint32(kekLen*8))})
		if err != nil {
			return nil, 0, err
		}
		kek := trust.X963KDF(h, z, sharedInfo, kekLen)
		ek, err := trust.AESKeyWrap(kek, cek)
		if err != nil {
			return nil, 0, err
		}
		origKey, err := asn1.Marshal(struct {
			Alg algID
			Pub asn1.BitString
		}{algID{Algorithm: oidECPublicKey}, asn1.BitString{Bytes: eph.PublicKey().Bytes(), BitLength: 8 * len(eph.PublicKey().Bytes())}})
		if err != nil {
			return nil, 0, err
		}
		origKey[0] = 0xa1 // originatorKey [1] IMPLICIT
		wrapAlg, err := asn1.Marshal(algID{Algorithm: wrapOID})
		if err != nil {
			return nil, 0, err
		}
		rek, err := asn1.Marshal(struct {
			RID asn1.RawValue
			EK  []byte
		}{rid, ek})
		if err != nil {
			return nil, 0, err
		}
		b, err := asn1.Marshal(struct {
			Version    int
			Originator asn1.RawValue
			Alg        algID
			REKs       asn1.RawValue
		}{3, explicitTag(0, origKey), algID{Algorithm: kdfOID, Parameters: asn1.RawValue{FullBytes: wrapAlg}}, asn1.RawValue{FullBytes: rawList(0x30, [][]byte{rek})}})
		if err != nil {
			return nil, 0, err
		}
		b[0] = 0xa1 // kari [1] IMPLICIT
		return b, 3, nil
	}
	return nil, 0, fmt.Errorf("trusttest: cannot encrypt to a %T key", recipient.PublicKey)
}

var _ = ecdh.P256 // ECDH keys come from ecdsa.PublicKey.ECDH

// explicitTag wraps DER in an explicit context tag (encoding/asn1 ignores
// tag parameters on RawValue fields).
func explicitTag(tag int, der []byte) asn1.RawValue {
	return asn1.RawValue{Class: asn1.ClassContextSpecific, Tag: tag, IsCompound: true, Bytes: der}
}
