package main

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// stickPostScript prints the marker and the configuration the config hook
// committed (the e2e device's config-hook is file:/etc/sztp/running-config).
const stickPostScript = scriptHead + `read -r cfg < /etc/sztp/running-config
say "post-configuration script ran under marker $marker with configuration: $cfg"
`

// writeStick writes the sztp/ tree of the USB stick scenario (RFC 8572 4.1)
// into dir:
//
//   - sztp/<serial>/: unsigned onboarding information (conveyed information
//     only), which the device reads first (device-specific) and must refuse
//     (C96);
//   - sztp/: signed onboarding information (voucher for the serial number
//     without a nonce, owner certificate, owner-signed conveyed
//     information) with a pre-configuration script, a configuration and a
//     post-configuration script.
func writeStick(o options) error {
	if o.pki == "" || o.serial == "" {
		return errors.New("-stick needs -pki and -serial")
	}
	p, err := trusttest.ReadPKI(o.pki)
	if err != nil {
		return fmt.Errorf("reading the PKI: %w", err)
	}
	signed := &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		PreConfigurationScript:  []byte(preScript),
		ConfigurationHandling:   conveyed.Replace,
		Configuration:           []byte("hostname sztp-usb-device\n"),
		PostConfigurationScript: []byte(stickPostScript),
	}}
	doc, err := signed.Encode(conveyed.JSON)
	if err != nil {
		return err
	}
	a, err := p.Artifacts(doc, trust.OIDSZTPConveyedInfoJSON, trusttest.VoucherOptions{Serial: o.serial})
	if err != nil {
		return err
	}
	unsigned := &conveyed.ConveyedInformation{Onboarding: &conveyed.OnboardingInformation{
		ConfigurationHandling: conveyed.Replace, Configuration: []byte("hostname unsigned-must-not-apply\n"),
	}}
	udoc, err := unsigned.Encode(conveyed.JSON)
	if err != nil {
		return err
	}
	uci, err := trust.WrapUnsigned(trust.OIDSZTPConveyedInfoJSON, udoc)
	if err != nil {
		return err
	}
	for _, f := range []struct {
		dir, name string
		data      []byte
	}{
		{"sztp/" + o.serial, "conveyed-information.cms", uci},
		{"sztp", "conveyed-information.cms", a.ConveyedInformation},
		{"sztp", "owner-certificate.cms", a.OwnerCertificate},
		{"sztp", "ownership-voucher.cms", a.OwnershipVoucher},
	} {
		d := filepath.Join(o.stick, f.dir)
		if err := os.MkdirAll(d, 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(d, f.name), f.data, 0o644); err != nil {
			return err
		}
	}
	return nil
}
