package main

import (
	"flag"
	"fmt"
	"os"
)

func main() {
	out := flag.String("out", "docs", "directory that receives man/ and cli/")
	pkg := flag.String("pkg", "./cmd/sztp", "the agent's package, built to read its command tree")
	flag.Parse()
	if err := run(*pkg, *out); err != nil {
		fmt.Fprintln(os.Stderr, "gendocs:", err)
		os.Exit(1)
	}
}

func run(pkg, out string) error {
	tree, err := readTree(pkg)
	if err != nil {
		return err
	}
	return generate(tree, out)
}
