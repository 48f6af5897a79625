package sztptest

import (
	"crypto/x509"
	"fmt"

	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/trust"
	"github.com/sztp/sztp/trust/trusttest"
)

// SignedOptions say how Signed makes signed data.
type SignedOptions struct {
	// PKI is the manufacturer (voucher) and owner PKI.
	PKI *trusttest.PKI
	// Serial is the device serial number the voucher names.
	Serial string
	// Encoding of the conveyed-information document.
	Encoding conveyed.Encoding
	// Nonce puts the request's nonce in the voucher (RFC 8366), binding the
	// answer to this one request.
	Nonce bool
	// EncryptTo, when set, encrypts every artifact to this device
	// certificate (sign, then encrypt).
	EncryptTo *x509.Certificate
	// Voucher is a template for the voucher; Serial and Nonce are set from
	// the fields above.
	Voucher trusttest.VoucherOptions
	// Tamper, when set, changes the artifacts after signing (negative
	// tests).
	Tamper         func(*trust.Artifacts)
	ReportingLevel conveyed.ReportingLevel
}

// Signed returns a Response.Build function that answers with ci as signed
// data: conveyed information signed by the owner, the owner certificate,
// and an ownership voucher for the device (C15, C21).
func Signed(ci *conveyed.ConveyedInformation, o SignedOptions) func(*conveyed.GetBootstrappingDataInput) (*conveyed.GetBootstrappingDataOutput, error) {
	return func(in *conveyed.GetBootstrappingDataInput) (*conveyed.GetBootstrappingDataOutput, error) {
		doc, err := ci.Encode(o.Encoding)
		if err != nil {
			return nil, err
		}
		ct := trust.OIDSZTPConveyedInfoJSON
		if o.Encoding == conveyed.XML {
			ct = trust.OIDSZTPConveyedInfoXML
		}
		vo := o.Voucher
		vo.Serial = o.Serial
		if o.Nonce {
			vo.Nonce = in.Nonce
		}
		a, err := o.PKI.Artifacts(doc, ct, vo)
		if err != nil {
			return nil, fmt.Errorf("sztptest: signing: %w", err)
		}
		if o.EncryptTo != nil {
			if a, err = trusttest.EncryptArtifacts(a, o.EncryptTo, trusttest.EncryptOptions{}); err != nil {
				return nil, fmt.Errorf("sztptest: encrypting: %w", err)
			}
		}
		if o.Tamper != nil {
			o.Tamper(&a)
		}
		return &conveyed.GetBootstrappingDataOutput{
			ReportingLevel:      o.ReportingLevel,
			ConveyedInformation: a.ConveyedInformation,
			OwnerCertificate:    a.OwnerCertificate,
			OwnershipVoucher:    a.OwnershipVoucher,
		}, nil
	}
}
