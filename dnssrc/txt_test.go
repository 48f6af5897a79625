package dnssrc

import (
	"errors"
	"reflect"
	"testing"

	"github.com/sztp/sztp/trust"
)

// C93: TXT keys ci, oc, ov are binary CMS; unknown keys are ignored; the
// character-strings of one RR are joined before the split at the first '='.
func TestParseTXT(t *testing.T) {
	bin := string([]byte{0x30, 0x82, 0x00, '=', 0xff, '"'})
	for _, tc := range []struct {
		name    string
		rrs     [][]string
		want    *trust.Artifacts
		wantErr error // nil: any error when want is nil
	}{
		{"one ci", [][]string{{"ci=" + bin}}, &trust.Artifacts{ConveyedInformation: []byte(bin)}, nil},
		{"split over character-strings", [][]string{{"c", "i=ab", "c=d"}}, &trust.Artifacts{ConveyedInformation: []byte("abc=d")}, nil},
		{"all three, unknown ignored", [][]string{{"OV=v"}, {"x-vendor=1"}, {"oc=o"}, {"ci=c"}, {"=novalue"}, {"flag"}},
			&trust.Artifacts{ConveyedInformation: []byte("c"), OwnerCertificate: []byte("o"), OwnershipVoucher: []byte("v")}, nil},
		{"duplicate key", [][]string{{"ci=a"}, {"ci=b"}}, nil, nil},
		{"key without value", [][]string{{"ci"}}, nil, nil},
		{"key with empty value", [][]string{{"ci="}}, nil, nil},
		{"oc without ci", [][]string{{"oc=o"}, {"ov=v"}}, nil, nil},
		{"nothing", [][]string{{"txtvers=1"}}, nil, ErrNoArtifacts},
		{"no records", nil, nil, ErrNoArtifacts},
		{"too many records", make([][]string, MaxTXTRecords+1), nil, nil},
	} {
		got, err := ParseTXT(tc.rrs)
		if tc.want != nil {
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Errorf("%s: got %+v, %v; want %+v", tc.name, got, err, tc.want)
			}
			continue
		}
		if err == nil || (tc.wantErr != nil && !errors.Is(err, tc.wantErr)) {
			t.Errorf("%s: got %+v, %v; want an error %v", tc.name, got, err, tc.wantErr)
		}
	}
}
