package main

import (
	"context"
	"fmt"
	"io"
	"slices"
	"sync"
	"time"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
)

func init() {
	commands["ls"] = command{summary: "the sweeps of a database, with counts and best val_acc", run: runLs}
}

// clock is the time of the query commands (tests fix it).
var clock = time.Now

// self is this process as a lease owner, for the query commands' judgement
// of leases (one identity per process: trial.Self draws a random id).
var self = sync.OnceValue(trial.Self)

// leaseTTL is how long a lease of another host's process lives without a
// heartbeat: trial.DefaultLeaseTTL (tests shorten it).
var leaseTTL = trial.DefaultLeaseTTL

// staleLease is the rule by which the query commands tell a running trial
// whose lease is dead from one that runs: the rule `run` reclaims trials by
// (trial.Staleness), at the commands' clock.
func staleLease() func(results.Lease) bool {
	return trial.Staleness(self(), clock(), leaseTTL)
}

// liveOwners returns the processes (host:pid) that hold a live lease on a
// running trial of sweep name, and how many running trials are stale: by
// the rule `run` reclaims trials with, a lease is dead when its owner was a
// process on this host that has exited, or when its heartbeat is older than
// trial.DefaultLeaseTTL.
func liveOwners(ctx context.Context, st results.Store, name string) (owners []string, stale int, err error) {
	running, err := st.Running(ctx, name)
	if err != nil || len(running) == 0 {
		return nil, 0, err
	}
	isStale := staleLease()
	for _, t := range running {
		if t.Lease == nil || isStale(*t.Lease) {
			stale++
			continue
		}
		if o := t.Lease.Owner.String(); !slices.Contains(owners, o) {
			owners = append(owners, o)
		}
	}
	slices.Sort(owners)
	return owners, stale, nil
}

func runLs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("ls", "ls [--format table|csv|json] [--db DB]", stderr)
	format := fs.String("format", "table", "output format: table, csv or json")
	if _, code, ok := parseArgs(fs, args, 0, 0); !ok {
		return code
	}
	if err := checkFormat(*format, "table", "csv", "json"); err != nil {
		return fail(stderr, "ls", err)
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "ls", err)
	}
	defer st.Close()
	recs, err := sweepRecords(ctx, st)
	if err != nil {
		return fail(stderr, "ls", err)
	}
	switch {
	case *format == "json":
		err = report.WriteSweepsJSON(stdout, recs)
	case *format == "csv":
		err = report.WriteSweepsCSV(stdout, recs)
	case len(recs) == 0:
		_, err = fmt.Fprintf(stdout, "no sweeps in %s\n", st.Location())
	default:
		err = report.WriteSweepsTable(stdout, recs)
	}
	if err != nil {
		return fail(stderr, "ls", err)
	}
	return exitOK
}

// sweepRecords summarises every sweep of st as `sweep ls` shows it: counts
// by status, a running trial whose lease is dead counted as stale, and
// the processes that run it now.
func sweepRecords(ctx context.Context, st results.Store) ([]report.SweepRecord, error) {
	sums, err := st.Sweeps(ctx, clock(), leaseTTL)
	if err != nil {
		return nil, err
	}
	recs := make([]report.SweepRecord, len(sums))
	for i, s := range sums {
		recs[i] = report.SweepRecord{Summary: s, Processes: []string{}}
		if s.Running == 0 {
			continue
		}
		owners, stale, err := liveOwners(ctx, st, s.Name)
		if err != nil {
			return nil, err
		}
		recs[i].Processes = append(recs[i].Processes, owners...)
		recs[i].Running -= stale
		recs[i].Stale = stale
		recs[i].Active = len(owners) > 0
	}
	return recs, nil
}
