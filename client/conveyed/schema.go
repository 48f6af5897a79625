package conveyed

import "strings"

// Module names and XML namespaces.
const (
	ModuleConveyedInfo    = "ietf-sztp-conveyed-info"
	ModuleBootstrapServer = "ietf-sztp-bootstrap-server"
	ModuleCSR             = "ietf-sztp-csr"  // RFC 9646
	ModuleZTPTypes        = "ietf-ztp-types" // RFC 9646
	ModuleRESTCONF        = "ietf-restconf"  // RFC 8040

	NamespaceConveyedInfo = "urn:ietf:params:xml:ns:yang:ietf-sztp-conveyed-info"
	NamespaceBootstrap    = "urn:ietf:params:xml:ns:yang:ietf-sztp-bootstrap-server"
	NamespaceCSR          = "urn:ietf:params:xml:ns:yang:ietf-sztp-csr"
	NamespaceZTPTypes     = "urn:ietf:params:xml:ns:yang:ietf-ztp-types"
	NamespaceRESTCONF     = "urn:ietf:params:xml:ns:yang:ietf-restconf"
)

// ietfNSPrefix is the IETF convention for YANG module namespaces; it lets an
// identity of a module this package does not know be carried between the
// JSON (module name) and XML (namespace) forms.
const ietfNSPrefix = "urn:ietf:params:xml:ns:yang:"

var knownModules = []struct{ module, ns, prefix string }{
	{ModuleConveyedInfo, NamespaceConveyedInfo, "sztp-info"},
	{ModuleBootstrapServer, NamespaceBootstrap, "sztp-svr"},
	{ModuleCSR, NamespaceCSR, "sztp-csr"},
	{ModuleZTPTypes, NamespaceZTPTypes, "ztp-types"},
	{ModuleRESTCONF, NamespaceRESTCONF, "rc"},
}

// namespaceOf returns the XML namespace of a YANG module.
func namespaceOf(module string) string {
	for _, m := range knownModules {
		if m.module == module {
			return m.ns
		}
	}
	return ietfNSPrefix + module
}

// moduleOf returns the YANG module of an XML namespace, or "" when unknown.
func moduleOf(ns string) string {
	for _, m := range knownModules {
		if m.ns == ns {
			return m.module
		}
	}
	if rest, ok := strings.CutPrefix(ns, ietfNSPrefix); ok && isIdentifier(rest) {
		return rest
	}
	return ""
}

// xmlPrefixOf returns a conventional XML prefix for a module's identities.
func xmlPrefixOf(module string) string {
	for _, m := range knownModules {
		if m.module == module {
			return m.prefix
		}
	}
	return "id"
}

type kind uint8

const (
	kContainer kind = iota // container (presence or not)
	kList                  // list: repeated entries, each a container
	kLeaf
	kLeafList
	kAnydata // container whose unknown children are skipped (RFC 8040 error-info)
)

type vtype uint8

const (
	vString      vtype = iota // YANG string
	vBinary                   // base64
	vPort                     // inet:port-number 1..65535 (0 would collide with "absent")
	vEmpty                    // type empty
	vEnum                     // enumeration (schema.enum)
	vIdentityref              // identityref, normalised (see normIdentity)
	vHex                      // yang:hex-string
)

// schema is the subset of a YANG schema tree the codecs need.
type schema struct {
	name     string
	module   string
	kind     kind
	typ      vtype
	enum     []string
	rawXML   bool // binary leaf that also accepts raw XML child elements
	children []*schema
}

func (s *schema) child(name string) *schema {
	for _, c := range s.children {
		if c.name == name {
			return c
		}
	}
	return nil
}

func (s *schema) mustChild(name string) *schema {
	if c := s.child(name); c != nil {
		return c
	}
	panic("conveyed: schema " + s.name + " has no child " + name)
}

func container(mod, name string, kids ...*schema) *schema {
	return &schema{name: name, module: mod, kind: kContainer, children: kids}
}

func list(mod, name string, kids ...*schema) *schema {
	return &schema{name: name, module: mod, kind: kList, children: kids}
}

func leaf(mod, name string, t vtype, enum ...string) *schema {
	return &schema{name: name, module: mod, kind: kLeaf, typ: t, enum: enum}
}

func leafList(mod, name string, t vtype) *schema {
	return &schema{name: name, module: mod, kind: kLeafList, typ: t}
}

// document is a virtual root: its children are the allowed top-level nodes.
func document(kids ...*schema) *schema {
	return &schema{kind: kContainer, children: kids}
}

var configurationHandlings = []string{string(Merge), string(Replace)}

func conveyedSchema() *schema {
	const m = ModuleConveyedInfo
	config := leaf(m, "configuration", vBinary)
	config.rawXML = true
	return document(
		container(m, "redirect-information",
			list(m, "bootstrap-server",
				leaf(m, "address", vString),
				leaf(m, "port", vPort),
				leaf(m, "trust-anchor", vBinary),
			),
		),
		container(m, "onboarding-information",
			container(m, "boot-image",
				leaf(m, "os-name", vString),
				leaf(m, "os-version", vString),
				leafList(m, "download-uri", vString),
				list(m, "image-verification",
					leaf(m, "hash-algorithm", vIdentityref),
					leaf(m, "hash-value", vHex),
				),
			),
			leaf(m, "configuration-handling", vEnum, configurationHandlings...),
			leaf(m, "pre-configuration-script", vBinary),
			config,
			leaf(m, "post-configuration-script", vBinary),
		),
	)
}

func gbdInputSchema() *schema {
	const m, c = ModuleBootstrapServer, ModuleCSR
	return document(container(m, "input",
		leaf(m, "signed-data-preferred", vEmpty),
		leaf(m, "hw-model", vString),
		leaf(m, "os-name", vString),
		leaf(m, "os-version", vString),
		leaf(m, "nonce", vBinary),
		container(c, "csr-support",
			container(c, "key-generation",
				container(c, "supported-algorithms",
					leafList(c, "algorithm-identifier", vBinary),
				),
			),
			container(c, "csr-generation",
				container(c, "supported-formats",
					leafList(c, "format-identifier", vIdentityref),
				),
			),
		),
		leaf(c, "p10-csr", vBinary),
		leaf(c, "cmc-csr", vBinary),
		leaf(c, "cmp-csr", vBinary),
	))
}

var reportingLevels = []string{string(Minimal), string(Verbose)}

func gbdOutputSchema() *schema {
	const m = ModuleBootstrapServer
	return document(container(m, "output",
		leaf(m, "reporting-level", vEnum, reportingLevels...),
		leaf(m, "conveyed-information", vBinary),
		leaf(m, "owner-certificate", vBinary),
		leaf(m, "ownership-voucher", vBinary),
	))
}

func reportProgressSchema() *schema {
	const m = ModuleBootstrapServer
	types := make([]string, len(progressTypes))
	for i, p := range progressTypes {
		types[i] = string(p)
	}
	return document(container(m, "input",
		leaf(m, "progress-type", vEnum, types...),
		leaf(m, "message", vString),
		container(m, "ssh-host-keys",
			list(m, "ssh-host-key",
				leaf(m, "algorithm", vString),
				leaf(m, "key-data", vBinary),
			),
		),
		container(m, "trust-anchor-certs",
			leafList(m, "trust-anchor-cert", vBinary),
		),
	))
}

var errorTypes = []string{"transport", "rpc", "protocol", "application"}

func csrRequestSchema() *schema {
	const c = ModuleCSR
	return container(c, "csr-request",
		container(c, "key-generation",
			container(c, "selected-algorithm",
				leaf(c, "algorithm-identifier", vBinary),
			),
		),
		container(c, "csr-generation",
			container(c, "selected-format",
				leaf(c, "format-identifier", vIdentityref),
			),
		),
		leaf(c, "cert-req-info", vBinary),
	)
}

func errorsSchema() *schema {
	const r = ModuleRESTCONF
	info := container(r, "error-info", csrRequestSchema())
	info.kind = kAnydata
	return document(container(r, "errors",
		list(r, "error",
			leaf(r, "error-type", vEnum, errorTypes...),
			leaf(r, "error-tag", vString),
			leaf(r, "error-app-tag", vString),
			leaf(r, "error-path", vString),
			leaf(r, "error-message", vString),
			info,
		),
	))
}

// The schemas are immutable after construction.
var (
	schemaConveyed       = conveyedSchema()
	schemaGBDInput       = gbdInputSchema()
	schemaGBDOutput      = gbdOutputSchema()
	schemaReportProgress = reportProgressSchema()
	schemaErrors         = errorsSchema()
)
