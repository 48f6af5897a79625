package trust_test

import (
	"crypto/x509"
	"testing"

	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// TestHardening10_16_VoucherAnchorAlsoIssues: a voucher trust anchor that
// also issued the IDevID (or its chain) is found, so that the agent can warn
// that every device key could then sign vouchers (issue 10 item 16).
func TestHardening10_16_VoucherAnchorAlsoIssues(t *testing.T) {
	p, d := fixture(t)
	other, err := trusttest.New()
	if err != nil {
		t.Fatal(err)
	}
	idevid := d.IDevID.Cert
	for _, tc := range []struct {
		name    string
		anchors []*x509.Certificate
		chain   []*x509.Certificate
		want    bool
	}{
		{"manufacturer CA only", []*x509.Certificate{p.ManufacturerCA.Cert}, nil, false},
		{"device CA as voucher anchor", []*x509.Certificate{p.DeviceCA.Cert}, nil, true},
		{"device CA among several", []*x509.Certificate{p.ManufacturerCA.Cert, p.DeviceCA.Cert}, nil, true},
		{"device CA in the chain", []*x509.Certificate{p.DeviceCA.Cert}, []*x509.Certificate{p.DeviceCA.Cert}, true},
		{"same name, other key", []*x509.Certificate{other.DeviceCA.Cert}, nil, false},
		{"no anchors", nil, nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := trust.VoucherAnchorAlsoIssues(tc.anchors, idevid, tc.chain...); got != tc.want {
				t.Fatalf("VoucherAnchorAlsoIssues = %v, want %v", got, tc.want)
			}
		})
	}
	if trust.VoucherAnchorAlsoIssues([]*x509.Certificate{p.DeviceCA.Cert}, nil) {
		t.Fatal("no IDevID: want false")
	}
}
