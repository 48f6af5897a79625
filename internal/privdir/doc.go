// Package privdir makes sure a directory the agent keeps private data in
// (the state directory, staged images) is its own: owned by the agent's
// user and not writable by anyone else. Whoever can write such a directory
// can plant or swap files the agent later trusts (a staged image, a
// checkpoint of its hash).
package privdir
