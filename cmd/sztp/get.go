package main

import (
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/spf13/cobra"
	"github.com/sztp/sztp/client"
	"github.com/sztp/sztp/client/conveyed"
	"github.com/sztp/sztp/internal/settings"
)

func init() { register(newGetCmd) }

// getReport is the JSON shape of `sztp get --json`.
type getReport struct {
	Server              string          `json:"server"`
	Trusted             bool            `json:"trusted"`
	Nonce               string          `json:"nonce"`
	ReportingLevel      string          `json:"reporting-level,omitempty"`
	OwnerCertificate    bool            `json:"owner-certificate-present"`
	OwnershipVoucher    bool            `json:"ownership-voucher-present"`
	Encrypted           bool            `json:"encrypted"`
	Signed              bool            `json:"signed"`
	Owner               string          `json:"owner,omitempty"`
	ValidationError     string          `json:"validation-error,omitempty"`
	DecodeError         string          `json:"decode-error,omitempty"`
	ConveyedInformation json.RawMessage `json:"conveyed-information,omitempty"`
}

const getLong = `Make one get-bootstrapping-data call to --url with the device's identity
and print what came back, for debugging a bootstrap server: whether the
server authenticated against --server-trust-anchor (trusted), the nonce
sent, which artifacts came, whether they are encrypted and signed and
validate (voucher against --voucher-trust-anchor, owner certificate,
signature), and the decoded conveyed information. Nothing is acted on and no
progress is reported. An untrusted server gets only signed-data-preferred
and the nonce, as in 'sztp run'.

Exit status: 0 when the answer validated and decoded; 1 when there was no
answer (connection, TLS or HTTP error: logged) or it did not validate or
decode (printed); 2 for bad flags.`

const getExample = `  sztp get --url https://sztp.example.com:8443 --server-trust-anchor ca.pem \
    --voucher-trust-anchor masa.pem --idevid-cert idevid.pem --idevid-key idevid.key --json`

func newGetCmd() *cobra.Command {
	f := &runFlags{}
	var url string
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "get --url URL",
		Short:   "one get-bootstrapping-data call, decoded and verified (for debugging a server)",
		Long:    getLong,
		Example: getExample,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if url == "" {
				return usagef("--url is required")
			}
			if err := applySharedLayers(cmd); err != nil {
				return err
			}
			log := logger(cmd)
			f.urls, f.stateDir = []string{url}, ""
			cfg, closeFn, err := f.agentConfig(cmd.Context(), log)
			if err != nil {
				return err
			}
			defer closeFn()
			agent, err := client.New(cfg)
			if err != nil {
				return err
			}
			res, err := agent.Get(cmd.Context(), url)
			if err != nil {
				return err
			}
			rep := toGetReport(res)
			if asJSON {
				if err := printJSON(cmd.OutOrStdout(), rep); err != nil {
					return err
				}
			} else {
				printGet(cmd.OutOrStdout(), rep)
			}
			switch {
			case rep.ValidationError != "":
				return exitError{exitFailure, errors.New("the bootstrapping data did not validate")}
			case rep.DecodeError != "":
				return exitError{exitFailure, errors.New("the conveyed information could not be decoded")}
			}
			return nil
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&url, "url", "", "bootstrap server URI")
	fs.BoolVar(&asJSON, "json", false, "print JSON")
	f.id.AddIdentity(fs)
	f.id.AddTrust(fs)
	fs.StringVar(&f.encoding, "encoding", "json", "RESTCONF encoding: json or xml")
	fs.StringVar(&f.passwordFile, "password-file", "", "file holding the HTTP Basic password (sent only to an authenticated server)")
	fs.StringVar(&f.clock, "clock", "auto", "trusted, untrusted or auto (see sztp run --help)")
	fs.StringVar(&f.hwModel, "hw-model", "", "hardware model sent to a trusted server")
	fs.StringVar(&f.osName, "os-name", "", "OS name sent to a trusted server")
	fs.StringVar(&f.osVersion, "os-version", "", "OS version sent to a trusted server")
	settings.AddFlags(fs, &f.configFile, &f.cmdlineFile)
	return cmd
}

func toGetReport(r *client.GetResult) *getReport {
	rep := &getReport{
		Server: r.Server, Trusted: r.Trusted, Nonce: base64.StdEncoding.EncodeToString(r.Nonce),
		ReportingLevel:   string(r.Output.ReportingLevel),
		OwnerCertificate: r.Output.OwnerCertificate != nil, OwnershipVoucher: r.Output.OwnershipVoucher != nil,
	}
	if r.OpenErr != nil {
		rep.ValidationError = r.OpenErr.Error()
	}
	if o := r.Opened; o != nil {
		rep.Signed, rep.Encrypted = o.Signed, o.Encrypted
		if o.OwnerCertificate != nil {
			rep.Owner = o.OwnerCertificate.Subject.String()
		}
	}
	if r.DecodeErr != nil {
		rep.DecodeError = r.DecodeErr.Error()
	}
	if r.Conveyed != nil {
		if doc, err := r.Conveyed.Encode(conveyed.JSON); err == nil {
			rep.ConveyedInformation = doc
		}
	}
	return rep
}

func printGet(w io.Writer, r *getReport) {
	fmt.Fprintf(w, "server:          %s (trusted: %v)\n", r.Server, r.Trusted)
	fmt.Fprintf(w, "nonce sent:      %s\n", r.Nonce)
	if r.ReportingLevel != "" {
		fmt.Fprintf(w, "reporting-level: %s\n", r.ReportingLevel)
	}
	fmt.Fprintf(w, "artifacts:       conveyed-information, owner-certificate=%v, ownership-voucher=%v\n", r.OwnerCertificate, r.OwnershipVoucher)
	fmt.Fprintf(w, "signed:          %v (encrypted: %v)\n", r.Signed, r.Encrypted)
	if r.Owner != "" {
		fmt.Fprintf(w, "owner:           %s\n", r.Owner)
	}
	if r.ValidationError != "" {
		fmt.Fprintf(w, "INVALID:         %s\n", r.ValidationError)
	}
	if r.DecodeError != "" {
		fmt.Fprintf(w, "UNDECODABLE:     %s\n", r.DecodeError)
	}
	if len(r.ConveyedInformation) > 0 {
		var v any
		if json.Unmarshal(r.ConveyedInformation, &v) == nil {
			fmt.Fprintln(w, "conveyed-information:")
			enc := json.NewEncoder(w)
			enc.SetIndent("  ", "  ")
			fmt.Fprint(w, "  ")
			enc.Encode(v)
		}
	}
}
