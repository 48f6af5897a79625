package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/internal/identity"
	"github.com/sztp/sztp/trust"
)

func init() { register(newVerifyCmd) }

const verifyLong = `Verify RFC 8572 artifact files offline, exactly as the device would.

The conveyed information is decrypted when it is encrypted (--decryption-key),
and, when it is signed, validated in the order of RFC 8572 section 5.4: voucher
signature and chain to a --voucher-trust-anchor, voucher dates, assertion,
serial number, idevid-issuer, nonce, pinned-domain-cert, owner certificate
path, revocation, and the signature over the conveyed information. The first
failing step is named.

With --clock untrusted (or, by default, when the system clock shows a time
before this binary was built), voucher dates, certificate validity and CRL
freshness are not checked (RFC 8572 9.1); the output says so.

Exit status: 0 valid, 1 invalid, 2 usage error.`

type verifyOutput struct {
	Valid           bool            `json:"valid"`
	Error           string          `json:"error,omitempty"`
	Step            string          `json:"step,omitempty"`
	InformationType string          `json:"information-type,omitempty"`
	Signed          bool            `json:"signed"`
	Encrypted       bool            `json:"encrypted"`
	Clock           string          `json:"clock"`
	ClockSkipped    bool            `json:"clock-checks-skipped"`
	Owner           string          `json:"owner-certificate,omitempty"`
	Conveyed        json.RawMessage `json:"conveyed-information,omitempty"`
}

func newVerifyCmd() *cobra.Command {
	var (
		ciFile, ocFile, ovFile string
		anchors                []string
		serial, nonceHex       string
		decKey, idevidCert     string
		clock                  string
		assertions             []string
		asJSON                 bool
	)
	cmd := &cobra.Command{
		Use:   "verify --conveyed-information F [--owner-certificate F --ownership-voucher F] --voucher-trust-anchor F --serial-number S",
		Short: "Verify artifact files offline (exit 0 valid, 1 invalid, 2 usage)",
		Long:  verifyLong,
		Example: `  sztp verify --conveyed-information ci.cms --owner-certificate oc.cms \
      --ownership-voucher ov.cms --voucher-trust-anchor masa.pem --serial-number SN --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ciFile == "" {
				return usagef("--conveyed-information is required")
			}
			if (ocFile == "") != (ovFile == "") {
				return usagef("--owner-certificate and --ownership-voucher go together")
			}
			opts := trust.Options{SerialNumber: serial, Assertions: assertions, Logger: logger(cmd)}
			var a trust.Artifacts
			var err error
			if a.ConveyedInformation, err = readArtifact("conveyed-information", ciFile); err != nil {
				return err
			}
			if ovFile != "" {
				if len(anchors) == 0 {
					return usagef("signed data needs --voucher-trust-anchor")
				}
				if serial == "" {
					return usagef("signed data needs --serial-number")
				}
				if a.OwnerCertificate, err = readArtifact("owner-certificate", ocFile); err != nil {
					return err
				}
				if a.OwnershipVoucher, err = readArtifact("ownership-voucher", ovFile); err != nil {
					return err
				}
			}
			if len(anchors) > 0 {
				if opts.VoucherAnchors, err = identity.LoadAnchors("voucher-trust-anchor", anchors); err != nil {
					return usageError{Err: err}
				}
			}
			if nonceHex != "" {
				if opts.Nonce, err = hex.DecodeString(strings.ReplaceAll(nonceHex, ":", "")); err != nil {
					return usagef("--nonce %q is not hex: %v", nonceHex, err)
				}
			}
			if idevidCert != "" {
				certs, err := identity.LoadCertificates(idevidCert)
				if err != nil {
					return usagef("--idevid-cert: %v", err)
				}
				opts.IDevID = certs[0]
			}
			if decKey != "" {
				key, err := identity.LoadPrivateKey(decKey)
				if err != nil {
					return usagef("--decryption-key: %v", err)
				}
				switch k := key.(type) {
				case *rsa.PrivateKey:
					opts.Decrypter = k
				case *ecdsa.PrivateKey:
					ek, err := k.ECDH()
					if err != nil {
						return usagef("--decryption-key: %v", err)
					}
					opts.ECDH = trust.NewECDHKey(ek)
				default:
					return usagef("--decryption-key: %T keys cannot decrypt artifacts", key)
				}
			}
			switch clock {
			case "trusted":
			case "untrusted":
				opts.ClockUntrusted = true
			case "auto":
				opts.ClockUntrusted = !trust.ClockTrustworthy(time.Now(), trust.BuildTime())
			default:
				return usagef("--clock %q: want trusted, untrusted or auto", clock)
			}
			opts.Context = cmd.Context()
			out := verifyArtifacts(a, opts)
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), out); err != nil {
					return err
				}
			} else {
				printVerify(cmd.OutOrStdout(), out)
			}
			if !out.Valid {
				return exitError{code: exitFailure}
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&ciFile, "conveyed-information", "", "conveyed-information artifact (CMS, DER/BER or PEM)")
	f.StringVar(&ocFile, "owner-certificate", "", "owner-certificate artifact (certs-only CMS)")
	f.StringVar(&ovFile, "ownership-voucher", "", "ownership-voucher artifact (CMS)")
	f.StringSliceVar(&anchors, "voucher-trust-anchor", nil, "voucher trust anchors: PEM bundle or certs-only CMS (repeatable); must issue only MASA/manufacturer voucher-signing certificates")
	f.StringVar(&serial, "serial-number", "", "the device serial number the voucher must name")
	f.StringVar(&nonceHex, "nonce", "", "nonce sent in the request, hex (a voucher with a nonce needs it)")
	f.StringVar(&decKey, "decryption-key", "", "private key (PEM) that decrypts encrypted artifacts: RSA (key transport) or EC (ECDH)")
	f.StringVar(&idevidCert, "idevid-cert", "", "the device IDevID certificate, for a voucher's idevid-issuer")
	f.StringVar(&clock, "clock", "auto", "trusted, untrusted (skip expiry checks, RFC 8572 9.1), or auto (untrusted when the clock is before the build date)")
	addAssertion(f, &assertions)
	f.BoolVar(&asJSON, "json", false, "print one JSON object")
	return cmd
}

// readArtifact reads a CMS file: DER/BER, or PEM (CMS, PKCS7).
func readArtifact(name, file string) ([]byte, error) {
	b, err := os.ReadFile(file)
	if err != nil {
		return nil, usagef("--%s: %v", name, err)
	}
	if blk, _ := pem.Decode(b); blk != nil {
		return blk.Bytes, nil
	}
	return b, nil
}

func verifyArtifacts(a trust.Artifacts, opts trust.Options) *verifyOutput {
	out := &verifyOutput{Clock: "trusted"}
	if opts.ClockUntrusted {
		out.Clock = "untrusted"
	}
	res, err := trust.Open(a, opts)
	if res != nil {
		out.Signed, out.Encrypted, out.ClockSkipped = res.Signed, res.Encrypted, res.ClockSkipped
	}
	if err != nil {
		out.Error = err.Error()
		var se *trust.StepError
		if errors.As(err, &se) {
			out.Step, out.Error = string(se.Step), se.Err.Error()
		}
		return out
	}
	if res.OwnerCertificate != nil {
		out.Owner = res.OwnerCertificate.Subject.String()
	}
	enc := conveyed.JSON
	switch {
	case res.ContentType.Equal(trust.OIDSZTPConveyedInfoXML):
		enc = conveyed.XML
	case res.ContentType.Equal(trust.OIDData):
		if enc, err = conveyed.Sniff(res.Content); err != nil {
			out.Error, out.Step = "conveyed-information document: "+err.Error(), string(trust.StepParse)
			return out
		}
	}
	ci, err := conveyed.Decode(res.Content, enc)
	if err == nil {
		var doc []byte
		if doc, err = ci.Encode(conveyed.JSON); err == nil {
			out.Conveyed = doc
		}
	}
	if err != nil {
		out.Error, out.Step = "conveyed-information document: "+err.Error(), string(trust.StepParse)
		return out
	}
	out.InformationType = "onboarding-information"
	if ci.Redirect != nil {
		out.InformationType = "redirect-information"
	}
	out.Valid = true
	return out
}

func yesNo(b bool) string {
	if b {
		return "yes"
	}
	return "no"
}

func printVerify(w io.Writer, out *verifyOutput) {
	if out.Clock == "untrusted" {
		fmt.Fprintln(w, "clock: untrusted: voucher dates, certificate validity and CRL freshness NOT checked (RFC 8572 9.1)")
	}
	if !out.Valid {
		fmt.Fprintf(w, "invalid at step %s: %s\n", out.Step, out.Error)
		return
	}
	kind := "unsigned"
	if out.Signed {
		kind = "signed"
	}
	fmt.Fprintf(w, "valid: %s %s (encrypted: %s)\n", kind, out.InformationType, yesNo(out.Encrypted))
	if out.Owner != "" {
		fmt.Fprintf(w, "owner certificate: %s\n", out.Owner)
	}
	var buf bytes.Buffer
	if json.Indent(&buf, out.Conveyed, "", "  ") == nil {
		fmt.Fprintln(w, buf.String())
	}
}

// addAssertion is the voucher assertion policy (C26) of verify and run.
func addAssertion(fs *pflag.FlagSet, p *[]string) {
	fs.StringSliceVar(p, "assertion", nil, "voucher assertions to accept (repeatable; default verified, logged, proximity)")
}
