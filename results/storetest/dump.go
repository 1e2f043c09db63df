package storetest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// testDump: Dump reads everything a sweep holds; Load writes it as it was,
// into another database or under another name, refusing an existing
// sweep unless told to replace it, and a bad dump as a whole.
func testDump(t *testing.T, f Factory) {
	t.Run("RoundTrip", func(t *testing.T) { dumpRoundTrip(t, f) })
	t.Run("Exists", func(t *testing.T) { dumpExists(t, f) })
	t.Run("Refused", func(t *testing.T) { dumpRefused(t, f) })
}

func dumpRoundTrip(t *testing.T, f Factory) {
	src := newFixture(t, f)
	src.buildMixed("mixed")
	d := src.dump("mixed")

	// The dump is what the store's other reads give.
	sw := src.sweep("mixed")
	checkDiff(t, "the dump's sweep", sw, &d.Sweep)
	if len(d.Trials) != mixedTrials {
		t.Fatalf("the dump has %d trials, want %d", len(d.Trials), mixedTrials)
	}
	for i, td := range d.Trials {
		tr, hist := src.trial("mixed", i+1)
		checkDiff(t, fmt.Sprintf("the dump's trial %d", i+1), tr, &td.Trial)
		checkDiff(t, fmt.Sprintf("the dump's history of trial %d", i+1), hist, td.History)
		wantCheckpoint := i+1 == mixedRunning || i+1 == mixedPaused || i+1 == mixedInterrupted
		if (td.Checkpoint != nil) != wantCheckpoint {
			t.Errorf("the dump's trial %d (%s) has a checkpoint: %v", i+1, td.Trial.Status, td.Checkpoint != nil)
		}
		if (td.Model != nil) != (i+1 == mixedDone) {
			t.Errorf("the dump's trial %d has weights: %v", i+1, td.Model != nil)
		}
	}
	checkDiff(t, "the dump's running checkpoint", ptr(rungCheckpoint(mixedRunning, 2)), d.Trials[mixedRunning-1].Checkpoint)
	checkDiff(t, "the dump's paused checkpoint", ptr(rungCheckpoint(mixedPaused, 1)), d.Trials[mixedPaused-1].Checkpoint)
	checkDiff(t, "the dump's weights", model(mixedDone), d.Trials[mixedDone-1].Model)

	// Loaded into another database, it dumps alike.
	dst := newFixture(t, f)
	dst.must(dst.s.Load(dst.ctx, d, false))
	checkDiff(t, "the loaded sweep's dump", d, dst.dump("mixed"))
	checkDiff(t, "the loaded sweep's summaries", summaries(t, src.s), summaries(t, dst.s))

	// The loaded sweep goes on: its lease and attempt hold, its
	// interrupted trial is claimed with its checkpoint, its weights read.
	attempt := mixedOwner
	attempt.Attempt = d.Trials[mixedRunning-1].Trial.Attempts
	dst.must(dst.s.SaveCheckpoint(dst.ctx, "mixed", mixedRunning, attempt, now(), rungCheckpoint(mixedRunning, 3), history(3)))
	attempt.Attempt--
	dst.refused("mixed", mixedRunning, attempt, "by an attempt older than the loaded one")
	tr, ck := dst.claimN("mixed", mixedInterrupted, owner("b"), never)
	if tr.Attempts != d.Trials[mixedInterrupted-1].Trial.Attempts+1 {
		t.Errorf("claim of the loaded interrupted trial: attempt %d", tr.Attempts)
	}
	checkDiff(t, "the loaded interrupted trial's checkpoint", d.Trials[mixedInterrupted-1].Checkpoint, ck)
	m, err := dst.s.Model(dst.ctx, "mixed", mixedDone)
	dst.must(err)
	checkDiff(t, "the loaded weights", model(mixedDone), m)
	dst.claimN("mixed", mixedPending, owner("b"), never)
	dst.promote("mixed", owner("b"), mixedPaused, 3, decision("promote 4"))
	dst.checkDecisions("mixed", mixedPaused, "start 4", "promote 4")

	// Loaded under another name into the same database.
	d = src.dump("mixed")
	d.Sweep.Name = "copy"
	src.must(src.s.Load(src.ctx, d, false))
	copied := src.dump("copy")
	copied.Sweep.Name = "mixed"
	checkDiff(t, "the copy's dump", src.dump("mixed"), copied)
}

// ptr returns a pointer to a copy of v.
func ptr[T any](v T) *T { return &v }

// summaries returns Sweeps' summaries, fresh to an hour.
func summaries(t *testing.T, s results.Store) []results.Summary {
	t.Helper()
	sums, err := s.Sweeps(t.Context(), now(), time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	return sums
}

func dumpExists(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.buildMixed("mixed")
	before := fx.dump("mixed")
	err := fx.s.Load(fx.ctx, fx.dump("mixed"), false)
	wantErr(t, "Load of an existing sweep", err, results.ErrExists, "mixed")
	fx.unchanged("mixed", before, "a refused Load")

	// Replaced by its first 3 trials: nothing of the others is left.
	small := fx.dump("mixed")
	small.Trials = small.Trials[:3]
	small.Sweep.Keep, small.Sweep.Metric = 1, "val_loss"
	fx.must(fx.s.Load(fx.ctx, small, true))
	checkDiff(t, "the replaced sweep's dump", small, fx.dump("mixed"))
	if added := fx.ensure(results.Sweep{Name: "mixed", Metric: "val_loss", Keep: 1}, []results.Trial{{Key: "k5"}, {Key: "k2"}}); !slices.Equal(added, []int{4}) {
		t.Errorf("EnsureSweep of trial 5's key and trial 2's after the replacement added %v, want [4]", added)
	}
	if tr, _ := fx.trial("mixed", 4); tr.Decisions != nil || tr.Status != results.Pending {
		t.Errorf("the new trial 4 = %+v: something of the replaced trial 4 is left", tr)
	}
	fx.must(fx.s.Load(fx.ctx, before, true))
	checkDiff(t, "the sweep loaded back", before, fx.dump("mixed"))
}

func dumpRefused(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.buildMixed("mixed")
	before := fx.dump("mixed")
	for _, tc := range []struct {
		name string
		bad  func(d *results.Dump)
	}{
		{"a duplicate key", func(d *results.Dump) { d.Trials[3].Trial.Key = d.Trials[1].Trial.Key }},
		{"an empty key", func(d *results.Dump) { d.Trials[7].Trial.Key = "" }},
		{"numbers out of order", func(d *results.Dump) { d.Trials[2], d.Trials[3] = d.Trials[3], d.Trials[2] }},
		{"a missing trial", func(d *results.Dump) { d.Trials = slices.Delete(d.Trials, 4, 5) }},
		{"a bad status", func(d *results.Dump) { d.Trials[7].Trial.Status = "asleep" }},
		{"a running trial without a lease", func(d *results.Dump) { d.Trials[mixedRunning-1].Trial.Lease = nil }},
		{"a pending trial with a lease", func(d *results.Dump) {
			d.Trials[mixedPending-1].Trial.Lease = d.Trials[mixedRunning-1].Trial.Lease
		}},
		{"a paused trial without a checkpoint", func(d *results.Dump) { d.Trials[mixedPaused-1].Checkpoint = nil }},
		{"weights of a failed trial", func(d *results.Dump) { d.Trials[mixedFailed-1].Model = model(7) }},
		{"a decision that is not JSON", func(d *results.Dump) {
			d.Trials[0].Trial.Decisions = append(d.Trials[0].Trial.Decisions, json.RawMessage("{"))
		}},
		{"a bad metric", func(d *results.Dump) { d.Sweep.Metric = "accuracy" }},
	} {
		d := fx.dump("mixed")
		tc.bad(d)
		err := fx.s.Load(fx.ctx, d, true)
		wantErr(t, "Load, replacing, of "+tc.name, err, nil, "mixed")
		fx.unchanged("mixed", before, "a refused Load of "+tc.name)
		d.Sweep.Name = "fresh"
		err = fx.s.Load(fx.ctx, d, false)
		wantErr(t, "Load of "+tc.name, err, nil, "fresh")
		if _, err := fx.s.Sweep(fx.ctx, "fresh"); err == nil {
			t.Errorf("a refused Load of %s created the sweep", tc.name)
		}
	}
	d := fx.dump("mixed")
	d.Sweep.Name = ""
	if err := fx.s.Load(fx.ctx, d, true); err == nil {
		t.Errorf("Load of a sweep without a name succeeded")
	}
}

// testCheck: a healthy database passes Check and CheckWritable, which
// writes nothing.
func testCheck(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	if fx.s.Location() == "" {
		t.Errorf("Location() is empty")
	}
	fx.must(fx.s.Check(fx.ctx))
	fx.must(fx.s.CheckWritable(fx.ctx))
	fx.buildMixed("mixed")
	before := fx.dump("mixed")
	fx.must(fx.s.Check(fx.ctx))
	fx.must(fx.s.CheckWritable(fx.ctx))
	other := fx.open(t)
	fx.must(other.Check(fx.ctx))
	fx.must(other.CheckWritable(fx.ctx))
	fx.unchanged("mixed", before, "Check and CheckWritable")
}

// testErrors: every method on a sweep that does not exist says so
// (ErrNoSweep, naming it and listing the sweeps); on a trial that does not
// exist, ErrNoTrial naming the sweep and giving the range.
func testErrors(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.buildMixed("mixed")
	before := fx.dump("mixed")
	ctx, o := fx.ctx, mixedOwner
	decide := func([]results.Trial) (results.Plan, error) {
		t.Errorf("decide was called for a sweep that does not exist")
		return results.Plan{Action: results.PlanWait}, nil
	}
	choose := func([]results.Trial) ([]results.Pruning, error) {
		t.Errorf("choose was called for a sweep that does not exist")
		return nil, nil
	}
	ignore2 := func(_ any, err error) error { return err }
	ignore3 := func(_, _ any, err error) error { return err }
	const none = "no-such-sweep"
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"Sweep", ignore2(fx.s.Sweep(ctx, none))},
		{"SetBest", fx.s.SetBest(ctx, none, results.Best{Trial: 1})},
		{"AddElapsed", ignore2(fx.s.AddElapsed(ctx, none, time.Second))},
		{"TickElapsed", ignore2(fx.s.TickElapsed(ctx, none, now(), time.Hour))},
		{"Claim", ignore3(fx.s.Claim(ctx, none, o, now(), always))},
		{"ClaimNext", ignore3(fx.s.ClaimNext(ctx, none, o, now(), always, decide))},
		{"Prune", ignore2(fx.s.Prune(ctx, none, now(), choose))},
		{"SaveCheckpoint", fx.s.SaveCheckpoint(ctx, none, 1, o, now(), results.Checkpoint{}, nil)},
		{"Heartbeat", fx.s.Heartbeat(ctx, none, []int{1}, o, now())},
		{"Finish", fx.s.Finish(ctx, none, 1, o, now(), results.Outcome{Status: results.Done})},
		{"Release", fx.s.Release(ctx, none, 1, o, now(), nil, nil, 0)},
		{"Pause", fx.s.Pause(ctx, none, 1, o, now(), results.Checkpoint{}, nil, results.Eval{Resource: 9}, results.Metrics{}, 0)},
		{"Trials", ignore2(fx.s.Trials(ctx, none, results.Filter{}))},
		{"Trial", ignore3(fx.s.Trial(ctx, none, 1))},
		{"Running", ignore2(fx.s.Running(ctx, none))},
		{"Model", ignore2(fx.s.Model(ctx, none, 1))},
		{"Dump", ignore2(fx.s.Dump(ctx, none))},
	} {
		wantErr(t, tc.name+" of an unknown sweep", tc.err, results.ErrNoSweep, none)
		if tc.err != nil && !strings.Contains(tc.err.Error(), "mixed") {
			t.Errorf("%s of an unknown sweep: %q does not list the sweeps", tc.name, tc.err)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"Trial", ignore3(fx.s.Trial(ctx, "mixed", 99))},
		{"Model", ignore2(fx.s.Model(ctx, "mixed", 99))},
		{"SetBest", fx.s.SetBest(ctx, "mixed", results.Best{Trial: 99})},
	} {
		wantErr(t, tc.name+" of trial 99", tc.err, results.ErrNoTrial, "mixed", fmt.Sprint(mixedTrials))
	}
	fx.unchanged("mixed", before, "calls that failed")
	if _, err := fx.s.Sweep(context.Background(), none); err == nil {
		t.Errorf("a failed call created sweep %q", none)
	}
}
