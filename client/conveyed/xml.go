package conveyed

import (
	"bytes"
	"encoding/base64"
	"encoding/xml"
	"io"
	"strconv"
	"strings"
)

// decodeXML parses a YANG XML document (RFC 7950 section 7) against the
// document schema root. Every element must be in the namespace of the module
// that defines it; unknown elements, unknown attributes, repeated
// non-list elements, text inside containers and DTDs are errors.
func decodeXML(data []byte, root *schema) (*node, error) {
	x := &xdec{d: xml.NewDecoder(bytes.NewReader(data)), data: data}
	n := newNode(root, "")
	seen := false
	for {
		tok, err := x.d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, &ValidationError{Msg: "bad XML", Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if seen {
				return nil, verrf(t.Name.Local, "a second top-level element")
			}
			seen = true
			if err := x.child(n, t); err != nil {
				return nil, err
			}
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return nil, verrf("", "text outside the top-level element")
			}
		case xml.Directive:
			return nil, verrf("", "XML directives (DTDs) are not allowed")
		}
	}
	if !seen {
		return nil, verrf("", "no top-level element")
	}
	return n, nil
}

type xdec struct {
	d      *xml.Decoder
	data   []byte
	scopes []map[string]string // namespace bindings, innermost last
}

// push records the namespace declarations of start and rejects any other
// attribute: the modules here define none.
func (x *xdec) push(start xml.StartElement, path string) error {
	var scope map[string]string
	for _, a := range start.Attr {
		var prefix string
		switch {
		case a.Name.Space == "xmlns":
			prefix = a.Name.Local
		case a.Name.Space == "" && a.Name.Local == "xmlns":
			prefix = ""
		default:
			name := a.Name.Local
			if a.Name.Space != "" {
				name = a.Name.Space + ":" + name
			}
			return verrf(path, "unexpected attribute %q", name)
		}
		if scope == nil {
			scope = map[string]string{}
		}
		scope[prefix] = a.Value
	}
	x.scopes = append(x.scopes, scope)
	return nil
}

func (x *xdec) pop() { x.scopes = x.scopes[:len(x.scopes)-1] }

func (x *xdec) lookup(prefix string) (string, bool) {
	for i := len(x.scopes) - 1; i >= 0; i-- {
		if ns, ok := x.scopes[i][prefix]; ok {
			return ns, ns != "" || prefix == ""
		}
	}
	return "", false
}

// child decodes the element start, a child of n.
func (x *xdec) child(n *node, start xml.StartElement) error {
	name := start.Name.Local
	s := n.s.child(name)
	if s == nil {
		if n.s.kind == kAnydata {
			return x.d.Skip()
		}
		return verrf(joinPath(n.path, name), "unknown element")
	}
	path := joinPath(n.path, name)
	if want := namespaceOf(s.module); start.Name.Space != want {
		got := start.Name.Space
		if got == "" {
			got = "no namespace"
		}
		return verrf(path, "element in namespace %q, want %q", got, want)
	}
	if err := x.push(start, path); err != nil {
		return err
	}
	defer x.pop()
	switch s.kind {
	case kList:
		l := n.kids[name]
		if l == nil {
			l = newNode(s, path)
			n.kids[name] = l
		}
		e := newNode(s, indexPath(path, len(l.entries)))
		l.entries = append(l.entries, e)
		return x.children(e)
	case kLeafList:
		l := n.kids[name]
		if l == nil {
			l = newNode(s, path)
			n.kids[name] = l
		}
		v, err := x.leaf(s, indexPath(path, len(l.vals)))
		l.vals = append(l.vals, v)
		return err
	}
	if _, dup := n.kids[name]; dup {
		return verrf(path, "duplicate element")
	}
	c := newNode(s, path)
	n.kids[name] = c
	if s.kind == kLeaf {
		v, err := x.leaf(s, path)
		c.leaf = v
		return err
	}
	return x.children(c)
}

// children decodes the content of a container or list entry up to its end tag.
func (x *xdec) children(n *node) error {
	for {
		tok, err := x.d.Token()
		if err != nil {
			return &ValidationError{Path: n.path, Msg: "bad XML", Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if err := x.child(n, t); err != nil {
				return err
			}
		case xml.EndElement:
			return nil
		case xml.CharData:
			if len(bytes.TrimSpace(t)) > 0 {
				return verrf(n.path, "unexpected text %q", truncate(string(t)))
			}
		case xml.Directive:
			return verrf(n.path, "XML directives are not allowed")
		}
	}
}

// leaf reads the content of a leaf element up to its end tag.
func (x *xdec) leaf(s *schema, path string) (value, error) {
	var text strings.Builder
	start, end := x.d.InputOffset(), int64(-1)
	depth, elements := 0, false
	for end < 0 {
		off := x.d.InputOffset()
		tok, err := x.d.Token()
		if err != nil {
			return value{}, &ValidationError{Path: path, Msg: "bad XML", Err: err}
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if !s.rawXML {
				return value{}, verrf(path, "unexpected element <%s> in a leaf", t.Name.Local)
			}
			elements = true
			depth++
		case xml.EndElement:
			if depth == 0 {
				end = off
			}
			depth--
		case xml.CharData:
			if depth == 0 {
				text.Write(t)
			}
		case xml.Directive:
			return value{}, verrf(path, "XML directives are not allowed")
		}
	}
	if elements {
		// Interop leniency (RFC 8572's own XML example): raw XML elements
		// inside <configuration> are the payload, taken verbatim (without
		// surrounding whitespace) from the document.
		return value{bin: bytes.Clone(bytes.TrimSpace(x.data[start:end]))}, nil
	}
	t := text.String()
	switch s.typ {
	case vEmpty:
		if strings.TrimSpace(t) != "" {
			return value{}, verrf(path, "type empty must have no content")
		}
		return value{}, nil
	case vString:
		return parseText(s, path, t)
	case vBinary:
		// base64 in XML is often wrapped: drop all whitespace.
		return parseText(s, path, strings.Join(strings.Fields(t), ""))
	case vPort:
		return parsePort(path, strings.TrimSpace(t))
	case vIdentityref:
		return x.qname(s, path, strings.TrimSpace(t))
	}
	return parseText(s, path, strings.TrimSpace(t))
}

// qname resolves an identityref written as an XML QName: an unprefixed name
// is in the default namespace, a prefixed one in the namespace bound to the
// prefix at the leaf element.
func (x *xdec) qname(s *schema, path, q string) (value, error) {
	prefix, name, ok := strings.Cut(q, ":")
	if !ok {
		prefix, name = "", q
	}
	if !isIdentifier(name) || prefix != "" && !isIdentifier(prefix) {
		return value{}, verrf(path, "malformed identity %q", q)
	}
	ns, ok := x.lookup(prefix)
	if !ok || ns == "" {
		if prefix == "" {
			return value{}, verrf(path, "identity %q has no namespace (no default namespace in scope)", q)
		}
		return value{}, verrf(path, "identity %q uses undeclared prefix %q", q, prefix)
	}
	if module := moduleOf(ns); module != "" {
		return value{str: normIdentity(s.module, module, name)}, nil
	}
	return value{str: "{" + ns + "}" + name}, nil
}

func truncate(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// encodeXML writes n (a document root) as indented YANG XML.
func encodeXML(n *node) ([]byte, error) {
	var b bytes.Buffer
	if err := xmlChildren(&b, n, "", 0); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func xmlChildren(b *bytes.Buffer, n *node, parentNS string, depth int) error {
	for _, s := range n.s.children {
		c := n.kids[s.name]
		if c == nil {
			continue
		}
		switch s.kind {
		case kList:
			for _, e := range c.entries {
				if err := xmlContainer(b, e, parentNS, depth); err != nil {
					return err
				}
			}
		case kLeafList:
			for i, v := range c.vals {
				if err := xmlLeaf(b, s, indexPath(c.path, i), v, parentNS, depth); err != nil {
					return err
				}
			}
		case kLeaf:
			if err := xmlLeaf(b, s, c.path, c.leaf, parentNS, depth); err != nil {
				return err
			}
		default:
			if err := xmlContainer(b, c, parentNS, depth); err != nil {
				return err
			}
		}
	}
	return nil
}

func xmlOpen(b *bytes.Buffer, s *schema, parentNS string, depth int) string {
	b.WriteString(strings.Repeat("  ", depth))
	b.WriteString("<" + s.name)
	ns := namespaceOf(s.module)
	if ns != parentNS {
		b.WriteString(` xmlns="`)
		xmlEscape(b, ns)
		b.WriteString(`"`)
	}
	return ns
}

func xmlContainer(b *bytes.Buffer, n *node, parentNS string, depth int) error {
	ns := xmlOpen(b, n.s, parentNS, depth)
	if len(n.kids) == 0 {
		b.WriteString("/>\n")
		return nil
	}
	b.WriteString(">\n")
	if err := xmlChildren(b, n, ns, depth+1); err != nil {
		return err
	}
	b.WriteString(strings.Repeat("  ", depth) + "</" + n.s.name + ">\n")
	return nil
}

func xmlLeaf(b *bytes.Buffer, s *schema, path string, v value, parentNS string, depth int) error {
	ns := xmlOpen(b, s, parentNS, depth)
	var text string
	switch s.typ {
	case vEmpty:
		b.WriteString("/>\n")
		return nil
	case vPort:
		text = strconv.FormatUint(uint64(v.num), 10)
	case vBinary:
		text = base64.StdEncoding.EncodeToString(v.bin)
	case vHex:
		text = FormatHexString(v.bin)
	case vIdentityref:
		module, idNS, name, err := splitIdentity(s.module, v.str)
		if err != nil {
			return &ValidationError{Path: path, Err: err}
		}
		text = name
		if idNS != ns {
			prefix := xmlPrefixOf(module)
			b.WriteString(" xmlns:" + prefix + `="`)
			xmlEscape(b, idNS)
			b.WriteString(`"`)
			text = prefix + ":" + name
		}
	default:
		text = v.str
	}
	if text == "" {
		b.WriteString("/>\n")
		return nil
	}
	b.WriteString(">")
	xmlEscape(b, text)
	b.WriteString("</" + s.name + ">\n")
	return nil
}

func xmlEscape(b *bytes.Buffer, s string) {
	_ = xml.EscapeText(b, []byte(s)) // writes to a bytes.Buffer cannot fail
}
