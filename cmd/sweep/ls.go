package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
)

func init() {
	commands["ls"] = command{summary: "the sweeps of a database, with counts and best val_acc", run: runLs}
}

// clock is the time of the query commands (tests fix it).
var clock = time.Now

// liveOwners returns the processes (host:pid) that hold a live lease on a
// running trial of sweep name, and how many running trials are stale: by
// the rule `run` reclaims trials with, a lease is dead when its owner was a
// process on this host that has exited, or when its heartbeat is older than
// trial.DefaultLeaseTTL.
func liveOwners(ctx context.Context, st *results.Store, name string) (owners []string, stale int, err error) {
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

// lsRecord is a sweep's object in `ls --format json`.
type lsRecord struct {
	results.Summary
	Stale     int      `json:"stale"`     // trials left running by a process that is gone or missed its heartbeats (not counted in running)
	Processes []string `json:"processes"` // host:pid of the processes running it now
}

func runLs(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("ls", "ls [--format table|csv|json] [--db PATH]", stderr)
	format := fs.String("format", "table", "output format: table, csv or json")
	if _, code, ok := parseArgs(fs, args, 0, 0); !ok {
		return code
	}
	if err := checkFormat(*format, "table", "csv", "json"); err != nil {
		return fail(stderr, "ls", err)
	}
	st, err := results.OpenExisting(*db, results.Options{})
	if err != nil {
		return fail(stderr, "ls", err)
	}
	sums, err := st.Sweeps(ctx, clock(), trial.DefaultLeaseTTL)
	if err != nil {
		return fail(stderr, "ls", err)
	}
	recs := make([]lsRecord, len(sums))
	for i, s := range sums {
		recs[i] = lsRecord{Summary: s, Processes: []string{}}
		if s.Running == 0 {
			continue
		}
		owners, stale, err := liveOwners(ctx, st, s.Name)
		if err != nil {
			return fail(stderr, "ls", err)
		}
		recs[i].Processes = append(recs[i].Processes, owners...)
		recs[i].Running -= stale
		recs[i].Stale = stale
		recs[i].Active = len(owners) > 0
	}
	if *format == "json" {
		for i := range recs {
			recs[i].Created = recs[i].Created.UTC()
		}
		if err := writeJSON(stdout, recs); err != nil {
			return fail(stderr, "ls", err)
		}
		return exitOK
	}
	if *format == "csv" {
		if err := writeLsCSV(stdout, recs); err != nil {
			return fail(stderr, "ls", err)
		}
		return exitOK
	}
	if len(recs) == 0 {
		fmt.Fprintf(stdout, "no sweeps in %s\n", st.Path())
		return exitOK
	}
	var tb table
	for i, c := range []string{"sweep", "trials", "done", "running", "stale", "paused", "pending", "interrupted", "diverged", "failed", "pruned", "best_val_acc", "state"} {
		tb.col(c, i > 0 && i < 12)
	}
	for _, r := range recs {
		best := "-"
		if r.BestValAcc != nil {
			best = metric(*r.BestValAcc)
		}
		state := "stopped"
		switch {
		case r.Active:
			state = "running on " + strings.Join(r.Processes, ", ")
		case r.Pending+r.Running+r.Stale+r.Paused+r.Interrupted == 0:
			state = "finished"
		}
		tb.add(r.Name, itoa(r.Total), itoa(r.Done), itoa(r.Running), itoa(r.Stale), itoa(r.Paused), itoa(r.Pending), itoa(r.Interrupted),
			itoa(r.Diverged), itoa(r.Failed), itoa(r.Pruned), best, state)
	}
	if err := tb.write(stdout, ""); err != nil {
		return fail(stderr, "ls", err)
	}
	return exitOK
}

// writeLsCSV writes the sweeps as CSV, with the JSON field names as header.
func writeLsCSV(w io.Writer, recs []lsRecord) error {
	cw := csv.NewWriter(w)
	_ = cw.Write([]string{"name", "total", "done", "running", "stale", "paused", "pending", "interrupted", "diverged", "failed", "pruned", "best_val_acc", "active", "processes", "created"})
	for _, r := range recs {
		best := ""
		if r.BestValAcc != nil {
			best = strconv.FormatFloat(*r.BestValAcc, 'g', -1, 64)
		}
		_ = cw.Write([]string{r.Name, itoa(r.Total), itoa(r.Done), itoa(r.Running), itoa(r.Stale), itoa(r.Paused), itoa(r.Pending), itoa(r.Interrupted),
			itoa(r.Diverged), itoa(r.Failed), itoa(r.Pruned), best, strconv.FormatBool(r.Active),
			strings.Join(r.Processes, " "), r.Created.UTC().Format(time.RFC3339Nano)})
	}
	cw.Flush()
	return cw.Error()
}
