package trial

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// Recorder is what the pool needs of a store: claim trials under a lease,
// keep the lease alive, checkpoint, and record how each trial ended.
// results.Store implements it.
type Recorder interface {
	Claim(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool) (*results.Trial, *results.Checkpoint, error)
	Heartbeat(ctx context.Context, sweep string, trials []int, owner results.Owner, now time.Time) error
	SaveCheckpoint(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck results.Checkpoint, hist []results.Epoch) error
	Finish(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, o results.Outcome) error
	Release(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck *results.Checkpoint, hist []results.Epoch, duration float64) error
	// Running lists the sweep's running trials with their leases: what a
	// worker with nothing to claim waits for (see Pool.Run).
	Running(ctx context.Context, sweep string) ([]results.Trial, error)
}

var _ Recorder = results.Store(nil)

// Grouper is what a sweep whose trials train in groups (fused trials,
// results.Trial.Group) needs of a store besides Recorder: claims of whole
// groups and checkpoints of all their members in one write. A store
// without it (a test's) claims one trial at a time; results.Store has it.
type Grouper interface {
	ClaimGroup(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool) (*results.GroupClaim, error)
	SaveCheckpoints(ctx context.Context, sweep string, owner results.Owner, now time.Time, cks []results.TrialCheckpoint) error
}

var _ Grouper = results.Store(nil)

// A worker with nothing to claim (an adaptive sweep waiting for trials in
// flight) asks again when a trial of its own pool pauses or ends, or else
// after waitPoll, doubled at each empty answer up to waitPollMax (reset by
// a claim): trials of other processes free work too, and a cluster of
// idle workers must not poll a shared database in a tight loop.
const (
	waitPoll    = time.Second
	waitPollMax = 8 * time.Second
)

// DefaultLeaseTTL is how long a lease lives without a heartbeat before
// another host may reclaim the trial. Processes on the same host reclaim the
// trials of a dead owner at once.
const DefaultLeaseTTL = 60 * time.Second

// EventKind says what an Event reports.
type EventKind int

const (
	Started     EventKind = iota // a worker claimed a trial
	EpochDone                    // a trial finished an epoch
	Finished                     // a trial ended: done, diverged or failed
	Interrupted                  // a trial stopped early; Saved and Released say what the store holds
	LeaseLost                    // the trial is no longer this process's: reclaimed by another process, or its lease expired (Err)
	Retrying                     // the database was locked by another process (Err); the write will be tried again
	Paused                       // an adaptive trial stopped at a rung (Trial, with its metrics and evaluations so far), to be promoted or pruned
	Waiting                      // a worker has nothing to claim while other processes run trials of the sweep: it waits to reclaim any they give up
)

// Event reports a worker's progress to a display.
type Event struct {
	Kind   EventKind
	Worker int            // 0-based worker index
	Trial  *results.Trial // the trial (for Finished: with its final status and metrics; nil for a Retrying claim)
	Epoch  results.Epoch  // EpochDone: the epoch's history row
	Total  int            // Started, EpochDone: total iterations of the trial
	From   int            // Started: the iteration of the checkpoint it resumes from (0: from scratch)
	// Restarted, Started of a fused group's member: the group starts again
	// from scratch although some of its members had checkpoints (they
	// were not of one moment: one is missing or damaged).
	Restarted bool
	// Err: Interrupted: why the trial stopped (ctx's error, a failed
	// checkpoint or outcome write), joined with the release's error when
	// the trial could not be released; LeaseLost: wraps results.ErrLeaseLost
	// or ErrLeaseExpired; Retrying: the refused write's error (wraps
	// results.ErrLocked).
	Err error

	// Interrupted only. Saved: the store holds a checkpoint of the trial,
	// written by this attempt or an earlier one, at SavedEpoch and
	// SavedIteration; it resumes from there (from scratch when Saved is
	// false). Released: the trial was given back (status interrupted,
	// claimable again); when false the release failed too (Err says why)
	// and the trial stays running under this process's lease until the
	// lease expires or this process exits.
	Saved          bool
	SavedEpoch     float64
	SavedIteration int
	Released       bool
}

// Pool trains the claimable trials of one sweep with Workers goroutines.
// Each worker claims a trial in a transaction, trains it, checkpoints it once
// per epoch and records its outcome, until nothing is left to claim.
type Pool struct {
	Store    Recorder
	Sweep    string
	Data     *data.Dataset
	Workers  int
	Owner    results.Owner
	LeaseTTL time.Duration    // 0: DefaultLeaseTTL
	Events   func(Event)      // optional; called from the workers' (and their savers') goroutines
	Now      func() time.Time // optional clock (tests)

	// Scheduler, for an adaptive sweep, decides what to run next, inside
	// each claim (Store must then be a Planner too); Metric is the sweep's
	// ("val_acc" or "val_loss"), the value of each rung's evaluation. nil
	// for a sweep whose trials are all in the store (grid, random).
	Scheduler search.Scheduler
	Metric    string
	// Deadline, when not zero, is when the sweep's budget runs out: no
	// trial is claimed after it, and an adaptive sweep's running trials
	// pause at their next epoch end (End then prunes them).
	Deadline time.Time

	mu      sync.Mutex
	held    map[int]time.Time // trials this process holds a lease on: when each lease was last refreshed
	expired map[int]expiry    // trials given up at their lease's deadline, maybe still running under it in the store
	changed chan struct{}     // closed (and replaced) when a trial of this pool pauses or ends
}

// Stats counts what a Run did.
type Stats struct {
	Trained, Done, Diverged, Failed, Interrupted int
	// Paused counts the trials that paused at a rung (adaptive sweeps).
	Paused int
	// Of the Interrupted trials: Checkpointed have a checkpoint in the
	// store to resume from; Unreleased could not be released (a failed
	// write) and stay running until their lease expires.
	Checkpointed, Unreleased int
	// LeaseLost counts the trials left to another process: reclaimed by
	// it, or whose lease expired while the database was locked.
	LeaseLost int
}

// finished counts a trial trained to its end with status st.
func (s *Stats) finished(st results.Status) {
	s.Trained++
	switch st {
	case results.Done:
		s.Done++
	case results.Diverged:
		s.Diverged++
	case results.Failed:
		s.Failed++
	}
}

func (p *Pool) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

// expiry is a trial given up at its lease's deadline: the attempt it was
// in, and when.
type expiry struct {
	attempt int
	at      time.Time
}

// releaseExpired gives back the trials given up at their lease's deadline
// that are still running under this process's lease, fenced by their
// attempts: a trial another process has reclaimed meanwhile is left to it.
// Those the database does not answer for are tried again next time, for
// two leases' time (then, whoever runs the sweep next reclaims them).
func (p *Pool) releaseExpired(ctx context.Context) {
	p.mu.Lock()
	ns := make(map[int]expiry, len(p.expired))
	maps.Copy(ns, p.expired)
	p.mu.Unlock()
	for n, e := range ns {
		o := p.Owner
		o.Attempt = e.attempt
		err := p.Store.Release(ctx, p.Sweep, n, o, p.now(), nil, nil, 0)
		if err == nil || errors.Is(err, results.ErrLeaseLost) || errors.Is(err, results.ErrNoTrial) || time.Since(e.at) > 2*p.ttl() {
			p.mu.Lock()
			delete(p.expired, n)
			p.mu.Unlock()
		}
	}
}

// holdsExpired reports whether trials given up at their lease's deadline
// are still to be released.
func (p *Pool) holdsExpired() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return len(p.expired) > 0
}

// othersRunning reports whether trials of the sweep are running under
// other processes' leases (true if the store cannot say now: the worker
// waits and asks again).
func (p *Pool) othersRunning(ctx context.Context) bool {
	ts, err := p.Store.Running(ctx, p.Sweep)
	if err != nil {
		return ctx.Err() == nil
	}
	for _, t := range ts {
		if t.Lease != nil && !t.Lease.Owner.Same(p.Owner) {
			return true
		}
	}
	return false
}

// attempt is the owner as a write of trial t's current attempt presents
// it: with the attempt number, the fencing token that makes the store
// refuse the write once the trial has been claimed again, even by this
// process.
func (p *Pool) attempt(t *results.Trial) results.Owner {
	o := p.Owner
	o.Attempt = t.Attempts
	return o
}

func (p *Pool) ttl() time.Duration {
	if p.LeaseTTL > 0 {
		return p.LeaseTTL
	}
	return DefaultLeaseTTL
}

// leaseMargin is how long before a lease expires the pool stops retrying
// its trial's writes: a tenth of the lease's time to live.
func (p *Pool) leaseMargin() time.Duration { return p.ttl() / 10 }

func (p *Pool) emit(e Event) {
	if p.Events != nil {
		p.Events(e)
	}
}

// Run trains until no trial is left to claim or ctx is cancelled. On
// cancellation the running trials are checkpointed and released as
// interrupted, and Run returns an error wrapping ctx.Err() (joined with
// the errors of releases that failed).
//
// A write the database's lock refuses (results.ErrLocked: another process
// holds it past results.Options.Timeout) is retried with backoff: a
// trial's writes for as long as its lease lasts (then the trial is left to
// whoever reclaims it, as when its lease is lost, and the run goes on),
// a claim until ctx is cancelled. Other store errors end the run, after
// the trial concerned is released (without its newest checkpoint if that
// is what could not be written); a trial's own failure does not.
func (p *Pool) Run(ctx context.Context) (Stats, error) {
	if _, ok := p.Store.(Planner); p.Scheduler != nil && !ok {
		return Stats{}, fmt.Errorf("sweep %q is adaptive, and its store %T cannot claim through a scheduler (no Planner)", p.Sweep, p.Store)
	}
	workers := max(p.Workers, 1)
	p.held = map[int]time.Time{}
	p.expired = map[int]expiry{}
	p.changed = make(chan struct{})
	var (
		st   Stats
		stMu sync.Mutex
	)
	count := func(f func(*Stats)) { stMu.Lock(); f(&st); stMu.Unlock() }

	hbCtx, stopHB := context.WithCancel(context.WithoutCancel(ctx))
	hbDone := make(chan struct{})
	go func() { defer close(hbDone); p.heartbeats(hbCtx) }()
	defer func() { stopHB(); <-hbDone }()

	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(workers)
	for w := range workers {
		g.Go(func() error {
			idle := idleState{poll: waitPoll}
			for {
				if gctx.Err() != nil {
					return nil
				}
				more, err := p.one(gctx, w, count, &idle)
				if err != nil || !more {
					return err
				}
			}
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		err = errors.Join(fmt.Errorf("sweep %q interrupted: %w", p.Sweep, ctx.Err()), err)
	}
	return st, err
}

// idleState is a worker's state while it finds nothing to claim.
type idleState struct {
	poll time.Duration // the next wait
	// last: the previous claim found nothing, and no other process ran a
	// trial: one more claim, then the worker ends (a trial another
	// process gave back in between is claimed).
	last bool
}

// one claims and trains one trial. It reports false when nothing was left,
// or the run is to end. idle is the worker's state while it finds nothing
// to claim.
func (p *Pool) one(ctx context.Context, worker int, count func(func(*Stats)), idle *idleState) (bool, error) {
	// Store writes must land even when ctx is cancelled (Ctrl-C): they use
	// a context that is not cancelled with it. ctx ends their retries.
	sctx := context.WithoutCancel(ctx)
	var (
		t     *results.Trial
		ck    *results.Checkpoint
		group *results.GroupClaim
	)
	if !p.Deadline.IsZero() && !p.now().Before(p.Deadline) {
		return false, nil // the budget ran out: nothing new starts
	}
	p.releaseExpired(sctx)
	var decide func([]results.Trial) (results.Plan, error)
	if p.Scheduler != nil {
		decide = decider(p.Scheduler)
	}
	// Seen before the claim: a change after it wakes a wait.
	changed := p.changes()
	err := p.write(ctx, sctx, worker, nil, func(wctx context.Context, now time.Time) error {
		var err error
		gs, grouped := p.Store.(Grouper)
		switch {
		case decide != nil:
			t, ck, err = p.Store.(Planner).ClaimNext(wctx, p.Sweep, p.Owner, now, Staleness(p.Owner, now, p.ttl()), decide)
		case grouped:
			group, err = gs.ClaimGroup(wctx, p.Sweep, p.Owner, now, Staleness(p.Owner, now, p.ttl()))
			if err == nil && len(group.Trials) == 0 {
				err = fmt.Errorf("claim of group %d returned no trials", group.Group)
			}
			if err == nil && group.Group == 0 {
				t, ck, group = group.Trials[0], group.Checkpoints[0], nil
			}
		default:
			t, ck, err = p.Store.Claim(wctx, p.Sweep, p.Owner, now, Staleness(p.Owner, now, p.ttl()))
		}
		switch {
		case err != nil:
		case group != nil:
			for _, m := range group.Trials {
				p.hold(m.Number, now)
			}
		default:
			p.hold(t.Number, now)
		}
		return err
	})
	switch {
	case errors.Is(err, results.ErrWait):
		// Trials in flight, here or in another process, may free work
		// when they pause or end: wait for that (another process's, a
		// while).
		select {
		case <-changed:
		case <-time.After(idle.poll):
			idle.poll = min(2*idle.poll, waitPollMax)
		case <-ctx.Done():
			return false, nil
		}
		return true, nil
	case errors.Is(err, results.ErrNoWork):
		// Nothing to claim now. Trials other processes run may still be
		// given up (their process dies, their lease expires): wait for
		// them to end, to reclaim those that are, so that a sweep ends
		// done however many of its processes die, as long as one lives.
		// (An adaptive sweep's scheduler waits for them itself: ErrWait.)
		if p.Scheduler != nil || p.budgetOut() {
			return false, nil
		}
		if !p.othersRunning(ctx) && !p.holdsExpired() {
			if idle.last {
				return false, nil
			}
			idle.last = true
			return true, nil
		}
		idle.last = false
		p.emit(Event{Kind: Waiting, Worker: worker})
		select {
		case <-time.After(idle.poll):
			idle.poll = min(2*idle.poll, waitPollMax)
		case <-ctx.Done():
			return false, nil
		}
		return true, nil
	case busy(err) && ctx.Err() != nil:
		return false, nil // interrupted while waiting for the database
	case err != nil:
		return false, fmt.Errorf("claim a trial of %q: %w", p.Sweep, err)
	}
	idle.poll, idle.last = waitPoll, false
	if group != nil {
		return p.trainGroup(ctx, worker, group, count)
	}
	defer p.unhold(t.Number)
	from := 0
	if ck != nil {
		from = ck.Iteration
	}
	p.emit(Event{Kind: Started, Worker: worker, Trial: t, From: from, Total: p.iterations(t)})

	start := time.Now()
	// A checkpoint write that fails for good stops the training at once.
	tctx, stopTrain := context.WithCancelCause(ctx)
	defer stopTrain(nil)
	if !p.Deadline.IsZero() && p.Scheduler == nil {
		// The budget runs out: the trial stops, checkpointed, to be
		// resumed by a run with budget left. (An adaptive sweep's trials
		// pause instead: Job.PauseBy.)
		var cancel context.CancelFunc
		tctx, cancel = context.WithDeadline(tctx, p.Deadline)
		defer cancel()
	}
	r := p.retrier(worker, t)
	sv := newSaver(sctx, func(wctx context.Context, ck results.Checkpoint, hist []results.Epoch) error {
		return r.attempt(wctx, func(wctx context.Context, now time.Time) error {
			return p.Store.SaveCheckpoint(wctx, p.Sweep, t.Number, p.attempt(t), now, ck, hist)
		})
	}, r.again, stopTrain)
	job := Job{
		Trial: t, Checkpoint: ck, Data: p.Data,
		Save: func(_ context.Context, ck results.Checkpoint, hist []results.Epoch) error {
			return sv.save(ck, hist)
		},
		Progress: func(h results.Epoch, total int) {
			p.emit(Event{Kind: EpochDone, Worker: worker, Trial: t, Epoch: h, Total: total})
		},
	}
	if p.Scheduler != nil {
		job.Metric, job.Target, job.PauseBy = p.Metric, t.Target, p.Deadline
	}
	res := Train(tctx, job)
	defer p.change()
	// The outcome or the release below supersedes a checkpoint still
	// waiting, or waiting for the database's lock or its next attempt; a
	// write in progress is waited for, so it cannot land after.
	saveErr := sv.stop()
	dur := time.Since(start).Seconds()
	// What the store holds to resume the trial from.
	stored := ck
	if w := sv.last(); w != nil {
		stored = w
	}
	if lost(saveErr) || lost(res.Err) {
		// Another process reclaimed the trial (this one missed its
		// heartbeats for longer than the lease), or it may now: it is
		// theirs. Leave it and go on with the others.
		return p.leaseLost(ctx, worker, t, errors.Join(saveErr, res.Err), count)
	}
	if res.Paused {
		err := p.write(ctx, sctx, worker, t, func(wctx context.Context, now time.Time) error {
			return p.Store.(Planner).Pause(wctx, p.Sweep, t.Number, p.attempt(t), now, *res.Checkpoint, res.History, res.Eval, res.Outcome.Metrics, dur)
		})
		if lost(err) {
			return p.leaseLost(ctx, worker, t, err, count)
		}
		if err != nil {
			err = fmt.Errorf("pause trial %d of %q: %w", t.Number, p.Sweep, err)
			return p.release(ctx, worker, t, nil, nil, dur, stored, err, count)
		}
		count(func(s *Stats) { s.Paused++ })
		paused := *t
		paused.Status, paused.Metrics = results.Paused, res.Outcome.Metrics
		paused.Evals = append(slices.Clone(t.Evals), res.Eval)
		paused.Rung++
		paused.Duration += dur
		p.emit(Event{Kind: Paused, Worker: worker, Trial: &paused})
		return true, nil
	}
	if !res.Interrupted {
		// A checkpoint that could not be written is superseded by the
		// outcome.
		res.Outcome.Duration = dur
		err := p.write(ctx, sctx, worker, t, func(wctx context.Context, now time.Time) error {
			return p.Store.Finish(wctx, p.Sweep, t.Number, p.attempt(t), now, res.Outcome)
		})
		if lost(err) {
			return p.leaseLost(ctx, worker, t, err, count)
		}
		if err != nil {
			// Give the trial back, to be trained again from its last
			// checkpoint, with a smaller write than the outcome's.
			err = fmt.Errorf("record trial %d of %q: %w", t.Number, p.Sweep, err)
			return p.release(ctx, worker, t, nil, nil, dur, stored, err, count)
		}
		p.finished(worker, t, res.Outcome, count)
		return true, nil
	}
	cause := res.Err
	if saveErr != nil {
		cause = saveErr // the store's error names the trial and the sweep
	}
	if saveErr == nil && p.budgetOut() && errors.Is(res.Err, context.DeadlineExceeded) {
		// The budget ran out mid-trial: it stops, checkpointed, for a run
		// with budget left, as at Ctrl-C; the run ends without error.
		cause = budgetStop{res.Err}
	}
	return p.release(ctx, worker, t, res.Checkpoint, res.History, dur, stored, cause, count)
}

// finished counts and reports trial t, whose outcome o (o.Duration this
// attempt's) the store has recorded.
func (p *Pool) finished(worker int, t *results.Trial, o results.Outcome, count func(func(*Stats))) {
	count(func(s *Stats) { s.finished(o.Status) })
	fin := *t
	fin.Status, fin.Metrics, fin.Error = o.Status, o.Metrics, o.Error
	fin.Duration += o.Duration
	p.emit(Event{Kind: Finished, Worker: worker, Trial: &fin})
}

// budgetStop is the cause of a trial stopped because the sweep's budget
// ran out.
type budgetStop struct{ err error }

func (b budgetStop) Error() string { return "the sweep's budget ran out: " + b.err.Error() }
func (b budgetStop) Unwrap() error { return b.err }

// budgetOut reports whether the sweep's budget (Deadline) has run out.
func (p *Pool) budgetOut() bool {
	return !p.Deadline.IsZero() && !p.now().Before(p.Deadline)
}

// release gives trial t back as interrupted, with checkpoint ck and its
// history when not nil, and reports it. If that write fails, t is released
// without them (a smaller write: the stored checkpoint, stored, stands), so
// that it does not stay running. cause is why t stopped. The run ends
// unless t was released after a cancellation.
func (p *Pool) release(ctx context.Context, worker int, t *results.Trial, ck *results.Checkpoint, hist []results.Epoch,
	dur float64, stored *results.Checkpoint, cause error, count func(func(*Stats))) (bool, error) {
	rel := func(ck *results.Checkpoint, hist []results.Epoch) error {
		return p.write(ctx, context.WithoutCancel(ctx), worker, t, func(wctx context.Context, now time.Time) error {
			return p.Store.Release(wctx, p.Sweep, t.Number, p.attempt(t), now, ck, hist, dur)
		})
	}
	err := rel(ck, hist)
	switch {
	case err == nil && ck != nil:
		stored = ck
	case err != nil && ck != nil && !lost(err):
		ckErr := err
		if err = rel(nil, nil); err == nil {
			cause = errors.Join(cause, fmt.Errorf("release trial %d of %q with its checkpoint at iteration %d: %w",
				t.Number, p.Sweep, ck.Iteration, ckErr))
		} else if !lost(err) {
			err = fmt.Errorf("with its checkpoint at iteration %d: %w; without it: %w", ck.Iteration, ckErr, err)
		}
	}
	if lost(err) {
		return p.leaseLost(ctx, worker, t, err, count)
	}
	e := Event{Kind: Interrupted, Worker: worker, Trial: t, Err: cause, Released: err == nil}
	if stored != nil {
		e.Saved, e.SavedEpoch, e.SavedIteration = true, stored.Epoch, stored.Iteration
	}
	if err != nil {
		err = fmt.Errorf("release trial %d of %q: %w", t.Number, p.Sweep, err)
		e.Err = errors.Join(cause, err)
	}
	count(func(s *Stats) {
		s.Interrupted++
		if e.Saved {
			s.Checkpointed++
		}
		if !e.Released {
			s.Unreleased++
		}
	})
	p.emit(e)
	switch {
	case ctx.Err() == nil && errors.As(cause, new(budgetStop)):
		return false, err // the budget ran out: no error of the trial's
	case ctx.Err() == nil:
		// The run goes on, but this trial's checkpoint or outcome could
		// not be written.
		return false, errors.Join(cause, err)
	case err != nil:
		return false, err
	}
	return false, nil
}

// leaseLost reports that trial t is no longer this process's. The run goes
// on unless ctx is done.
//
// A trial given up at its lease's deadline (ErrLeaseExpired: the database
// was locked or unreachable) may still be running under this process's
// lease in the store, where no other process takes it while this one
// lives: it is remembered, and released (releaseExpired) once the database
// answers, so that it is claimed again rather than left running.
func (p *Pool) leaseLost(ctx context.Context, worker int, t *results.Trial, err error, count func(func(*Stats))) (bool, error) {
	if errors.Is(err, ErrLeaseExpired) && !errors.Is(err, results.ErrLeaseLost) {
		p.mu.Lock()
		p.expired[t.Number] = expiry{attempt: t.Attempts, at: time.Now()}
		p.mu.Unlock()
	}
	count(func(s *Stats) { s.LeaseLost++ })
	p.emit(Event{Kind: LeaseLost, Worker: worker, Trial: t, Err: err})
	return ctx.Err() == nil, nil
}

// iterations returns the number of iterations trial t trains for (0 when
// its config does not decode: training will report that).
func (p *Pool) iterations(t *results.Trial) int {
	var cfg search.Config
	if json.Unmarshal(t.Config, &cfg) != nil {
		return 0
	}
	return totalIterations(cfg, p.Data.Train.N)
}

// hold records that this process holds trial n's lease, refreshed at now.
// changes returns a channel closed at the next change (change).
func (p *Pool) changes() <-chan struct{} {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.changed
}

// change wakes the workers waiting for a trial of this pool to pause or end.
func (p *Pool) change() {
	p.mu.Lock()
	defer p.mu.Unlock()
	close(p.changed)
	p.changed = make(chan struct{})
}

func (p *Pool) hold(n int, now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.held[n] = now
}

func (p *Pool) unhold(n int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.held, n)
}

// refresh records that the leases of the held trials ns were refreshed at
// now.
func (p *Pool) refresh(now time.Time, ns ...int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, n := range ns {
		if at, ok := p.held[n]; ok && now.After(at) {
			p.held[n] = now
		}
	}
}

// deadline returns when the pool stops retrying held trial n's writes: a
// margin before its lease expires.
func (p *Pool) deadline(n int) (time.Time, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	at, ok := p.held[n]
	return at.Add(p.ttl() - p.leaseMargin()), ok
}

// heartbeats refreshes the leases of the held trials every third of the
// lease's time to live, until ctx is done.
func (p *Pool) heartbeats(ctx context.Context) {
	tick := time.NewTicker(p.ttl() / 3)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		}
		p.heartbeat(ctx)
	}
}

// heartbeat refreshes the leases of the held trials. While the database
// is locked by another process it tries again with backoff, for as long as
// one of those leases lasts; another failure waits for the next tick. A
// lost lease shows when its trial next writes.
func (p *Pool) heartbeat(ctx context.Context) {
	b := newBackoff(p.ttl())
	for retry := false; ; retry = true {
		now := p.now()
		var (
			ns   []int
			last time.Time // the latest deadline
		)
		p.mu.Lock()
		for n, at := range p.held {
			ns = append(ns, n)
			if dl := at.Add(p.ttl() - p.leaseMargin()); dl.After(last) {
				last = dl
			}
		}
		p.mu.Unlock()
		if len(ns) == 0 || retry && !now.Before(last) {
			return
		}
		hctx, cancel := ctx, context.CancelFunc(func() {})
		if retry {
			hctx, cancel = context.WithTimeout(ctx, last.Sub(now))
		}
		err := p.Store.Heartbeat(hctx, p.Sweep, ns, p.Owner, now)
		cancel()
		if err == nil || errors.Is(err, results.ErrLeaseLost) {
			p.refresh(now, ns...)
			return
		}
		if !busy(err) {
			return
		}
		d := b.wait()
		if !now.Add(d).Before(last) || !sleep(ctx, d) {
			return
		}
	}
}
