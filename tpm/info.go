package tpm

import (
	"context"
	"crypto/x509"
	"fmt"
	"strings"
	"time"

	"github.com/google/go-tpm/tpm2"
)

// Info describes a TPM and the IDevID in it, for `sztp tpm info`.
type Info struct {
	TPM              string          `json:"tpm"`
	Manufacturer     string          `json:"manufacturer"`
	VendorString     string          `json:"vendor-string,omitempty"`
	FirmwareVersion  string          `json:"firmware-version"`     // TPM_PT_FIRMWARE_VERSION_1/2 as four 16-bit numbers
	FirmwareRaw      string          `json:"firmware-version-raw"` // the two properties in hex, as vendors document them
	SpecRevision     string          `json:"spec-revision,omitempty"`
	IDevID           *KeyDescription `json:"idevid,omitempty"`
	IDevIDError      string          `json:"idevid-error,omitempty"`
	Certificate      *CertInfo       `json:"certificate,omitempty"`
	CertificateError string          `json:"certificate-error,omitempty"`
	DecryptionKey    *KeyDescription `json:"decryption-key,omitempty"`
	DecryptionError  string          `json:"decryption-key-error,omitempty"`
	// LDevID is the RFC 9646 identity, when one is enrolled.
	LDevID *LDevIDInfo `json:"ldevid,omitempty"`
}

// CertInfo summarizes the IDevID certificate.
type CertInfo struct {
	Source            string    `json:"source"` // "nv:0x01c90000" or "file:PATH"
	Subject           string    `json:"subject"`
	Issuer            string    `json:"issuer"`
	SerialNumber      string    `json:"serial-number"`      // the subject's serialNumber attribute
	CertificateSerial string    `json:"certificate-serial"` // the certificate's serial, hex
	NotBefore         time.Time `json:"not-before"`
	NotAfter          time.Time `json:"not-after"`
	MatchesKey        bool      `json:"matches-key"`
}

// ReadInfo reads the TPM's identity and what cfg points at. Problems with the
// key or certificate are reported in Info, not as errors, so that `tpm info`
// shows as much as it can; only a TPM that does not answer is an error.
func ReadInfo(ctx context.Context, dev *Device, cfg Config) (*Info, error) {
	info := &Info{TPM: dev.String()}
	manu, err := tpmProperty(dev, tpm2.TPMPTManufacturer)
	if err != nil {
		return nil, err
	}
	info.Manufacturer = fourCC(manu)
	var vendor []string
	for p := tpm2.TPMPTVendorString1; p <= tpm2.TPMPTVendorString1+3; p++ {
		if v, err := tpmProperty(dev, p); err == nil {
			vendor = append(vendor, fourCC(v))
		}
	}
	info.VendorString = strings.Join(vendor, "")
	fw1, err1 := tpmProperty(dev, tpm2.TPMPTFirmwareVersion1)
	fw2, err2 := tpmProperty(dev, tpm2.TPMPTFirmwareVersion1+1)
	if err1 == nil && err2 == nil {
		info.FirmwareVersion = fmt.Sprintf("%d.%d.%d.%d", fw1>>16, fw1&0xffff, fw2>>16, fw2&0xffff)
		info.FirmwareRaw = fmt.Sprintf("0x%08x 0x%08x", fw1, fw2)
	}
	if rev, err := tpmProperty(dev, tpm2.TPMPTRevision); err == nil {
		info.SpecRevision = fmt.Sprintf("%d.%02d", rev/100, rev%100)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	handle := cfg.IDevIDHandle
	if handle == 0 {
		handle = DefaultIDevIDHandle
	}
	k, err := readKey(dev, handle)
	if err != nil {
		info.IDevIDError = err.Error()
	} else {
		d := k.describe()
		info.IDevID = &d
	}
	var cert *x509.Certificate
	var source string
	if cfg.CertFile != "" {
		certs, err := ReadCertificates(cfg.CertFile)
		if err != nil {
			info.CertificateError = err.Error()
		} else {
			cert, source = certs[0], "file:"+cfg.CertFile
		}
	} else {
		c, idx, err := ReadCertificate(dev, cfg.CertIndexes)
		if err != nil {
			info.CertificateError = err.Error()
		} else {
			cert, source = c, fmt.Sprintf("nv:0x%08x", idx)
		}
	}
	if cert != nil {
		info.Certificate = &CertInfo{
			Source:            source,
			Subject:           cert.Subject.String(),
			Issuer:            cert.Issuer.String(),
			SerialNumber:      cert.Subject.SerialNumber,
			CertificateSerial: fmt.Sprintf("%x", cert.SerialNumber),
			NotBefore:         cert.NotBefore.UTC(),
			NotAfter:          cert.NotAfter.UTC(),
			MatchesKey:        k != nil && publicKeysEqual(cert.PublicKey, k.pub),
		}
	}
	if cfg.DecryptionKeyHandle != 0 {
		if k, err := readKey(dev, cfg.DecryptionKeyHandle); err != nil {
			info.DecryptionError = err.Error()
		} else {
			d := k.describe()
			info.DecryptionKey = &d
		}
	}
	return info, nil
}

// fourCC renders a TPM property holding four ASCII characters.
func fourCC(v uint32) string {
	b := []byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)}
	return strings.TrimRight(strings.Map(func(r rune) rune {
		if r < 0x20 || r > 0x7e {
			return -1
		}
		return r
	}, string(b)), " ")
}
