package conveyed

import (
	"fmt"
	"strings"
)

// Errors is an RFC 8040 ietf-restconf:errors document: the body of a
// RESTCONF error reply (RFC 8040 7). RFC 9646 servers send one with a
// CSRRequest to ask for a CSR (C99).
type Errors struct {
	Error []RESTCONFError
}

// RESTCONFError is one entry of ietf-restconf:errors.
type RESTCONFError struct {
	Type    string // error-type: transport, rpc, protocol or application (mandatory)
	Tag     string // error-tag, e.g. "missing-attribute" (mandatory)
	AppTag  string // error-app-tag
	Path    string // error-path, verbatim (XML prefixes are not resolved)
	Message string // error-message
	// CSRRequest is error-info/ietf-sztp-csr:csr-request (RFC 9646), nil
	// when absent. Other error-info content is anydata and is skipped when
	// decoding.
	CSRRequest *CSRRequest
}

// CSRRequest is the RFC 9646 csr-request structure.
type CSRRequest struct {
	// KeyGenerationAlgorithm is key-generation/selected-algorithm/
	// algorithm-identifier, a DER AlgorithmIdentifier; nil when the server
	// did not ask for a new key (the IDevID key is to be used).
	KeyGenerationAlgorithm []byte
	// Format is csr-generation/selected-format/format-identifier,
	// normalised like CSRSupport.CSRFormats (e.g. FormatP10CSR). Mandatory.
	Format string
	// CertReqInfo is a DER CertificationRequestInfo to sign verbatim, nil
	// when absent.
	CertReqInfo []byte
}

// ErrorTagMissingAttribute is the error-tag of an RFC 9646 CSR request.
const ErrorTagMissingAttribute = "missing-attribute"

// CSRRequest returns the first csr-request carried by an error with tag
// missing-attribute (the RFC 9646 "send a CSR" reply, C99), or nil.
func (e *Errors) CSRRequest() *CSRRequest {
	for _, x := range e.Error {
		if x.Tag == ErrorTagMissingAttribute && x.CSRRequest != nil {
			return x.CSRRequest
		}
	}
	return nil
}

// String summarises the errors on one line for logs.
func (e *Errors) String() string {
	parts := make([]string, 0, len(e.Error))
	for _, x := range e.Error {
		s := x.Type + "/" + x.Tag
		if x.AppTag != "" {
			s += "/" + x.AppTag
		}
		if x.Path != "" {
			s += " at " + x.Path
		}
		if x.Message != "" {
			s += fmt.Sprintf(": %q", x.Message)
		}
		if x.CSRRequest != nil {
			s += " (csr-request " + x.CSRRequest.Format + ")"
		}
		parts = append(parts, s)
	}
	return strings.Join(parts, "; ")
}

// Validate checks the mandatory leaves and enumeration values.
func (e *Errors) Validate() error {
	lp := "errors/error"
	for i, x := range e.Error {
		ep := indexPath(lp, i)
		if x.Type == "" {
			return verrf(joinPath(ep, "error-type"), "missing mandatory leaf error-type")
		}
		if !inEnum(x.Type, errorTypes) {
			return verrf(joinPath(ep, "error-type"), "unknown value %q (want one of %s)", x.Type, strings.Join(errorTypes, ", "))
		}
		if x.Tag == "" {
			return verrf(joinPath(ep, "error-tag"), "missing mandatory leaf error-tag")
		}
		for _, f := range []struct{ name, v string }{
			{"error-tag", x.Tag}, {"error-app-tag", x.AppTag}, {"error-path", x.Path}, {"error-message", x.Message},
		} {
			if err := checkString(joinPath(ep, f.name), f.v); err != nil {
				return err
			}
		}
		if r := x.CSRRequest; r != nil {
			rp := joinPath(ep, "error-info/csr-request")
			fp := joinPath(rp, "csr-generation/selected-format/format-identifier")
			if r.Format == "" {
				return verrf(fp, "missing mandatory leaf format-identifier")
			}
			if _, err := canonIdentity(ModuleCSR, r.Format); err != nil {
				return &ValidationError{Path: fp, Err: err}
			}
		}
	}
	return nil
}

// Encode validates and serialises the errors document
// ("ietf-restconf:errors" in JSON, <errors> in XML).
func (e *Errors) Encode(enc Encoding) ([]byte, error) {
	if err := e.Validate(); err != nil {
		return nil, err
	}
	root := newNode(schemaErrors, "")
	errs := root.add("errors")
	if len(e.Error) > 0 {
		l := errs.add("error")
		for _, x := range e.Error {
			n := l.addEntry()
			n.setStr("error-type", x.Type)
			n.setStr("error-tag", x.Tag)
			n.setStr("error-app-tag", x.AppTag)
			n.setStr("error-path", x.Path)
			n.setStr("error-message", x.Message)
			if r := x.CSRRequest; r != nil {
				c := n.add("error-info").add("csr-request")
				if r.KeyGenerationAlgorithm != nil {
					c.add("key-generation").add("selected-algorithm").setBin("algorithm-identifier", r.KeyGenerationAlgorithm)
				}
				f, _ := canonIdentity(ModuleCSR, r.Format) // validated above
				c.add("csr-generation").add("selected-format").setStr("format-identifier", f)
				c.setBin("cert-req-info", r.CertReqInfo)
			}
		}
	}
	return encodeDoc(root, enc)
}

// DecodeErrors parses and validates an ietf-restconf:errors document.
// error-info content other than ietf-sztp-csr:csr-request is skipped.
func DecodeErrors(data []byte, enc Encoding) (*Errors, error) {
	root, err := decodeDoc(data, enc, schemaErrors)
	if err != nil {
		return nil, err
	}
	n := root.get("errors")
	if n == nil {
		return nil, verrf("", "missing %s:errors", ModuleRESTCONF)
	}
	e := &Errors{}
	for _, x := range n.list("error") {
		re := RESTCONFError{
			Type:    x.str("error-type"),
			Tag:     x.str("error-tag"),
			AppTag:  x.str("error-app-tag"),
			Path:    x.str("error-path"),
			Message: x.str("error-message"),
		}
		if c := x.get("error-info").get("csr-request"); c != nil {
			r := &CSRRequest{
				Format:      c.get("csr-generation").get("selected-format").str("format-identifier"),
				CertReqInfo: c.bin("cert-req-info"),
			}
			if kg := c.get("key-generation"); kg != nil {
				r.KeyGenerationAlgorithm = kg.get("selected-algorithm").bin("algorithm-identifier")
				if r.KeyGenerationAlgorithm == nil {
					return nil, verrf(kg.childPath("selected-algorithm/algorithm-identifier"), "missing mandatory leaf algorithm-identifier")
				}
			}
			re.CSRRequest = r
		}
		e.Error = append(e.Error, re)
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	return e, nil
}
