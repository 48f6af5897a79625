package trusttest

import (
	"bytes"
	"errors"
)

// ToBER re-encodes DER as BER the way streaming encoders do: every
// constructed value gets an indefinite length, and OCTET STRINGs longer
// than chunk octets become constructed strings of chunk-sized pieces.
func ToBER(der []byte, chunk int) ([]byte, error) {
	var out bytes.Buffer
	rest, err := toBER(&out, der, chunk)
	if err != nil {
		return nil, err
	}
	if len(rest) != 0 {
		return nil, errors.New("trusttest: trailing data after DER value")
	}
	return out.Bytes(), nil
}

func toBER(out *bytes.Buffer, b []byte, chunk int) ([]byte, error) {
	if len(b) < 2 {
		return nil, errors.New("trusttest: truncated DER")
	}
	tag := b[0]
	if tag&0x1f == 0x1f {
		return nil, errors.New("trusttest: high tag numbers not supported")
	}
	i, n := 2, int(b[1])
	if b[1]&0x80 != 0 {
		l := int(b[1] & 0x7f)
		if l == 0 || l > 4 || len(b) < 2+l {
			return nil, errors.New("trusttest: bad DER length")
		}
		n = 0
		for _, c := range b[2 : 2+l] {
			n = n<<8 | int(c)
		}
		i = 2 + l
	}
	if len(b) < i+n {
		return nil, errors.New("trusttest: truncated DER")
	}
	body, rest := b[i:i+n], b[i+n:]
	switch {
	case tag == 0x04 && chunk > 0 && len(body) > chunk:
		out.Write([]byte{0x24, 0x80})
		for len(body) > 0 {
			k := min(chunk, len(body))
			out.Write(encodeHeader(0x04, k))
			out.Write(body[:k])
			body = body[k:]
		}
		out.Write([]byte{0, 0})
	case tag&0x20 != 0:
		out.Write([]byte{tag, 0x80})
		for len(body) > 0 {
			var err error
			if body, err = toBER(out, body, chunk); err != nil {
				return nil, err
			}
		}
		out.Write([]byte{0, 0})
	default:
		out.Write(b[:i+n])
	}
	return rest, nil
}
