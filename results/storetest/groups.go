package storetest

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// grouped returns grid(len(labels)) with the given Group labels.
func grouped(labels ...int) []results.Trial {
	ts := grid(len(labels))
	for i, l := range labels {
		ts[i].Group = l
	}
	return ts
}

// groupsOf returns the groups of trials ts, in their order.
func groupsOf(ts []results.Trial) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		out[i] = t.Group
	}
	return out
}

// numbersOf returns the numbers of trials ts, in their order.
func numbersOf[T results.Trial | *results.Trial](ts []T) []int {
	out := make([]int, len(ts))
	for i, t := range ts {
		switch t := any(t).(type) {
		case results.Trial:
			out[i] = t.Number
		case *results.Trial:
			out[i] = t.Number
		}
	}
	return out
}

// claimGroup claims a group of sweep as o, failing the test if there is none.
func (fx *fixture) claimGroup(sweep string, o results.Owner, stale func(results.Lease) bool) *results.GroupClaim {
	fx.t.Helper()
	gc, err := fx.s.ClaimGroup(fx.ctx, sweep, o, now(), stale)
	if err != nil {
		fx.t.Fatal(err)
	}
	if len(gc.Trials) == 0 || len(gc.Checkpoints) != len(gc.Trials) {
		fx.t.Fatalf("ClaimGroup returned %d trials and %d checkpoints", len(gc.Trials), len(gc.Checkpoints))
	}
	return gc
}

// claimGroupN claims group g of sweep as o, whose unfinished members are
// trials ns, failing the test if ClaimGroup takes anything else.
func (fx *fixture) claimGroupN(sweep string, g int, ns []int, o results.Owner, stale func(results.Lease) bool) *results.GroupClaim {
	fx.t.Helper()
	gc := fx.claimGroup(sweep, o, stale)
	if got := numbersOf(gc.Trials); gc.Group != g || !slices.Equal(got, ns) {
		fx.t.Fatalf("ClaimGroup took group %d, trials %v; want group %d, trials %v", gc.Group, got, g, ns)
	}
	for _, tr := range gc.Trials {
		if tr.Group != g || tr.Status != results.Running || tr.Lease == nil || !sameOwner(tr.Lease.Owner, o) || tr.Started.IsZero() {
			fx.t.Errorf("claimed trial %d: group %d, %s, lease %+v", tr.Number, tr.Group, tr.Status, tr.Lease)
		}
	}
	return gc
}

// groupCheckpoint is trial n's checkpoint number k.
func groupCheckpoint(n, k int) results.Checkpoint {
	return results.Checkpoint{Epoch: float64(k), Iteration: 100 * k, Data: fmt.Appendf(nil, "trial %d checkpoint %d", n, k)}
}

// checkpointsOf returns the checkpoints of a claim's trials, each number
// k, written in the attempts the claim gave.
func checkpointsOf(gc *results.GroupClaim, k int) []results.TrialCheckpoint {
	var out []results.TrialCheckpoint
	for _, tr := range gc.Trials {
		out = append(out, results.TrialCheckpoint{Trial: tr.Number, Attempt: tr.Attempts, Checkpoint: groupCheckpoint(tr.Number, k), History: history(k)})
	}
	return out
}

// testGroups: EnsureSweep makes groups of labels; ClaimGroup claims a
// group whole or passes over it; SaveCheckpoints writes all or nothing.
func testGroups(t *testing.T, f Factory) {
	t.Run("EnsureSweep", func(t *testing.T) { groupsEnsure(t, f) })
	t.Run("Lone", func(t *testing.T) {
		fx := newFixture(t, f)
		fx.ensure(results.Sweep{Name: "g"}, grouped(0, 3, 3))
		o := owner("a")
		gc := fx.claimGroupN("g", 0, []int{1}, o, never)
		if gc.Checkpoints[0] != nil || len(gc.Finished) != 0 || gc.Trials[0].Attempts != 1 || gc.Trials[0].Decisions != nil {
			t.Errorf("claim of a lone trial = %+v, trial %+v", gc, gc.Trials[0])
		}
		got, _ := fx.trial("g", 1)
		checkDiff(t, "the claimed lone trial as read", got, gc.Trials[0])
		gc = fx.claimGroupN("g", 1, []int{2, 3}, o, never)
		_, err := fx.s.ClaimGroup(fx.ctx, "g", o, now(), never)
		wantErr(t, "ClaimGroup with every trial running", err, results.ErrNoWork, "g")
		for _, tr := range gc.Trials {
			got, _ := fx.trial("g", tr.Number)
			checkDiff(t, fmt.Sprintf("claimed trial %d as read", tr.Number), got, tr)
		}
	})
	t.Run("Whole", func(t *testing.T) { groupsWhole(t, f) })
	t.Run("PassedOver", func(t *testing.T) { groupsPassedOver(t, f) })
	t.Run("Stale", func(t *testing.T) {
		fx := newFixture(t, f)
		fx.ensure(results.Sweep{Name: "g"}, grouped(1, 1, 1))
		a, b := owner("a"), owner("b")
		first := fx.claimGroupN("g", 1, []int{1, 2, 3}, a, never)
		fx.must(fx.s.SaveCheckpoints(fx.ctx, "g", a, now(), checkpointsOf(first, 1)))
		fx.must(fx.s.Release(fx.ctx, "g", 2, a, now(), nil, nil, 1))
		_, err := fx.s.ClaimGroup(fx.ctx, "g", b, now(), never)
		wantErr(t, "ClaimGroup of a group two of whose members run under live leases", err, results.ErrNoWork, "g")
		// a is presumed dead: its leases are stale; the group is taken whole.
		gc := fx.claimGroupN("g", 1, []int{1, 2, 3}, b, staleOf("a"))
		for i, tr := range gc.Trials {
			if tr.Attempts != 2 || !tr.Started.Equal(first.Trials[i].Started) {
				t.Errorf("reclaimed trial %d: attempt %d, started %v; want 2, %v", tr.Number, tr.Attempts, tr.Started, first.Trials[i].Started)
			}
			checkDiff(t, fmt.Sprintf("the checkpoint of reclaimed trial %d", tr.Number), ptr(groupCheckpoint(tr.Number, 1)), gc.Checkpoints[i])
		}
		// a wakes: its writes are refused, writing nothing.
		before := fx.dump("g")
		err = fx.s.SaveCheckpoints(fx.ctx, "g", a, now(), checkpointsOf(first, 2))
		wantErr(t, "SaveCheckpoints of a group reclaimed from a", err, results.ErrLeaseLost, "g")
		fx.unchanged("g", before, "a refused SaveCheckpoints")
		// An interrupted group is reclaimed whole, with no stale function.
		for _, tr := range gc.Trials {
			fx.must(fx.s.Release(fx.ctx, "g", tr.Number, b, now(), nil, nil, 1))
		}
		gc = fx.claimGroupN("g", 1, []int{1, 2, 3}, a, nil)
		for _, tr := range gc.Trials {
			if tr.Attempts != 3 {
				t.Errorf("trial %d: attempt %d, want 3", tr.Number, tr.Attempts)
			}
		}
	})
	t.Run("NoWork", func(t *testing.T) {
		fx := newFixture(t, f)
		fx.ensure(results.Sweep{Name: "empty1"}, nil)
		_, err := fx.s.ClaimGroup(fx.ctx, "empty1", owner("a"), now(), always)
		wantErr(t, "ClaimGroup in a sweep without trials", err, results.ErrNoWork, "empty1")
		if errors.Is(err, results.ErrWait) {
			t.Errorf("ClaimGroup: %v is ErrWait", err)
		}
		_, err = fx.s.ClaimGroup(fx.ctx, "no-such-sweep", owner("a"), now(), always)
		wantErr(t, "ClaimGroup of an unknown sweep", err, results.ErrNoSweep, "no-such-sweep")
		err = fx.s.SaveCheckpoints(fx.ctx, "no-such-sweep", owner("a"), now(), []results.TrialCheckpoint{{Trial: 1}})
		wantErr(t, "SaveCheckpoints of an unknown sweep", err, results.ErrNoSweep, "no-such-sweep")
		fx.ensure(results.Sweep{Name: "g"}, grouped(1, 1))
		o := owner("a")
		gc := fx.claimGroupN("g", 1, []int{1, 2}, o, never)
		for _, tr := range gc.Trials {
			fx.finish("g", tr.Number, o, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}})
		}
		_, err = fx.s.ClaimGroup(fx.ctx, "g", o, now(), always)
		wantErr(t, "ClaimGroup of a finished group", err, results.ErrNoWork, "g")
	})
	t.Run("SaveCheckpoints", func(t *testing.T) { groupsSaveCheckpoints(t, f) })
}

func groupsEnsure(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	sw := results.Sweep{Name: "g", Spec: spec("g")}
	labels := []int{5, 5, 0, 9, 9, 9, 5}
	if added := fx.ensure(sw, grouped(labels...)); !slices.Equal(added, seq(1, 7)) {
		t.Fatalf("added %v, want 1..7", added)
	}
	want := []int{1, 1, 0, 2, 2, 2, 1}
	if got := groupsOf(fx.trials("g")); !slices.Equal(got, want) {
		t.Fatalf("groups %v, want %v (labels %v)", got, want, labels)
	}
	// Again, with the same labels and with others: nothing is added, no
	// group changes.
	for _, again := range [][]int{labels, {1, 2, 3, 4, 5, 6, 7}} {
		if added := fx.ensure(sw, grouped(again...)); len(added) != 0 {
			t.Errorf("EnsureSweep again (labels %v) added %v", again, added)
		}
		if got := groupsOf(fx.trials("g")); !slices.Equal(got, want) {
			t.Errorf("after EnsureSweep again (labels %v): groups %v, want %v", again, got, want)
		}
	}
	// Extended: the new trials' labels make new groups, after the last,
	// even a label used before (5); the old trials' labels are ignored.
	ext := grouped(3, 3, 3, 3, 3, 3, 3, 4, 0, 4, 5, 1)
	if added := fx.ensure(sw, ext); !slices.Equal(added, seq(8, 12)) {
		t.Fatalf("the extension added %v, want 8..12", added)
	}
	want = append(want, 3, 0, 3, 4, 5)
	if got := groupsOf(fx.trials("g")); !slices.Equal(got, want) {
		t.Fatalf("after the extension: groups %v, want %v", got, want)
	}
	// A sweep made without groups is extended with them after none.
	fx.grid("plain", 2, 3)
	fx.ensure(results.Sweep{Name: "plain"}, grouped(0, 0, 8, 8))
	if got := groupsOf(fx.trials("plain")); !slices.Equal(got, []int{0, 0, 1, 1}) {
		t.Errorf("plain sweep extended: groups %v, want [0 0 1 1]", got)
	}

	// Group reads back everywhere: Trial, Running, Claim, Dump, Load.
	for n, g := range want {
		if tr, _ := fx.trial("g", n+1); tr.Group != g {
			t.Errorf("Trial(%d): group %d, want %d", n+1, tr.Group, g)
		}
	}
	o := owner("a")
	fx.claimGroupN("g", 1, []int{1, 2, 7}, o, never)
	if tr, _ := fx.claimN("g", 3, o, never); tr.Group != 0 {
		t.Errorf("Claim of trial 3: group %d", tr.Group)
	}
	if tr, _ := fx.claimN("g", 4, o, never); tr.Group != 2 {
		t.Errorf("Claim of trial 4: group %d, want 2", tr.Group)
	}
	running, err := fx.s.Running(fx.ctx, "g")
	fx.must(err)
	if got := groupsOf(running); !slices.Equal(got, []int{1, 1, 0, 2, 1}) {
		t.Errorf("Running: groups %v, want [1 1 0 2 1]", got)
	}
	fx.finish("g", 7, o, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}})
	d := fx.dump("g")
	if got := groupsOf(dumpTrials(d)); !slices.Equal(got, want) {
		t.Errorf("Dump: groups %v, want %v", got, want)
	}
	dst := newFixture(t, f)
	dst.must(dst.s.Load(dst.ctx, d, false))
	checkDiff(t, "the loaded grouped sweep's dump", d, dst.dump("g"))
	// The loaded sweep's groups go on: a new label makes group 6.
	dst.ensure(sw, grouped(append(labels, 0, 0, 0, 0, 0, 7)...))
	if tr, _ := dst.trial("g", 13); tr.Group != 6 {
		t.Errorf("the loaded sweep extended: trial 13 is in group %d, want 6", tr.Group)
	}
	// Its group 1, with a member done, is claimed with that member.
	for _, n := range []int{1, 2} {
		dst.must(dst.s.Release(dst.ctx, "g", n, o, now(), nil, nil, 1))
	}
	gc := dst.claimGroupN("g", 1, []int{1, 2}, owner("b"), never)
	if got := numbersOf(gc.Finished); !slices.Equal(got, []int{7}) {
		t.Errorf("the loaded group's finished members: %v, want [7]", got)
	}
}

// dumpTrials returns the trials of d.
func dumpTrials(d *results.Dump) []results.Trial {
	out := make([]results.Trial, len(d.Trials))
	for i, td := range d.Trials {
		out[i] = td.Trial
	}
	return out
}

func groupsWhole(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.ensure(results.Sweep{Name: "g"}, grouped(1, 1, 1, 1, 0))
	a, b := owner("a"), owner("b")
	first := fx.claimGroupN("g", 1, []int{1, 2, 3, 4}, a, never)
	for i, tr := range first.Trials {
		if tr.Attempts != 1 || first.Checkpoints[i] != nil {
			t.Errorf("first claim of trial %d: attempt %d, checkpoint %v", tr.Number, tr.Attempts, first.Checkpoints[i])
		}
	}
	if len(first.Finished) != 0 {
		t.Errorf("a new group has finished members %v", numbersOf(first.Finished))
	}
	fx.must(fx.s.SaveCheckpoints(fx.ctx, "g", a, now(), checkpointsOf(first, 1)))
	fx.finish("g", 1, a, results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.6, ValLoss: 1}, Duration: 1})
	fx.finish("g", 2, a, results.Outcome{Status: results.Diverged, Metrics: divergedMetrics, Duration: 1})
	released := groupCheckpoint(3, 2)
	fx.must(fx.s.Release(fx.ctx, "g", 3, a, now(), &released, history(2), 1))
	// Trial 4 still runs under a's lease: stale to b.
	gc := fx.claimGroupN("g", 1, []int{3, 4}, b, staleOf("a"))
	for _, tr := range gc.Trials {
		if tr.Attempts != 2 || !tr.Started.Equal(first.Trials[tr.Number-1].Started) {
			t.Errorf("reclaimed trial %d: attempt %d, started %v", tr.Number, tr.Attempts, tr.Started)
		}
		got, _ := fx.trial("g", tr.Number)
		checkDiff(t, fmt.Sprintf("reclaimed trial %d as read", tr.Number), got, tr)
	}
	checkDiff(t, "the released trial's checkpoint", &released, gc.Checkpoints[0])
	checkDiff(t, "the running trial's checkpoint", ptr(groupCheckpoint(4, 1)), gc.Checkpoints[1])
	if got := numbersOf(gc.Finished); !slices.Equal(got, []int{1, 2}) {
		t.Fatalf("finished members %v, want [1 2]", got)
	}
	for _, fin := range gc.Finished {
		got, _ := fx.trial("g", fin.Number)
		got.Decisions = nil
		checkDiff(t, fmt.Sprintf("finished member %d", fin.Number), got, &fin)
	}
	// The lone trial is next, then nothing.
	fx.claimGroupN("g", 0, []int{5}, b, never)
	_, err := fx.s.ClaimGroup(fx.ctx, "g", b, now(), never)
	wantErr(t, "ClaimGroup with every trial running or finished", err, results.ErrNoWork, "g")
}

func groupsPassedOver(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.ensure(results.Sweep{Name: "g"}, grouped(1, 2, 1, 2, 0))
	a, b := owner("a"), owner("b")
	fx.claimGroupN("g", 1, []int{1, 3}, a, never)
	fx.must(fx.s.Release(fx.ctx, "g", 1, a, now(), nil, nil, 1))
	// Trial 1 is claimable, but its group is not: trial 3 runs under a's
	// live lease. Group 2 is next, then trial 5, then nothing.
	fx.claimGroupN("g", 2, []int{2, 4}, b, never)
	fx.claimGroupN("g", 0, []int{5}, b, staleOf("nobody"))
	before := fx.dump("g")
	_, err := fx.s.ClaimGroup(fx.ctx, "g", b, now(), never)
	wantErr(t, "ClaimGroup with a group split between a live lease and an interrupted member", err, results.ErrNoWork, "g")
	fx.unchanged("g", before, "a ClaimGroup that found no work")
	// a's lease stale, the group is whole again.
	gc := fx.claimGroupN("g", 1, []int{1, 3}, b, staleOf("a"))
	if gc.Trials[0].Attempts != 2 || gc.Trials[1].Attempts != 2 {
		t.Errorf("attempts %d and %d, want 2", gc.Trials[0].Attempts, gc.Trials[1].Attempts)
	}

	// A paused member holds its group back, whatever the stale function.
	fx.ensure(results.Sweep{Name: "p"}, grouped(1, 1, 0))
	fx.claimGroupN("p", 1, []int{1, 2}, a, never)
	fx.pause("p", a, 1, 1, 0.5)
	fx.must(fx.s.Release(fx.ctx, "p", 2, a, now(), nil, nil, 1))
	fx.claimGroupN("p", 0, []int{3}, a, always)
	fx.finish("p", 3, a, results.Outcome{Status: results.Failed, Error: "boom"})
	_, err = fx.s.ClaimGroup(fx.ctx, "p", b, now(), always)
	wantErr(t, "ClaimGroup of a group with a paused member", err, results.ErrNoWork, "p")
}

func groupsSaveCheckpoints(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	fx.ensure(results.Sweep{Name: "g"}, grouped(1, 1, 1))
	a, b := owner("a"), owner("b")
	gc := fx.claimGroupN("g", 1, []int{1, 2, 3}, a, never)
	cks := checkpointsOf(gc, 1)
	fx.must(fx.s.SaveCheckpoints(fx.ctx, "g", a, now(), cks))
	d := fx.dump("g")
	for i, td := range d.Trials {
		tr := td.Trial
		if tr.Epoch != 1 || tr.Iteration != 100 || !tr.Lease.Heartbeat.After(tr.Lease.Claimed) {
			t.Errorf("trial %d after SaveCheckpoints: epoch %v, iteration %d, lease %+v", tr.Number, tr.Epoch, tr.Iteration, tr.Lease)
		}
		checkDiff(t, fmt.Sprintf("trial %d's checkpoint", i+1), &cks[i].Checkpoint, td.Checkpoint)
		checkDiff(t, fmt.Sprintf("trial %d's history", i+1), history(1), td.History)
	}
	// Attempt 0 is no fencing token; a trial listed twice is written twice, the last wins.
	again := checkpointsOf(gc, 2)
	again[1].Attempt = 0
	again = append(again, results.TrialCheckpoint{Trial: 1, Attempt: 1, Checkpoint: groupCheckpoint(1, 3), History: history(3)})
	fx.must(fx.s.SaveCheckpoints(fx.ctx, "g", a, now(), again))
	d = fx.dump("g")
	checkDiff(t, "trial 1's checkpoint, written twice", ptr(groupCheckpoint(1, 3)), d.Trials[0].Checkpoint)
	checkDiff(t, "trial 2's checkpoint", ptr(groupCheckpoint(2, 2)), d.Trials[1].Checkpoint)
	if d.Trials[0].Trial.Epoch != 3 || len(d.Trials[0].History) != 3 {
		t.Errorf("trial 1 after its second checkpoint: epoch %v, %d epochs of history", d.Trials[0].Trial.Epoch, len(d.Trials[0].History))
	}
	fx.must(fx.s.SaveCheckpoints(fx.ctx, "g", a, now(), nil))

	// One member not held: nothing is written.
	refused := func(what string, cks []results.TrialCheckpoint, o results.Owner, n int) {
		t.Helper()
		before := fx.dump("g")
		err := fx.s.SaveCheckpoints(fx.ctx, "g", o, now(), cks)
		wantErr(t, "SaveCheckpoints "+what, err, results.ErrLeaseLost, "g", fmt.Sprint(n))
		fx.unchanged("g", before, "SaveCheckpoints "+what)
	}
	wrong := checkpointsOf(gc, 4)
	wrong[1].Attempt = 2
	refused("with trial 2's attempt wrong", wrong, a, 2)
	refused("by another owner", checkpointsOf(gc, 4), b, 1)
	fx.must(fx.s.Release(fx.ctx, "g", 3, a, now(), nil, nil, 1))
	refused("with trial 3 released", checkpointsOf(gc, 4), a, 3)
	fx.claimN("g", 3, b, never) // Claim takes a member alone
	refused("with trial 3 held by b", checkpointsOf(gc, 4), a, 3)
	before := fx.dump("g")
	err := fx.s.SaveCheckpoints(fx.ctx, "g", a, now(), append(checkpointsOf(gc, 4)[:2], results.TrialCheckpoint{Trial: 9}))
	wantErr(t, "SaveCheckpoints of trial 9", err, nil, "g", "9")
	if !errors.Is(err, results.ErrNoTrial) && !errors.Is(err, results.ErrLeaseLost) {
		t.Errorf("SaveCheckpoints of trial 9: %v, want ErrNoTrial or ErrLeaseLost", err)
	}
	fx.unchanged("g", before, "SaveCheckpoints of trial 9")
}

// concurrentClaimGroups: claims of groups from several stores, several
// goroutines each, take every group whole, once.
func concurrentClaimGroups(t *testing.T, f Factory) {
	fx := newFixture(t, f)
	// 28 trials: 8 groups of 3, interleaved in pairs, and 4 lone trials.
	var labels []int
	for i := range 28 {
		if i%7 == 6 {
			labels = append(labels, 0)
		} else {
			labels = append(labels, (i/7)*2+(i%7)%2+1)
		}
	}
	fx.ensure(results.Sweep{Name: "groups1", Spec: spec("groups1")}, grouped(labels...))
	members := map[int][]int{} // group -> its trials
	for _, tr := range fx.trials("groups1") {
		if tr.Group != 0 {
			members[tr.Group] = append(members[tr.Group], tr.Number)
		}
	}
	if len(members) != 8 {
		t.Fatalf("%d groups, want 8", len(members))
	}
	stores := []results.Store{fx.s, fx.open(t), fx.open(t)}
	const workers = 6
	var (
		mu     sync.Mutex
		claims = map[int][]string{} // trial -> the claims that took it
		wg     sync.WaitGroup
		meet   = newMeeting(2)
	)
	for w := range workers {
		s, o := stores[w%len(stores)], owner(fmt.Sprint("w", w))
		wg.Go(func() {
			for i := 0; ; i++ {
				gc, err := s.ClaimGroup(fx.ctx, "groups1", o, now(), never)
				if errors.Is(err, results.ErrNoWork) {
					return
				}
				if err != nil {
					t.Errorf("%s: %v", o.ID, err)
					return
				}
				id := fmt.Sprintf("%s#%d", o.ID, i)
				got := numbersOf(gc.Trials)
				if want := members[gc.Group]; gc.Group != 0 && !slices.Equal(got, want) {
					t.Errorf("%s took trials %v of group %d, whose members are %v", id, got, gc.Group, want)
				}
				if gc.Group == 0 && len(got) != 1 {
					t.Errorf("%s took trials %v of no group", id, got)
				}
				mu.Lock()
				for _, n := range got {
					claims[n] = append(claims[n], id)
				}
				mu.Unlock()
				if i == 0 {
					if err := meet.arrive(fx.ctx); err != nil {
						t.Errorf("%s: %v", o.ID, err)
						return
					}
				}
				if err := s.SaveCheckpoints(fx.ctx, "groups1", o, now(), checkpointsOf(gc, 1)); err != nil {
					t.Errorf("%s: %v", id, err)
				}
				for _, tr := range gc.Trials {
					held := o
					held.Attempt = tr.Attempts
					acc := float64(tr.Number%7) / 10
					if err := s.Finish(fx.ctx, "groups1", tr.Number, held, now(), results.Outcome{Status: results.Done,
						Metrics: results.Metrics{ValAcc: acc, ValLoss: 2 - acc}, Duration: 1}); err != nil {
						t.Errorf("%s: %v", id, err)
					}
				}
			}
		})
	}
	wg.Wait()
	for n := 1; n <= len(labels); n++ {
		if len(claims[n]) != 1 {
			t.Errorf("trial %d claimed by %v, want once", n, claims[n])
		}
	}
	for g, ns := range members {
		for _, n := range ns[1:] {
			if !slices.Equal(claims[n], claims[ns[0]]) {
				t.Errorf("group %d split: trial %d claimed by %v, trial %d by %v", g, ns[0], claims[ns[0]], n, claims[n])
			}
		}
	}
	for _, tr := range fx.trials("groups1") {
		if tr.Status != results.Done || tr.Attempts != 1 || tr.Lease != nil || tr.Epoch != 1 {
			t.Errorf("trial %d: %s, attempt %d, lease %v, epoch %v", tr.Number, tr.Status, tr.Attempts, tr.Lease, tr.Epoch)
		}
	}
}
