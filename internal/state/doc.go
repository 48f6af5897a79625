// Package state is the agent's persistent state directory: the SZTP-enabled
// flag (RFC 8572 5.1 item 1), the run-once completion record, the progress
// journal, the last run's result, and what a reboot is expected to bring up.
// Every write goes through internal/atomicfile (temp file, fsync, rename,
// directory fsync), so a power cut leaves the old or the new file.
//
// Files in the directory:
//
//	enabled          "enabled\n" or "disabled\n"; absent means enabled
//	completed.json   Completion (run-once), written just before
//	                 bootstrap-complete, removed if the server refuses it
//	last-run.json    Run, the last attempt's result
//	journal.json     []Entry, the newest MaxJournal progress reports
//	reboot.json      PendingReboot, the image expected after a reboot
//	images/          boot images: partial downloads (resumable) and verified
//	                 images, removed after bootstrap-complete
//	scripts/         the last pre/post-configuration scripts run (sztp run)
//	lock             flock(2)ed by the running agent (Store.Lock), holds its PID
package state
