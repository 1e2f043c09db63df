package boltstore

import (
	"context"
	"fmt"
	"time"

	"github.com/sweep-dev/sweep/results"
	bolt "go.etcd.io/bbolt"
)

// ClaimNext claims the sweep's next work, asking the scheduler, decide,
// inside the claim's write transaction, so that two processes (or
// goroutines) never start the same new trial or promote the same paused
// one: each decides from the history as the other's decision left it.
//
// In one write transaction:
//
//  1. Exactly as Claim does, it takes the lowest-numbered trial that is
//     pending, interrupted, or running with a stale lease (stale as for
//     Claim); decide is not called. An adaptive trial so claimed goes on
//     towards its stored Target.
//  2. Otherwise it calls decide with every trial of the sweep, by number
//     (decoded copies, the caller's; without Decisions), and applies its
//     Plan. First its Prune entries: each must be paused (Status Pruned,
//     Finished = now, checkpoint deleted, decision appended). Then its
//     Action:
//     - PlanStart: creates Plan.Trial as the next trial (ErrDuplicateKey
//     if its Key is the sweep's already) and claims it (Status Running
//     under owner, Started = now, Attempts 1, the decision appended). No
//     checkpoint is returned.
//     - PlanPromote: trial Plan.Number must be paused (and so not
//     Promoted); it is set Promoted, Target = Plan.Target, the decision
//     appended, and claimed as by Claim; its checkpoint is returned.
//     - PlanWait: an error wrapping ErrWait (and so ErrNoWork).
//     - PlanFinished: an error wrapping ErrNoWork, not ErrWait.
//
// The prunes of a PlanWait or PlanFinished are committed, though the call
// returns an error. A plan that cannot be applied (a trial not paused, a
// duplicate key, a decision that is not valid JSON or is over 64 KB, an
// unknown action) is refused as a whole: nothing is written, and the error
// says why. decide's own error aborts the transaction likewise and is
// returned, wrapped (errors.Is and errors.As see it); a panic in decide is
// returned as an error with its stack, the transaction rolled back.
//
// decide runs while the file is locked for writing: readers and writers,
// of this and other processes, wait for it, so it must be quick (and must
// not call the Store, which would wait for itself until ErrLocked). The
// trials it is given are its own; the Plan it returns is only read.
func (s *Store) ClaimNext(ctx context.Context, sweep string, owner Owner, now time.Time, stale func(Lease) bool, decide func(trials []Trial) (Plan, error)) (*Trial, *Checkpoint, error) {
	op := fmt.Sprintf("claim next trial of sweep %q", sweep)
	if decide == nil {
		return nil, nil, fmt.Errorf("%s: no decide function", op)
	}
	var (
		t         *Trial
		ck        *Checkpoint
		noWork    error // ErrWait or ErrNoWork, after a commit
		decideErr error // decide's, after a rollback
	)
	err := s.update(ctx, op, func(tx *bolt.Tx) error {
		t, ck, noWork, decideErr = nil, nil, nil, nil
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		if t, err = st.claimable(stale); err != nil {
			return err
		}
		if t != nil {
			ck, err = st.claim(t, owner, now)
			return err
		}
		trials, err := st.allTrials(Filter{})
		if err != nil {
			return err
		}
		plan, err := results.CallDecide(decide, trials)
		if err != nil {
			decideErr = err
			return errRollback
		}
		if err := plan.Check(len(trials) + 1); err != nil {
			return err
		}
		for _, p := range plan.Prune {
			if err := st.prune(p, now); err != nil {
				return err
			}
		}
		switch plan.Action {
		case PlanWait, PlanFinished:
			noWork = ErrWait
			if plan.Action == PlanFinished {
				noWork = fmt.Errorf("%w: the sweep's scheduler says it is finished", ErrNoWork)
			}
			if len(plan.Prune) == 0 {
				return errRollback // nothing written: no commit (and no fsync) to wait for
			}
		case PlanStart:
			t, err = st.start(plan, len(trials)+1, owner, now)
		case PlanPromote:
			t, ck, err = st.promote(plan, owner, now)
		}
		return err
	})
	switch {
	case err != nil:
		return nil, nil, err
	case decideErr != nil:
		return nil, nil, fmt.Errorf("%s: decide: %w", op, decideErr)
	case noWork != nil:
		return nil, nil, fmt.Errorf("%s (results %q): %w", op, s.path, noWork)
	}
	return t, ck, nil
}

// Prune marks pruned, in one write transaction, the paused trials that
// choose names, given every trial of the sweep as ClaimNext gives them to
// decide: what ends an adaptive sweep when ClaimNext cannot (its budget
// ran out while trials are still claimable). Each named trial must be
// paused; it becomes Pruned as by a Plan's Prune. It returns the numbers
// pruned. choose's error, or a trial that is not paused, aborts the
// transaction: nothing is written. choose runs as ClaimNext's decide does.
func (s *Store) Prune(ctx context.Context, sweep string, now time.Time, choose func(trials []Trial) ([]Pruning, error)) (pruned []int, err error) {
	op := fmt.Sprintf("prune trials of sweep %q", sweep)
	if choose == nil {
		return nil, fmt.Errorf("%s: no choose function", op)
	}
	var chooseErr error
	err = s.update(ctx, op, func(tx *bolt.Tx) error {
		pruned, chooseErr = nil, nil
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		trials, err := st.allTrials(Filter{})
		if err != nil {
			return err
		}
		ps, err := results.CallDecide(func(ts []Trial) (Plan, error) {
			ps, err := choose(ts)
			return Plan{Action: PlanFinished, Prune: ps}, err
		}, trials)
		if err != nil {
			chooseErr = err
			return errRollback
		}
		for _, p := range ps.Prune {
			if err := results.CheckDecision(p.Decision); err != nil {
				return fmt.Errorf("prune trial %d: %w", p.Number, err)
			}
			if err := st.prune(p, now); err != nil {
				return err
			}
			pruned = append(pruned, p.Number)
		}
		return nil
	})
	switch {
	case err != nil:
		return nil, err
	case chooseErr != nil:
		return nil, fmt.Errorf("%s: choose: %w", op, chooseErr)
	}
	return pruned, nil
}

// start creates p.Trial as trial number next and leases it to owner.
func (st *sweepTx) start(p Plan, next int, owner Owner, now time.Time) (*Trial, error) {
	in := p.Trial
	if v := st.keys.Get([]byte(in.Key)); v != nil {
		n, err := btoi(v)
		if err != nil {
			return nil, err
		}
		return nil, fmt.Errorf("start a trial: %w: %q is trial %d's key", ErrDuplicateKey, in.Key, n)
	}
	t := &Trial{
		Number: next, Key: in.Key, Params: in.Params, Config: in.Config, Seed: in.Seed,
		Bracket: in.Bracket, Target: in.Target, Created: now,
	}
	if err := st.keys.Put([]byte(t.Key), itob(t.Number)); err != nil {
		return nil, fmt.Errorf("trial key %q: %w", t.Key, err)
	}
	if err := st.addDecision(t.Number, p.Decision); err != nil {
		return nil, err
	}
	if err := st.lease(t, owner, now); err != nil {
		return nil, err
	}
	return t, nil
}

// promote leases paused trial p.Number to owner towards p.Target, and
// returns it with its checkpoint.
func (st *sweepTx) promote(p Plan, owner Owner, now time.Time) (*Trial, *Checkpoint, error) {
	t, err := st.trial(p.Number)
	if err != nil {
		return nil, nil, fmt.Errorf("promote: %w", err)
	}
	if t.Status != Paused || t.Promoted {
		return nil, nil, fmt.Errorf("promote trial %d: it is %s, not paused", t.Number, t.Status)
	}
	if last := t.LastEval(); p.Target <= last.Resource {
		return nil, nil, fmt.Errorf("promote trial %d: target %d is not beyond its rung %d (at %d)", t.Number, p.Target, t.Rung, last.Resource)
	}
	t.Promoted = true
	t.Target = p.Target
	if err := st.addDecision(t.Number, p.Decision); err != nil {
		return nil, nil, err
	}
	ck, err := st.claim(t, owner, now)
	if err != nil {
		return nil, nil, err
	}
	if ck == nil {
		return nil, nil, corruptf("sweep %q trial %d is paused without a checkpoint", st.name, t.Number)
	}
	return t, ck, nil
}

// prune stops paused trial p.Number for good.
func (st *sweepTx) prune(p Pruning, now time.Time) error {
	t, err := st.trial(p.Number)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if t.Status != Paused {
		return fmt.Errorf("prune trial %d: it is %s, not paused", t.Number, t.Status)
	}
	t.Status = Pruned
	t.Finished = now
	if err := st.addDecision(t.Number, p.Decision); err != nil {
		return err
	}
	if err := st.putTrial(t); err != nil {
		return err
	}
	return deleteBlob(st.ckpt, t.Number)
}

// Pause stops trial at a rung (it reached its Target), atomically: ck
// replaces the stored checkpoint, hist (when not empty) the stored
// history, and the trial's Epoch and Iteration are ck's; eval is appended
// to Evals (Rung + 1; its Resource must be beyond the last evaluation's);
// Metrics become metrics (the best so far, which leaderboards show);
// Promoted is cleared, Status set Paused, the lease cleared, and Duration
// += duration. A paused trial keeps its checkpoint until a promotion
// (ClaimNext) resumes it or it is pruned. ErrLeaseLost unless the trial is
// Running under owner.
//
// A file of schema version 1 is raised to 2 in the same transaction (see
// schema.go).
func (s *Store) Pause(ctx context.Context, sweep string, trial int, owner Owner, now time.Time, ck Checkpoint, hist []Epoch, eval Eval, metrics Metrics, duration float64) error {
	ckb := encodeCheckpoint(ck)
	var hb []byte
	if len(hist) > 0 {
		hb = encodeHistory(hist)
	}
	return s.update(ctx, fmt.Sprintf("pause trial %d of sweep %q", trial, sweep), func(tx *bolt.Tx) error {
		st, t, err := heldTrial(tx, sweep, trial, owner)
		if err != nil {
			return err
		}
		if err := t.AddEval(eval); err != nil {
			return err
		}
		if err := raiseSchema(tx, schemaPaused); err != nil {
			return err
		}
		t.Status = Paused
		t.Lease = nil
		t.Metrics = metrics
		t.Duration += duration
		return st.putProgress(t, &ck, ckb, hb)
	})
}
