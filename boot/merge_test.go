package boot

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden files under testdata")

// RFC 7396 Appendix A, restricted to object documents (the file hook merges
// JSON objects only; the others must be refused, C78).
func TestMergeJSONRFC7396(t *testing.T) {
	tests := []struct {
		target, patch, want string // want "" = ErrNotJSONObject
	}{
		{`{"a":"b"}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"b"}`, `{"b":"c"}`, `{"a":"b","b":"c"}`},
		{`{"a":"b"}`, `{"a":null}`, `{}`},
		{`{"a":"b","b":"c"}`, `{"a":null}`, `{"b":"c"}`},
		{`{"a":["b"]}`, `{"a":"c"}`, `{"a":"c"}`},
		{`{"a":"c"}`, `{"a":["b"]}`, `{"a":["b"]}`},
		{`{"a":{"b":"c"}}`, `{"a":{"b":"d","c":null}}`, `{"a":{"b":"d"}}`},
		{`{"a":[{"b":"c"}]}`, `{"a":[1]}`, `{"a":[1]}`},
		{`{"e":null}`, `{"a":1}`, `{"a":1,"e":null}`},
		{`{}`, `{"a":{"bb":{"ccc":null}}}`, `{"a":{"bb":{}}}`},
		{`{"n":12345678901234567890}`, `{"m":1.50}`, `{"m":1.50,"n":12345678901234567890}`},
		{`{"h":"<&>"}`, `{}`, `{"h":"<&>"}`},
		{`["a","b"]`, `["c","d"]`, ""},
		{`{"a":"b"}`, `["c"]`, ""},
		{`{"a":"foo"}`, `null`, ""},
		{`{"a":"foo"}`, `"bar"`, ""},
		{`[1,2]`, `{"a":"b","c":null}`, ""},
		{`{"a":1}`, `{"b":2} {"c":3}`, ""},
		{`{"a":1`, `{}`, ""},
		{`<config/>`, `{}`, ""},
	}
	for _, tc := range tests {
		got, err := mergeJSON([]byte(tc.target), []byte(tc.patch))
		if tc.want == "" {
			if !errors.Is(err, ErrNotJSONObject) {
				t.Errorf("merge %s + %s: err = %v, want ErrNotJSONObject", tc.target, tc.patch, err)
			}
			continue
		}
		if err != nil {
			t.Errorf("merge %s + %s: %v", tc.target, tc.patch, err)
			continue
		}
		var compact bytes.Buffer
		if err := json.Compact(&compact, got); err != nil {
			t.Fatal(err)
		}
		if compact.String() != tc.want {
			t.Errorf("merge %s + %s = %s, want %s", tc.target, tc.patch, compact.String(), tc.want)
		}
	}
}

// Golden: a realistic running configuration and an SZTP merge.
func TestMergeJSONGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/merge/*")
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases under testdata/merge (%v)", err)
	}
	for _, dir := range dirs {
		t.Run(filepath.Base(dir), func(t *testing.T) {
			target, err := os.ReadFile(filepath.Join(dir, "running.json"))
			if err != nil {
				t.Fatal(err)
			}
			patch, err := os.ReadFile(filepath.Join(dir, "configuration.json"))
			if err != nil {
				t.Fatal(err)
			}
			got, err := mergeJSON(target, patch)
			if err != nil {
				t.Fatal(err)
			}
			golden := filepath.Join(dir, "merged.json")
			if *update {
				if err := os.WriteFile(golden, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(golden)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Errorf("merged:\n%s\nwant (%s):\n%s", got, golden, want)
			}
		})
	}
}

// FuzzMergeJSON: never panics; a successful merge is an object, and applying
// the same patch again changes nothing (RFC 7396 patches are idempotent).
func FuzzMergeJSON(f *testing.F) {
	f.Add([]byte(`{"a":"b"}`), []byte(`{"a":null,"c":{"d":1}}`))
	f.Add([]byte(`{}`), []byte(`{"a":{"bb":{"ccc":null}}}`))
	f.Add([]byte(`[1]`), []byte(`{}`))
	f.Fuzz(func(t *testing.T, target, patch []byte) {
		once, err := mergeJSON(target, patch)
		if err != nil {
			return
		}
		if _, err := decodeObject(once); err != nil {
			t.Fatalf("merge result is not an object: %v\n%s", err, once)
		}
		twice, err := mergeJSON(once, patch)
		if err != nil {
			t.Fatalf("re-applying the patch failed: %v", err)
		}
		if !bytes.Equal(once, twice) {
			t.Fatalf("patch not idempotent:\n%s\n%s", once, twice)
		}
	})
}
