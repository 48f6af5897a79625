package conveyed

import (
	"encoding/json"
	"errors"
	"fmt"
)

// RESTCONF paths of the two RPCs (digest 4.1, C52).
const (
	PathGetBootstrappingData = "/restconf/operations/ietf-sztp-bootstrap-server:get-bootstrapping-data"
	PathReportProgress       = "/restconf/operations/ietf-sztp-bootstrap-server:report-progress"
)

// GetBootstrappingDataInput is the input of get-bootstrapping-data.
type GetBootstrappingDataInput struct {
	SignedDataPreferred bool
	HWModel             string
	OSName              string
	OSVersion           string
	Nonce               []byte // 16..32 octets when set

	// RFC 9646 (reserved; at most one of these is set).
	CSRSupport *CSRSupport
	P10CSR     []byte
	CMCCSR     []byte
	CMPCSR     []byte
}

// CSRSupport is the RFC 9646 ietf-sztp-csr:csr-support container.
type CSRSupport struct {
	KeyGenerationAlgorithms [][]byte // DER AlgorithmIdentifiers
	CSRFormats              []string // e.g. "ietf-ztp-types:p10-csr"
}

// ReportingLevel is the server's requested reporting level.
type ReportingLevel string

const (
	Minimal ReportingLevel = "minimal"
	Verbose ReportingLevel = "verbose"
)

// GetBootstrappingDataOutput is the output of get-bootstrapping-data.
type GetBootstrappingDataOutput struct {
	ReportingLevel      ReportingLevel // "" means minimal
	ConveyedInformation []byte         // CMS, mandatory
	OwnerCertificate    []byte         // CMS
	OwnershipVoucher    []byte         // CMS
}

// ProgressType is the progress-type enumeration of report-progress.
type ProgressType string

// The 27 progress types, in module order (digest 4.3).
const (
	BootstrapInitiated          ProgressType = "bootstrap-initiated"
	ParsingInitiated            ProgressType = "parsing-initiated"
	ParsingWarning              ProgressType = "parsing-warning"
	ParsingError                ProgressType = "parsing-error"
	ParsingComplete             ProgressType = "parsing-complete"
	BootImageInitiated          ProgressType = "boot-image-initiated"
	BootImageWarning            ProgressType = "boot-image-warning"
	BootImageError              ProgressType = "boot-image-error"
	BootImageMismatch           ProgressType = "boot-image-mismatch"
	BootImageInstalledRebooting ProgressType = "boot-image-installed-rebooting"
	BootImageComplete           ProgressType = "boot-image-complete"
	PreScriptInitiated          ProgressType = "pre-script-initiated"
	PreScriptWarning            ProgressType = "pre-script-warning"
	PreScriptError              ProgressType = "pre-script-error"
	PreScriptComplete           ProgressType = "pre-script-complete"
	ConfigInitiated             ProgressType = "config-initiated"
	ConfigWarning               ProgressType = "config-warning"
	ConfigError                 ProgressType = "config-error"
	ConfigComplete              ProgressType = "config-complete"
	PostScriptInitiated         ProgressType = "post-script-initiated"
	PostScriptWarning           ProgressType = "post-script-warning"
	PostScriptError             ProgressType = "post-script-error"
	PostScriptComplete          ProgressType = "post-script-complete"
	BootstrapWarning            ProgressType = "bootstrap-warning"
	BootstrapError              ProgressType = "bootstrap-error"
	BootstrapComplete           ProgressType = "bootstrap-complete"
	Informational               ProgressType = "informational"
)

// SSHHostKey is one ssh-host-key entry of bootstrap-complete.
type SSHHostKey struct {
	Algorithm string
	KeyData   []byte
}

// ReportProgressInput is the input of report-progress.
type ReportProgressInput struct {
	ProgressType     ProgressType
	Message          string
	SSHHostKeys      []SSHHostKey // only with bootstrap-complete
	TrustAnchorCerts [][]byte     // CMS; only with bootstrap-complete
}

type jsonGBDInput struct {
	SignedDataPreferred []any  `json:"signed-data-preferred,omitempty"`
	HWModel             string `json:"hw-model,omitempty"`
	OSName              string `json:"os-name,omitempty"`
	OSVersion           string `json:"os-version,omitempty"`
	Nonce               []byte `json:"nonce,omitempty"`
}

// Encode serialises the RPC input with its module-qualified root.
func (in *GetBootstrappingDataInput) Encode(enc Encoding) ([]byte, error) {
	if enc == XML {
		return nil, errors.New("conveyed: XML encoding not implemented yet")
	}
	j := jsonGBDInput{HWModel: in.HWModel, OSName: in.OSName, OSVersion: in.OSVersion, Nonce: in.Nonce}
	if in.SignedDataPreferred {
		j.SignedDataPreferred = []any{nil}
	}
	return json.Marshal(map[string]any{ModuleBootstrapServer + ":input": j})
}

// DecodeGetBootstrappingDataInput parses an RPC input (server side).
func DecodeGetBootstrappingDataInput(data []byte, enc Encoding) (*GetBootstrappingDataInput, error) {
	if enc == XML {
		return nil, errors.New("conveyed: XML decoding not implemented yet")
	}
	var doc struct {
		In *jsonGBDInput `json:"ietf-sztp-bootstrap-server:input"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("get-bootstrapping-data input: %w", err)
	}
	in := &GetBootstrappingDataInput{}
	if doc.In != nil {
		in.SignedDataPreferred = doc.In.SignedDataPreferred != nil
		in.HWModel, in.OSName, in.OSVersion, in.Nonce = doc.In.HWModel, doc.In.OSName, doc.In.OSVersion, doc.In.Nonce
	}
	return in, nil
}

type jsonGBDOutput struct {
	ReportingLevel      string `json:"reporting-level,omitempty"`
	ConveyedInformation []byte `json:"conveyed-information"`
	OwnerCertificate    []byte `json:"owner-certificate,omitempty"`
	OwnershipVoucher    []byte `json:"ownership-voucher,omitempty"`
}

// Encode serialises the RPC output (server side).
func (out *GetBootstrappingDataOutput) Encode(enc Encoding) ([]byte, error) {
	if enc == XML {
		return nil, errors.New("conveyed: XML encoding not implemented yet")
	}
	return json.Marshal(map[string]any{ModuleBootstrapServer + ":output": jsonGBDOutput{string(out.ReportingLevel), out.ConveyedInformation, out.OwnerCertificate, out.OwnershipVoucher}})
}

// DecodeGetBootstrappingDataOutput parses and validates an RPC output (C57).
func DecodeGetBootstrappingDataOutput(data []byte, enc Encoding) (*GetBootstrappingDataOutput, error) {
	if enc == XML {
		return nil, errors.New("conveyed: XML decoding not implemented yet")
	}
	var doc struct {
		Out *jsonGBDOutput `json:"ietf-sztp-bootstrap-server:output"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("get-bootstrapping-data output: %w", err)
	}
	if doc.Out == nil {
		return nil, errors.New("get-bootstrapping-data output: missing ietf-sztp-bootstrap-server:output")
	}
	o := doc.Out
	if len(o.ConveyedInformation) == 0 {
		return nil, errors.New("get-bootstrapping-data output: missing mandatory conveyed-information")
	}
	if (o.OwnerCertificate == nil) != (o.OwnershipVoucher == nil) {
		return nil, errors.New("get-bootstrapping-data output: owner-certificate and ownership-voucher must come together")
	}
	return &GetBootstrappingDataOutput{ReportingLevel(o.ReportingLevel), o.ConveyedInformation, o.OwnerCertificate, o.OwnershipVoucher}, nil
}

type jsonRPInput struct {
	ProgressType string `json:"progress-type"`
	Message      string `json:"message,omitempty"`
}

// Encode serialises the report-progress input.
func (in *ReportProgressInput) Encode(enc Encoding) ([]byte, error) {
	if enc == XML {
		return nil, errors.New("conveyed: XML encoding not implemented yet")
	}
	return json.Marshal(map[string]any{ModuleBootstrapServer + ":input": jsonRPInput{string(in.ProgressType), in.Message}})
}

// DecodeReportProgressInput parses a report-progress input (server side).
func DecodeReportProgressInput(data []byte, enc Encoding) (*ReportProgressInput, error) {
	if enc == XML {
		return nil, errors.New("conveyed: XML decoding not implemented yet")
	}
	var doc struct {
		In *jsonRPInput `json:"ietf-sztp-bootstrap-server:input"`
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("report-progress input: %w", err)
	}
	if doc.In == nil || doc.In.ProgressType == "" {
		return nil, errors.New("report-progress input: missing mandatory progress-type")
	}
	return &ReportProgressInput{ProgressType: ProgressType(doc.In.ProgressType), Message: doc.In.Message}, nil
}
