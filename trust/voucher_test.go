package trust_test

import (
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/trust"
)

var voucherSeeds = []string{
	`{"ietf-voucher:voucher":{"created-on":"2016-10-07T19:31:42Z","assertion":"verified","serial-number":"JADA123456789","pinned-domain-cert":"MIIB"}}`,
	`{"ietf-voucher:voucher":{"created-on":"2022-07-10T17:08:18.720-04:00","expires-on":"2099-01-01T00:00:00Z","assertion":"logged","serial-number":"00-D0-E5-F2-00-02","nonce":"MDEyMzQ1Njc4OWFiY2RlZg==","domain-cert-revocation-checks":"true","idevid-issuer":"BBQ="}}`,
	`{"ietf-voucher:voucher":{"created-on":"2016-10-07T19:31:42Z","assertion":"proximity","serial-number":"x","domain-cert-revocation-checks":false}}`,
	`{"voucher":{}}`,
	`[]`,
}

func TestParseVoucher(t *testing.T) {
	yes := true
	for _, tc := range []struct {
		name    string
		json    string
		check   func(*trust.Voucher) bool
		wantErr string
	}{
		{name: "minimal", json: voucherSeeds[0], check: func(v *trust.Voucher) bool {
			return v.SerialNumber == "JADA123456789" && v.Assertion == "verified" && v.ExpiresOn.IsZero() && v.RevocationChecks == nil && v.Nonce == nil
		}},
		{name: "offset and fraction, string boolean", json: voucherSeeds[1], check: func(v *trust.Voucher) bool {
			return v.CreatedOn.Equal(time.Date(2022, 7, 10, 21, 8, 18, 720e6, time.UTC)) && v.RevocationChecks != nil && *v.RevocationChecks == yes && string(v.Nonce) == "0123456789abcdef"
		}},
		{name: "literal false", json: voucherSeeds[2], check: func(v *trust.Voucher) bool { return v.RevocationChecks != nil && !*v.RevocationChecks }},
		{name: "unknown leaves ignored (RFC 8366bis)", json: `{"ietf-voucher:voucher":{"created-on":"2016-10-07T19:31:42Z","assertion":"verified","serial-number":"a","est-domain":"x","extensions":{}}}`, check: func(v *trust.Voucher) bool { return v.SerialNumber == "a" }},
		{name: "unqualified member", json: `{"voucher":{}}`, wantErr: "ietf-voucher:voucher"},
		{name: "two members", json: `{"ietf-voucher:voucher":{},"x":1}`, wantErr: "exactly"},
		{name: "not an object", json: `[]`, wantErr: "not a JSON object"},
		{name: "no created-on", json: `{"ietf-voucher:voucher":{"assertion":"verified","serial-number":"a"}}`, wantErr: "created-on"},
		{name: "bad date", json: `{"ietf-voucher:voucher":{"created-on":"yesterday","assertion":"verified","serial-number":"a"}}`, wantErr: "RFC 3339"},
		{name: "no assertion", json: `{"ietf-voucher:voucher":{"created-on":"2016-10-07T19:31:42Z","serial-number":"a"}}`, wantErr: "assertion"},
		{name: "no serial", json: `{"ietf-voucher:voucher":{"created-on":"2016-10-07T19:31:42Z","assertion":"verified"}}`, wantErr: "serial-number"},
		{name: "short nonce", json: `{"ietf-voucher:voucher":{"created-on":"2016-10-07T19:31:42Z","assertion":"verified","serial-number":"a","nonce":"AAEC"}}`, wantErr: "not 8 to 32"},
		{name: "bad base64", json: `{"ietf-voucher:voucher":{"created-on":"2016-10-07T19:31:42Z","assertion":"verified","serial-number":"a","pinned-domain-cert":"!!"}}`, wantErr: "base64"},
		{name: "bad boolean", json: `{"ietf-voucher:voucher":{"created-on":"2016-10-07T19:31:42Z","assertion":"verified","serial-number":"a","domain-cert-revocation-checks":"yes"}}`, wantErr: "not a boolean"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v, err := trust.ParseVoucher([]byte(tc.json))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want one mentioning %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(v) {
				t.Fatalf("unexpected voucher %+v", v)
			}
		})
	}
}
