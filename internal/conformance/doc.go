// Package conformance holds no code: its test keeps CONFORMANCE.md, the
// repository's map of RFC requirements (C1, C2, …), true to the tree. It
// fails when code or tests cite a C number the map does not define, when
// the map names a test that does not exist, or when a comment cites a
// document outside the repository instead of an RFC section.
package conformance
