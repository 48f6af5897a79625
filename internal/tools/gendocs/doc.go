// Command gendocs writes sztp's reference: a man page per command
// (docs/man/sztp.1, sztp-run.1, ...) and a Markdown page per command
// (docs/cli/sztp.md, sztp_run.md, ...), with cobra's doc generator.
//
// The agent must not link cobra/doc (cmd/sztp/budget_test.go), so gendocs
// builds the agent, reads its command tree from the hidden `sztp __docs`
// (JSON: every command's use, help, examples and flags), rebuilds that tree
// as cobra commands and renders it. The output is deterministic (no
// generation date or "Auto generated" line), so a test can tell when the
// committed pages are stale.
//
//	go run ./internal/tools/gendocs            # or: make docs
//	go run ./internal/tools/gendocs -out DIR   # writes DIR/man and DIR/cli
package main
