// Package client is the RFC 8572 engine: it walks the bootstrapping sources in
// order, talks to bootstrap servers (get-bootstrapping-data and
// report-progress over RESTCONF), keeps the trust-state, follows redirect
// information with the RFC's trust rules, processes onboarding information in
// the mandated order (boot image, pre-configuration script, configuration,
// post-configuration script) through the boot package's hooks, and records
// what it did in its state directory.
//
// # Shape
//
// An [Agent] is built from a [Config] with [New]. [Agent.RunOnce] makes one
// pass over the [Source]s; [Agent.Run] repeats passes with capped,
// jittered exponential backoff (and a server's Retry-After) until one
// succeeds (C3). A Source yields [Candidate]s: bootstrap server URIs with a
// [TLSMode] (Opportunistic for servers configured on the device, Provisional
// for URIs learned from DHCP or DNS), or raw artifacts (removable storage).
//
// Files: restconf.go is the HTTPS/RESTCONF client ([Dial], [Conn]);
// algorithm.go is the recursive algorithm of RFC 8572 section 5.3 (trust-state,
// redirect depth, trust anchors); onboarding.go is section 5.6 (steps,
// progress reports, rollback); agent.go holds the configuration and the
// retry loop; state lives in internal/state. measure.go hands every
// artifact to a [Measurer] before it is acted on (measured onboarding);
// csr.go and keystore.go are RFC 9646 (csr-support to trusted servers only,
// csr-request answered with p10-csr, the LDevID certificate taken from the
// configuration's ietf-keystore and checked, C98-C102) through an
// [Enroller] (client/enroll).
//
// # Trust rules
//
//   - trust-state is FALSE at the start of every candidate (C8); a server
//     certificate that validates to an anchor, with its name or address
//     checked, makes it TRUE (C9, C10); signed data that validates makes it
//     TRUE, signed data that does not makes it FALSE and is dropped (C15, C16).
//   - An untrusted server gets only signed-data-preferred and a nonce: no
//     hw-model, os-name, os-version (C54, C55), no HTTP Basic password (C58),
//     and never a progress report (C62).
//   - Onboarding information is acted on only while trust-state is TRUE
//     (C17, C18, C51). Redirect trust anchors are used only from trusted
//     redirect information (C47, C49), and only through the last
//     certificate of their chain, the issuer of the next server's
//     certificate (RFC 8572 6.1); a trusted entry without one is contacted
//     provisionally (C48). Recursion stops at 10 redirects (C19).
//   - HTTP redirects (3xx) are never followed; every exchange has connect,
//     handshake, header and total timeouts and a response size limit.
//
// # Onboarding
//
// A nil hook is never a silent skip: an image the device does not already
// run (os-name/os-version, C71) without an image installer is a
// boot-image-error, configuration without a config applier a config-error.
// A failure after the configuration was committed calls its undo (C81, C83).
// An installer that needs a reboot gets boot-image-installed-rebooting
// reported first (C75); the state directory remembers what should run after
// the reboot, and the next run skips the image step when it is in place.
//
// Every onboarding attempt with a trusted server ends in exactly one
// terminating report (C64), sent even when the run was cancelled. Before
// bootstrap-complete the run-once record is written; when there is no state
// directory or the record cannot be written, bootstrap-warning says that
// SZTP remains enabled (C69). bootstrap-complete carries the SSH host keys
// and trust anchors that [Config.Completion] returns (C66).
package client
