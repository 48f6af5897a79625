package main

import (
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/internal/atomicfile"
	"github.com/sztp/sztp/internal/identity"
	"github.com/sztp/sztp/tpm"
)

func init() { register(newTPMCmd) }

func newTPMCmd() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "tpm",
		Short: "Inspect the TPM identity, provision a lab IDevID, make CSRs",
		Long: `The tpm commands work on the device's TPM 2.0: --tpm /dev/tpmrm0 (default),
/dev/tpm0, tcp://HOST:PORT or unix://PATH (swtpm's server socket).

The IDevID key is the persistent key at --idevid-handle (default 0x81020000);
its certificate is read from the first NV index of --idevid-cert-index that
holds one (default 0x01C90000, then 0x01C90200) or from --idevid-cert.`,
	}
	cmd.AddCommand(newTPMInfoCmd(), newTPMProvisionCmd(), newTPMCSRCmd(), newTPMEventlogCmd(), newTPMClearLDevIDCmd())
	return cmd
}

func newTPMInfoCmd() *cobra.Command {
	var f identity.Flags
	var ld ldevidFlags
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "info",
		Short: "Show the TPM, the IDevID key and its certificate",
		Long: `Show the TPM manufacturer and firmware, the IDevID key (handle, type,
scheme), and its certificate (subject, issuer, serial numbers, validity, and
the NV index it came from). Exits 1 when the IDevID key or certificate cannot
be used.`,
		Example: `  sztp tpm info
  sztp tpm info --tpm tcp://127.0.0.1:2321 --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.TPMConfig()
			if err != nil {
				return err
			}
			dev, err := tpm.Open(cfg.Path)
			if err != nil {
				return err
			}
			defer dev.Close()
			info, err := tpm.ReadInfo(cmd.Context(), dev, cfg)
			if err != nil {
				return err
			}
			if h, idx, err := ld.handles(); err != nil {
				return err
			} else if l := tpm.ReadLDevIDInfo(dev, h, idx); l.Key != nil || l.Certificate != nil {
				info.LDevID = l
			}
			out := cmd.OutOrStdout()
			if asJSON {
				if err := printJSON(out, info); err != nil {
					return err
				}
			} else {
				printInfo(out, info)
			}
			var problems []string
			for _, p := range []string{info.IDevIDError, info.CertificateError, info.DecryptionError} {
				if p != "" {
					problems = append(problems, p)
				}
			}
			if info.Certificate != nil && !info.Certificate.MatchesKey && info.IDevID != nil {
				problems = append(problems, "the certificate does not certify the IDevID key")
			}
			if len(problems) > 0 {
				return exitError{exitFailure, errors.New(strings.Join(problems, "; "))}
			}
			return nil
		},
	}
	f.AddIdentity(cmd.Flags())
	addLDevIDFlags(cmd.Flags(), &ld, false)
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printInfo(w io.Writer, info *tpm.Info) {
	p := func(k, v string) {
		if v != "" {
			fmt.Fprintf(w, "%-22s %s\n", k+":", v)
		}
	}
	p("TPM", info.TPM)
	p("Manufacturer", info.Manufacturer)
	p("Vendor", info.VendorString)
	if info.FirmwareVersion != "" {
		p("Firmware", info.FirmwareVersion+" ("+info.FirmwareRaw+")")
	}
	p("Spec revision", info.SpecRevision)
	if k := info.IDevID; k != nil {
		p("IDevID handle", k.Handle)
		p("IDevID key", k.Type)
		p("IDevID scheme", k.Scheme)
		p("IDevID attributes", strings.Join(k.Attributes, "|"))
	}
	p("IDevID error", info.IDevIDError)
	if c := info.Certificate; c != nil {
		p("Certificate source", c.Source)
		p("Subject", c.Subject)
		p("Issuer", c.Issuer)
		p("Serial number", c.SerialNumber)
		p("Certificate serial", c.CertificateSerial)
		p("Not before", c.NotBefore.Format(time.RFC3339))
		p("Not after", c.NotAfter.Format(time.RFC3339))
		p("Matches key", fmt.Sprint(c.MatchesKey))
	}
	p("Certificate error", info.CertificateError)
	if k := info.DecryptionKey; k != nil {
		p("Decryption key", k.Handle+" "+k.Type+" "+k.Scheme)
	}
	p("Decryption key error", info.DecryptionError)
	if l := info.LDevID; l != nil {
		if k := l.Key; k != nil {
			p("LDevID handle", k.Handle)
			p("LDevID key", k.Type)
			p("LDevID attributes", strings.Join(k.Attributes, "|"))
		}
		p("LDevID key error", l.KeyError)
		if c := l.Certificate; c != nil {
			p("LDevID certificate", c.Source)
			p("LDevID subject", c.Subject)
			p("LDevID issuer", c.Issuer)
			p("LDevID not after", c.NotAfter.Format(time.RFC3339))
			p("LDevID matches key", fmt.Sprint(c.MatchesKey))
		}
		p("LDevID cert error", l.CertError)
	}
}

func newTPMProvisionCmd() *cobra.Command {
	var f identity.Flags
	var caCert, caKey, keyType, commonName, out string
	var fixed, force bool
	cmd := &cobra.Command{
		Use:   "provision",
		Short: "Create and certify a lab IDevID in the TPM (labs, manufacturing tests)",
		Long: `Create an IDevID key in the endorsement hierarchy, persist it at
--idevid-handle, have --ca-cert/--ca-key certify it with subject
serialNumber=--serial-number, CN=--common-name, and write the DER certificate
to the first --idevid-cert-index (platform hierarchy, owner if that fails).
Refuses when an IDevID key or certificate is already there, unless --force.
For labs only: production IDevIDs are provisioned by the manufacturer.`,
		Example: `  sztp tpm provision --tpm tcp://127.0.0.1:2321 --ca-cert ca.pem --ca-key ca.key \
      --serial-number DPU-SN-0042`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if caCert == "" || caKey == "" || f.SerialNumber == "" {
				return usagef("provision needs --ca-cert, --ca-key and --serial-number")
			}
			cfg, err := f.TPMConfig()
			if err != nil {
				return err
			}
			certs, err := identity.LoadCertificates(caCert)
			if err != nil {
				return fmt.Errorf("--ca-cert: %w", err)
			}
			key, err := identity.LoadPrivateKey(caKey)
			if err != nil {
				return fmt.Errorf("--ca-key: %w", err)
			}
			var certIndex uint32 // 0: tpm.DefaultCertIndex
			if len(cfg.CertIndexes) > 0 {
				certIndex = cfg.CertIndexes[0]
			}
			dev, err := tpm.Open(cfg.Path)
			if err != nil {
				return err
			}
			defer dev.Close()
			res, err := tpm.Provision(cmd.Context(), dev, tpm.ProvisionOptions{
				Handle: cfg.IDevIDHandle, CertIndex: certIndex, Algorithm: tpm.KeyAlgorithm(keyType),
				FixedScheme: fixed, CACert: certs[0], CAKey: key, SerialNumber: f.SerialNumber,
				CommonName: commonName, Force: force, Logger: logger(cmd),
			})
			if err != nil {
				if errors.Is(err, tpm.ErrExists) {
					return exitError{exitFailure, fmt.Errorf("%w (use --force to replace it)", err)}
				}
				return err
			}
			if out != "" {
				pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: res.Certificate.Raw})
				if err := atomicfile.WriteFile(out, pemData, 0o644); err != nil {
					return err
				}
			}
			fmt.Fprintf(cmd.OutOrStdout(), "IDevID %s at 0x%08x, certificate in NV 0x%08x (%s hierarchy)\n",
				res.Certificate.Subject, res.Handle, res.CertIndex, res.Hierarchy)
			return nil
		},
	}
	f.AddIdentity(cmd.Flags())
	fl := cmd.Flags()
	fl.StringVar(&caCert, "ca-cert", "", "certificate of the CA that certifies the IDevID (PEM)")
	fl.StringVar(&caKey, "ca-key", "", "private key of that CA (PEM)")
	fl.StringVar(&keyType, "key-type", string(tpm.ECCP256), "IDevID key: ecc-p256, ecc-p384 or rsa-2048")
	fl.BoolVar(&fixed, "fixed-scheme", false, "fix the key's signature scheme (ECDSA/RSASSA with SHA-256; SHA-384 on P-384) as TCG IDevID templates do")
	fl.StringVar(&commonName, "common-name", "", "certificate subject CN (default: the serial number)")
	fl.BoolVar(&force, "force", false, "replace an existing IDevID key and certificate")
	fl.StringVar(&out, "out", "", "also write the certificate (PEM) to this file")
	return cmd
}

func newTPMCSRCmd() *cobra.Command {
	var f identity.Flags
	var newKey, force bool
	var ldevidHandle, keyType, commonName, out string
	cmd := &cobra.Command{
		Use:   "csr",
		Short: "Make a PKCS#10 request signed by a TPM key (IDevID or a new LDevID)",
		Long: `Make a PKCS#10 certificate signing request whose key stays in the TPM, ready
for an RFC 9646 certificate request. Without --new-key the IDevID signs for
itself. With --new-key a fresh LDevID key is created in the owner (storage)
hierarchy and persisted at --ldevid-handle (the IDevID is a signing key and
cannot be a parent). The subject is serialNumber=--serial-number (default: the
IDevID certificate's) and CN=--common-name. The PEM request goes to stdout or
--out.`,
		Example: `  sztp tpm csr --tpm tcp://127.0.0.1:2321 > idevid.csr
  sztp tpm csr --new-key --ldevid-handle 0x81020002 --out ldevid.csr`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			cfg, err := f.TPMConfig()
			if err != nil {
				return err
			}
			handle := cfg.IDevIDHandle
			if newKey {
				if handle, err = identity.ParseHandle("ldevid-handle", ldevidHandle); err != nil {
					return err
				}
			}
			dev, err := tpm.Open(cfg.Path)
			if err != nil {
				return err
			}
			defer dev.Close()
			log := logger(cmd)
			subject := pkix.Name{SerialNumber: f.SerialNumber, CommonName: commonName}
			if subject.SerialNumber == "" {
				var cert *x509.Certificate
				if cfg.CertFile != "" {
					certs, err := tpm.ReadCertificates(cfg.CertFile)
					if err != nil {
						return err
					}
					cert = certs[0]
				} else if cert, _, err = tpm.ReadCertificate(dev, cfg.CertIndexes); err != nil {
					return fmt.Errorf("no --serial-number given and %w", err)
				}
				subject.SerialNumber = cert.Subject.SerialNumber
				if subject.SerialNumber == "" {
					return usagef("the IDevID subject %q has no serialNumber; give --serial-number", cert.Subject)
				}
			}
			if newKey {
				err := tpm.CreateKey(cmd.Context(), dev, tpm.KeySpec{Algorithm: tpm.KeyAlgorithm(keyType), Usage: tpm.UsageSign,
					Hierarchy: tpm.Owner, Handle: handle, RandomUnique: true, Force: force}, log)
				if errors.Is(err, tpm.ErrExists) {
					return exitError{exitFailure, fmt.Errorf("%w (use --force to replace it)", err)}
				}
				if err != nil {
					return err
				}
			}
			signer, err := tpm.NewSigner(dev, handle, log)
			if err != nil {
				return err
			}
			der, err := tpm.CreateCSR(signer, subject)
			if err != nil {
				return err
			}
			pemData := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE REQUEST", Bytes: der})
			if out != "" {
				return atomicfile.WriteFile(out, pemData, 0o644)
			}
			_, err = cmd.OutOrStdout().Write(pemData)
			return err
		},
	}
	f.AddIdentity(cmd.Flags())
	fl := cmd.Flags()
	fl.BoolVar(&newKey, "new-key", false, "create a new LDevID key in the TPM instead of using the IDevID")
	fl.StringVar(&ldevidHandle, "ldevid-handle", "0x81020002", "persistent handle for the new LDevID key")
	fl.StringVar(&keyType, "key-type", string(tpm.ECCP256), "new key: ecc-p256, ecc-p384 or rsa-2048")
	fl.BoolVar(&force, "force", false, "replace a key already at --ldevid-handle")
	fl.StringVar(&commonName, "common-name", "", "subject CN")
	fl.StringVar(&out, "out", "", "write the PEM request to this file instead of stdout")
	return cmd
}
