package tpm

import (
	"crypto/sha256"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// MaxPCR is the highest PCR index the agent extends (PC Client TPMs have
// 24 PCRs, 0..23).
const MaxPCR = 23

func pcrSelection(pcr int) tpm2.TPMLPCRSelection {
	return tpm2.TPMLPCRSelection{PCRSelections: []tpm2.TPMSPCRSelection{{
		Hash: tpm2.TPMAlgSHA256, PCRSelect: tpm2.PCClientCompatible.PCRs(uint(pcr)),
	}}}
}

// ExtendPCR extends the SHA-256 bank of pcr with digest (TPM2_PCR_Extend,
// the PCR's empty auth). Other banks are left alone: the event log replays
// the SHA-256 bank only.
func ExtendPCR(dev *Device, pcr int, digest []byte) error {
	if pcr < 0 || pcr > MaxPCR {
		return fmt.Errorf("pcr %d out of range 0..%d", pcr, MaxPCR)
	}
	if len(digest) != sha256.Size {
		return fmt.Errorf("pcr extend: digest is %d bytes, want %d", len(digest), sha256.Size)
	}
	_, err := tpm2.PCRExtend{
		PCRHandle: tpm2.AuthHandle{Handle: tpm2.TPMHandle(pcr), Auth: tpm2.PasswordAuth(nil)},
		Digests: tpm2.TPMLDigestValues{Digests: []tpm2.TPMTHA{{
			HashAlg: tpm2.TPMAlgSHA256, Digest: digest,
		}}},
	}.Execute(dev)
	if err != nil {
		return fmt.Errorf("extending pcr %d: %w", pcr, err)
	}
	return nil
}

// ReadPCR reads the SHA-256 bank of pcr.
func ReadPCR(dev *Device, pcr int) ([]byte, error) {
	if pcr < 0 || pcr > MaxPCR {
		return nil, fmt.Errorf("pcr %d out of range 0..%d", pcr, MaxPCR)
	}
	rsp, err := tpm2.PCRRead{PCRSelectionIn: pcrSelection(pcr)}.Execute(dev)
	if err != nil {
		return nil, fmt.Errorf("reading pcr %d: %w", pcr, err)
	}
	if len(rsp.PCRValues.Digests) != 1 || len(rsp.PCRValues.Digests[0].Buffer) != sha256.Size {
		return nil, fmt.Errorf("reading pcr %d: the TPM has no SHA-256 bank for it", pcr)
	}
	return rsp.PCRValues.Digests[0].Buffer, nil
}
