// Command gen writes the test PKI (pki/), the device identity (device/) and
// the matrix of good and single-fault artifact sets (artifacts/) into the
// current directory, which `go generate ./testdata` makes the testdata
// directory. Every certificate is valid for a century, so the committed
// files do not rot.
package main

import (
	"fmt"
	"os"

	"github.com/sztp/sztp/trust/trusttest"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}

func run() error {
	p, err := trusttest.New()
	if err != nil {
		return err
	}
	d, err := p.NewDevice(trusttest.Serial)
	if err != nil {
		return err
	}
	if err := p.WriteDir("pki"); err != nil {
		return err
	}
	if err := d.WriteDir("device"); err != nil {
		return err
	}
	cases, err := p.Matrix(d)
	if err != nil {
		return err
	}
	if err := trusttest.WriteMatrix("artifacts", cases); err != nil {
		return err
	}
	fmt.Printf("wrote pki/, device/ and %d artifact sets in artifacts/\n", len(cases))
	return nil
}
