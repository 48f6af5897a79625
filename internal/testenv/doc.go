// Package testenv lets integration tests say what they need. When the
// environment lacks it the test is skipped, unless SZTP_REQUIRE_INTEGRATION=1
// is set (as .ci/run does), in which case the test fails: CI never skips an
// integration test silently. In -short mode (make unit, make test-arm64) a
// test that needs root is skipped whatever the variable says: -short asks
// for no namespaces, loop devices or mounts.
package testenv
