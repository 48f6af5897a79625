package conformance

import (
	"bufio"
	"bytes"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
)

const mapFile = "CONFORMANCE.md"

var (
	// rowRE matches a requirement row: | C12 | from | must | code | tests |
	rowRE = regexp.MustCompile(`^\|\s*C(\d{1,3})\s*\|`)
	// citeRE matches a citation of a requirement anywhere in the tree.
	citeRE = regexp.MustCompile(`\bC([1-9][0-9]{0,2})\b`)
	// testRE matches `pkg/path.TestName` or `pkg.TestName/subtest`.
	testRE = regexp.MustCompile("`([a-z0-9_/.-]+)\\.((?:Test|Fuzz|Example|Benchmark)[A-Za-z0-9_]*)(?:/([^`]+))?`")
	// outsideRE matches references to a protocol summary that lives outside
	// the repository; cite the RFC section instead.
	outsideRE = regexp.MustCompile(`(?i)(\bdigest\s+(§\s*)?\d+(\.\d+)*\b|\bdigest\s+section\b|sztp-digest)`)
)

// repoRoot is the module root, two levels up from this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("module root not found at %s: %v", root, err)
	}
	return root
}

type row struct {
	line  int
	tests string // the last column
}

// parseMap returns the rows of CONFORMANCE.md by C number.
func parseMap(t *testing.T, data []byte) map[int]row {
	t.Helper()
	rows := map[int]row{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		m := rowRE.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		c, _ := strconv.Atoi(m[1])
		if prev, dup := rows[c]; dup {
			t.Errorf("%s:%d: C%d defined twice (first on line %d)", mapFile, n, c, prev.line)
		}
		cols := strings.Split(strings.Trim(line, "| "), "|")
		if len(cols) != 5 {
			t.Errorf("%s:%d: C%d has %d columns, want 5 (C, from, must, code, test)", mapFile, n, c, len(cols))
			continue
		}
		rows[c] = row{line: n, tests: cols[4]}
	}
	return rows
}

// walkText calls fn for every text file of the tree that code or docs live
// in (Go files, Markdown, scripts, the Makefile), skipping generated
// artifacts, git metadata and build output.
func walkText(t *testing.T, root string, fn func(rel string, data []byte)) {
	t.Helper()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(root, path)
		if d.IsDir() {
			switch d.Name() {
			case ".git", "bin", "dist", "work", "node_modules":
				return filepath.SkipDir
			}
			if d.Name() == "testdata" || strings.HasPrefix(rel, filepath.Join("docs", "man")) {
				return filepath.SkipDir
			}
			return nil
		}
		name := d.Name()
		ext := filepath.Ext(name)
		isScript := false
		if ext == "" && d.Type().IsRegular() {
			if b, err := os.ReadFile(path); err == nil && bytes.HasPrefix(b, []byte("#!")) {
				isScript = true
			}
		}
		if ext == ".go" || ext == ".md" || name == "Makefile" || ext == ".sh" || isScript {
			b, err := os.ReadFile(path)
			if err != nil {
				return err
			}
			fn(rel, b)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func lineOf(data []byte, off int) int { return bytes.Count(data[:off], []byte("\n")) + 1 }

// TestEveryCitedItemIsDefined fails when code, tests or docs cite a C number
// that CONFORMANCE.md does not define.
func TestEveryCitedItemIsDefined(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, mapFile))
	if err != nil {
		t.Fatal(err)
	}
	rows := parseMap(t, data)
	if len(rows) == 0 {
		t.Fatalf("%s defines no requirement", mapFile)
	}
	walkText(t, root, func(rel string, b []byte) {
		if rel == mapFile {
			return
		}
		for _, m := range citeRE.FindAllSubmatchIndex(b, -1) {
			c, _ := strconv.Atoi(string(b[m[2]:m[3]]))
			if _, ok := rows[c]; !ok {
				t.Errorf("%s:%d cites C%d, which %s does not define", rel, lineOf(b, m[0]), c, mapFile)
			}
		}
	})
}

// TestNamedTestsExist fails when CONFORMANCE.md names a test function that
// is not in the named package, or a subtest name found nowhere in the tree.
func TestNamedTestsExist(t *testing.T) {
	root := repoRoot(t)
	data, err := os.ReadFile(filepath.Join(root, mapFile))
	if err != nil {
		t.Fatal(err)
	}
	rows := parseMap(t, data)
	funcs := map[string]bool{} // "pkg.Name"
	var corpus bytes.Buffer    // every Go file, for subtest names
	walkText(t, root, func(rel string, b []byte) {
		if !strings.HasSuffix(rel, ".go") {
			return
		}
		corpus.Write(b)
		if !strings.HasSuffix(rel, "_test.go") {
			return
		}
		pkg := filepath.ToSlash(filepath.Dir(rel))
		for _, m := range regexp.MustCompile(`(?m)^func ((?:Test|Fuzz|Example|Benchmark)\w*)\(`).FindAllSubmatch(b, -1) {
			funcs[pkg+"."+string(m[1])] = true
		}
	})
	cs := make([]int, 0, len(rows))
	for c := range rows {
		cs = append(cs, c)
	}
	sort.Ints(cs)
	for _, c := range cs {
		r := rows[c]
		named := testRE.FindAllStringSubmatch(r.tests, -1)
		if len(named) == 0 && !strings.Contains(r.tests, "not done") {
			t.Errorf("%s:%d: C%d names no test and does not say why (write \"not done: …\")", mapFile, r.line, c)
		}
		for _, m := range named {
			if !funcs[m[1]+"."+m[2]] {
				t.Errorf("%s:%d: C%d names %s.%s, which does not exist", mapFile, r.line, c, m[1], m[2])
			}
			if m[3] != "" && !bytes.Contains(corpus.Bytes(), []byte(fmt.Sprintf("%q", m[3]))) {
				t.Errorf("%s:%d: C%d names subtest %s/%s, but no Go file has the case name %q", mapFile, r.line, c, m[2], m[3], m[3])
			}
		}
	}
}

// TestNoOutsideReferences fails when a file cites the protocol summary kept
// outside the repository instead of an RFC section.
func TestNoOutsideReferences(t *testing.T) {
	root := repoRoot(t)
	walkText(t, root, func(rel string, b []byte) {
		if rel == filepath.Join("internal", "conformance", "conformance_test.go") {
			return
		}
		for _, m := range outsideRE.FindAllIndex(b, -1) {
			t.Errorf("%s:%d: %q refers to a document outside the repository; cite the RFC section (see %s)", rel, lineOf(b, m[0]), b[m[0]:m[1]], mapFile)
		}
	})
}
