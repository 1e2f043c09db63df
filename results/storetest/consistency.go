package storetest

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// knownIssueChecks are the checks Factory.KnownIssues may name: those of
// testConsistency, whose findings are collected (verdict) rather than
// failed one by one.
var knownIssueChecks = []string{
	"Consistency/SetBestNotDone",
	"Consistency/Load/BestNotDone",
	"Consistency/Load/RungNotEvals",
	"Consistency/Load/PromotedWithoutRung",
	"Consistency/Load/CheckpointOfFinished",
	"Consistency/Load/NegativeElapsed",
	"Consistency/Load/NegativeGroup",
	"Consistency/Load/GroupsOutOfOrder",
	"Consistency/LoadKeep0",
}

// checkKnownIssues fails t if f.KnownIssues names a check that is not one
// of knownIssueChecks.
func checkKnownIssues(t *testing.T, f Factory) {
	for name := range f.KnownIssues {
		found := false
		for _, c := range knownIssueChecks {
			found = found || c == name
		}
		if !found {
			t.Errorf("Factory.KnownIssues names %q, which is not one of the checks that can be marked: %s", name, strings.Join(knownIssueChecks, ", "))
		}
	}
}

// verdict fails t with problems, unless f marks t's check a known issue:
// then it logs them, and fails if there are none (the issue is fixed:
// remove the mark).
func verdict(t *testing.T, f Factory, problems []string) {
	t.Helper()
	name := t.Name()
	if i := strings.IndexByte(name, '/'); i >= 0 {
		name = name[i+1:] // below the caller's test
	}
	issue, known := f.KnownIssues[name]
	switch {
	case known && len(problems) == 0:
		t.Errorf("marked as a known issue (%s), but the store passes: remove the mark", issue)
	case known:
		t.Logf("KNOWN ISSUE (%s):\n\t%s", issue, strings.Join(problems, "\n\t"))
	case len(problems) > 0:
		t.Errorf("%s", strings.Join(problems, "\n"))
	}
}

// newUncheckedFixture is newFixture without the Check at the end: for the
// tests that check themselves, and report what they find (verdict).
func newUncheckedFixture(t *testing.T, f Factory) *fixture {
	t.Helper()
	s, open := f.New(t)
	if s == nil || open == nil {
		t.Fatal("storetest: Factory.New returned a nil store or open function")
	}
	return &fixture{t: t, ctx: t.Context(), s: s, open: open}
}

// healthy returns the problems of a database that fails Check after
// what, or that EnsureSweep, a run's first write, then refuses.
func (fx *fixture) healthy(sweep, what string) []string {
	var problems []string
	if err := fx.s.Check(fx.ctx); err != nil {
		problems = append(problems, fmt.Sprintf("%s succeeded, and then Check fails: %v", what, err))
	}
	if _, err := fx.s.EnsureSweep(fx.ctx, results.Sweep{Name: sweep}, nil); err != nil {
		problems = append(problems, fmt.Sprintf("%s succeeded, and then EnsureSweep (a resumed run) fails: %v", what, err))
	}
	return problems
}

// testConsistency: what a store accepts, its own Check accepts: no
// successful call leaves a database that Check calls damaged (and so that
// EnsureSweep, which checks the database, refuses to run). A call may
// refuse instead, writing nothing.
func testConsistency(t *testing.T, f Factory) {
	t.Run("SetBestNotDone", func(t *testing.T) {
		// SetBest of a trial that is not done (pending, running).
		fx := newUncheckedFixture(t, f)
		fx.grid("grid1", 2, 3)
		fx.claimN("grid1", 1, owner("a"), never)
		var problems []string
		for _, n := range []int{2, 1} {
			before := fx.dump("grid1")
			what := fmt.Sprintf("SetBest of trial %d, which is %s,", n, before.Trials[n-1].Trial.Status)
			if err := fx.s.SetBest(fx.ctx, "grid1", results.Best{Trial: n, TestAcc: 0.5, Evaluated: evaluated}); err != nil {
				if ds := diff(before, fx.dump("grid1")); len(ds) > 0 {
					problems = append(problems, fmt.Sprintf("%s refused (%v), changed the sweep: %s", what, err, strings.Join(ds, "; ")))
				}
				continue
			}
			problems = append(problems, fx.healthy("grid1", what)...)
		}
		verdict(t, f, problems)
	})

	t.Run("Load", func(t *testing.T) {
		// Dumps that results.CheckDump accepts, with records that the
		// stores' invariants (boltstore's Check) forbid.
		src := newFixture(t, f)
		src.ensure(results.Sweep{Name: "grid1", Spec: spec("grid1"), Keep: 3}, grouped(4, 4, 0))
		o := owner("a")
		src.claimN("grid1", 1, o, never)
		src.finish("grid1", 1, o, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}})
		src.claimN("grid1", 2, o, never)
		for _, tc := range []struct {
			name string
			bad  func(d *results.Dump)
		}{
			{"BestNotDone", func(d *results.Dump) {
				d.Sweep.Best = &results.Best{Trial: 3, TestAcc: 0.5, Evaluated: evaluated}
				d.Sweep.Evaluations = []results.Best{*d.Sweep.Best}
			}},
			{"RungNotEvals", func(d *results.Dump) { d.Trials[2].Trial.Rung = 2 }},
			{"PromotedWithoutRung", func(d *results.Dump) { d.Trials[1].Trial.Promoted = true }},
			{"CheckpointOfFinished", func(d *results.Dump) { d.Trials[0].Checkpoint = &results.Checkpoint{Epoch: 1, Data: []byte("late")} }},
			{"NegativeElapsed", func(d *results.Dump) { d.Sweep.Elapsed = -5 }},
			{"NegativeGroup", func(d *results.Dump) { d.Trials[2].Trial.Group = -1 }},
			// Valid: group numbers need not follow trial numbers.
			{"GroupsOutOfOrder", func(d *results.Dump) { d.Trials[0].Trial.Group, d.Trials[2].Trial.Group = 7, 2 }},
		} {
			t.Run(tc.name, func(t *testing.T) {
				d := src.dump("grid1")
				tc.bad(d)
				if err := results.CheckDump(d); err != nil {
					t.Logf("CheckDump refuses it: %v", err) // then Load must, below
				}
				fx := newUncheckedFixture(t, f)
				var problems []string
				if err := fx.s.Load(fx.ctx, d, false); err != nil {
					if _, err := fx.s.Sweep(fx.ctx, "grid1"); !errors.Is(err, results.ErrNoSweep) {
						problems = append(problems, fmt.Sprintf("a refused Load wrote the sweep (Sweep: %v)", err))
					}
				} else {
					problems = fx.healthy("grid1", "Load")
				}
				verdict(t, f, problems)
			})
		}
	})

	t.Run("LoadKeep0", func(t *testing.T) {
		// Keep 0 means DefaultKeep (results.Sweep.Keep), in a loaded sweep
		// as in one EnsureSweep made: the weights of its best done trial
		// are kept.
		src := newFixture(t, f)
		src.grid("grid1", 1, 3)
		d := src.dump("grid1")
		d.Sweep.Keep = 0
		fx := newUncheckedFixture(t, f)
		var problems []string
		if err := fx.s.Load(fx.ctx, d, false); err == nil {
			o := owner("a")
			fx.claimN("grid1", 1, o, never)
			fx.finish("grid1", 1, o, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}, Model: model(1)})
			if _, err := fx.s.Model(fx.ctx, "grid1", 1); err != nil {
				problems = append(problems, fmt.Sprintf("a sweep loaded with Keep 0 (DefaultKeep: %d) kept no weights of its only done trial: %v", results.DefaultKeep, err))
			}
			problems = append(problems, fx.healthy("grid1", "Load")...)
		}
		verdict(t, f, problems)
	})
}
