package storetest

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// Factory makes the stores the suite tests.
type Factory struct {
	// New returns a Store on a new, empty database (a new file, a new
	// PostgreSQL database), and open, which returns another Store on that
	// same database each time it is called: what stands for another
	// process in the tests of several stores. New and open report their
	// failures with t.Fatal. The stores are the factory's to close, and
	// the database its to remove, in a t.Cleanup of t.
	New func(t *testing.T) (s results.Store, open func(t *testing.T) results.Store)

	// KnownIssues marks the checks the store is known to fail, by name
	// below Run's test ("Consistency/SetBestNotDone"), each with its
	// issue: a reported bug, to be fixed. A marked check still runs, and
	// logs what it finds instead of failing; it fails if it finds nothing,
	// so that the mark goes when the bug does. Only the checks of the
	// Consistency group can be marked (see knownIssueChecks); a mark of
	// another fails Run.
	KnownIssues map[string]string
}

// Run runs the conformance suite against the stores f makes, as subtests
// of t:
//
//	EnsureSweep  creating and extending a sweep; refused sweeps; concurrent calls
//	Sweeps       Sweep, Sweeps' summaries, ErrNoSweep listing the sweeps
//	Lifecycle    claim, checkpoint, heartbeat, release, reclaim, finish
//	Claim        ErrNoWork, claim order, paused and finished trials not claimable
//	Leases       fencing of every write: other owners, stale leases, attempts, Heartbeat
//	KeptModels   the best Keep done trials' weights, and Model's errors
//	RoundTrip    params, config, seeds, NaN and infinite metrics, histories, weights, Input
//	Best         SetBest, Evaluations, TestSetUses, TestAcc
//	Elapsed      AddElapsed and TickElapsed
//	Adaptive     ClaimNext's plans, Pause, promotions, Prune, decision records
//	Groups       groups made by EnsureSweep, ClaimGroup, SaveCheckpoints
//	Concurrent   claims, ClaimNext and ClaimGroup from several stores at once
//	Dump         Dump, Load, CheckDump
//	Query        Trials, Running, Trial
//	Check        Check and CheckWritable on a healthy database
//	Errors       every method's error on an unknown sweep, trial or weights
//	Consistency  what a store accepts (SetBest, Load), its own Check accepts
//
// The whole suite takes about a second on a bbolt file.
func Run(t *testing.T, f Factory) {
	if f.New == nil {
		t.Fatal("storetest: Factory.New is nil")
	}
	checkKnownIssues(t, f)
	for _, g := range groups {
		t.Run(g.name, func(t *testing.T) { g.run(t, f) })
	}
}

// groups are Run's subtests, in order.
var groups = []struct {
	name string
	run  func(*testing.T, Factory)
}{
	{"EnsureSweep", testEnsureSweep},
	{"Sweeps", testSweeps},
	{"Lifecycle", testLifecycle},
	{"Claim", testClaim},
	{"Leases", testLeases},
	{"KeptModels", testKeptModels},
	{"RoundTrip", testRoundTrip},
	{"Best", testBest},
	{"Elapsed", testElapsed},
	{"Adaptive", testAdaptive},
	{"Groups", testGroups},
	{"Concurrent", testConcurrent},
	{"Dump", testDump},
	{"Query", testQuery},
	{"Check", testCheck},
	{"Errors", testErrors},
	{"Consistency", testConsistency},
}

// fixture is one subtest's database: its first store, and open for more.
type fixture struct {
	t    *testing.T
	ctx  context.Context
	s    results.Store
	open func(*testing.T) results.Store
}

// newFixture makes a new, empty database, to be checked (Store.Check) when
// the test ends.
func newFixture(t *testing.T, f Factory) *fixture {
	t.Helper()
	s, open := f.New(t)
	if s == nil || open == nil {
		t.Fatal("storetest: Factory.New returned a nil store or open function")
	}
	t.Cleanup(func() {
		// t.Context() is cancelled by now.
		if err := s.Check(context.Background()); err != nil {
			t.Errorf("Check at the end of the test: %v", err)
		}
	})
	return &fixture{t: t, ctx: t.Context(), s: s, open: open}
}

// now is the caller's clock, as a run passes it.
func now() time.Time { return time.Now() }

// owner returns the owner of ID id. Its host and PID are those of a
// process, so that messages naming an owner by host:pid name no trial.
func owner(id string) results.Owner {
	return results.Owner{Host: "conformance", PID: 4242, Start: 1_700_000_000_000_000_000, ID: id}
}

// always finds every lease stale; never none.
func always(results.Lease) bool { return true }
func never(results.Lease) bool  { return false }

// staleOf finds the leases of owner id stale.
func staleOf(id string) func(results.Lease) bool {
	return func(l results.Lease) bool { return l.Owner.ID == id }
}

// must fails the test at once if err is not nil.
func (fx *fixture) must(err error) {
	fx.t.Helper()
	if err != nil {
		fx.t.Fatal(err)
	}
}

// ensure creates or extends sweep sw with trials, returning the numbers added.
func (fx *fixture) ensure(sw results.Sweep, trials []results.Trial) []int {
	fx.t.Helper()
	added, err := fx.s.EnsureSweep(fx.ctx, sw, trials)
	if err != nil {
		fx.t.Fatal(err)
	}
	return added
}

// grid creates sweep name (metric val_acc, keep keep) with n grid trials.
func (fx *fixture) grid(name string, n, keep int) {
	fx.t.Helper()
	fx.ensure(results.Sweep{Name: name, Spec: spec(name), Metric: "val_acc", Keep: keep}, grid(n))
}

// claim claims a trial of sweep as o, failing the test if there is none.
func (fx *fixture) claim(sweep string, o results.Owner, stale func(results.Lease) bool) (*results.Trial, *results.Checkpoint) {
	fx.t.Helper()
	tr, ck, err := fx.s.Claim(fx.ctx, sweep, o, now(), stale)
	if err != nil {
		fx.t.Fatal(err)
	}
	return tr, ck
}

// claimN claims trial n of sweep as o (the next claimable), failing the
// test if Claim gives another.
func (fx *fixture) claimN(sweep string, n int, o results.Owner, stale func(results.Lease) bool) (*results.Trial, *results.Checkpoint) {
	fx.t.Helper()
	tr, ck := fx.claim(sweep, o, stale)
	if tr.Number != n {
		fx.t.Fatalf("Claim took trial %d, want %d", tr.Number, n)
	}
	return tr, ck
}

// finish finishes trial n of sweep as o with outcome out.
func (fx *fixture) finish(sweep string, n int, o results.Owner, out results.Outcome) {
	fx.t.Helper()
	fx.must(fx.s.Finish(fx.ctx, sweep, n, o, now(), out))
}

// trial reads trial n of sweep with its history.
func (fx *fixture) trial(sweep string, n int) (*results.Trial, []results.Epoch) {
	fx.t.Helper()
	tr, hist, err := fx.s.Trial(fx.ctx, sweep, n)
	if err != nil {
		fx.t.Fatal(err)
	}
	return tr, hist
}

// trials lists the trials of sweep.
func (fx *fixture) trials(sweep string) []results.Trial {
	fx.t.Helper()
	ts, err := fx.s.Trials(fx.ctx, sweep, results.Filter{})
	if err != nil {
		fx.t.Fatal(err)
	}
	return ts
}

// sweep reads sweep name.
func (fx *fixture) sweep(name string) *results.Sweep {
	fx.t.Helper()
	sw, err := fx.s.Sweep(fx.ctx, name)
	if err != nil {
		fx.t.Fatal(err)
	}
	return sw
}

// dump reads the whole of sweep.
func (fx *fixture) dump(sweep string) *results.Dump {
	fx.t.Helper()
	d, err := fx.s.Dump(fx.ctx, sweep)
	if err != nil {
		fx.t.Fatal(err)
	}
	return d
}

// unchanged fails the test if sweep is not as before (a Dump of it), after
// what.
func (fx *fixture) unchanged(sweep string, before *results.Dump, what string) {
	fx.t.Helper()
	if ds := diff(before, fx.dump(sweep)); len(ds) > 0 {
		fx.t.Errorf("%s changed sweep %q:\n\t%s", what, sweep, strings.Join(ds, "\n\t"))
	}
}

// start starts a new trial of adaptive sweep as o through ClaimNext, with
// key, towards target, recording decision (nil: none).
func (fx *fixture) start(sweep string, o results.Owner, key string, target int, decision []byte) *results.Trial {
	fx.t.Helper()
	tr, ck, err := fx.s.ClaimNext(fx.ctx, sweep, o, now(), never, plan(results.Plan{Action: results.PlanStart, Trial: adaptiveTrial(key, target), Decision: decision}))
	if err != nil {
		fx.t.Fatal(err)
	}
	if ck != nil {
		fx.t.Errorf("a started trial came with a checkpoint: %+v", ck)
	}
	return tr
}

// promote promotes paused trial n of sweep as o through ClaimNext, towards
// target, returning it with its checkpoint.
func (fx *fixture) promote(sweep string, o results.Owner, n, target int, decision []byte) (*results.Trial, *results.Checkpoint) {
	fx.t.Helper()
	tr, ck, err := fx.s.ClaimNext(fx.ctx, sweep, o, now(), never, plan(results.Plan{Action: results.PlanPromote, Number: n, Target: target, Decision: decision}))
	if err != nil {
		fx.t.Fatal(err)
	}
	if tr.Number != n {
		fx.t.Fatalf("promotion of trial %d claimed trial %d", n, tr.Number)
	}
	return tr, ck
}

// pause pauses trial n of sweep as o at resource r with value v, its
// checkpoint rungCheckpoint(n, r).
func (fx *fixture) pause(sweep string, o results.Owner, n, r int, v float64) {
	fx.t.Helper()
	fx.must(fx.s.Pause(fx.ctx, sweep, n, o, now(), rungCheckpoint(n, r), history(r),
		results.Eval{Resource: r, Value: v}, results.Metrics{ValAcc: v, ValLoss: 2 - v, Epochs: float64(r)}, 1))
}

// wantErr fails the test unless err is an error wrapping target (any
// error when target is nil) whose message names sweep and contains every
// one of words as a word.
func wantErr(t *testing.T, what string, err, target error, sweep string, words ...string) {
	t.Helper()
	switch {
	case err == nil:
		t.Errorf("%s succeeded, want an error wrapping %v", what, target)
		return
	case target != nil && !errors.Is(err, target):
		t.Errorf("%s: %v, want an error wrapping %q", what, err, target)
		return
	case errors.Is(err, results.ErrCorrupt):
		t.Errorf("%s: %v: a refusal reported as a corruption", what, err)
	}
	if !strings.Contains(err.Error(), sweep) {
		t.Errorf("%s: %q does not name sweep %q", what, err, sweep)
	}
	for _, w := range words {
		if !hasWord(err.Error(), w) {
			t.Errorf("%s: %q does not give %s", what, err, w)
		}
	}
}

// hasWord reports whether s contains w delimited by non-word characters:
// 3 in "trials 3, 14", not in "trial 13".
func hasWord(s, w string) bool {
	return regexp.MustCompile(`(^|\W)` + regexp.QuoteMeta(w) + `($|\W)`).MatchString(s)
}

// words formats trial numbers for wantErr.
func words(ns ...int) []string {
	out := make([]string, len(ns))
	for i, n := range ns {
		out[i] = fmt.Sprint(n)
	}
	return out
}
