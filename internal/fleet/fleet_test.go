package fleet

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sztp/sztp/client/sztptest"
)

// Issue 13 item 4, the CI-sized fleet: 500 real agents (real TLS on
// loopback) power on within the first second against a server of fixed
// capacity; with the agent's retry policy all complete, and after the
// first second no 100 ms window has the devices sending more than 1.5x
// the server's capacity. The rate is counted by the devices' schedules
// (offered): the rate on arrival at the server, which adds this machine's
// CPU queueing (500 TLS clients and the server share its cores), is
// logged. No wall-clock time is asserted.
func TestIssue13_4_FleetWithoutRetryStorm(t *testing.T) {
	if testing.Short() {
		t.Skip("500 TLS agents")
	}
	if _, err := RaiseFileLimit(4096); err != nil {
		t.Fatal(err)
	}
	res, err := Run(context.Background(), Options{
		Agents:      500,
		Capacity:    sztptest.Capacity{MaxConcurrent: 8, ServiceTime: 20 * time.Millisecond},
		Policy:      AgentPolicy(),
		StartSpread: time.Second,
		Deadline:    5 * time.Minute,
	})
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	res.Report(&b)
	t.Log("\n" + b.String())
	if res.Completed != res.Agents {
		t.Errorf("%d of %d agents completed", res.Completed, res.Agents)
	}
	if res.Attempts < res.Agents {
		t.Errorf("%d get-bootstrapping-data attempts for %d agents", res.Attempts, res.Agents)
	}
	if res.Peak > 1.5 {
		t.Errorf("peak/capacity %.2f in the window at %v, want at most 1.5 after the first second (rates %v)", res.Peak, res.PeakAt, res.Rate)
	}
	var svg bytes.Buffer
	if err := WriteSVG(&svg, res); err != nil || !strings.Contains(svg.String(), "<polyline") {
		t.Errorf("SVG: %v", err)
	}
}
