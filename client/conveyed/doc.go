// Package conveyed is the data model of the YANG modules ietf-sztp-conveyed-info
// and ietf-sztp-bootstrap-server (RFC 8572 sections 6 and 7), with the RFC 9646
// CSR additions (ietf-sztp-csr) and RFC 8040 ietf-restconf:errors bodies, and
// their JSON (RFC 7951) and XML codecs in both directions.
//
// Both codecs translate through one schema-driven tree, so they accept and
// produce the same model. Encoders emit exactly what the decoders accept:
// JSON with the module-qualified top-level member ("ietf-sztp-conveyed-info:
// redirect-information", "ietf-sztp-bootstrap-server:input", ...), nested
// members qualified only where the module changes, binary leaves in base64,
// port as a JSON number, type empty as [null]; XML with the module namespace
// on the root and wherever the module changes, <signed-data-preferred/>.
//
// Decoding is strict and every error is a *ValidationError whose Path names
// the offending member, e.g.
// "onboarding-information/boot-image/image-verification[1]/hash-value".
// Rejected: unknown or duplicate members/elements, top-level JSON members
// without a module prefix, members qualified with the wrong module, elements
// in the wrong namespace, attributes other than namespace declarations,
// malformed base64, yang:hex-string, inet:host or inet:uri values, unknown
// enumeration values, port 0 or outside 1..65535 (or a non-integer JSON
// number), a nonce outside 16..32 octets, a missing or doubled mandatory
// choice, empty bootstrap-server lists, duplicate list keys, the RFC 8572
// must/when constraints (C66, C80, C84) and the C57 output rules.
//
// Deliberate choices:
//   - hash-algorithm (and the RFC 9646 format-identifier) identities are
//     normalised: an identity of the leaf's own module is its bare name, so
//     "sha-256" and "ietf-sztp-conveyed-info:sha-256" both read as
//     HashSHA256 (C74); in XML any prefix bound to the module's namespace, or
//     the default namespace, works. Identities of other modules are kept as
//     "module:name" (from XML, the module is derived from an
//     urn:ietf:params:xml:ns:yang:<module> namespace; any other namespace
//     gives "{namespace}name", which has no JSON form). Unknown hash
//     algorithms are therefore not an error: a document can be valid for an
//     augmenting module, and it is the engine's job to report an image it
//     cannot verify (see ImageVerification.Supported).
//   - Interop leniency from RFC 8572's own XML example: raw XML child
//     elements inside <configuration> are accepted as the payload, taken
//     verbatim from the document (surrounding whitespace trimmed); in-scope
//     namespace declarations of ancestors are not copied in. Encoders always
//     write configuration as base64.
//   - In XML, base64 values may be wrapped (whitespace is dropped), and
//     non-string values are trimmed. Strings are kept as they are.
//   - A binary leaf that is present but empty decodes to a non-nil empty
//     slice; nil means absent.
//   - error-info in ietf-restconf:errors is anydata: only
//     ietf-sztp-csr:csr-request is decoded, anything else is skipped.
//
// The package imports only the standard library.
package conveyed
