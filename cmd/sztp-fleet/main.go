// Command sztp-fleet simulates a fleet of devices bootstrapping at once
// against one bootstrap server of fixed capacity (issue 13 item 4): first
// with the agent's retry policy, then, for comparison, with a naive
// fixed-interval retry that ignores Retry-After. `make fleet` runs it.
// It is a test tool: the agent binary does not link it.
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
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
			for w := range res.Windows() {
				sent, arrived := res.At(w)
				if float64(max(sent, arrived)) > 1.5*res.CapacityPerWindow {
					fmt.Printf("%s debug: window %.1fs: %d sent, %d arrived\n", res.Prefix(), float64(w)/10, sent, arrived)
				}
			}
		}
		results = append(results, res)
	}
	if *csv != "" {
		if err := writeAtomic(*csv, func(w io.Writer) error { return writeCSV(w, results) }); err != nil {
			fmt.Fprintf(os.Stderr, "sztp-fleet: csv: %v\n", err)
			os.Exit(1)
		}
	}
	if *svg != "" {
		if err := writeAtomic(*svg, func(w io.Writer) error { return fleet.WriteSVG(w, results...) }); err != nil {
			fmt.Fprintf(os.Stderr, "sztp-fleet: svg: %v\n", err)
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
func writeCSV(w io.Writer, results []*fleet.Result) error {
	bw := bufio.NewWriter(w)
	fmt.Fprintln(bw, "policy,seconds,sent,arrived")
	for _, r := range results {
		for i := range r.Windows() {
			sent, arrived := r.At(i)
			fmt.Fprintf(bw, "%s,%.1f,%d,%d\n", r.Policy, (time.Duration(i) * fleet.Window).Seconds(), sent, arrived)
		}
	}
	return bw.Flush()
}

// writeAtomic writes path through a temporary file in its directory,
// synced and renamed (and the directory synced), so that an interrupted run leaves the old file or
// none, never half of one.
func writeAtomic(path string, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // a no-op once renamed
	err = write(f)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Chmod(f.Name(), 0o644)
	}
	if err == nil {
		err = os.Rename(f.Name(), path)
	}
	if err != nil {
		return err
	}
	d, err := os.Open(filepath.Dir(path))
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
