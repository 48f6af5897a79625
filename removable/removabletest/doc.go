// Package removabletest makes real block devices for tests of the
// removable-storage source: an ext4 image built from a directory tree with
// mkfs.ext4 -d, attached read-only with losetup, and a check of
// /proc/self/mountinfo that nothing of it stayed mounted.
package removabletest
