package trust

import (
	"bytes"
	"encoding/hex"
	"testing"
)

// TestAESKeyWrap checks the RFC 3394 section 4 test vectors.
func TestAESKeyWrap(t *testing.T) {
	h := func(s string) []byte {
		b, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	for _, tc := range []struct{ name, kek, key, wrapped string }{
		{"4.1 128-bit KEK", "000102030405060708090A0B0C0D0E0F", "00112233445566778899AABBCCDDEEFF", "1FA68B0A8112B447AEF34BD8FB5A7B829D3E862371D2CFE5"},
		{"4.3 256-bit KEK", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF", "64E8C3F9CE0F5BA263E9777905818A2A93C8191E7D6E8AE7"},
		{"4.6 256-bit key", "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F", "00112233445566778899AABBCCDDEEFF000102030405060708090A0B0C0D0E0F", "28C9F404C4B810F4CBCCB35CFB87F8263F5786E2D80ED326CBC7F0E71A99F43BFB988B9B7A02DD21"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := AESKeyWrap(h(tc.kek), h(tc.key))
			if err != nil || !bytes.Equal(got, h(tc.wrapped)) {
				t.Fatalf("wrap = %X, %v; want %s", got, err, tc.wrapped)
			}
			key, err := aesKeyUnwrap(h(tc.kek), h(tc.wrapped))
			if err != nil || !bytes.Equal(key, h(tc.key)) {
				t.Fatalf("unwrap = %X, %v", key, err)
			}
			bad := h(tc.wrapped)
			bad[3] ^= 1
			if _, err := aesKeyUnwrap(h(tc.kek), bad); err == nil {
				t.Fatal("unwrap of a damaged key succeeded")
			}
		})
	}
}
