package conveyed

import (
	"bytes"
	"errors"
	"fmt"
	"net/netip"
	"net/url"
	"strings"
)

// Encoding selects the YANG encoding of a document.
type Encoding int

const (
	// JSON is RFC 7951 JSON (application/yang-data+json).
	JSON Encoding = iota
	// XML is YANG XML (application/yang-data+xml).
	XML
)

// MediaType returns the RESTCONF media type of the encoding (RFC 8572 7.3, RFC 8040 3).
func (e Encoding) MediaType() string {
	if e == XML {
		return "application/yang-data+xml"
	}
	return "application/yang-data+json"
}

func (e Encoding) String() string {
	if e == XML {
		return "xml"
	}
	return "json"
}

// ParseEncoding parses "json" or "xml".
func ParseEncoding(s string) (Encoding, error) {
	switch s {
	case "json", "":
		return JSON, nil
	case "xml":
		return XML, nil
	}
	return JSON, fmt.Errorf("unknown encoding %q (want json or xml)", s)
}

// Sniff guesses the encoding of a document from its first non-space byte:
// '{' is JSON, '<' is XML (RFC 8572 3.1, id-data content).
func Sniff(data []byte) (Encoding, error) {
	t := bytes.TrimLeft(data, " \t\r\n\ufeff")
	switch {
	case len(t) == 0:
		return JSON, errors.New("empty document")
	case t[0] == '{':
		return JSON, nil
	case t[0] == '<':
		return XML, nil
	}
	return JSON, fmt.Errorf("document starts with %q, neither JSON nor XML", t[0])
}

// ConveyedInformation is an instance of the conveyed-information yang-data:
// exactly one of Redirect and Onboarding is set.
type ConveyedInformation struct {
	Redirect   *RedirectInformation
	Onboarding *OnboardingInformation
}

// RedirectInformation lists bootstrap servers to try in order.
type RedirectInformation struct {
	BootstrapServers []BootstrapServer
}

// BootstrapServer is one entry of redirect information.
type BootstrapServer struct {
	Address string // inet:host, mandatory
	Port    uint16 // 0 means absent; the default is 443
	// TrustAnchor is a degenerate CMS SignedData holding the chain that
	// authenticates this server (nil when absent).
	TrustAnchor []byte
}

// EffectivePort returns Port, or 443 when absent (C50).
func (s BootstrapServer) EffectivePort() uint16 {
	if s.Port == 0 {
		return 443
	}
	return s.Port
}

// ConfigurationHandling is how configuration is committed.
type ConfigurationHandling string

const (
	Merge   ConfigurationHandling = "merge"
	Replace ConfigurationHandling = "replace"
)

// OnboardingInformation tells the device what to install.
type OnboardingInformation struct {
	BootImage               *BootImage
	ConfigurationHandling   ConfigurationHandling // "" when absent
	PreConfigurationScript  []byte
	Configuration           []byte
	PostConfigurationScript []byte
}

// BootImage names the image the device should run.
type BootImage struct {
	OSName            string
	OSVersion         string
	DownloadURIs      []string
	ImageVerification []ImageVerification
}

// HashSHA256 is the only hash-algorithm identity RFC 8572 defines,
// normalised without its module prefix.
const HashSHA256 = "sha-256"

// ImageVerification is one expected hash of the boot image.
type ImageVerification struct {
	// HashAlgorithm is the identity, normalised: "sha-256" for the
	// ietf-sztp-conveyed-info identity however it was written,
	// "module:name" for an identity of another (augmenting) module, and
	// "{namespace}name" for one decoded from XML whose namespace names no
	// module. Unknown algorithms are kept, not rejected: it is for the
	// caller to report a boot image it cannot verify.
	HashAlgorithm string
	HashValue     []byte
}

// Supported reports whether the hash algorithm is one this package knows
// (sha-256, the only one RFC 8572 defines).
func (v ImageVerification) Supported() bool { return v.HashAlgorithm == HashSHA256 }

// Decode parses and validates a conveyed-information document (the content
// of a conveyed-information artifact, RFC 8572 6.1).
func Decode(data []byte, enc Encoding) (*ConveyedInformation, error) {
	root, err := decodeDoc(data, enc, schemaConveyed)
	if err != nil {
		return nil, err
	}
	ci := conveyedFromNode(root)
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	return ci, nil
}

func decodeDoc(data []byte, enc Encoding, s *schema) (*node, error) {
	data = bytes.TrimPrefix(data, []byte("\ufeff")) // a UTF-8 byte order mark, as Sniff allows
	switch enc {
	case JSON:
		return decodeJSON(data, s)
	case XML:
		return decodeXML(data, s)
	}
	return nil, fmt.Errorf("unknown encoding %d", int(enc))
}

func encodeDoc(root *node, enc Encoding) ([]byte, error) {
	switch enc {
	case JSON:
		return encodeJSON(root)
	case XML:
		return encodeXML(root)
	}
	return nil, fmt.Errorf("unknown encoding %d", int(enc))
}

func conveyedFromNode(root *node) *ConveyedInformation {
	ci := &ConveyedInformation{}
	if r := root.get("redirect-information"); r != nil {
		ri := &RedirectInformation{}
		for _, e := range r.list("bootstrap-server") {
			bs := BootstrapServer{Address: e.str("address"), TrustAnchor: e.bin("trust-anchor")}
			if p := e.get("port"); p != nil {
				bs.Port = p.leaf.num
			}
			ri.BootstrapServers = append(ri.BootstrapServers, bs)
		}
		ci.Redirect = ri
	}
	if o := root.get("onboarding-information"); o != nil {
		oi := &OnboardingInformation{
			ConfigurationHandling:   ConfigurationHandling(o.str("configuration-handling")),
			PreConfigurationScript:  o.bin("pre-configuration-script"),
			Configuration:           o.bin("configuration"),
			PostConfigurationScript: o.bin("post-configuration-script"),
		}
		if b := o.get("boot-image"); b != nil {
			bi := &BootImage{OSName: b.str("os-name"), OSVersion: b.str("os-version"), DownloadURIs: b.strs("download-uri")}
			for _, e := range b.list("image-verification") {
				bi.ImageVerification = append(bi.ImageVerification, ImageVerification{
					HashAlgorithm: e.str("hash-algorithm"),
					HashValue:     e.bin("hash-value"),
				})
			}
			oi.BootImage = bi
		}
		ci.Onboarding = oi
	}
	return ci
}

// Validate checks the YANG constraints of the model (RFC 8572 6.1): the
// mandatory choice, list keys and min-elements, mandatory leaves, the must
// statements (C80, C84), enumeration values, inet:host and inet:uri syntax
// and YANG string characters. The error is a *ValidationError naming the
// offending member.
func (ci *ConveyedInformation) Validate() error {
	switch {
	case ci.Redirect == nil && ci.Onboarding == nil:
		return verrf("", "conveyed-information: missing mandatory choice information-type (redirect-information or onboarding-information)")
	case ci.Redirect != nil && ci.Onboarding != nil:
		return verrf("", "conveyed-information: both redirect-information and onboarding-information (they are cases of one choice)")
	case ci.Redirect != nil:
		return ci.Redirect.validate("redirect-information")
	}
	return ci.Onboarding.validate("onboarding-information")
}

func (ri *RedirectInformation) validate(path string) error {
	lp := joinPath(path, "bootstrap-server")
	if len(ri.BootstrapServers) == 0 {
		return verrf(lp, "at least one bootstrap server is required (min-elements 1)")
	}
	seen := map[string]int{}
	for i, s := range ri.BootstrapServers {
		ep := indexPath(lp, i)
		ap := joinPath(ep, "address")
		if s.Address == "" {
			return verrf(ap, "missing mandatory leaf address")
		}
		if err := checkHost(ap, s.Address); err != nil {
			return err
		}
		if j, dup := seen[s.Address]; dup {
			return verrf(ap, "duplicate list key %q (also entry %d)", s.Address, j+1)
		}
		seen[s.Address] = i
	}
	return nil
}

func (oi *OnboardingInformation) validate(path string) error {
	if b := oi.BootImage; b != nil {
		bp := joinPath(path, "boot-image")
		if err := checkString(joinPath(bp, "os-name"), b.OSName); err != nil {
			return err
		}
		if err := checkString(joinPath(bp, "os-version"), b.OSVersion); err != nil {
			return err
		}
		for i, u := range b.DownloadURIs {
			if err := checkURI(indexPath(joinPath(bp, "download-uri"), i), u); err != nil {
				return err
			}
		}
		vp := joinPath(bp, "image-verification")
		if len(b.ImageVerification) > 0 && len(b.DownloadURIs) == 0 {
			return verrf(vp, "image-verification requires download-uri (must \"../download-uri\", C84)")
		}
		seen := map[string]int{}
		for i, v := range b.ImageVerification {
			ep := indexPath(vp, i)
			hp := joinPath(ep, "hash-algorithm")
			if v.HashAlgorithm == "" {
				return verrf(hp, "missing mandatory list key hash-algorithm")
			}
			alg, err := canonIdentity(ModuleConveyedInfo, v.HashAlgorithm)
			if err != nil {
				return &ValidationError{Path: hp, Err: err}
			}
			if j, dup := seen[alg]; dup {
				return verrf(hp, "duplicate list key %q (also entry %d)", alg, j+1)
			}
			seen[alg] = i
			if v.HashValue == nil {
				return verrf(joinPath(ep, "hash-value"), "missing mandatory leaf hash-value")
			}
		}
	}
	hp, cp := joinPath(path, "configuration-handling"), joinPath(path, "configuration")
	if h := oi.ConfigurationHandling; h != "" && !inEnum(string(h), configurationHandlings) {
		return verrf(hp, "unknown value %q (want merge or replace)", h)
	}
	switch {
	case oi.Configuration != nil && oi.ConfigurationHandling == "":
		return verrf(cp, "configuration requires configuration-handling (C80)")
	case oi.Configuration == nil && oi.ConfigurationHandling != "":
		return verrf(hp, "configuration-handling requires configuration (C80)")
	}
	return nil
}

// checkHost enforces inet:host: an IP address (with optional zone) or a
// domain name.
func checkHost(path, h string) error {
	if _, err := netip.ParseAddr(h); err == nil {
		return nil
	}
	if !isDomainName(h) {
		return verrf(path, "%q is neither an IP address nor a domain name", h)
	}
	return nil
}

// isDomainName approximates the inet:domain-name pattern (RFC 6991): dot
// separated labels of letters, digits, '-' and '_', 1..63 octets each, not
// ending in '-', at most 253 octets, optionally with a trailing dot.
func isDomainName(h string) bool {
	if h == "." {
		return true
	}
	h = strings.TrimSuffix(h, ".")
	if h == "" || len(h) > 253 {
		return false
	}
	for _, l := range strings.Split(h, ".") {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' || l[len(l)-1] == '_' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
				return false
			}
		}
	}
	return true
}

// checkURI enforces inet:uri loosely: a parseable absolute URI.
func checkURI(path, u string) error {
	if err := checkString(path, u); err != nil {
		return err
	}
	p, err := url.Parse(u)
	if err != nil {
		return &ValidationError{Path: path, Msg: "bad URI", Err: err}
	}
	if p.Scheme == "" {
		return verrf(path, "%q is not an absolute URI", u)
	}
	return nil
}

// Encode validates and serialises the document: JSON with the
// module-qualified top-level member, XML with the namespace on the root.
func (ci *ConveyedInformation) Encode(enc Encoding) ([]byte, error) {
	if err := ci.Validate(); err != nil {
		return nil, err
	}
	root := newNode(schemaConveyed, "")
	if ri := ci.Redirect; ri != nil {
		l := root.add("redirect-information").add("bootstrap-server")
		for _, s := range ri.BootstrapServers {
			e := l.addEntry()
			e.setStr("address", s.Address)
			if s.Port != 0 {
				e.add("port").leaf.num = s.Port
			}
			e.setBin("trust-anchor", s.TrustAnchor)
		}
		return encodeDoc(root, enc)
	}
	oi := ci.Onboarding
	o := root.add("onboarding-information")
	if b := oi.BootImage; b != nil {
		bn := o.add("boot-image")
		bn.setStr("os-name", b.OSName)
		bn.setStr("os-version", b.OSVersion)
		bn.setStrs("download-uri", b.DownloadURIs)
		if len(b.ImageVerification) > 0 {
			l := bn.add("image-verification")
			for _, v := range b.ImageVerification {
				e := l.addEntry()
				alg, _ := canonIdentity(ModuleConveyedInfo, v.HashAlgorithm) // validated above
				e.setStr("hash-algorithm", alg)
				e.setBin("hash-value", v.HashValue)
			}
		}
	}
	o.setStr("configuration-handling", string(oi.ConfigurationHandling))
	o.setBin("pre-configuration-script", oi.PreConfigurationScript)
	o.setBin("configuration", oi.Configuration)
	o.setBin("post-configuration-script", oi.PostConfigurationScript)
	return encodeDoc(root, enc)
}
