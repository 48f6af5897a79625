package trust

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Voucher is the content of an RFC 8366 ownership voucher (RFC 8366 5.3).
type Voucher struct {
	CreatedOn    time.Time
	ExpiresOn    time.Time // zero when absent
	Assertion    string
	SerialNumber string
	// IDevIDIssuer is the Authority Key Identifier of the device's IDevID
	// (either form, draft-ietf-anima-rfc8366bis); nil when absent.
	IDevIDIssuer     []byte
	PinnedDomainCert []byte // DER
	// RevocationChecks is domain-cert-revocation-checks; nil when absent.
	RevocationChecks *bool
	Nonce            []byte // nil when absent
	LastRenewalDate  time.Time
}

// voucherJSON is the RFC 7951 encoding of the voucher container.
type voucherJSON struct {
	CreatedOn        string          `json:"created-on"`
	ExpiresOn        string          `json:"expires-on"`
	Assertion        *string         `json:"assertion"`
	SerialNumber     *string         `json:"serial-number"`
	IDevIDIssuer     *string         `json:"idevid-issuer"`
	PinnedDomainCert *string         `json:"pinned-domain-cert"`
	RevocationChecks json.RawMessage `json:"domain-cert-revocation-checks"`
	Nonce            *string         `json:"nonce"`
	LastRenewalDate  string          `json:"last-renewal-date"`
}

// ParseVoucher decodes the JSON content of an ownership voucher:
// {"ietf-voucher:voucher":{...}}. Unknown leaves (RFC 8366bis extensions)
// are ignored; missing mandatory leaves and malformed values are errors.
func ParseVoucher(data []byte) (*Voucher, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("voucher is not a JSON object: %w", err)
	}
	raw, ok := top["ietf-voucher:voucher"]
	if !ok || len(top) != 1 {
		keys := make([]string, 0, len(top))
		for k := range top {
			keys = append(keys, k)
		}
		return nil, fmt.Errorf("voucher JSON must have exactly the member \"ietf-voucher:voucher\", found %q", keys)
	}
	var vj voucherJSON
	dec := json.NewDecoder(bytes.NewReader(raw))
	if err := dec.Decode(&vj); err != nil {
		return nil, fmt.Errorf("ietf-voucher:voucher: %w", err)
	}
	v := &Voucher{}
	var err error
	if vj.CreatedOn == "" {
		return nil, errors.New("voucher has no created-on")
	}
	if v.CreatedOn, err = parseDateTime("created-on", vj.CreatedOn); err != nil {
		return nil, err
	}
	if vj.ExpiresOn != "" {
		if v.ExpiresOn, err = parseDateTime("expires-on", vj.ExpiresOn); err != nil {
			return nil, err
		}
	}
	if vj.LastRenewalDate != "" {
		if v.LastRenewalDate, err = parseDateTime("last-renewal-date", vj.LastRenewalDate); err != nil {
			return nil, err
		}
	}
	if vj.Assertion == nil {
		return nil, errors.New("voucher has no assertion")
	}
	v.Assertion = *vj.Assertion
	if vj.SerialNumber == nil || *vj.SerialNumber == "" {
		return nil, errors.New("voucher has no serial-number")
	}
	v.SerialNumber = *vj.SerialNumber
	if vj.IDevIDIssuer != nil {
		if v.IDevIDIssuer, err = decodeBinary("idevid-issuer", *vj.IDevIDIssuer); err != nil {
			return nil, err
		}
	}
	if vj.PinnedDomainCert != nil {
		if v.PinnedDomainCert, err = decodeBinary("pinned-domain-cert", *vj.PinnedDomainCert); err != nil {
			return nil, err
		}
	}
	if vj.Nonce != nil {
		if v.Nonce, err = decodeBinary("nonce", *vj.Nonce); err != nil {
			return nil, err
		}
		if len(v.Nonce) < 8 || len(v.Nonce) > 32 {
			return nil, fmt.Errorf("voucher nonce is %d octets, not 8 to 32", len(v.Nonce))
		}
	}
	if len(vj.RevocationChecks) != 0 {
		// RFC 7951 says true/false; RFC 8366's own example says "true".
		var b bool
		switch string(bytes.TrimSpace(vj.RevocationChecks)) {
		case "true", `"true"`:
			b = true
		case "false", `"false"`:
			b = false
		default:
			return nil, fmt.Errorf("domain-cert-revocation-checks %s is not a boolean", vj.RevocationChecks)
		}
		v.RevocationChecks = &b
	}
	return v, nil
}

// parseDateTime parses a yang:date-and-time (RFC 3339, with offsets and
// fractional seconds).
func parseDateTime(leaf, s string) (time.Time, error) {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return time.Time{}, fmt.Errorf("voucher %s %q is not an RFC 3339 date-and-time", leaf, s)
	}
	return t, nil
}

func decodeBinary(leaf, s string) ([]byte, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("voucher %s is not base64: %w", leaf, err)
	}
	return b, nil
}
