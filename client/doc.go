// Package client is the RFC 8572 engine: it walks the bootstrapping sources in
// order, talks to bootstrap servers (get-bootstrapping-data and
// report-progress over RESTCONF), keeps the trust-state, follows redirect
// information with the RFC's trust rules, processes onboarding information in
// the mandated order (boot image, pre-configuration script, configuration,
// post-configuration script) through the boot package's hooks, and records
// what it did in its state directory.
package client
