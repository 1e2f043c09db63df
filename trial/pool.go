package trial

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// Recorder is what the pool needs of a store: claim trials under a lease,
// keep the lease alive, checkpoint, and record how each trial ended.
// *results.Store implements it.
type Recorder interface {
	Claim(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool) (*results.Trial, *results.Checkpoint, error)
	Heartbeat(ctx context.Context, sweep string, trials []int, owner results.Owner, now time.Time) error
	SaveCheckpoint(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck results.Checkpoint, hist []results.Epoch) error
	Finish(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, o results.Outcome) error
	Release(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck *results.Checkpoint, hist []results.Epoch, duration float64) error
}

var _ Recorder = (*results.Store)(nil)

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
	Interrupted                  // a trial stopped early and was released
	LeaseLost                    // another process reclaimed a trial this one was training
)

// Event reports a worker's progress to a display.
type Event struct {
	Kind   EventKind
	Worker int            // 0-based worker index
	Trial  *results.Trial // the trial (for Finished: with its final status and metrics)
	Epoch  results.Epoch  // EpochDone: the epoch's history row
	Total  int            // Started, EpochDone: total iterations of the trial
	From   int            // Started: the iteration of the checkpoint it resumes from (0: from scratch)
	Err    error          // Interrupted: why
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
	Events   func(Event)      // optional; called from the workers' goroutines
	Now      func() time.Time // optional clock (tests)

	mu   sync.Mutex
	held map[int]bool // trials this process holds a lease on
}

// Stats counts what a Run did.
type Stats struct {
	Trained, Done, Diverged, Failed, Interrupted int
}

func (p *Pool) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *Pool) ttl() time.Duration {
	if p.LeaseTTL > 0 {
		return p.LeaseTTL
	}
	return DefaultLeaseTTL
}

func (p *Pool) emit(e Event) {
	if p.Events != nil {
		p.Events(e)
	}
}

// Run trains until no trial is left to claim or ctx is cancelled. On
// cancellation the running trials are checkpointed and released as
// interrupted, and Run returns an error wrapping ctx.Err(). Store errors end
// the run; a trial's own failure does not.
func (p *Pool) Run(ctx context.Context) (Stats, error) {
	workers := max(p.Workers, 1)
	p.held = map[int]bool{}
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
			for {
				if gctx.Err() != nil {
					return nil
				}
				more, err := p.one(gctx, w, count)
				if err != nil || !more {
					return err
				}
			}
		})
	}
	err := g.Wait()
	if err == nil && ctx.Err() != nil {
		err = fmt.Errorf("sweep %q interrupted: %w", p.Sweep, ctx.Err())
	}
	return st, err
}

// one claims and trains one trial. It reports false when nothing was left.
func (p *Pool) one(ctx context.Context, worker int, count func(func(*Stats))) (bool, error) {
	// Store writes must land even when ctx is cancelled (Ctrl-C): they use
	// a context that is not cancelled with it.
	sctx := context.WithoutCancel(ctx)
	now := p.now()
	t, ck, err := p.Store.Claim(sctx, p.Sweep, p.Owner, now, Staleness(p.Owner, now, p.ttl()))
	if errors.Is(err, results.ErrNoWork) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("claim a trial of %q: %w", p.Sweep, err)
	}
	p.hold(t.Number, true)
	defer p.hold(t.Number, false)
	from := 0
	if ck != nil {
		from = ck.Iteration
	}
	p.emit(Event{Kind: Started, Worker: worker, Trial: t, From: from, Total: p.iterations(t)})

	start := time.Now()
	sv := newSaver(func(ck results.Checkpoint, hist []results.Epoch) error {
		return p.Store.SaveCheckpoint(sctx, p.Sweep, t.Number, p.Owner, p.now(), ck, hist)
	})
	res := Train(ctx, Job{
		Trial: t, Checkpoint: ck, Data: p.Data,
		Save: func(_ context.Context, ck results.Checkpoint, hist []results.Epoch) error {
			return sv.save(ck, hist)
		},
		Progress: func(h results.Epoch, total int) {
			p.emit(Event{Kind: EpochDone, Worker: worker, Trial: t, Epoch: h, Total: total})
		},
	})
	// The outcome or the release below supersedes a checkpoint still
	// waiting; a write in progress is waited for, so it cannot land after.
	saveErr := sv.stop()
	dur := time.Since(start).Seconds()
	if errors.Is(saveErr, results.ErrLeaseLost) || errors.Is(res.Err, results.ErrLeaseLost) {
		// Another process reclaimed the trial (this one missed its
		// heartbeats for longer than the lease): it is theirs now. Leave it
		// and go on with the others.
		p.emit(Event{Kind: LeaseLost, Worker: worker, Trial: t, Err: results.ErrLeaseLost})
		return true, nil
	}
	if saveErr != nil && !res.Interrupted {
		return false, fmt.Errorf("checkpoint trial %d of %q: %w", t.Number, p.Sweep, saveErr)
	}
	if res.Interrupted {
		err := p.Store.Release(sctx, p.Sweep, t.Number, p.Owner, p.now(), res.Checkpoint, res.History, dur)
		if errors.Is(err, results.ErrLeaseLost) {
			p.emit(Event{Kind: LeaseLost, Worker: worker, Trial: t, Err: err})
			return ctx.Err() == nil, nil
		}
		if err != nil {
			return false, fmt.Errorf("release trial %d of %q: %w", t.Number, p.Sweep, err)
		}
		count(func(s *Stats) { s.Interrupted++ })
		p.emit(Event{Kind: Interrupted, Worker: worker, Trial: t, Err: res.Err})
		if ctx.Err() == nil {
			// A checkpoint could not be saved although the run goes on.
			return false, fmt.Errorf("trial %d of %q: %w", t.Number, p.Sweep, res.Err)
		}
		return false, nil
	}
	res.Outcome.Duration = dur
	if err := p.Store.Finish(sctx, p.Sweep, t.Number, p.Owner, p.now(), res.Outcome); errors.Is(err, results.ErrLeaseLost) {
		p.emit(Event{Kind: LeaseLost, Worker: worker, Trial: t, Err: err})
		return true, nil
	} else if err != nil {
		return false, fmt.Errorf("record trial %d of %q: %w", t.Number, p.Sweep, err)
	}
	count(func(s *Stats) {
		s.Trained++
		switch res.Outcome.Status {
		case results.Done:
			s.Done++
		case results.Diverged:
			s.Diverged++
		case results.Failed:
			s.Failed++
		}
	})
	fin := *t
	fin.Status, fin.Metrics, fin.Error = res.Outcome.Status, res.Outcome.Metrics, res.Outcome.Error
	fin.Duration += dur
	p.emit(Event{Kind: Finished, Worker: worker, Trial: &fin})
	return true, nil
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

func (p *Pool) hold(n int, on bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if on {
		p.held[n] = true
	} else {
		delete(p.held, n)
	}
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
		p.mu.Lock()
		var ns []int
		for n := range p.held {
			ns = append(ns, n)
		}
		p.mu.Unlock()
		if len(ns) > 0 {
			// A failed heartbeat is retried at the next tick; a lost lease
			// shows when the trial next checkpoints or finishes.
			_ = p.Store.Heartbeat(ctx, p.Sweep, ns, p.Owner, p.now())
		}
	}
}
