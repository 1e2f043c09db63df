package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/storage"
	"github.com/sweep-dev/sweep/trial"
)

func init() {
	commands["copy"] = command{summary: "copy sweeps between databases (a file and PostgreSQL, either way)", run: runCopy}
}

// runCopy copies whole sweeps, every trial with its history, checkpoint,
// kept weights and decisions, from one database to another: a sweep
// started on a laptop moves to the cluster's PostgreSQL, and its results
// come back to a file. Each sweep is read in one transaction and written in
// one, so a copy is a consistent snapshot and a failed copy writes nothing
// of that sweep.
//
// A sweep some live process is running is refused: its trials would go on
// in the source, not in the copy. Running trials whose process is gone are
// copied as interrupted, with their checkpoints, so that the copy resumes
// them at once. A sweep the target has already is refused unless
// --replace; even then, one that live processes run in the target is
// refused (their trials would be lost and trained again), and one with
// finished trials the copy has not finished is refused unless --force
// (replacing it would discard them). One of --from and --to may be left
// out: it is then $SWEEP_DB, so that a connection string need not be an
// argument (which every user of the machine can read in ps).
func runCopy(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("copy", flag.ContinueOnError)
	fs.SetOutput(stderr)
	from := fs.String("from", "", "the database to copy from: a file, or a PostgreSQL URL (required)")
	to := fs.String("to", "", "the database to copy to, created if need be: a file, or a PostgreSQL URL (required)")
	replace := fs.Bool("replace", false, "overwrite a sweep of the same name in the target")
	force := fs.Bool("force", false, "with --replace: overwrite it even if it has finished trials the copy has not")
	fs.Usage = func() {
		fmt.Fprintf(stderr, "usage: sweep copy --from DB --to DB [--replace [--force]] [NAME...]\n\n")
		fmt.Fprintf(stderr, "Copies the named sweeps (all when none is named), every trial with its\n")
		fmt.Fprintf(stderr, "history, checkpoint and kept weights. DB is a file path or a PostgreSQL URL\n")
		fmt.Fprintf(stderr, "(postgres://user@host/dbname); keep its password in ~/.pgpass or PGPASSWORD.\n")
		fmt.Fprintf(stderr, "Either --from or --to may be left out: it is then $SWEEP_DB.\n\nflags:\n")
		fs.PrintDefaults()
	}
	names, code, ok := parseArgs(fs, args, 0, math.MaxInt)
	if !ok {
		return code
	}
	if env := os.Getenv("SWEEP_DB"); env != "" && (*from == "") != (*to == "") {
		if *from == "" {
			*from = env
		} else {
			*to = env
		}
	}
	if *from == "" || *to == "" {
		return fail(stderr, "copy", usagef("--from and --to are both required, or one of them and $SWEEP_DB (see sweep help copy)"))
	}
	if *force && !*replace {
		return fail(stderr, "copy", usagef("--force goes with --replace"))
	}
	if sameDB(*from, *to) {
		return fail(stderr, "copy", usagef("--from and --to are the same database (%s)", storage.Redact(*from)))
	}
	src, err := openExisting(ctx, *from)
	if err != nil {
		return fail(stderr, "copy", fmt.Errorf("--from: %w", err))
	}
	defer src.Close()
	if len(names) == 0 {
		sums, err := src.Sweeps(ctx, clock(), leaseTTL)
		if err != nil {
			return fail(stderr, "copy", err)
		}
		if len(sums) == 0 {
			fmt.Fprintf(stdout, "no sweeps in %s: nothing to copy\n", src.Location())
			return exitOK
		}
		for _, s := range sums {
			names = append(names, s.Name)
		}
	}
	// Every sweep is read, and checked, before the target is opened (or
	// created): a refused copy leaves no new file behind.
	dumps := make([]*results.Dump, 0, len(names))
	for _, name := range names {
		d, err := src.Dump(ctx, name)
		if err != nil {
			return fail(stderr, "copy", err)
		}
		if err := detach(d); err != nil {
			return fail(stderr, "copy", err)
		}
		dumps = append(dumps, d)
	}
	dst, err := openDB(ctx, *to)
	if err != nil {
		return fail(stderr, "copy", fmt.Errorf("--to: %w", err))
	}
	defer dst.Close()
	// Every sweep is checked against the target before any is written.
	for _, d := range dumps {
		if err := replaceable(ctx, dst, d, *replace, *force); err != nil {
			return fail(stderr, "copy", err)
		}
	}
	for _, d := range dumps {
		if err := dst.Load(ctx, d, *replace); err != nil {
			if errors.Is(err, results.ErrExists) {
				err = usagef("%v; add --replace to overwrite it with the copy from %s", err, src.Location())
			}
			return fail(stderr, "copy", err)
		}
		fmt.Fprintf(stdout, "copied sweep %q (%s) from %s to %s\n", d.Sweep.Name, copySummary(d), src.Location(), dst.Location())
	}
	return exitOK
}

// replaceable refuses to write d over the target's sweep of that name: at
// all without replace; with it, when live processes run the target's
// sweep, or (unless force) when the target has finished trials the copy
// has not. The copy's attempt numbers are raised to the target's, so that
// a write of an attempt made in the target is never taken for one of the
// copy's (attempts are fencing tokens).
func replaceable(ctx context.Context, dst results.Store, d *results.Dump, replace, force bool) error {
	name := d.Sweep.Name
	ts, err := dst.Trials(ctx, name, results.Filter{})
	if errors.Is(err, results.ErrNoSweep) {
		return nil
	}
	if err != nil {
		return err
	}
	if !replace {
		return usagef("sweep %q is in %s already; add --replace to overwrite it with the copy", name, dst.Location())
	}
	stale := trial.Staleness(self(), clock(), leaseTTL)
	inCopy := map[string]*results.Trial{}
	for i := range d.Trials {
		inCopy[d.Trials[i].Trial.Key] = &d.Trials[i].Trial
	}
	var live, lost []string
	for _, t := range ts {
		if t.Status == results.Running && t.Lease != nil && !stale(*t.Lease) {
			live = append(live, fmt.Sprintf("%d (%s)", t.Number, t.Lease.Owner))
		}
		c := inCopy[t.Key]
		if t.Status.Finished() && (c == nil || !c.Status.Finished()) {
			lost = append(lost, strconv.Itoa(t.Number))
		}
		if c != nil && c.Attempts < t.Attempts {
			c.Attempts = t.Attempts
		}
	}
	switch {
	case len(live) > 0:
		return fmt.Errorf("sweep %q is running in %s: %s held by live processes; stop them first, or their work is lost", name, dst.Location(), heldList(live))
	case len(lost) > 0 && !force:
		return usagef("sweep %q in %s has finished trials (%s) that the copy has not: replacing it would discard them; copy it the other way first, or add --force", name, dst.Location(), strings.Join(lost, ", "))
	}
	return nil
}

// heldList says which trials live processes hold: "trial 2 (host:pid) is",
// "trials 2 (host:pid), 5 (host:pid) are".
func heldList(held []string) string {
	if len(held) == 1 {
		return "trial " + held[0] + " is"
	}
	return "trials " + strings.Join(held, ", ") + " are"
}

// sameDB reports whether a and b name the same database, as far as their
// text tells (the same file, or the same connection string, whichever of
// PostgreSQL's two URL schemes it is written with).
func sameDB(a, b string) bool {
	if storage.IsPostgres(a) != storage.IsPostgres(b) {
		return false
	}
	if storage.IsPostgres(a) {
		norm := func(s string) string {
			if l := strings.ToLower(s); strings.HasPrefix(l, "postgresql://") {
				return "postgres://" + s[len("postgresql://"):]
			}
			return s
		}
		return norm(a) == norm(b)
	}
	return sameFile(a, b)
}

// detach readies a dumped sweep for its copy: running trials whose lease
// is stale (their process is gone, or silent past the lease) become
// interrupted, with their checkpoints, so that the copy resumes them; a
// sweep with live running trials is refused.
func detach(d *results.Dump) error {
	stale := trial.Staleness(self(), clock(), leaseTTL)
	var live []string
	for i := range d.Trials {
		t := &d.Trials[i].Trial
		if t.Status != results.Running {
			continue
		}
		if t.Lease != nil && !stale(*t.Lease) {
			live = append(live, fmt.Sprintf("%d (%s)", t.Number, t.Lease.Owner))
			continue
		}
		t.Status, t.Lease = results.Interrupted, nil
	}
	if len(live) > 0 {
		return fmt.Errorf("sweep %q is running: %s held by live processes; stop them first (Ctrl-C or SIGTERM checkpoints their trials), then copy it", d.Sweep.Name, heldList(live))
	}
	return nil
}

// copySummary says what a copied sweep holds: its trials by status and
// its kept weights.
func copySummary(d *results.Dump) string {
	counts := map[results.Status]int{}
	models := 0
	for i := range d.Trials {
		counts[d.Trials[i].Trial.Status]++
		if d.Trials[i].Model != nil {
			models++
		}
	}
	parts := []string{report.Count(len(d.Trials), "trial")}
	for _, s := range results.Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	out := parts[0]
	if len(parts) > 1 {
		out += ": " + strings.Join(parts[1:], ", ")
	}
	return out + "; " + report.Count(models, "kept model")
}

// sameFile reports whether paths a and b are one file: os.SameFile when
// both exist, else equal absolute paths.
func sameFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	if errA == nil && errB == nil {
		return os.SameFile(fa, fb)
	}
	absA, errA := filepath.Abs(a)
	absB, errB := filepath.Abs(b)
	return errA == nil && errB == nil && absA == absB
}
