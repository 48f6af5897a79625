// Package testdata holds the generated test PKI and artifacts (pki/,
// device/, artifacts/) and the openssl-made interop fixtures (openssl/,
// made by scripts/make-openssl-fixtures). Regenerate the Go-made part with
//
//	go generate ./testdata
//
// (the go tool skips testdata directories in ./... patterns).
package testdata

//go:generate go run ./gen
