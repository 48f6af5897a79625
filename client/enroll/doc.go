// Package enroll makes the keys and CSRs of RFC 9646 for the agent and
// keeps the issued LDevID: a key created in the TPM under the storage root
// key and persisted at a configurable handle (certificate in TPM NV and in
// the state directory), or, for identities in files, a key generated in
// software and kept in the state directory. It implements client.Enroller
// and loads the LDevID for `sztp run --identity ldevid`.
package enroll
