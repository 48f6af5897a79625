package conveyed

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// decodeJSON parses an RFC 7951 document against the document schema root.
// Top-level members must be module-qualified; nested members may be qualified
// only with their own module and must be qualified when their module differs
// from their parent's. Unknown and duplicate members are errors.
func decodeJSON(data []byte, root *schema) (*node, error) {
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	j := &jdec{d: d}
	if err := j.delim('{', ""); err != nil {
		return nil, err
	}
	n := newNode(root, "")
	if err := j.members(n, ""); err != nil {
		return nil, err
	}
	if tok, err := d.Token(); err != io.EOF {
		if err != nil {
			return nil, &ValidationError{Msg: "after the document", Err: err}
		}
		return nil, verrf("", "unexpected %v after the document", tok)
	}
	return n, nil
}

type jdec struct{ d *json.Decoder }

func (j *jdec) token(path string) (json.Token, error) {
	tok, err := j.d.Token()
	if err == io.EOF {
		return nil, verrf(path, "unexpected end of document")
	}
	if err != nil {
		return nil, &ValidationError{Path: path, Msg: "bad JSON", Err: err}
	}
	return tok, nil
}

func (j *jdec) delim(want json.Delim, path string) error {
	tok, err := j.token(path)
	if err != nil {
		return err
	}
	if d, ok := tok.(json.Delim); !ok || d != want {
		return verrf(path, "want %s, got %s", jsonWhat(want), jsonKind(tok))
	}
	return nil
}

func jsonWhat(d json.Delim) string {
	if d == '{' {
		return "a JSON object"
	}
	return "a JSON array"
}

func jsonKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
		if t == '[' {
			return "an array"
		}
		return "end of " + map[json.Delim]string{'}': "object", ']': "array"}[t]
	case string:
		return "a string"
	case json.Number:
		return "a number"
	case bool:
		return "a boolean"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", tok)
}

// members reads object members into n up to and including the closing '}'.
// module is the module of n ("" for the document root and anydata).
func (j *jdec) members(n *node, module string) error {
	for j.d.More() {
		tok, err := j.token(n.path)
		if err != nil {
			return err
		}
		key := tok.(string) // the decoder guarantees object keys are strings
		s, err := resolveMember(n, module, key)
		if err != nil {
			return err
		}
		if s == nil { // unknown member inside anydata: skip it
			if err := j.skip(joinPath(n.path, key)); err != nil {
				return err
			}
			continue
		}
		path := joinPath(n.path, s.name)
		if _, dup := n.kids[s.name]; dup {
			return verrf(path, "duplicate member")
		}
		c := newNode(s, path)
		n.kids[s.name] = c
		if err := j.value(c); err != nil {
			return err
		}
	}
	return j.delim('}', n.path)
}

// resolveMember finds the schema child a JSON member name designates.
func resolveMember(n *node, module, key string) (*schema, error) {
	mod, name, qualified := strings.Cut(key, ":")
	if !qualified {
		name, mod = key, ""
	}
	s := n.s.child(name)
	if s == nil {
		if n.s.kind == kAnydata {
			return nil, nil
		}
		return nil, verrf(joinPath(n.path, key), "unknown member")
	}
	path := joinPath(n.path, name)
	switch {
	case qualified && mod != s.module:
		return nil, verrf(path, "member qualified with module %q, want %q", mod, s.module)
	case !qualified && module == "":
		return nil, verrf(path, "top-level member must be module-qualified as %q", s.module+":"+name)
	case !qualified && s.module != module:
		return nil, verrf(path, "member must be module-qualified as %q", s.module+":"+name)
	}
	return s, nil
}

func (j *jdec) value(n *node) error {
	s := n.s
	switch s.kind {
	case kContainer, kAnydata:
		if err := j.delim('{', n.path); err != nil {
			return err
		}
		mod := s.module
		if s.kind == kAnydata {
			mod = ""
		}
		return j.members(n, mod)
	case kList:
		if err := j.delim('[', n.path); err != nil {
			return err
		}
		for j.d.More() {
			e := newNode(s, indexPath(n.path, len(n.entries)))
			if err := j.delim('{', e.path); err != nil {
				return err
			}
			if err := j.members(e, s.module); err != nil {
				return err
			}
			n.entries = append(n.entries, e)
		}
		return j.delim(']', n.path)
	case kLeafList:
		if err := j.delim('[', n.path); err != nil {
			return err
		}
		for j.d.More() {
			v, err := j.scalar(s, indexPath(n.path, len(n.vals)))
			if err != nil {
				return err
			}
			n.vals = append(n.vals, v)
		}
		return j.delim(']', n.path)
	}
	if s.typ == vEmpty { // RFC 7951 section 6.9: [null]
		if err := j.delim('[', n.path); err != nil {
			return verrf(n.path, "type empty must be encoded as [null]")
		}
		tok, err := j.token(n.path)
		if err != nil {
			return err
		}
		if tok != nil {
			return verrf(n.path, "type empty must be encoded as [null]")
		}
		if err := j.delim(']', n.path); err != nil {
			return verrf(n.path, "type empty must be encoded as [null]")
		}
		return nil
	}
	v, err := j.scalar(s, n.path)
	n.leaf = v
	return err
}

func (j *jdec) scalar(s *schema, path string) (value, error) {
	tok, err := j.token(path)
	if err != nil {
		return value{}, err
	}
	if s.typ == vPort {
		num, ok := tok.(json.Number)
		if !ok {
			return value{}, verrf(path, "want a JSON number, got %s", jsonKind(tok))
		}
		return parsePort(path, string(num))
	}
	str, ok := tok.(string)
	if !ok {
		return value{}, verrf(path, "want a JSON string, got %s", jsonKind(tok))
	}
	if s.typ == vIdentityref { // RFC 7951 section 6.8: [module ":"] name
		module, name, qualified := strings.Cut(str, ":")
		if !qualified {
			module, name = s.module, str
		}
		if !isIdentifier(module) || !isIdentifier(name) {
			return value{}, verrf(path, "malformed identity %q", str)
		}
		return value{str: normIdentity(s.module, module, name)}, nil
	}
	return parseText(s, path, str)
}

// parsePort parses an inet:port-number written as a decimal integer.
func parsePort(path, s string) (value, error) {
	for _, c := range s {
		if c < '0' || c > '9' {
			return value{}, verrf(path, "port %s is not a non-negative integer", s)
		}
	}
	p, err := strconv.ParseUint(s, 10, 16)
	if err != nil {
		return value{}, verrf(path, "port %s out of range 1..65535", s)
	}
	if p == 0 {
		return value{}, verrf(path, "port 0 is not a usable port (omit port for the default 443)")
	}
	return value{num: uint16(p)}, nil
}

// parseText converts the lexical form of a string, enum, binary or hex-string
// value (identical in JSON and XML once XML whitespace is handled).
func parseText(s *schema, path, text string) (value, error) {
	switch s.typ {
	case vString:
		if err := checkString(path, text); err != nil {
			return value{}, err
		}
		return value{str: text}, nil
	case vEnum:
		if !inEnum(text, s.enum) {
			return value{}, verrf(path, "unknown value %q (want one of %s)", text, strings.Join(s.enum, ", "))
		}
		return value{str: text}, nil
	case vBinary:
		b, err := base64.StdEncoding.DecodeString(text)
		if err != nil {
			return value{}, &ValidationError{Path: path, Msg: "bad base64", Err: err}
		}
		if b == nil {
			b = []byte{}
		}
		return value{bin: b}, nil
	case vHex:
		b, err := ParseHexString(text)
		if err != nil {
			return value{}, &ValidationError{Path: path, Err: err}
		}
		return value{bin: b}, nil
	}
	return value{}, verrf(path, "internal error: unexpected type %d", s.typ)
}

// skip consumes one JSON value.
func (j *jdec) skip(path string) error {
	depth := 0
	for {
		tok, err := j.token(path)
		if err != nil {
			return err
		}
		if d, ok := tok.(json.Delim); ok {
			if d == '{' || d == '[' {
				depth++
			} else {
				depth--
			}
		}
		if depth == 0 {
			return nil
		}
	}
}

// encodeJSON writes n (a document root) as RFC 7951 JSON indented by two
// spaces, with [null] for type empty kept on one line as in RFC 8572.
func encodeJSON(n *node) ([]byte, error) {
	var b bytes.Buffer
	if err := jsonMembers(&b, n, "", 0); err != nil {
		return nil, err
	}
	b.WriteByte('\n')
	return b.Bytes(), nil
}

func jsonIndent(b *bytes.Buffer, depth int) {
	b.WriteByte('\n')
	b.WriteString(strings.Repeat("  ", depth))
}

func jsonMembers(b *bytes.Buffer, n *node, module string, depth int) error {
	b.WriteByte('{')
	first := true
	for _, s := range n.s.children {
		c := n.kids[s.name]
		if c == nil {
			continue
		}
		if !first {
			b.WriteByte(',')
		}
		first = false
		jsonIndent(b, depth+1)
		name := s.name
		if s.module != module {
			name = s.module + ":" + name
		}
		jsonString(b, name)
		b.WriteString(": ")
		if err := jsonValue(b, c, depth+1); err != nil {
			return err
		}
	}
	if !first {
		jsonIndent(b, depth)
	}
	b.WriteByte('}')
	return nil
}

func jsonValue(b *bytes.Buffer, n *node, depth int) error {
	s := n.s
	switch s.kind {
	case kContainer, kAnydata:
		mod := s.module
		if s.kind == kAnydata {
			mod = ""
		}
		return jsonMembers(b, n, mod, depth)
	case kList, kLeafList:
		b.WriteByte('[')
		count := len(n.entries)
		if s.kind == kLeafList {
			count = len(n.vals)
		}
		for i := 0; i < count; i++ {
			if i > 0 {
				b.WriteByte(',')
			}
			jsonIndent(b, depth+1)
			var err error
			if s.kind == kList {
				err = jsonMembers(b, n.entries[i], s.module, depth+1)
			} else {
				err = jsonScalar(b, s, indexPath(n.path, i), n.vals[i])
			}
			if err != nil {
				return err
			}
		}
		if count > 0 {
			jsonIndent(b, depth)
		}
		b.WriteByte(']')
		return nil
	}
	if s.typ == vEmpty {
		b.WriteString("[null]")
		return nil
	}
	return jsonScalar(b, s, n.path, n.leaf)
}

func jsonScalar(b *bytes.Buffer, s *schema, path string, v value) error {
	switch s.typ {
	case vPort:
		b.WriteString(strconv.FormatUint(uint64(v.num), 10))
	case vBinary:
		jsonString(b, base64.StdEncoding.EncodeToString(v.bin))
	case vHex:
		jsonString(b, FormatHexString(v.bin))
	case vIdentityref:
		module, _, name, err := splitIdentity(s.module, v.str)
		if err != nil {
			return &ValidationError{Path: path, Err: err}
		}
		if module == "" {
			return verrf(path, "identity %q has no YANG module name and cannot be encoded as JSON", v.str)
		}
		// Always module-qualified, as in the RFC 8572 examples; RFC 7951
		// section 6.8 allows it.
		jsonString(b, module+":"+name)
	default:
		jsonString(b, v.str)
	}
	return nil
}

// jsonString writes s as a JSON string without HTML escaping, so URIs stay
// readable.
func jsonString(b *bytes.Buffer, s string) {
	e := json.NewEncoder(b)
	e.SetEscapeHTML(false)
	if err := e.Encode(s); err != nil { // cannot happen for a string
		panic(errors.Join(errors.New("conveyed: encode string"), err))
	}
	b.Truncate(b.Len() - 1) // Encode appends a newline
}
