package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/storage"
	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/trial"
)

func init() {
	commands["run"] = command{summary: "create or continue the sweep of a spec file", run: runRun}
	commands["resume"] = command{summary: "continue a sweep from the spec stored with it", run: runResume}
}

// runArgs are the flags and the argument of run and resume.
type runArgs struct {
	arg     string // run: the spec file; resume: the sweep's name
	db      string
	workers int
	data    string // resume --data: where the sweep's data set is now
}

// runFlags parses the flags and the one argument of run and resume.
func runFlags(name, usage string, args []string, stderr io.Writer) (a runArgs, code int, ok bool) {
	fs, dbFlag := newFlags(name, usage, stderr)
	w := fs.Int("workers", 0, "concurrent trials (default: the spec's workers, else the number of CPUs)")
	var data *string
	if name == "resume" {
		data = fs.String("data", "", "the sweep's data set is now at `PATH` (moved, same contents: checked)")
	}
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return a, code, false
	}
	if *w < 0 {
		fmt.Fprintf(stderr, "sweep %s: --workers %d: must be positive (or 0 for the spec's)\n", name, *w)
		return a, exitUsage, false
	}
	a = runArgs{arg: pos[0], db: *dbFlag, workers: *w}
	if data != nil {
		a.data = *data
	}
	return a, exitOK, true
}

func runRun(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, code, ok := runFlags("run", "run SPEC [--db DB] [--workers N]", args, stderr)
	if !ok {
		return code
	}
	path := a.arg
	src, err := os.ReadFile(path)
	if err != nil {
		fmt.Fprintf(stderr, "sweep run: read spec: %v\n", err)
		return exitUsage
	}
	spec, err := search.Parse(path, src)
	if err != nil {
		fmt.Fprintln(stderr, err)
		return exitUsage
	}
	// An existing database is opened, which checks its pages, before
	// anything is loaded (EnsureSweep checks the rest before the first
	// write, and refuses a damaged file); a new one is created only once
	// the data has loaded (execute), so a mistake in [data] leaves no
	// empty database behind.
	st, err := openRun(ctx, a.db, false)
	var old *results.Sweep
	switch {
	case errors.Is(err, results.ErrNotFound) || emptyFile(a.db):
		// Not there yet, or empty (mktemp, touch): Open initialises it.
		st, err = nil, nil
	case err != nil:
		fmt.Fprintf(stderr, "sweep run: %v\n", err)
		return exitCode(err)
	default:
		defer st.Close() // and execute's, which may open it; closing twice is harmless
		old, err = st.Sweep(ctx, spec.Name)
	}
	switch {
	case st == nil:
	case err == nil:
		prev, perr := storedSpec(old)
		if perr != nil {
			fmt.Fprintf(stderr, "sweep run: %v\n", perr)
			return exitRuntime
		}
		if err := search.CheckCompatible(prev, spec); err != nil && !(onlyDataMoved(err) && old.Data != nil) {
			// A moved data set is no change when its contents are the
			// same: execute compares them with the recorded fingerprint.
			fmt.Fprintf(stderr, "%s: %v\n", path, err)
			return exitUsage
		}
	case errors.Is(err, results.ErrNoSweep):
		old = nil
	default:
		fmt.Fprintf(stderr, "sweep run: %v\n", err)
		return exitCode(err)
	}
	// Stored absolute: resume re-reads the stored spec with its path, and
	// resolves a relative data path against the spec's directory again,
	// from whatever directory it runs in.
	abs, err := filepath.Abs(path)
	if err != nil {
		fmt.Fprintf(stderr, "sweep run: %v\n", err)
		return exitRuntime
	}
	return execute(ctx, st, a.db, spec, old, src, abs, a.workers, stdout, stderr)
}

// emptyFile reports whether path is an existing empty regular file.
func emptyFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && fi.Mode().IsRegular() && fi.Size() == 0
}

// onlyDataMoved reports whether err is a spec change of data.path alone.
func onlyDataMoved(err error) bool {
	var ce *search.ChangeError
	if !errors.As(err, &ce) {
		return false
	}
	for _, c := range ce.Changes {
		if c.Key != "data.path" {
			return false
		}
	}
	return true
}

func runResume(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a, code, ok := runFlags("resume", "resume NAME [--data PATH] [--db DB] [--workers N]", args, stderr)
	if !ok {
		return code
	}
	st, err := openRun(ctx, a.db, false)
	if err != nil {
		fmt.Fprintf(stderr, "sweep resume: %v\n", err)
		return exitCode(err)
	}
	defer st.Close()
	sw, err := st.Sweep(ctx, a.arg)
	if err != nil {
		fmt.Fprintf(stderr, "sweep resume: %v\n", err)
		return exitCode(err)
	}
	spec, err := storedSpec(sw)
	if err != nil {
		fmt.Fprintf(stderr, "sweep resume: %v\n", err)
		return exitRuntime
	}
	if a.data != "" {
		if sw.Data == nil {
			fmt.Fprintf(stderr, "sweep resume: --data: sweep %q was recorded without a fingerprint of its data, so new files cannot be checked against it; edit data.path in its spec and run that instead\n", sw.Name)
			return exitUsage
		}
		if spec.Data.Source == data.SourceEmbedded || spec.Data.Source == data.SourceSynthetic {
			fmt.Fprintf(stderr, "sweep resume: --data: sweep %q trains on %s data, which reads no files\n", sw.Name, spec.Data.Source)
			return exitUsage
		}
		p, err := filepath.Abs(a.data)
		if err != nil {
			fmt.Fprintf(stderr, "sweep resume: --data: %v\n", err)
			return exitRuntime
		}
		spec.Data.Path = p
	}
	return execute(ctx, st, a.db, spec, sw, sw.Spec, sw.SpecPath, a.workers, stdout, stderr)
}

// execute records the sweep and its trials (new ones only), trains every
// claimable trial, then selects the best and prints the leaderboard.
//
// old is the sweep's stored record (nil for a new sweep): the data must be
// the files it was trained on, wherever they are now (same fingerprint).
// st is nil when the database does not exist yet: it is created at db once
// the data has loaded.
func execute(ctx context.Context, st results.Store, db string, spec *search.Spec, old *results.Sweep, src []byte, specPath string, workers int, stdout, stderr io.Writer) int {
	// A grid's or a random search's trials are all recorded up front; an
	// adaptive search's are decided as it runs, by its scheduler.
	var recs []results.Trial
	var sched search.Scheduler
	var err error
	if spec.Search.Adaptive() {
		sched, err = trial.NewScheduler(spec)
	} else {
		recs, err = trial.Records(spec)
	}
	if err != nil {
		fmt.Fprintf(stderr, "%s: %v\n", specPath, err)
		return exitUsage
	}
	// The data is checked and loaded first: a sweep whose data cannot be
	// loaded is not recorded, so fixing its [data] table is not refused as
	// a change.
	ref, err := dataRef(ctx, spec, old)
	var ds *data.Dataset
	if err == nil {
		ds, err = loadData(ctx, spec)
	}
	if err != nil {
		if ctx.Err() != nil {
			return interruptedCode(ctx)
		}
		fmt.Fprintf(stderr, "sweep: data of %q: %v\n", spec.Name, err)
		if old != nil && old.Data != nil && old.Data.Path == spec.Data.Path && errors.Is(err, data.ErrNotFound) {
			fmt.Fprintf(stderr, "If the data set moved, point the sweep at it (its contents are checked):\n  sweep resume %s --data NEWPATH%s\n", shellQuote(spec.Name), dbFlag(st))
		}
		return exitUsage
	}
	if st == nil {
		if st, err = openRun(ctx, db, true); err != nil {
			fmt.Fprintf(stderr, "sweep run: %v\n", err)
			return exitCode(err)
		}
		defer st.Close()
	}

	// Fused trials: the new ones train in groups, fixed now.
	if spec.Search.Fused() {
		have := map[string]bool{}
		if old != nil {
			ts, err := st.Trials(ctx, spec.Name, results.Filter{})
			if err != nil {
				fmt.Fprintf(stderr, "sweep: %v\n", err)
				return exitCode(err)
			}
			for _, t := range ts {
				have[t.Key] = true
			}
		}
		if err := trial.Groups(spec, recs, func(key string) bool { return have[key] }); err != nil {
			fmt.Fprintf(stderr, "%s: %v\n", specPath, err)
			return exitUsage
		}
	}
	sw := results.Sweep{Name: spec.Name, Spec: src, SpecPath: specPath, Canonical: spec.Canonical(),
		Metric: spec.Search.Metric, Keep: spec.Search.Keep, Data: ref,
		Input: &results.Input{Shape: ds.Shape, Classes: ds.Classes, Mean: ds.Mean, Std: ds.Std}}
	added, err := st.EnsureSweep(ctx, sw, recs)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: record sweep %q: %v\n", spec.Name, err)
		return exitCode(err)
	}

	// The data set is most of the heap and lives as long as the process:
	// return what loading it left behind, and let the heap grow by a
	// quarter of it between collections rather than by all of it. The data
	// holds no pointers, so a collection does not scan it.
	debug.FreeOSMemory()
	debug.SetGCPercent(25)

	explicit := workers > 0 || spec.Workers > 0 // not the CPUs' default
	if workers <= 0 {
		workers = spec.Workers
	}
	if workers <= 0 {
		workers = runtime.NumCPU()
	}
	all, err := st.Trials(ctx, spec.Name, results.Filter{})
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitCode(err)
	}
	// No more workers than trials (or fused groups) left to train: the
	// others would have nothing to do.
	left := trainingUnits(all)
	if sched == nil {
		if asked := workers; explicit && asked > left && left < unfinished(all) {
			fmt.Fprintf(stderr, "sweep: only %d of %s will be busy: the %s left train as %s, one at a time on a worker (a smaller [search] group_size spreads the trials a sweep adds over more)\n",
				left, report.Count(asked, "worker"), report.Count(unfinished(all), "trial"), unitsText(all))
		}
		workers = max(min(workers, left), 1)
	}
	for _, w := range runWarnings(all, ds, workers, runtime.NumCPU()) {
		fmt.Fprintf(stderr, "sweep: warning: %s\n", w)
	}
	total := len(all)
	if sched != nil {
		total = max(spec.Search.Trials, len(all)) // 0: a budget bounds the sweep
	}
	// The budget is the sweep's, over all its runs.
	start := time.Now()
	deadline, note := budgetDeadline(spec, old, start)
	if note != "" {
		fmt.Fprintf(stderr, "sweep: %s\n", note)
	}
	disp := newDisplay(ctx, stdout, spec.Name, all, total, workers, spec.Search.Maximize())
	disp.unit, disp.deadline = spec.Search.MinUnit, deadline
	fmt.Fprint(disp.log(), startLine(spec, all, len(added), workers, ds))
	events := disp.event
	if testHookEvent != nil {
		events = func(e trial.Event) { testHookEvent(e); disp.event(e) }
	}
	pool := &trial.Pool{Store: st, Sweep: spec.Name, Data: ds, Workers: workers, Owner: self(), LeaseTTL: leaseTTL, Events: events,
		Scheduler: sched, Metric: spec.Search.Metric, Deadline: deadline}
	stats, runErr := pool.Run(ctx)
	disp.close()
	if spec.Search.Budget > 0 {
		if _, err := st.AddElapsed(context.WithoutCancel(ctx), spec.Name, time.Since(start)); err != nil && runErr == nil {
			runErr = err
		}
	}
	if sched != nil && runErr == nil {
		// The pool ends when the scheduler is done (its last claim pruned
		// the paused trials) or the budget ran out with trials paused at
		// rungs: they stop there.
		if _, err := trial.End(ctx, st, spec.Name, sched); err != nil {
			runErr = err
		}
	}

	if runErr != nil {
		if ctx.Err() != nil {
			fmt.Fprintf(stderr, "\n%s: %s. Resume with:\n  sweep resume %s%s\n",
				stopReason(ctx), interruptedSummary(stats), shellQuote(spec.Name), dbFlag(st))
			return interruptedCode(ctx)
		}
		fmt.Fprintf(stderr, "sweep: %v\n", runErr)
		if stats.Interrupted > 0 {
			fmt.Fprintf(stderr, "sweep: %s. When the problem is fixed, resume with:\n  sweep resume %s%s\n",
				interruptedSummary(stats), shellQuote(spec.Name), dbFlag(st))
		}
		return exitCode(runErr)
	}
	return finish(ctx, st, spec.Name, ds, !deadline.IsZero() && !time.Now().Before(deadline), stdout, stderr)
}

// interruptedSummary says what the store holds of the trials a run
// stopped: "of its 2 running trials, 1 resumes from a checkpoint, 1 starts
// from scratch".
func interruptedSummary(s trial.Stats) string {
	if s.Interrupted == 0 {
		return "no trial was running"
	}
	msg := "its running trial "
	if s.Interrupted > 1 {
		msg = fmt.Sprintf("of its %d running trials, ", s.Interrupted)
	}
	var parts []string
	if s.Checkpointed > 0 {
		parts = append(parts, fmt.Sprintf("%sresume%s from a checkpoint", countIf(s.Interrupted, s.Checkpointed), verbS(s.Checkpointed)))
	}
	if n := s.Interrupted - s.Checkpointed; n > 0 {
		parts = append(parts, fmt.Sprintf("%sstart%s from scratch", countIf(s.Interrupted, n), verbS(n)))
	}
	if s.Unreleased > 0 {
		parts = append(parts, fmt.Sprintf("%scould not be marked interrupted and show%s as running until a run reclaims %s", countIf(s.Interrupted, s.Unreleased), verbS(s.Unreleased), pronoun(s.Unreleased)))
	}
	return msg + strings.Join(parts, ", ")
}

// countIf is "n " when there are several of all, "" when there is one.
func countIf(all, n int) string {
	if all == 1 {
		return ""
	}
	return strconv.Itoa(n) + " "
}

// verbS is a present-tense verb's s: "1 resumes", "2 resume".
func verbS(n int) string {
	if n == 1 {
		return "s"
	}
	return ""
}

func pronoun(n int) string {
	if n == 1 {
		return "it"
	}
	return "them"
}

// testHookEvent, when a test's child process sets it (see TestMain), sees
// every event of the pool before the display does, from the worker's
// goroutine: a test can hold a trial at a known point.
var testHookEvent func(trial.Event)

// runWarnings are what a user should know before a sweep trains, though
// nothing is wrong enough to refuse it.
func runWarnings(trials []results.Trial, ds *data.Dataset, workers, cpus int) []string {
	var warns []string
	big := 0
	for _, t := range trials {
		var cfg search.Config
		if t.Status.Finished() || json.Unmarshal(t.Config, &cfg) != nil {
			continue
		}
		big = max(big, cfg.BatchSize)
	}
	if big > ds.Train.N {
		warns = append(warns, fmt.Sprintf("batch_size %d is larger than the %d training images: minibatches are drawn with replacement, so each repeats images, and an epoch is one iteration", big, ds.Train.N))
	}
	if workers > cpus {
		warns = append(warns, fmt.Sprintf("%d workers on %d CPUs: the trials share the cores, each trains about %d times slower, and the sweep ends no sooner than with %d workers", workers, cpus, (workers+cpus-1)/cpus, cpus))
	}
	return warns
}

// storedSpec parses the spec stored with a sweep, its data path the one
// recorded with it (where the data set is now, if it moved).
func storedSpec(sw *results.Sweep) (*search.Spec, error) {
	spec, err := search.Parse(sw.SpecPath, sw.Spec)
	if err != nil {
		return nil, fmt.Errorf("the spec stored with sweep %q no longer parses: %w", sw.Name, err)
	}
	if sw.Data != nil && sw.Data.Path != "" {
		spec.Data.Path = sw.Data.Path
	}
	return spec, nil
}

// dataMismatch is a data set that is not the one recorded: its message
// says so in full, and it wraps data.ErrMismatch.
type dataMismatch string

func (e dataMismatch) Error() string { return string(e) }
func (e dataMismatch) Unwrap() error { return data.ErrMismatch }

// dataRef locates spec's data and fingerprints its files: the reference to
// record with the sweep. When the sweep exists with a recorded fingerprint
// (old), the files must match it: a sweep continues on the data it was
// trained on, wherever that is now, and on nothing else.
func dataRef(ctx context.Context, spec *search.Spec, old *results.Sweep) (*results.DataRef, error) {
	o, err := dataOptions(spec).Normalize()
	if err != nil {
		return nil, err
	}
	fp, err := data.Fingerprint(ctx, o)
	if err != nil {
		return nil, err
	}
	if old != nil && old.Data != nil && old.Data.Fingerprint != fp {
		where := "its files"
		if o.Path != "" {
			where = "the files at " + o.Path
		}
		recorded := ""
		if old.Data.Path != "" && old.Data.Path != o.Path {
			recorded = " (at " + old.Data.Path + ")"
		}
		return nil, dataMismatch(fmt.Sprintf("%s are not the data set sweep %q was trained on%s (fingerprint %s, recorded %s): point it at the original files, or give the spec a new name to start a new sweep",
			where, spec.Name, recorded, fp, old.Data.Fingerprint))
	}
	return &results.DataRef{Path: o.Path, Fingerprint: fp}, nil
}

// loadData loads (or finds already loaded in this process) the data of spec.
func loadData(ctx context.Context, spec *search.Spec) (*data.Dataset, error) {
	return data.Load(ctx, dataOptions(spec))
}

// dataOptions is the one translation of a spec's [data] table into the data
// package's options: run, resume and validate all use it, so that what
// validate accepts is what run loads. The sweep's own seed is not among
// them: it seeds the trials, never the data.
func dataOptions(spec *search.Spec) data.Options {
	d := spec.Data
	return data.Options{Source: d.Source, Path: d.Path, Train: d.Train, Val: d.Val, Test: d.Test,
		Seed: d.Seed, Classes: d.Classes, Dim: d.Dim}
}

// finish selects the best trial when the sweep is complete and prints the
// top of the leaderboard and the best trial's test accuracy. A sweep left
// unfinished with no live process on it, when its budget has not run out,
// exits 1: a launcher (Slurm, Kubernetes) must not take it for done.
// budgetOut: the sweep's budget ran out in this run.
func finish(ctx context.Context, st results.Store, name string, ds *data.Dataset, budgetOut bool, stdout, stderr io.Writer) int {
	best, bt, err := trial.SelectBest(ctx, st, name, ds)
	code := exitOK
	switch {
	case errors.Is(err, trial.ErrUnfinished):
		owners, _, lerr := liveOwners(ctx, st, name)
		owners = slices.DeleteFunc(owners, func(o string) bool { return o == self().String() })
		switch {
		case lerr == nil && len(owners) > 0:
			fmt.Fprintf(stdout, "\n%v: other processes are still training them (%s).\n", err, strings.Join(owners, ", "))
		case budgetOut:
			fmt.Fprintf(stdout, "\n%v: the sweep's budget ran out (a larger budget in its spec lets a run go on).\n", err)
		default:
			fmt.Fprintf(stdout, "\n%v, and no other process is training them: resume with\n  sweep resume %s%s\n", err, shellQuote(name), dbFlag(st))
			code = exitRuntime
		}
	case errors.Is(err, trial.ErrNoDoneTrial):
		fmt.Fprintf(stdout, "\n%v\n", err)
	case err != nil:
		fmt.Fprintf(stderr, "sweep: select the best trial of %q: %v\n", name, err)
		return exitCode(err)
	}
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitCode(err)
	}
	ts, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		fmt.Fprintf(stderr, "sweep: %v\n", err)
		return exitCode(err)
	}
	fmt.Fprintln(stdout)
	fmt.Fprintln(stdout, countsLine(name, ts))
	sel := report.Rank(sw, ts)
	report.WriteLeaderboard(stdout, ts[:min(5, len(ts))], sel, clock())
	if best != nil {
		chosen := ""
		if !sw.Maximize() {
			chosen = "val_loss " + report.MetricPrec(best.ValLoss, 4) + ", "
		}
		params := ""
		if len(bt.Params) > 0 {
			params = " (" + report.ParamsText(bt.Params) + ")"
		}
		fmt.Fprintf(stdout, "\nbest: trial %d%s: %sval_acc %s, test_acc %s\n",
			best.Trial, params, chosen, report.MetricPrec(best.ValAcc, 4), report.MetricPrec(best.TestAcc, 4))
	}
	bad := 0
	for _, t := range ts {
		if t.Status == results.Failed || t.Status == results.Diverged {
			bad++
		}
	}
	if bad > 0 {
		// Diverged is not success: a sweep all of whose trials diverged
		// found nothing.
		fmt.Fprintf(stdout, "\n%d of %s failed or diverged (exit code %d)\n", bad, report.Count(len(ts), "trial"), exitTrialFailed)
		if code != exitOK {
			return code
		}
		return exitTrialFailed
	}
	return code
}

// exitCode maps an error to the CLI's exit code: bad input is 2, the rest 1.
func exitCode(err error) int {
	switch {
	case errors.Is(err, context.Canceled):
		return exitInterrupted
	case errors.Is(err, results.ErrNoSweep), errors.Is(err, results.ErrNoTrial),
		errors.Is(err, results.ErrNotFound), errors.Is(err, data.ErrNotFound), errors.Is(err, data.ErrBadData),
		errors.Is(err, data.ErrBadOptions), errors.Is(err, storage.ErrBadAddress):
		return exitUsage
	}
	return exitRuntime
}

// startLine is a run's first line: the sweep's trials (an adaptive
// sweep's search and its trials so far), workers and data.
func startLine(spec *search.Spec, all []results.Trial, added, workers int, ds *data.Dataset) string {
	s := fmt.Sprintf("sweep %q: ", spec.Name)
	if spec.Search.Adaptive() {
		s += fmt.Sprintf("%s; %s so far", describeSearch(spec), report.Count(len(all), "trial"))
	} else {
		finished := 0
		for _, t := range all {
			if t.Status.Finished() {
				finished++
			}
		}
		s += report.Count(len(all), "trial")
		if finished > 0 || added < len(all) {
			s += fmt.Sprintf(" (%d new, %d finished before)", added, finished)
		}
		if groups, _ := units(all); groups > 0 {
			u := unitsText(all)
			if left := unfinished(all); left < len(all) {
				s += fmt.Sprintf(", the %d left in %s", left, u)
			} else {
				s += " in " + u
			}
		}
	}
	return s + fmt.Sprintf(", %s, data %s (train %d, val %d, test %d)\n",
		report.Count(workers, "worker"), ds.Name, ds.Train.N, ds.Val.N, ds.Test.N)
}

// unfinished counts the trials of all not finished.
func unfinished(all []results.Trial) int {
	n := 0
	for _, t := range all {
		if !t.Status.Finished() {
			n++
		}
	}
	return n
}

// units counts how the unfinished trials of all train: the fused groups
// with unfinished members, and the other unfinished trials, each alone.
func units(all []results.Trial) (groups, alone int) {
	seen := map[int]bool{}
	for _, t := range all {
		switch {
		case t.Status.Finished():
		case t.Group == 0:
			alone++
		case !seen[t.Group]:
			seen[t.Group] = true
			groups++
		}
	}
	return groups, alone
}

// unitsText says how the unfinished trials of all train: "2 fused groups",
// "2 fused groups and 1 trial alone", "3 trials".
func unitsText(all []results.Trial) string {
	groups, alone := units(all)
	switch {
	case groups == 0:
		return report.Count(alone, "trial")
	case alone == 0:
		return report.Count(groups, "fused group")
	}
	return report.Count(groups, "fused group") + " and " + report.Count(alone, "trial") + " alone"
}

// trainingUnits is how many claims the unfinished trials of all make: one
// per fused group with unfinished members, one per other unfinished
// trial. More workers than that would have nothing to do.
func trainingUnits(all []results.Trial) int {
	groups, alone := units(all)
	return groups + alone
}

// budgetDeadline is when a run of the sweep of spec must stop: its budget
// less what earlier runs spent (old's Elapsed), from start; zero without
// a budget. note says what earlier runs spent, "" when nothing.
func budgetDeadline(spec *search.Spec, old *results.Sweep, start time.Time) (deadline time.Time, note string) {
	b := spec.Search.Budget
	if b <= 0 {
		return time.Time{}, ""
	}
	spent := time.Duration(0)
	if old != nil {
		spent = time.Duration(old.Elapsed * float64(time.Second))
	}
	if spent > 0 {
		note = fmt.Sprintf("%s of its budget of %s spent by earlier runs; %s left", spent.Round(time.Second), b, max(b-spent, 0).Round(time.Second))
	}
	return start.Add(b - spent), note
}

// countsLine is a sweep's trials counted by status (report.Counts), a
// running trial whose lease is dead (staleLease) counted as stale.
func countsLine(name string, ts []results.Trial) string {
	return report.Counts(name, ts, staleLease())
}
