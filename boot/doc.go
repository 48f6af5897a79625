// Package boot installs what onboarding information delivers: it defines the
// small interfaces for installing a boot image, applying configuration and
// running scripts, the built-in hooks (exec, file, kexec, reboot, none), and a
// registry that selects a hook by name ("file:/dev/sdb2", "exec:/usr/lib/x").
package boot
