// Package removable reads SZTP bootstrapping data from removable storage
// (RFC 8572 4.1): a USB stick, an SD card, a CD, or a directory where such a
// medium is already mounted.
//
// Layout on the medium (C97: several devices' data can share one medium,
// keyed by serial number; the device-specific directory is read first):
//
//	sztp/<serial-number>/conveyed-information.cms
//	sztp/<serial-number>/owner-certificate.cms
//	sztp/<serial-number>/ownership-voucher.cms   (or ownership-voucher.vcj)
//	sztp/conveyed-information.cms                (device-independent)
//	sztp/owner-certificate.cms
//	sztp/ownership-voucher.cms
//
// A directory counts when it holds conveyed-information.cms; the owner
// certificate and voucher are read when present (signed data needs both).
// Each file has a size cap (MaxConveyedInformation, MaxOwnerCertificate,
// MaxOwnershipVoucher); anything that is not a regular file, and any path
// that leaves the medium (a symlink to /etc/..., or ../..), is refused: files
// are opened through an os.Root of the medium's top directory.
//
// A block device is mounted read-only, nosuid, nodev and noexec in a private
// temporary directory (0700) only for as long as it takes to read the files,
// and unmounted afterwards, also when reading fails. The filesystem types
// tried are the block filesystems the kernel lists in /proc/filesystems,
// common removable ones (vfat, exfat, ext4, iso9660) first.
//
// With Path "auto", Read looks at the block devices in /sys/class/block that
// are removable (/sys/block/*/removable) or attached through USB, both those
// present and those that appear while it waits (until Timeout).
//
// The data is untrusted (C96): this package only reads bytes. The caller
// (sztp run) hands them to the RFC 8572 algorithm as raw artifacts, which
// acts on onboarding information only when it is signed data that validates
// (RFC 8572 5.4), and contacts the servers of unsigned redirect information
// provisionally.
package removable
