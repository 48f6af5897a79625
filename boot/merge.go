package boot

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
)

// ErrNotJSONObject is wrapped when "merge" meets content that is not a JSON
// object; the file hook can merge only JSON objects.
var ErrNotJSONObject = errors.New("not a JSON object")

// mergeJSON applies patch to target as a JSON Merge Patch (RFC 7396): keys
// of patch objects are set recursively, a null value deletes the key. Both
// documents must be JSON objects. The result is indented JSON with sorted
// keys and a final newline; numbers keep their text.
func mergeJSON(target, patch []byte) ([]byte, error) {
	t, err := decodeObject(target)
	if err != nil {
		return nil, fmt.Errorf("current configuration: %w", err)
	}
	p, err := decodeObject(patch)
	if err != nil {
		return nil, fmt.Errorf("new configuration: %w", err)
	}
	merged := mergePatch(t, p)
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(merged); err != nil {
		return nil, fmt.Errorf("encoding merged configuration: %w", err)
	}
	return buf.Bytes(), nil
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrNotJSONObject, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("%w: data after the JSON value", ErrNotJSONObject)
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("%w: top level is %T", ErrNotJSONObject, v)
	}
	return m, nil
}

// mergePatch is RFC 7396 section 2 MergePatch for an object patch; target
// may be nil. It modifies and returns target.
func mergePatch(target, patch map[string]any) map[string]any {
	if target == nil {
		target = map[string]any{}
	}
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(target, k)
		case map[string]any:
			tv, _ := target[k].(map[string]any)
			target[k] = mergePatch(tv, pv)
		default:
			target[k] = v
		}
	}
	return target
}
