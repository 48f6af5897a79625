package trust

import (
	"bytes"
	"encoding/asn1"
	"errors"
	"fmt"
)

// MaxArtifactSize bounds the size of one artifact. Conveyed information may
// carry scripts and configuration, but never a boot image.
const MaxArtifactSize = 16 << 20

// maxDepth bounds the nesting of BER values.
const maxDepth = 32

// normalize converts BER (indefinite lengths, constructed OCTET STRINGs,
// long-form lengths) to DER, so that encoding/asn1 can parse it. DER input
// comes back unchanged. Exactly one value must be present.
func normalize(b []byte) ([]byte, error) {
	if len(b) == 0 {
		return nil, errors.New("empty input")
	}
	if len(b) > MaxArtifactSize {
		return nil, fmt.Errorf("%d bytes is over the %d byte limit", len(b), MaxArtifactSize)
	}
	var out bytes.Buffer
	n, err := berValue(&out, b, 0)
	if err != nil {
		return nil, err
	}
	if n != len(b) {
		return nil, fmt.Errorf("%d bytes of trailing data after the ASN.1 value", len(b)-n)
	}
	return out.Bytes(), nil
}

type berHeader struct {
	class, tag  int
	constructed bool
	hdrLen      int
	length      int // -1 for indefinite
}

func readHeader(b []byte) (berHeader, error) {
	var h berHeader
	if len(b) < 2 {
		return h, errors.New("truncated ASN.1 header")
	}
	h.class = int(b[0] >> 6)
	h.constructed = b[0]&0x20 != 0
	h.tag = int(b[0] & 0x1f)
	i := 1
	if h.tag == 0x1f {
		h.tag = 0
		for {
			if i >= len(b) {
				return h, errors.New("truncated ASN.1 tag")
			}
			if h.tag > 1<<22 {
				return h, errors.New("ASN.1 tag number too large")
			}
			if i == 1 && b[i] == 0x80 {
				// A leading zero septet: the base-128 form is not minimal.
				return h, errors.New("non-minimal ASN.1 tag")
			}
			h.tag = h.tag<<7 | int(b[i]&0x7f)
			i++
			if b[i-1]&0x80 == 0 {
				break
			}
		}
		if h.tag < 0x1f {
			// Tags below 31 have a one-octet form; encoding/asn1 (and
			// X.690 8.1.2.3) reject the long form for them. Rewriting
			// it to the short form would change the signed octets.
			return h, errors.New("non-minimal ASN.1 tag")
		}
	}
	if i >= len(b) {
		return h, errors.New("truncated ASN.1 length")
	}
	l := b[i]
	i++
	switch {
	case l < 0x80:
		h.length = int(l)
	case l == 0x80:
		if !h.constructed {
			return h, errors.New("indefinite length on a primitive ASN.1 value")
		}
		h.length = -1
	default:
		n := int(l & 0x7f)
		if n > 4 {
			return h, fmt.Errorf("ASN.1 length of %d octets is too large", n)
		}
		if i+n > len(b) {
			return h, errors.New("truncated ASN.1 length")
		}
		for _, c := range b[i : i+n] {
			h.length = h.length<<8 | int(c)
		}
		i += n
	}
	h.hdrLen = i
	if h.length > len(b)-i {
		return h, fmt.Errorf("ASN.1 value claims %d bytes but only %d remain (truncated)", h.length, len(b)-i)
	}
	return h, nil
}

// berValue writes the DER form of the value at the start of b and returns
// the number of input bytes it used.
func berValue(out *bytes.Buffer, b []byte, depth int) (int, error) {
	if depth > maxDepth {
		return 0, errors.New("ASN.1 nesting too deep")
	}
	h, err := readHeader(b)
	if err != nil {
		return 0, err
	}
	if !h.constructed {
		writeHeader(out, b[0], h, h.length)
		out.Write(b[h.hdrLen : h.hdrLen+h.length])
		return h.hdrLen + h.length, nil
	}
	// Constructed: convert the children first.
	var body bytes.Buffer
	pos := h.hdrLen
	end := len(b)
	if h.length >= 0 {
		end = h.hdrLen + h.length
	}
	for {
		if h.length >= 0 && pos == end {
			break
		}
		if h.length < 0 {
			if pos+2 > len(b) {
				return 0, errors.New("truncated indefinite-length ASN.1 value")
			}
			if b[pos] == 0 && b[pos+1] == 0 {
				pos += 2
				break
			}
		}
		n, err := berValue(&body, b[pos:end], depth+1)
		if err != nil {
			return 0, err
		}
		pos += n
	}
	if h.class == 0 && h.tag == asn1.TagOctetString {
		// A constructed OCTET STRING: DER wants one primitive string.
		flat, err := flattenOctets(body.Bytes())
		if err != nil {
			return 0, err
		}
		writeHeader(out, byte(asn1.TagOctetString), h, len(flat))
		out.Write(flat)
		return pos, nil
	}
	first := b[0]
	writeHeader(out, first, h, body.Len())
	out.Write(body.Bytes())
	return pos, nil
}

// flattenOctets concatenates the contents of a sequence of (DER) OCTET
// STRINGs.
func flattenOctets(b []byte) ([]byte, error) {
	var out []byte
	for len(b) > 0 {
		var s []byte
		rest, err := asn1.Unmarshal(b, &s)
		if err != nil {
			return nil, fmt.Errorf("constructed OCTET STRING: %w", err)
		}
		out = append(out, s...)
		b = rest
	}
	return out, nil
}

func writeHeader(out *bytes.Buffer, first byte, h berHeader, length int) {
	if h.tag >= 0x1f {
		out.WriteByte(first&0xe0 | 0x1f)
		var t []byte
		for v := h.tag; ; v >>= 7 {
			t = append([]byte{byte(v & 0x7f)}, t...)
			if v < 0x80 {
				break
			}
		}
		for i := 0; i < len(t)-1; i++ {
			t[i] |= 0x80
		}
		out.Write(t)
	} else {
		out.WriteByte(first)
	}
	switch {
	case length < 0x80:
		out.WriteByte(byte(length))
	default:
		var l []byte
		for v := length; v > 0; v >>= 8 {
			l = append([]byte{byte(v)}, l...)
		}
		out.WriteByte(0x80 | byte(len(l)))
		out.Write(l)
	}
}

// contentInfo is RFC 5652 ContentInfo.
type contentInfo struct {
	ContentType asn1.ObjectIdentifier
	Content     asn1.RawValue `asn1:"explicit,tag:0,optional"`
}

// parseContentInfo normalizes BER and splits a ContentInfo into its type and
// the DER of its content.
func parseContentInfo(b []byte) (asn1.ObjectIdentifier, []byte, error) {
	der, err := normalize(b)
	if err != nil {
		return nil, nil, err
	}
	var ci contentInfo
	rest, err := asn1.Unmarshal(der, &ci)
	if err != nil {
		return nil, nil, fmt.Errorf("not a CMS ContentInfo: %w", err)
	}
	if len(rest) != 0 {
		return nil, nil, errors.New("trailing data after ContentInfo")
	}
	return ci.ContentType, ci.Content.FullBytes, nil
}

// oidName names the content types this package knows, for error messages.
func oidName(oid asn1.ObjectIdentifier) string {
	for _, n := range []struct {
		oid  asn1.ObjectIdentifier
		name string
	}{
		{OIDData, "id-data"},
		{OIDSignedData, "id-signedData"},
		{OIDEnvelopedData, "id-envelopedData"},
		{OIDAuthEnvelopedData, "id-ct-authEnvelopedData"},
		{OIDAnimaJSONVoucher, "id-ct-animaJSONVoucher"},
		{OIDSZTPConveyedInfoXML, "id-ct-sztpConveyedInfoXML"},
		{OIDSZTPConveyedInfoJSON, "id-ct-sztpConveyedInfoJSON"},
		{oidEncryptedData, "id-encryptedData"},
		{oidDigestedData, "id-digestedData"},
	} {
		if oid.Equal(n.oid) {
			return n.name + " (" + oid.String() + ")"
		}
	}
	return oid.String()
}

var (
	oidEncryptedData = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 6}
	oidDigestedData  = asn1.ObjectIdentifier{1, 2, 840, 113549, 1, 7, 5}
)
