package client

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
)

// Measured onboarding: before the agent acts on an artifact it hands the
// artifact's SHA-256 to Config.Measurer (a TPM PCR extend plus an event
// log record, see tpm.Measurer). A measurement that fails stops the step:
// the agent never acts on something it could not record.

// Measurer records an artifact the agent is about to act on.
type Measurer interface {
	Measure(ctx context.Context, artifact string, digest []byte, size int64) error
}

// Names of the measured artifacts, as they appear in the event log.
const (
	ArtifactOwnershipVoucher        = "ownership-voucher"
	ArtifactOwnerCertificate        = "owner-certificate"
	ArtifactConveyedInformation     = "conveyed-information"
	ArtifactBootImage               = "boot-image"
	ArtifactPreConfigurationScript  = "pre-configuration-script"
	ArtifactConfiguration           = "configuration"
	ArtifactPostConfigurationScript = "post-configuration-script"
)

// measure measures data when a Measurer is configured.
func (a *Agent) measure(ctx context.Context, artifact string, data []byte) error {
	if a.cfg.Measurer == nil || data == nil {
		return nil
	}
	sum := sha256.Sum256(data)
	return a.measureDigest(ctx, artifact, sum[:], int64(len(data)))
}

func (a *Agent) measureDigest(ctx context.Context, artifact string, digest []byte, size int64) error {
	if a.cfg.Measurer == nil {
		return nil
	}
	if err := a.cfg.Measurer.Measure(ctx, artifact, digest, size); err != nil {
		return fmt.Errorf("measuring the %s before acting on it: %w", artifact, err)
	}
	return nil
}

// measureArtifacts measures the bootstrapping data the agent is about to
// act on: voucher, owner certificate and conveyed information, as received.
func (a *Agent) measureArtifacts(ctx context.Context, voucher, ownerCert, conveyedInfo []byte) error {
	for _, m := range []struct {
		name string
		data []byte
	}{
		{ArtifactOwnershipVoucher, voucher}, {ArtifactOwnerCertificate, ownerCert}, {ArtifactConveyedInformation, conveyedInfo},
	} {
		if len(m.data) == 0 {
			continue
		}
		if err := a.measure(ctx, m.name, m.data); err != nil {
			return err
		}
	}
	return nil
}

// measureImage measures a downloaded, verified boot image. With one
// sha-256 in the onboarding information that is the image's digest;
// with several the file is hashed again to know which one matched.
func (at *attempt) measureImage(ctx context.Context, path string, size int64, sums [][]byte) error {
	a := at.a
	if a.cfg.Measurer == nil {
		return nil
	}
	digest := sums[0]
	if len(sums) > 1 {
		h, err := fileSHA256(path)
		if err != nil {
			return fmt.Errorf("measuring the boot image: %w", err)
		}
		if digest, err = hex.DecodeString(h); err != nil {
			return err
		}
	}
	return a.measureDigest(ctx, ArtifactBootImage, digest, size)
}
