package tpm

import (
	"context"
	"strings"
	"testing"

	"github.com/sztp/sztp/tpm/swtpmtest"
)

// Issue 10 item 9, C105: TLS client authentication uses the IDevID, never
// a restricted signing key (an attestation key such as the IAK). A key
// provisioned with tpm2-tools as restricted|sign at the IDevID handle is
// refused when the identity is opened, with an error that says why.
func TestHardening10_9_RestrictedKeyRefused(t *testing.T) {
	sw := swtpmtest.Start(t)
	sw.ProvisionIDevID(t, swtpmtest.IDevIDOptions{Alg: "ecc256:ecdsa-sha256:null",
		Attributes: "fixedtpm|fixedparent|sensitivedataorigin|userwithauth|noda|restricted|sign"})
	id, err := OpenIdentity(context.Background(), Config{Path: sw.Path})
	if err == nil {
		id.Close()
		t.Fatal("OpenIdentity accepted a restricted signing key (IAK) as the IDevID")
	}
	if !strings.Contains(err.Error(), "restricted signing key") {
		t.Errorf("error %q does not say the key is restricted", err)
	}
}
