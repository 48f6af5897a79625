// Package boot installs what onboarding information delivers (RFC 8572
// section 5.6): it defines small interfaces for installing a boot image
// ([ImageInstaller]), committing configuration ([ConfigApplier]) and running
// the pre- and post-configuration scripts ([ScriptRunner]), the built-in
// hooks, and a registry that selects a hook by a "NAME[:ARG]" spec.
//
// HOOKS.md in this directory is the user-facing reference; this comment is
// the same contract in brief.
//
// # Hooks
//
// Image hooks ([NewImageHook], names from [ImageHookNames]):
//
//	exec:PROGRAM      run a vendor program (protocol below)
//	file:PATH         write the image to a block device in place, or to a file atomically
//	kexec             load a kernel (or tar of kernel, initrd, cmdline) for kexec
//	reboot[:PROGRAM]  write nothing; Reboot restarts the system (reboot(2) or PROGRAM)
//	none              accept the image, install nothing (logged as a warning)
//
// Several image hooks joined by "," run in order on the same image
// ("file:/dev/sdb2,reboot"); the chain's Reboot is the last one set. Paths in
// specs are absolute and cannot contain ",".
//
// Configuration hooks ([NewConfigHook], names from [ConfigHookNames]):
// exec:PROGRAM, file:PATH (replace; merge = JSON Merge Patch, RFC 7396, onto
// a JSON object) and none.
//
// # Exec protocol
//
// The program (an absolute path) is executed directly, with no arguments
// and no shell, in its own process group, with a clean environment: PATH,
// [Options.Env], and
//
//	SZTP_STEP             boot-image | configuration | configuration-rollback
//	SZTP_IMAGE            (boot-image) path of the verified image; stdin is empty
//	SZTP_OS_NAME          (boot-image) os-name from the onboarding information
//	SZTP_OS_VERSION       (boot-image) os-version
//	SZTP_CONFIG_HANDLING  (configuration, configuration-rollback) merge | replace
//
// For configuration the bytes are on stdin. Exit status 0 means done; for
// boot-image, [ExitReboot] (20) means installed and the agent must reboot
// to activate it; anything else, a signal or the timeout is an error, and
// the last [MaxOutput] bytes of stdout and stderr go into the error (and so
// into the *-error progress report). The program owns atomicity: on
// failure it must leave the previous image or configuration active.
// configuration-rollback asks it to restore the configuration that was
// active before its last successful configuration step (C81).
//
// # Scripts
//
// [NewScriptRunner] writes each script to a private directory (0700, ours) and
// executes it directly; it must start with "#!" or be an ELF binary. Exit
// status 0 is [ScriptOK], [ExitWarning] (10) is [ScriptWarning] (the engine
// sends *-warning and goes on, C77), anything else, a signal or the
// timeout is [ScriptError] (*-error, C76). The timeout kills the whole
// process group.
//
// # Nothing half-done
//
// An installer or applier either completes or returns an error and no
// result (RFC 8572 5.6, C83): files are replaced through temp + fsync +
// rename, block devices are written header-last, kexec loads only after the
// image is fully unpacked and checked, and configuration undo restores the
// previous file. Reboots and kexec happen only in Installed.Reboot, which
// the engine calls after reporting boot-image-installed-rebooting (C75), or
// Installed.Abandon when it stops before that (kexec: unload the kernel);
// [Options.DryRun] makes them log instead.
package boot
