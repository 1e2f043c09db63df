package trial

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// call is a Recorder call, as a faultyStore's fail sees it.
type call struct {
	op     string // claim, heartbeat, checkpoint, finish, release
	trial  int    // 0 for claim and heartbeat
	trials []int  // heartbeat
	ck     *results.Checkpoint
	now    time.Time
	n      int   // the number of earlier calls of op (for this trial)
	seq    int   // the number of earlier calls
	done   bool  // the call has returned
	err    error // what it returned
}

// faultyStore is a Recorder around a real store that fails the calls fail
// returns an error for, instead of making them. It keeps every call.
type faultyStore struct {
	inner Recorder
	fail  func(c call) error

	mu       sync.Mutex
	calls    []call
	seen     map[string]int
	seq      int        // calls made so far
	returned *sync.Cond // broadcast when a call returns
}

var _ Recorder = (*faultyStore)(nil)

func (s *faultyStore) Running(ctx context.Context, sweep string) ([]results.Trial, error) {
	return s.inner.Running(ctx, sweep)
}

func (s *faultyStore) do(c call, f func() error) error {
	s.mu.Lock()
	if s.seen == nil {
		s.seen = map[string]int{}
		s.returned = sync.NewCond(&s.mu)
	}
	key := fmt.Sprint(c.op, c.trial)
	c.n = s.seen[key]
	c.seq = s.seq
	s.seq++
	s.seen[key]++
	i := len(s.calls)
	s.calls = append(s.calls, c)
	s.mu.Unlock()
	var err error
	if s.fail != nil {
		err = s.fail(c)
	}
	if err == nil {
		err = f()
	}
	s.mu.Lock()
	s.calls[i].done, s.calls[i].err = true, err
	s.returned.Broadcast()
	s.mu.Unlock()
	return err
}

// await waits until calls of op for trial (as made returns them) satisfy
// ok.
func (s *faultyStore) await(op string, trial int, ok func([]call) bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !ok(s.madeLocked(op, trial)) {
		s.returned.Wait()
	}
}

// landed reports whether call c was made and succeeded.
func landed(c call) bool { return c.done && c.err == nil }

// attempted reports whether a write of the checkpoint at iteration it (or
// a later one) has returned, or one failed (which ends the saves).
func attempted(it int) func([]call) bool {
	return func(cs []call) bool {
		for _, c := range cs {
			if c.done && (c.err != nil || c.ck.Iteration >= it) {
				return true
			}
		}
		return false
	}
}

// made returns the calls made of op for trial (0: any).
func (s *faultyStore) made(op string, trial int) []call {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.madeLocked(op, trial)
}

func (s *faultyStore) madeLocked(op string, trial int) []call {
	var out []call
	for _, c := range s.calls {
		if c.op == op && (trial == 0 || c.trial == trial || slices.Contains(c.trials, trial)) {
			out = append(out, c)
		}
	}
	return out
}

func (s *faultyStore) Claim(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool) (t *results.Trial, ck *results.Checkpoint, err error) {
	err = s.do(call{op: "claim", now: now}, func() error {
		t, ck, err = s.inner.Claim(ctx, sweep, owner, now, stale)
		return err
	})
	return t, ck, err
}

func (s *faultyStore) ClaimGroup(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool) (g *results.GroupClaim, err error) {
	err = s.do(call{op: "claim", now: now}, func() error {
		gs, ok := s.inner.(Grouper)
		if !ok { // a Recorder of single trials
			t, ck, err := s.inner.Claim(ctx, sweep, owner, now, stale)
			if err == nil {
				g = &results.GroupClaim{Trials: []*results.Trial{t}, Checkpoints: []*results.Checkpoint{ck}}
			}
			return err
		}
		g, err = gs.ClaimGroup(ctx, sweep, owner, now, stale)
		return err
	})
	return g, err
}

func (s *faultyStore) SaveCheckpoints(ctx context.Context, sweep string, owner results.Owner, now time.Time, cks []results.TrialCheckpoint) error {
	c := call{op: "checkpoints", now: now}
	for _, ck := range cks {
		c.trials = append(c.trials, ck.Trial)
	}
	if len(cks) > 0 {
		c.ck = &cks[0].Checkpoint
	}
	return s.do(c, func() error {
		return s.inner.(Grouper).SaveCheckpoints(ctx, sweep, owner, now, cks)
	})
}

func (s *faultyStore) Heartbeat(ctx context.Context, sweep string, trials []int, owner results.Owner, now time.Time) error {
	return s.do(call{op: "heartbeat", trials: slices.Clone(trials), now: now}, func() error {
		return s.inner.Heartbeat(ctx, sweep, trials, owner, now)
	})
}

func (s *faultyStore) SaveCheckpoint(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck results.Checkpoint, hist []results.Epoch) error {
	return s.do(call{op: "checkpoint", trial: trial, ck: &ck, now: now}, func() error {
		return s.inner.SaveCheckpoint(ctx, sweep, trial, owner, now, ck, hist)
	})
}

func (s *faultyStore) Finish(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, o results.Outcome) error {
	return s.do(call{op: "finish", trial: trial, now: now}, func() error {
		return s.inner.Finish(ctx, sweep, trial, owner, now, o)
	})
}

func (s *faultyStore) Release(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck *results.Checkpoint, hist []results.Epoch, duration float64) error {
	return s.do(call{op: "release", trial: trial, ck: ck, now: now}, func() error {
		return s.inner.Release(ctx, sweep, trial, owner, now, ck, hist, duration)
	})
}

// errLocked is what the store returns when another process holds the
// database past its timeout.
var errLocked = fmt.Errorf("test: %w (waited 10s)", results.ErrLocked)

// errDiskFull is a write that found the disk full, as the store returns it.
var errDiskFull = fmt.Errorf("test: write sweep.db: %w", syscall.ENOSPC)

// refusalClock is a pool clock (Pool.Now) that advances by step only when
// the store refuses a write (time passes while the database is locked), so
// that when leases expire depends on the number of refusals, not on how
// fast this machine trains.
type refusalClock struct {
	base time.Time
	step time.Duration
	n    atomic.Int64
}

func newRefusalClock(step time.Duration) *refusalClock {
	return &refusalClock{base: time.Now(), step: step}
}

func (c *refusalClock) now() time.Time { return c.base.Add(time.Duration(c.n.Load()) * c.step) }

// refuse advances the clock and returns the store's error for a locked
// database.
func (c *refusalClock) refuse() error {
	c.n.Add(1)
	return errLocked
}

// events collects a pool's events.
type events struct {
	mu  sync.Mutex
	all []Event
}

func (ev *events) add(e Event) {
	ev.mu.Lock()
	ev.all = append(ev.all, e)
	ev.mu.Unlock()
}

func (ev *events) of(k EventKind) []Event {
	ev.mu.Lock()
	defer ev.mu.Unlock()
	var out []Event
	for _, e := range ev.all {
		if e.Kind == k {
			out = append(out, e)
		}
	}
	return out
}

// TestLockedDatabaseIsRetried: claims, checkpoints and outcomes refused
// because another process holds the database are tried again, and the
// sweep ends as an undisturbed one does.
func TestLockedDatabaseIsRetried(t *testing.T) {
	undisturbed := newFixture(t, testSpec)
	if _, err := undisturbed.pool(2).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := undisturbed.outcomes(t)

	const refusals = 3 // per operation and trial
	f := newFixture(t, testSpec)
	clock := newRefusalClock(time.Millisecond)
	fs := &faultyStore{inner: f.store, fail: func(c call) error {
		if c.n < refusals {
			return clock.refuse()
		}
		return nil
	}}
	var ev events
	p := f.pool(2)
	p.Store = fs
	p.Events = func(e Event) {
		ev.add(e)
		if e.Kind == EpochDone && e.Epoch.Epoch == 3 {
			// Training outruns the retries: hold it until a checkpoint has
			// landed after the refusals, rather than let the outcome
			// supersede them.
			fs.await("checkpoint", e.Trial.Number, func(cs []call) bool {
				return len(cs) > refusals && cs[len(cs)-1].done
			})
		}
	}
	p.LeaseTTL = 10 * time.Second // waits of about 100 ms, 200 ms, 400 ms
	p.Now = clock.now
	stats, err := p.Run(t.Context())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if stats.Trained != 6 || stats.LeaseLost != 0 || stats.Interrupted != 0 {
		t.Errorf("stats %+v, want 6 trained", stats)
	}
	assertSameOutcomes(t, "with a locked database", want, f.outcomes(t))
	if n := len(fs.made("claim", 0)); n < refusals+7 { // 6 trials and the final ErrNoWork, after 3 refusals
		t.Errorf("%d claims made, want at least %d", n, refusals+7)
	}
	for _, tr := range f.trials(t) {
		ops := []string{"finish"}
		if tr.Status == results.Done {
			ops = append(ops, "checkpoint") // the diverged end before their first
		}
		for _, op := range ops {
			calls := fs.made(op, tr.Number)
			if len(calls) <= refusals || !slices.ContainsFunc(calls[refusals:], landed) {
				t.Errorf("trial %d: %d %s calls, want the %d refused and one that landed", tr.Number, len(calls), op, refusals)
			}
		}
	}
	retries := ev.of(Retrying)
	if len(retries) < 3*refusals {
		t.Errorf("%d Retrying events, want at least %d", len(retries), 3*refusals)
	}
	for _, e := range retries {
		if !errors.Is(e.Err, results.ErrLocked) {
			t.Errorf("Retrying event with error %v, want ErrLocked", e.Err)
		}
	}
}

// TestLockedForeverLosesOnlyThatTrial: when a trial's writes are refused
// for as long as its lease lasts, the pool stops retrying them before its
// lease expires, leaves the trial to whoever reclaims it and trains the
// others; the run does not fail.
func TestLockedForeverLosesOnlyThatTrial(t *testing.T) {
	f := newFixture(t, testSpec)
	const victim = 2
	// The lease lasts 10 refusals of the victim's writes (its heartbeats,
	// refused too, do not count: the backoff's real waits are all that
	// bounds how many of them are made).
	clock := newRefusalClock(100 * time.Millisecond)
	fs := &faultyStore{inner: f.store, fail: func(c call) error {
		switch {
		case c.trial == victim:
			return clock.refuse()
		case slices.Contains(c.trials, victim):
			return errLocked
		}
		return nil
	}}
	var ev events
	p := f.pool(2)
	mark := -1 // fs's calls when the victim's lease was lost
	p.Store, p.Now = fs, clock.now
	p.Events = func(e Event) {
		if e.Kind == LeaseLost {
			fs.mu.Lock()
			mark = fs.seq
			fs.mu.Unlock()
		}
		ev.add(e)
	}
	p.LeaseTTL = time.Second // waits of 10 ms doubling to 83 ms
	stats, err := p.Run(t.Context())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if stats.Trained != 5 || stats.LeaseLost != 1 || stats.Interrupted != 0 {
		t.Errorf("stats %+v, want 5 trained, 1 lease lost", stats)
	}
	lostEv := ev.of(LeaseLost)
	if len(lostEv) != 1 || lostEv[0].Trial.Number != victim ||
		!errors.Is(lostEv[0].Err, ErrLeaseExpired) || !errors.Is(lostEv[0].Err, results.ErrLocked) {
		t.Fatalf("LeaseLost events %+v, want one for trial %d wrapping ErrLeaseExpired and ErrLocked", lostEv, victim)
	}
	t.Log(lostEv[0].Err)
	// The victim is left running, for whoever reclaims it. Its refused
	// writes were retried only while its lease lived: every retry was made
	// before the deadline, a margin before the lease expires, counted from
	// its claim (the only write of it that landed).
	tr, _, err := f.store.Trial(t.Context(), f.spec.Name, victim)
	if err != nil || tr.Status != results.Running || tr.Lease == nil {
		t.Fatalf("trial %d: %+v, %v; want left running", victim, tr, err)
	}
	deadline := tr.Lease.Claimed.Add(p.LeaseTTL - p.LeaseTTL/10)
	retries, later := 0, 0
	for _, op := range []string{"checkpoint", "finish", "release"} {
		for _, c := range fs.made(op, victim) {
			if c.seq >= mark {
				// Given up, it is still released (fenced) once the
				// database answers, for two leases' time.
				if op == "release" {
					later++
				}
				continue
			}
			if c.n == 0 {
				continue // a first attempt: always made
			}
			retries++
			if !c.now.Before(deadline) {
				t.Errorf("%s of trial %d retried %v after its claim, past the deadline %v", op, victim, c.now.Sub(tr.Lease.Claimed), deadline)
			}
		}
	}
	if retries < 5 {
		t.Errorf("%d retries of trial %d's writes, want about 8 (the 10 refusals of its lease, less the first attempts)", retries, victim)
	}
	if later == 0 {
		t.Errorf("trial %d was never released after it was given up", victim)
	}
}

// iterationsPerEpoch is testSpec's: 1000 samples in batches of 50.
const iterationsPerEpoch = 20

// TestDiskFullIsReportedHonestly: when checkpoints or outcomes cannot be
// written (a full disk), the trial is still released (without the
// checkpoint that did not fit) so that it does not stay running, the
// Interrupted event says what the store holds, and the run ends with the
// error. When even that release fails, the event says so.
func TestDiskFullIsReportedHonestly(t *testing.T) {
	const victim = 2
	tests := []struct {
		name string
		fail func(c call) error
		// cancelAt, when > 0: cancel the run when trial 1 finishes this epoch.
		cancelAt  float64
		victim    int
		saved     bool // the store keeps a checkpoint of the victim
		released  bool
		runFailed bool
	}{
		{
			name: "no checkpoint fits",
			fail: func(c call) error {
				if c.trial == victim && (c.op == "checkpoint" || c.op == "release" && c.ck != nil) {
					return errDiskFull
				}
				return nil
			},
			victim: victim, saved: false, released: true, runFailed: true,
		},
		{
			name: "the first checkpoint fits",
			fail: func(c call) error {
				if c.trial == victim && (c.op == "checkpoint" && c.n > 0 || c.op == "release" && c.ck != nil) {
					return errDiskFull
				}
				return nil
			},
			victim: victim, saved: true, released: true, runFailed: true,
		},
		{
			name: "the release is locked at first",
			fail: func(c call) error {
				switch {
				case c.trial != victim:
				case c.op == "release" && c.n < 2:
					return errLocked
				case c.op == "checkpoint" && c.n > 0, c.op == "release" && c.ck != nil:
					return errDiskFull
				}
				return nil
			},
			victim: victim, saved: true, released: true, runFailed: true,
		},
		{
			name: "nothing fits",
			fail: func(c call) error {
				if c.trial == victim && (c.op == "checkpoint" && c.n > 0 || c.op == "release") {
					return errDiskFull
				}
				return nil
			},
			victim: victim, saved: true, released: false, runFailed: true,
		},
		{
			name: "the outcome does not fit",
			fail: func(c call) error {
				if c.trial == victim && c.op == "finish" {
					return errDiskFull
				}
				return nil
			},
			victim: victim, saved: true, released: true, runFailed: true,
		},
		{
			name: "interrupted, its checkpoint does not fit",
			fail: func(c call) error {
				if c.op == "release" && c.ck != nil {
					return errDiskFull
				}
				return nil
			},
			cancelAt: 2, victim: 1, saved: true, released: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t, testSpec)
			fs := &faultyStore{inner: f.store, fail: tt.fail}
			ctx, cancel := context.WithCancel(t.Context())
			defer cancel()
			var ev events
			p := f.pool(1) // trial 1, then 2: trial 2's failure ends the run
			p.Store = fs
			p.Events = func(e Event) {
				ev.add(e)
				if e.Kind == EpochDone && e.Trial.Number == tt.victim && e.Epoch.Epoch > 1 {
					// Hold the training until the checkpoint of the epoch
					// before, the newest queued, has been attempted (or a
					// write failed): none is superseded by the next, so
					// each scenario's failing write is made.
					fs.await("checkpoint", tt.victim, attempted(int(e.Epoch.Epoch-1)*iterationsPerEpoch))
				}
				if e.Kind == EpochDone && e.Trial.Number == 1 && e.Epoch.Epoch == tt.cancelAt {
					cancel()
				}
			}
			stats, err := p.Run(ctx)
			switch {
			case tt.runFailed && !errors.Is(err, syscall.ENOSPC):
				t.Errorf("run: %v, want the disk-full error", err)
			case !tt.runFailed && (err == nil || errors.Is(err, syscall.ENOSPC)):
				t.Errorf("run: %v, want only the interruption", err)
			}
			t.Log(err)

			inter := ev.of(Interrupted)
			if len(inter) != 1 || inter[0].Trial.Number != tt.victim {
				t.Fatalf("Interrupted events %+v, want one, of trial %d", inter, tt.victim)
			}
			e := inter[0]
			if e.Saved != tt.saved || e.Released != tt.released {
				t.Errorf("event: saved %v, released %v; want %v, %v", e.Saved, e.Released, tt.saved, tt.released)
			}
			if tt.cancelAt == 0 && !errors.Is(e.Err, syscall.ENOSPC) {
				t.Errorf("event error %v, want the disk-full error", e.Err)
			}
			if tt.cancelAt > 0 && (!errors.Is(e.Err, context.Canceled) || !errors.Is(e.Err, syscall.ENOSPC)) {
				t.Errorf("event error %v, want the interruption and the checkpoint that did not fit", e.Err)
			}
			want := Stats{Interrupted: 1}
			if tt.saved {
				want.Checkpointed = 1
			}
			if !tt.released {
				want.Unreleased = 1
			}
			if got := (Stats{Interrupted: stats.Interrupted, Checkpointed: stats.Checkpointed, Unreleased: stats.Unreleased}); got != want {
				t.Errorf("stats %+v, want %+v", stats, want)
			}

			// The event says what the store holds.
			tr, _, err := f.store.Trial(t.Context(), f.spec.Name, tt.victim)
			if err != nil {
				t.Fatal(err)
			}
			if wantStatus := map[bool]results.Status{true: results.Interrupted, false: results.Running}[tt.released]; tr.Status != wantStatus {
				t.Errorf("trial %d is %s, want %s", tt.victim, tr.Status, wantStatus)
			}
			if tr.Iteration != e.SavedIteration || tr.Epoch != e.SavedEpoch {
				t.Errorf("trial %d is at iteration %d (epoch %g); the event says %d (%g)", tt.victim, tr.Iteration, tr.Epoch, e.SavedIteration, e.SavedEpoch)
			}
			if tt.saved {
				var its []int
				for _, c := range fs.made("checkpoint", tt.victim) {
					if landed(c) {
						its = append(its, c.ck.Iteration)
					}
				}
				if len(its) == 0 || e.SavedIteration != its[len(its)-1] {
					t.Errorf("event says iteration %d, the checkpoints that landed are %v", e.SavedIteration, its)
				}
			}
			got, ck, err := f.store.Claim(t.Context(), f.spec.Name, results.Owner{Host: "next", PID: 1, ID: "next"}, time.Now(),
				func(results.Lease) bool { return true })
			if err != nil || got.Number != tt.victim {
				t.Fatalf("claim after the run: trial %v, %v; want %d", got, err, tt.victim)
			}
			if (ck != nil) != e.Saved || ck != nil && ck.Iteration != e.SavedIteration {
				t.Errorf("the store's checkpoint is %v; the event says saved %v at iteration %d", ck, e.Saved, e.SavedIteration)
			}
		})
	}
}
