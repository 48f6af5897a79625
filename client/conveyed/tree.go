package conveyed

import (
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"
)

// ValidationError reports what is wrong with a document or a value, and where.
type ValidationError struct {
	// Path names the offending member from the top-level node, e.g.
	// "onboarding-information/boot-image/image-verification[1]/hash-value"
	// (list entries and leaf-list values are numbered from 1). It is empty
	// for document-level problems such as a syntax error or a missing
	// mandatory choice.
	Path string
	// Msg says what is wrong.
	Msg string
	// Err is the underlying error, if any.
	Err error
}

func (e *ValidationError) Error() string {
	msg := e.Msg
	if e.Err != nil {
		if msg == "" {
			msg = e.Err.Error()
		} else {
			msg += ": " + e.Err.Error()
		}
	}
	if e.Path == "" {
		return msg
	}
	return e.Path + ": " + msg
}

func (e *ValidationError) Unwrap() error { return e.Err }

func verrf(path, format string, args ...any) *ValidationError {
	return &ValidationError{Path: path, Msg: fmt.Sprintf(format, args...)}
}

func joinPath(parent, name string) string {
	if parent == "" {
		return name
	}
	return parent + "/" + name
}

func indexPath(p string, i int) string { return p + "[" + strconv.Itoa(i+1) + "]" }

// value is a decoded leaf value; which field is used depends on the type.
type value struct {
	str string // vString, vEnum, vIdentityref (normalised)
	bin []byte // vBinary, vHex
	num uint16 // vPort
}

// node is an encoding-neutral instance of a schema node. The JSON and XML
// codecs translate between bytes and nodes; the typed structs are mapped to
// and from nodes. Sharing the tree keeps both encodings in step.
type node struct {
	s       *schema
	path    string
	leaf    value            // kLeaf
	vals    []value          // kLeafList
	kids    map[string]*node // kContainer, kAnydata, list entries
	entries []*node          // kList
}

func newNode(s *schema, path string) *node {
	n := &node{s: s, path: path}
	if s.kind == kContainer || s.kind == kAnydata || s.kind == kList {
		n.kids = map[string]*node{}
	}
	return n
}

// Accessors used by the mappers (nil-safe: an absent node reads as zero).

func (n *node) get(name string) *node {
	if n == nil {
		return nil
	}
	return n.kids[name]
}

func (n *node) str(name string) string {
	if c := n.get(name); c != nil {
		return c.leaf.str
	}
	return ""
}

func (n *node) bin(name string) []byte {
	if c := n.get(name); c != nil {
		return c.leaf.bin
	}
	return nil
}

func (n *node) strs(name string) []string {
	c := n.get(name)
	if c == nil || len(c.vals) == 0 {
		return nil
	}
	out := make([]string, len(c.vals))
	for i, v := range c.vals {
		out[i] = v.str
	}
	return out
}

func (n *node) bins(name string) [][]byte {
	c := n.get(name)
	if c == nil || len(c.vals) == 0 {
		return nil
	}
	out := make([][]byte, len(c.vals))
	for i, v := range c.vals {
		out[i] = v.bin
	}
	return out
}

func (n *node) list(name string) []*node {
	if c := n.get(name); c != nil {
		return c.entries
	}
	return nil
}

// childPath is the path a child of n has (used for "missing" errors).
func (n *node) childPath(name string) string { return joinPath(n.path, name) }

// Builders used by the encoders.

func (n *node) add(name string) *node {
	s := n.s.mustChild(name)
	c := newNode(s, joinPath(n.path, name))
	n.kids[name] = c
	return c
}

func (n *node) addEntry() *node {
	e := newNode(n.s, indexPath(n.path, len(n.entries)))
	e.kids = map[string]*node{}
	n.entries = append(n.entries, e)
	return e
}

func (n *node) setStr(name, v string) {
	if v != "" {
		n.add(name).leaf.str = v
	}
}

func (n *node) setBin(name string, v []byte) {
	if v != nil {
		n.add(name).leaf.bin = v
	}
}

func (n *node) setStrs(name string, vs []string) {
	if len(vs) == 0 {
		return
	}
	c := n.add(name)
	for _, v := range vs {
		c.vals = append(c.vals, value{str: v})
	}
}

func (n *node) setBins(name string, vs [][]byte) {
	if len(vs) == 0 {
		return
	}
	c := n.add(name)
	for _, v := range vs {
		c.vals = append(c.vals, value{bin: v})
	}
}

// isIdentifier reports whether s is a YANG identifier (RFC 7950 section 6.2).
func isIdentifier(s string) bool {
	if s == "" {
		return false
	}
	for i, r := range s {
		switch {
		case r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z':
		case i > 0 && (r >= '0' && r <= '9' || r == '-' || r == '.'):
		default:
			return false
		}
	}
	return true
}

// Identities are normalised as follows, so callers compare plain strings:
//   - an identity of the leaf's own module is its bare name ("sha-256");
//   - an identity of another module is "module:name"
//     ("ietf-ztp-types:p10-csr");
//   - an identity decoded from XML whose namespace is neither known nor of
//     the IETF form urn:ietf:params:xml:ns:yang:<module> is "{namespace}name"
//     (it can be re-encoded as XML but not as JSON, which needs a module name).
func normIdentity(leafModule, module, name string) string {
	if module == leafModule {
		return name
	}
	return module + ":" + name
}

// splitIdentity is the inverse of normIdentity: it returns the identity's
// module (or "" and the namespace for the "{ns}name" form) and local name.
func splitIdentity(leafModule, id string) (module, ns, name string, err error) {
	if rest, ok := strings.CutPrefix(id, "{"); ok {
		ns, name, ok = strings.Cut(rest, "}")
		if !ok || ns == "" || !isIdentifier(name) {
			return "", "", "", fmt.Errorf("malformed identity %q", id)
		}
		return "", ns, name, nil
	}
	module, name, ok := strings.Cut(id, ":")
	if !ok {
		module, name = leafModule, id
	}
	if !isIdentifier(module) || !isIdentifier(name) {
		return "", "", "", fmt.Errorf("malformed identity %q", id)
	}
	return module, namespaceOf(module), name, nil
}

// canonIdentity validates id and returns its normalised form.
func canonIdentity(leafModule, id string) (string, error) {
	module, ns, name, err := splitIdentity(leafModule, id)
	if err != nil {
		return "", err
	}
	if module == "" {
		return "{" + ns + "}" + name, nil
	}
	return normIdentity(leafModule, module, name), nil
}

// checkString enforces the YANG string type: only characters XML 1.0 can
// carry (RFC 7950 section 9.4), in valid UTF-8.
func checkString(path, s string) error {
	if !utf8.ValidString(s) {
		return verrf(path, "not valid UTF-8")
	}
	for _, r := range s {
		if !isXMLChar(r) {
			return verrf(path, "character %U is not allowed in a YANG string", r)
		}
	}
	return nil
}

func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}

func inEnum(v string, set []string) bool {
	for _, e := range set {
		if e == v {
			return true
		}
	}
	return false
}
