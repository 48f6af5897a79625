package tpm

import (
	"crypto/x509"
	"errors"
	"fmt"

	"github.com/google/go-tpm/tpm2"
)

// ErrNoNVIndex says an NV index is not defined.
var ErrNoNVIndex = errors.New("nv index not defined")

// tpmProperty reads one fixed TPM property.
func tpmProperty(dev *Device, p tpm2.TPMPT) (uint32, error) {
	rsp, err := tpm2.GetCapability{Capability: tpm2.TPMCapTPMProperties, Property: uint32(p), PropertyCount: 1}.Execute(dev)
	if err != nil {
		return 0, fmt.Errorf("reading tpm property 0x%x: %w", uint32(p), err)
	}
	props, err := rsp.CapabilityData.Data.TPMProperties()
	if err != nil {
		return 0, fmt.Errorf("reading tpm property 0x%x: %w", uint32(p), err)
	}
	if len(props.TPMProperty) == 0 || props.TPMProperty[0].Property != p {
		return 0, fmt.Errorf("tpm property 0x%x not reported", uint32(p))
	}
	return props.TPMProperty[0].Value, nil
}

// nvChunk is the largest NV read or write the TPM accepts in one command.
func nvChunk(dev *Device) int {
	if v, err := tpmProperty(dev, tpm2.TPMPTNVBufferMax); err == nil && v > 0 {
		return int(v)
	}
	return 512 // safe lower bound when the TPM does not say
}

func nvPublic(dev *Device, index uint32) (*tpm2.TPMSNVPublic, tpm2.TPM2BName, error) {
	rsp, err := tpm2.NVReadPublic{NVIndex: tpm2.TPMHandle(index)}.Execute(dev)
	if err != nil {
		if errors.Is(err, tpm2.TPMRCHandle) {
			return nil, tpm2.TPM2BName{}, fmt.Errorf("0x%08x: %w", index, ErrNoNVIndex)
		}
		return nil, tpm2.TPM2BName{}, fmt.Errorf("reading nv index 0x%08x public area: %w", index, err)
	}
	pub, err := rsp.NVPublic.Contents()
	if err != nil {
		return nil, tpm2.TPM2BName{}, fmt.Errorf("nv index 0x%08x: %w", index, err)
	}
	return pub, rsp.NVName, nil
}

// ReadNV reads the whole NV index with the index's own (empty) auth, in
// chunks the TPM accepts. It needs no hierarchy authorization.
func ReadNV(dev *Device, index uint32) ([]byte, error) {
	pub, name, err := nvPublic(dev, index)
	if err != nil {
		return nil, err
	}
	if !pub.Attributes.Written {
		return nil, fmt.Errorf("nv index 0x%08x is defined but was never written", index)
	}
	auth := tpm2.AuthHandle{Handle: tpm2.TPMHandle(index), Name: name, Auth: tpm2.PasswordAuth(nil)}
	if !pub.Attributes.AuthRead {
		if !pub.Attributes.OwnerRead {
			return nil, fmt.Errorf("nv index 0x%08x allows neither auth nor owner reads", index)
		}
		auth = tpm2.AuthHandle{Handle: tpm2.TPMRHOwner, Auth: tpm2.PasswordAuth(nil)}
	}
	chunk := nvChunk(dev)
	size := int(pub.DataSize)
	out := make([]byte, 0, size)
	for off := 0; off < size; {
		n := min(chunk, size-off)
		rsp, err := tpm2.NVRead{
			AuthHandle: auth,
			NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(index), Name: name},
			Size:       uint16(n),
			Offset:     uint16(off),
		}.Execute(dev)
		if err != nil {
			return nil, fmt.Errorf("reading nv index 0x%08x at %d: %w", index, off, err)
		}
		if len(rsp.Data.Buffer) == 0 {
			return nil, fmt.Errorf("reading nv index 0x%08x at %d: empty response", index, off)
		}
		out = append(out, rsp.Data.Buffer...)
		off += len(rsp.Data.Buffer)
	}
	return out, nil
}

// nvAuthority is the hierarchy that owns (and may write) an NV index.
func nvAuthority(platform bool) tpm2.TPMHandle {
	if platform {
		return tpm2.TPMRHPlatform
	}
	return tpm2.TPMRHOwner
}

// WriteNV defines index (platform hierarchy when platform is true, otherwise
// owner) with the size of data and writes data in chunks. The index is
// readable with its own empty auth, by the owner and by the platform.
func WriteNV(dev *Device, index uint32, data []byte, platform bool) error {
	if len(data) == 0 || len(data) > 0xffff {
		return fmt.Errorf("nv data size %d out of range", len(data))
	}
	if max, err := tpmProperty(dev, tpm2.TPMPTNVIndexMax); err == nil && len(data) > int(max) {
		return fmt.Errorf("%d bytes do not fit in one nv index (the TPM allows %d); store the leaf certificate only", len(data), max)
	}
	attrs := tpm2.TPMANV{AuthRead: true, OwnerRead: true, PPRead: true, NoDA: true, NT: tpm2.TPMNTOrdinary}
	if platform {
		attrs.PPWrite, attrs.PlatformCreate = true, true
	} else {
		attrs.OwnerWrite = true
	}
	owner := nvAuthority(platform)
	_, err := tpm2.NVDefineSpace{
		AuthHandle: tpm2.AuthHandle{Handle: owner, Auth: tpm2.PasswordAuth(nil)},
		PublicInfo: tpm2.New2B(tpm2.TPMSNVPublic{
			NVIndex:    tpm2.TPMHandle(index),
			NameAlg:    tpm2.TPMAlgSHA256,
			Attributes: attrs,
			DataSize:   uint16(len(data)),
		}),
	}.Execute(dev)
	if err != nil {
		return fmt.Errorf("defining nv index 0x%08x: %w", index, err)
	}
	chunk := nvChunk(dev)
	for off := 0; off < len(data); off += chunk {
		// The name changes after the first write (TPMA_NV_WRITTEN): re-read it.
		_, name, err := nvPublic(dev, index)
		if err != nil {
			return err
		}
		end := min(off+chunk, len(data))
		auth, release, err := dev.protect(false)
		if err != nil {
			return err
		}
		_, err = tpm2.NVWrite{
			AuthHandle: tpm2.AuthHandle{Handle: owner, Auth: auth},
			NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(index), Name: name},
			Data:       tpm2.TPM2BMaxNVBuffer{Buffer: data[off:end]},
			Offset:     uint16(off),
		}.Execute(dev)
		release()
		if err != nil {
			return fmt.Errorf("writing nv index 0x%08x at %d: %w", index, off, err)
		}
	}
	return nil
}

// UndefineNV removes an NV index, with the hierarchy that created it.
// A missing index is not an error.
func UndefineNV(dev *Device, index uint32) error {
	pub, name, err := nvPublic(dev, index)
	if errors.Is(err, ErrNoNVIndex) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = tpm2.NVUndefineSpace{
		AuthHandle: tpm2.AuthHandle{Handle: nvAuthority(pub.Attributes.PlatformCreate), Auth: tpm2.PasswordAuth(nil)},
		NVIndex:    tpm2.NamedHandle{Handle: tpm2.TPMHandle(index), Name: name},
	}.Execute(dev)
	if err != nil {
		return fmt.Errorf("removing nv index 0x%08x: %w", index, err)
	}
	return nil
}

// ParseNVCertificate parses a certificate read from NV. Vendors size the
// index generously and pad with zeros or 0xff; the DER length in the outer
// SEQUENCE header says where the certificate ends.
func ParseNVCertificate(data []byte) (*x509.Certificate, error) {
	der, err := trimDER(data)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, fmt.Errorf("parsing certificate: %w", err)
	}
	return cert, nil
}

// trimDER returns the first DER SEQUENCE in data (tag 0x30, definite length).
func trimDER(data []byte) ([]byte, error) {
	if len(data) < 2 || data[0] != 0x30 {
		return nil, errors.New("not a DER certificate (no SEQUENCE at the start)")
	}
	l := int(data[1])
	hdr := 2
	if l&0x80 != 0 {
		n := l & 0x7f
		if n == 0 || n > 3 || len(data) < 2+n {
			return nil, errors.New("DER certificate: bad length encoding")
		}
		l = 0
		for _, b := range data[2 : 2+n] {
			l = l<<8 | int(b)
		}
		hdr += n
	}
	if hdr+l > len(data) {
		return nil, fmt.Errorf("DER certificate claims %d bytes, only %d stored", hdr+l, len(data))
	}
	return data[:hdr+l], nil
}
