// Package testenv lets integration tests say what they need. When the
// environment lacks it the test is skipped, unless SZTP_REQUIRE_INTEGRATION=1
// is set (as .ci/run does), in which case the test fails: CI never skips an
// integration test silently.
package testenv
