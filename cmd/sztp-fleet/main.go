// Command sztp-fleet simulates a fleet of devices bootstrapping at once
// against one bootstrap server of fixed capacity (issue 13 item 4): first
// with the agent's retry policy, then, for comparison, with a naive
// fixed-interval retry that ignores Retry-After. `make fleet` runs it.
// It is a test tool: the agent binary does not link it.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/sztp/sztp/client/sztptest"
	"github.com/sztp/sztp/internal/fleet"
)

func main() {
	agents := flag.Int("agents", 10000, "devices in the fleet")
	concurrent := flag.Int("capacity-concurrent", 32, "requests the server serves at once")
	service := flag.Duration("capacity-service-time", 80*time.Millisecond, "time each request holds its slot")
	spread := flag.Duration("start-spread", time.Second, "devices power on at random times within this (the herd: the whole fleet within the first second)")
	naive := flag.Duration("naive-interval", time.Second, "retry interval of the naive policy (0: skip it)")
	deadline := flag.Duration("deadline", 6*time.Minute, "give up on the agent policy's simulation after this long")
	naiveDeadline := flag.Duration("naive-deadline", time.Minute, "give up on the naive policy's simulation after this long")
	debug := flag.Bool("debug", false, "print the first device's log")
	svg := flag.String("svg", "bin/fleet.svg", "write the rate plot here")
	csv := flag.String("csv", "", "also write the rate per window as CSV here (policy, seconds, sent, arrived)")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	// Every device in flight holds a descriptor, and so does the server's
	// side of its connection. Below that, some dials fail (EMFILE) and
	// those devices retry like after any connection failure.
	if n, err := fleet.RaiseFileLimit(uint64(2**agents + 1024)); err != nil {
		fmt.Printf("fleet: warning: %v; devices that cannot get one retry\n", err)
	} else {
		fmt.Printf("fleet: file descriptor limit %d\n", n)
	}
	t0 := time.Now()
	pki, err := fleet.NewPKI(*agents)
	if err != nil {
		fmt.Fprintf(os.Stderr, "sztp-fleet: %v\n", err)
		os.Exit(1)
	}
	capacity := sztptest.Capacity{MaxConcurrent: *concurrent, ServiceTime: *service}
	fmt.Printf("fleet: %d devices (identities made in %.1fs), server capacity %.0f requests/s (%d at once, %v each)\n",
		*agents, time.Since(t0).Seconds(), capacity.Rate(), *concurrent, *service)
	policies := []fleet.Policy{fleet.AgentPolicy()}
	if *naive > 0 {
		policies = append(policies, fleet.NaivePolicy(*naive))
	}
	var results []*fleet.Result
	for _, p := range policies {
		o := fleet.Options{Agents: *agents, Capacity: capacity, Policy: p, StartSpread: *spread, Deadline: *deadline, PKI: pki}
		if p.Name != "agent" {
			o.Deadline = *naiveDeadline
		}
		if *debug {
			o.Debug = os.Stderr
		}
		res, err := fleet.Run(ctx, o)
		if err != nil {
			fmt.Fprintf(os.Stderr, "sztp-fleet: %v\n", err)
			os.Exit(1)
		}
		res.Report(os.Stdout)
		if *debug {
			for w := range max(len(res.Rate), len(res.Arrived)) {
				var sent, arrived int
				if w < len(res.Rate) {
					sent = res.Rate[w]
				}
				if w < len(res.Arrived) {
					arrived = res.Arrived[w]
				}
				if float64(max(sent, arrived)) > 1.5*res.CapacityPerWindow {
					fmt.Printf("%s debug: window %.1fs: %d sent, %d arrived\n", res.Prefix(), float64(w)/10, sent, arrived)
				}
			}
		}
		results = append(results, res)
	}
	if *csv != "" {
		if err := writeCSV(*csv, results); err != nil {
			fmt.Fprintf(os.Stderr, "sztp-fleet: %v\n", err)
			os.Exit(1)
		}
	}
	if *svg != "" {
		f, err := os.Create(*svg)
		if err == nil {
			err = fleet.WriteSVG(f, results...)
			if cerr := f.Close(); err == nil {
				err = cerr
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "sztp-fleet: %v\n", err)
			os.Exit(1)
		}
		fmt.Printf("fleet: rate plot in %s\n", *svg)
	}
	if results[0].Completed != results[0].Agents {
		os.Exit(1)
	}
}

// writeCSV writes every result's rate per window: policy, the window's
// start in seconds, requests sent (by the devices' schedules) and arrived.
func writeCSV(path string, results []*fleet.Result) error {
	var b strings.Builder
	b.WriteString("policy,seconds,sent,arrived\n")
	for _, r := range results {
		for w := range max(len(r.Rate), len(r.Arrived)) {
			var sent, arrived int
			if w < len(r.Rate) {
				sent = r.Rate[w]
			}
			if w < len(r.Arrived) {
				arrived = r.Arrived[w]
			}
			fmt.Fprintf(&b, "%s,%.1f,%d,%d\n", r.Policy, (time.Duration(w) * fleet.Window).Seconds(), sent, arrived)
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("csv: %w", err)
	}
	return nil
}
