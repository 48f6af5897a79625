package conveyed

import "slices"

// RESTCONF paths of the two RPCs (RFC 8572 7.3, RFC 8040 3, C52).
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
	// KeyGenerationAlgorithms are DER AlgorithmIdentifiers the device can
	// generate keys for; empty means the key-generation presence container
	// is absent (the server may then only ask for a CSR over the IDevID key).
	KeyGenerationAlgorithms [][]byte
	// CSRFormats are certificate-request-format identities, normalised
	// "module:name" (see FormatP10CSR); at least one is required.
	CSRFormats []string
}

// The certificate-request-format identities of ietf-ztp-types (RFC 9646),
// normalised as CSRSupport.CSRFormats and CSRRequest.Format hold them.
const (
	FormatP10CSR = ModuleZTPTypes + ":p10-csr"
	FormatCMCCSR = ModuleZTPTypes + ":cmc-csr"
	FormatCMPCSR = ModuleZTPTypes + ":cmp-csr"
)

// ReportingLevel is the server's requested reporting level (RFC 8572 7.3).
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

// EffectiveReportingLevel returns ReportingLevel, or minimal (the YANG
// default) when absent.
func (out *GetBootstrappingDataOutput) EffectiveReportingLevel() ReportingLevel {
	if out.ReportingLevel == "" {
		return Minimal
	}
	return out.ReportingLevel
}

// ProgressType is the progress-type enumeration of report-progress.
type ProgressType string

// The 27 progress types, in module order (RFC 8572 7.3).
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

var progressTypes = []ProgressType{
	BootstrapInitiated, ParsingInitiated, ParsingWarning, ParsingError, ParsingComplete,
	BootImageInitiated, BootImageWarning, BootImageError, BootImageMismatch,
	BootImageInstalledRebooting, BootImageComplete,
	PreScriptInitiated, PreScriptWarning, PreScriptError, PreScriptComplete,
	ConfigInitiated, ConfigWarning, ConfigError, ConfigComplete,
	PostScriptInitiated, PostScriptWarning, PostScriptError, PostScriptComplete,
	BootstrapWarning, BootstrapError, BootstrapComplete, Informational,
}

// ProgressTypes returns the 27 progress types in module order.
func ProgressTypes() []ProgressType { return slices.Clone(progressTypes) }

// Valid reports whether p is one of the module's enumeration values.
func (p ProgressType) Valid() bool { return slices.Contains(progressTypes, p) }

// IsError reports whether p is an "*-error" type: the device has abandoned
// the bootstrap server (RFC 8572 7.3).
func (p ProgressType) IsError() bool {
	switch p {
	case ParsingError, BootImageError, PreScriptError, ConfigError, PostScriptError, BootstrapError:
		return true
	}
	return false
}

// IsTerminating reports whether p ends an onboarding attempt: an error type,
// boot-image-installed-rebooting or bootstrap-complete (C64).
func (p ProgressType) IsTerminating() bool {
	return p.IsError() || p == BootImageInstalledRebooting || p == BootstrapComplete
}

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

// Validate checks the YANG constraints of the input: nonce length 16..32
// (C56), the RFC 9646 choice (at most one of csr-support and the three CSR
// leaves), csr-support min-elements, identities and YANG strings.
func (in *GetBootstrappingDataInput) Validate() error {
	const p = "input"
	for _, f := range []struct{ name, v string }{{"hw-model", in.HWModel}, {"os-name", in.OSName}, {"os-version", in.OSVersion}} {
		if err := checkString(joinPath(p, f.name), f.v); err != nil {
			return err
		}
	}
	if in.Nonce != nil && (len(in.Nonce) < 16 || len(in.Nonce) > 32) {
		return verrf(joinPath(p, "nonce"), "nonce is %d octets, want 16..32", len(in.Nonce))
	}
	var first string
	for _, c := range []struct {
		name string
		set  bool
	}{{"csr-support", in.CSRSupport != nil}, {"p10-csr", in.P10CSR != nil}, {"cmc-csr", in.CMCCSR != nil}, {"cmp-csr", in.CMPCSR != nil}} {
		if !c.set {
			continue
		}
		if first != "" {
			return verrf(joinPath(p, c.name), "%s and %s are cases of one choice (RFC 9646 msg-type)", first, c.name)
		}
		first = c.name
	}
	if cs := in.CSRSupport; cs != nil {
		fp := "input/csr-support/csr-generation/supported-formats/format-identifier"
		if len(cs.CSRFormats) == 0 {
			return verrf(fp, "at least one certificate request format is required (min-elements 1)")
		}
		for i, f := range cs.CSRFormats {
			if _, err := canonIdentity(ModuleCSR, f); err != nil {
				return &ValidationError{Path: indexPath(fp, i), Err: err}
			}
		}
	}
	return nil
}

// Encode validates and serialises the RPC input with its module-qualified
// root ("ietf-sztp-bootstrap-server:input", C53) or XML <input>.
func (in *GetBootstrappingDataInput) Encode(enc Encoding) ([]byte, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	root := newNode(schemaGBDInput, "")
	n := root.add("input")
	if in.SignedDataPreferred {
		n.add("signed-data-preferred")
	}
	n.setStr("hw-model", in.HWModel)
	n.setStr("os-name", in.OSName)
	n.setStr("os-version", in.OSVersion)
	n.setBin("nonce", in.Nonce)
	if cs := in.CSRSupport; cs != nil {
		c := n.add("csr-support")
		if len(cs.KeyGenerationAlgorithms) > 0 {
			c.add("key-generation").add("supported-algorithms").setBins("algorithm-identifier", cs.KeyGenerationAlgorithms)
		}
		formats := make([]string, len(cs.CSRFormats))
		for i, f := range cs.CSRFormats {
			formats[i], _ = canonIdentity(ModuleCSR, f) // validated above
		}
		c.add("csr-generation").add("supported-formats").setStrs("format-identifier", formats)
	}
	n.setBin("p10-csr", in.P10CSR)
	n.setBin("cmc-csr", in.CMCCSR)
	n.setBin("cmp-csr", in.CMPCSR)
	return encodeDoc(root, enc)
}

// DecodeGetBootstrappingDataInput parses and validates an RPC input (server
// side).
func DecodeGetBootstrappingDataInput(data []byte, enc Encoding) (*GetBootstrappingDataInput, error) {
	root, err := decodeDoc(data, enc, schemaGBDInput)
	if err != nil {
		return nil, err
	}
	n := root.get("input")
	if n == nil {
		return nil, verrf("", "missing %s:input", ModuleBootstrapServer)
	}
	in := &GetBootstrappingDataInput{
		SignedDataPreferred: n.get("signed-data-preferred") != nil,
		HWModel:             n.str("hw-model"),
		OSName:              n.str("os-name"),
		OSVersion:           n.str("os-version"),
		Nonce:               n.bin("nonce"),
		P10CSR:              n.bin("p10-csr"),
		CMCCSR:              n.bin("cmc-csr"),
		CMPCSR:              n.bin("cmp-csr"),
	}
	if c := n.get("csr-support"); c != nil {
		cs := &CSRSupport{}
		if kg := c.get("key-generation"); kg != nil {
			cs.KeyGenerationAlgorithms = kg.get("supported-algorithms").bins("algorithm-identifier")
			if len(cs.KeyGenerationAlgorithms) == 0 {
				return nil, verrf(kg.childPath("supported-algorithms/algorithm-identifier"),
					"at least one algorithm is required when key-generation is present (min-elements 1)")
			}
		}
		cs.CSRFormats = c.get("csr-generation").get("supported-formats").strs("format-identifier")
		in.CSRSupport = cs
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return in, nil
}

// Validate checks the output constraints: conveyed-information is mandatory
// and non-empty, owner-certificate and ownership-voucher come together (C57),
// reporting-level is a known value.
func (out *GetBootstrappingDataOutput) Validate() error {
	if l := out.ReportingLevel; l != "" && !inEnum(string(l), reportingLevels) {
		return verrf("output/reporting-level", "unknown value %q (want minimal or verbose)", l)
	}
	if len(out.ConveyedInformation) == 0 {
		return verrf("output/conveyed-information", "missing mandatory leaf conveyed-information (C57)")
	}
	switch {
	case out.OwnerCertificate != nil && out.OwnershipVoucher == nil:
		return verrf("output/ownership-voucher", "missing: required when owner-certificate is present (C57)")
	case out.OwnerCertificate == nil && out.OwnershipVoucher != nil:
		return verrf("output/owner-certificate", "missing: required when ownership-voucher is present (C57)")
	}
	return nil
}

// Encode validates and serialises the RPC output (server side).
func (out *GetBootstrappingDataOutput) Encode(enc Encoding) ([]byte, error) {
	if err := out.Validate(); err != nil {
		return nil, err
	}
	root := newNode(schemaGBDOutput, "")
	n := root.add("output")
	n.setStr("reporting-level", string(out.ReportingLevel))
	n.setBin("conveyed-information", out.ConveyedInformation)
	n.setBin("owner-certificate", out.OwnerCertificate)
	n.setBin("ownership-voucher", out.OwnershipVoucher)
	return encodeDoc(root, enc)
}

// DecodeGetBootstrappingDataOutput parses and validates an RPC output (C53,
// C57).
func DecodeGetBootstrappingDataOutput(data []byte, enc Encoding) (*GetBootstrappingDataOutput, error) {
	root, err := decodeDoc(data, enc, schemaGBDOutput)
	if err != nil {
		return nil, err
	}
	n := root.get("output")
	if n == nil {
		return nil, verrf("", "missing %s:output", ModuleBootstrapServer)
	}
	out := &GetBootstrappingDataOutput{
		ReportingLevel:      ReportingLevel(n.str("reporting-level")),
		ConveyedInformation: n.bin("conveyed-information"),
		OwnerCertificate:    n.bin("owner-certificate"),
		OwnershipVoucher:    n.bin("ownership-voucher"),
	}
	if err := out.Validate(); err != nil {
		return nil, err
	}
	return out, nil
}

// Validate checks the input constraints: progress-type is mandatory and
// known; ssh-host-keys and trust-anchor-certs only with bootstrap-complete
// (C66); ssh-host-key entries have algorithm and key-data.
func (in *ReportProgressInput) Validate() error {
	tp := "input/progress-type"
	if in.ProgressType == "" {
		return verrf(tp, "missing mandatory leaf progress-type")
	}
	if !in.ProgressType.Valid() {
		return verrf(tp, "unknown value %q", in.ProgressType)
	}
	if err := checkString("input/message", in.Message); err != nil {
		return err
	}
	if in.ProgressType != BootstrapComplete {
		if len(in.SSHHostKeys) > 0 {
			return verrf("input/ssh-host-keys", "only allowed with progress-type bootstrap-complete, not %s (C66)", in.ProgressType)
		}
		if len(in.TrustAnchorCerts) > 0 {
			return verrf("input/trust-anchor-certs", "only allowed with progress-type bootstrap-complete, not %s (C66)", in.ProgressType)
		}
	}
	for i, k := range in.SSHHostKeys {
		ep := indexPath("input/ssh-host-keys/ssh-host-key", i)
		if k.Algorithm == "" {
			return verrf(joinPath(ep, "algorithm"), "missing mandatory leaf algorithm")
		}
		if err := checkString(joinPath(ep, "algorithm"), k.Algorithm); err != nil {
			return err
		}
		if k.KeyData == nil {
			return verrf(joinPath(ep, "key-data"), "missing mandatory leaf key-data")
		}
	}
	return nil
}

// Encode validates and serialises the report-progress input.
func (in *ReportProgressInput) Encode(enc Encoding) ([]byte, error) {
	if err := in.Validate(); err != nil {
		return nil, err
	}
	root := newNode(schemaReportProgress, "")
	n := root.add("input")
	n.setStr("progress-type", string(in.ProgressType))
	n.setStr("message", in.Message)
	if len(in.SSHHostKeys) > 0 {
		l := n.add("ssh-host-keys").add("ssh-host-key")
		for _, k := range in.SSHHostKeys {
			e := l.addEntry()
			e.setStr("algorithm", k.Algorithm)
			e.setBin("key-data", k.KeyData)
		}
	}
	if len(in.TrustAnchorCerts) > 0 {
		n.add("trust-anchor-certs").setBins("trust-anchor-cert", in.TrustAnchorCerts)
	}
	return encodeDoc(root, enc)
}

// DecodeReportProgressInput parses and validates a report-progress input
// (server side).
func DecodeReportProgressInput(data []byte, enc Encoding) (*ReportProgressInput, error) {
	root, err := decodeDoc(data, enc, schemaReportProgress)
	if err != nil {
		return nil, err
	}
	n := root.get("input")
	if n == nil {
		return nil, verrf("", "missing %s:input", ModuleBootstrapServer)
	}
	in := &ReportProgressInput{
		ProgressType:     ProgressType(n.str("progress-type")),
		Message:          n.str("message"),
		TrustAnchorCerts: n.get("trust-anchor-certs").bins("trust-anchor-cert"),
	}
	for _, e := range n.get("ssh-host-keys").list("ssh-host-key") {
		in.SSHHostKeys = append(in.SSHHostKeys, SSHHostKey{Algorithm: e.str("algorithm"), KeyData: e.bin("key-data")})
	}
	if in.ProgressType != "" && in.ProgressType != BootstrapComplete {
		// The when statements forbid even empty containers (C66).
		for _, name := range []string{"ssh-host-keys", "trust-anchor-certs"} {
			if c := n.get(name); c != nil {
				return nil, verrf(c.path, "only allowed with progress-type bootstrap-complete, not %s (C66)", in.ProgressType)
			}
		}
	}
	if err := in.Validate(); err != nil {
		return nil, err
	}
	return in, nil
}
