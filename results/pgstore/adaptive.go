package pgstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// ClaimNext claims the sweep's next work, asking the scheduler, decide,
// inside the claim's transaction, which holds the sweep's advisory lock:
// ClaimNext, Prune, EnsureSweep and Load of a sweep are serialised, so two
// processes (or goroutines) never start the same new trial or promote the
// same paused one; each decides from the history as the other's decision
// left it. It keeps the whole contract of the bbolt store's ClaimNext:
//
//  1. As Claim does, it takes a pending or interrupted trial, or a running
//     one with a stale lease; decide is not called. An adaptive trial so
//     claimed goes on towards its stored Target.
//  2. Otherwise it calls decide with every trial of the sweep, by number
//     (decoded copies, the caller's; without Decisions; leases rebased),
//     and applies its Plan. First its Prune entries: each must be paused
//     (Status Pruned, Finished = now, checkpoint deleted, decision
//     appended). Then its Action:
//     - PlanStart: creates Plan.Trial as the next trial, the sweep's
//     highest number + 1 (ErrDuplicateKey if its Key is the sweep's
//     already) and claims it (Running under owner, Started = now,
//     Attempts 1, the decision appended). No checkpoint is returned.
//     - PlanPromote: trial Plan.Number must be paused (and so not
//     Promoted), checked on its locked row; it is set Promoted, Target =
//     Plan.Target, the decision appended, and claimed as by Claim; its
//     checkpoint is returned.
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
// Times are the database's now() (the now argument is ignored). decide
// runs while the sweep's lock is held: the ClaimNexts of other workers of
// the sweep wait for it, so it must be quick (and must not call the
// Store). If the connection is lost after decide returned, the call is
// retried and decide called again, with the trials as they are then.
func (s *Store) ClaimNext(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool, decide func(trials []results.Trial) (results.Plan, error)) (*results.Trial, *results.Checkpoint, error) {
	op := fmt.Sprintf("claim next trial of sweep %q", sweep)
	if decide == nil {
		return nil, nil, fmt.Errorf("%s: no decide function", op)
	}
	var (
		t         *results.Trial
		ck        *results.Checkpoint
		noWork    error // ErrWait or ErrNoWork, after a commit
		decideErr error // decide's, after a rollback
		tok       = newToken()
	)
	err := s.run(ctx, op, txOptions{}, func(tx *txn) error {
		t, ck, noWork, decideErr = nil, nil, nil, nil
		if err := tx.lockSweep(ctx, lockAdaptive, sweep); err != nil {
			return err
		}
		var err error
		if t, ck, err = tx.claimNow(ctx, sweep, owner, stale, tok); err != nil || t != nil {
			return err
		}
		trials, err := tx.trials(ctx, sweep, results.Filter{})
		if err != nil {
			return err
		}
		next := 1
		if len(trials) > 0 {
			next = trials[len(trials)-1].Number + 1
		}
		plan, err := results.CallDecide(decide, trials)
		if err != nil {
			decideErr = err
			return errRollback
		}
		if err := plan.Check(next); err != nil {
			return err
		}
		for _, p := range plan.Prune {
			if err := tx.prune(ctx, sweep, p, tok); err != nil {
				return err
			}
		}
		switch plan.Action {
		case results.PlanWait, results.PlanFinished:
			noWork = results.ErrWait
			if plan.Action == results.PlanFinished {
				noWork = fmt.Errorf("%w: the sweep's scheduler says it is finished", results.ErrNoWork)
			}
			if len(plan.Prune) == 0 {
				return errRollback // nothing written
			}
		case results.PlanStart:
			t, err = tx.start(ctx, sweep, plan, next, owner, tok)
		case results.PlanPromote:
			t, ck, err = tx.promote(ctx, sweep, plan, owner, tok)
		}
		if err == nil && t != nil {
			tx.rebaseLease(t)
		}
		return err
	})
	switch {
	case err != nil:
		return nil, nil, err
	case decideErr != nil:
		return nil, nil, fmt.Errorf("%s: decide: %w", op, decideErr)
	case noWork != nil:
		return nil, nil, s.scrub(fmt.Errorf("%s (results %q): %w", op, s.loc, noWork))
	}
	return t, ck, nil
}

// Prune marks pruned, in one transaction serialised as ClaimNext's, the
// paused trials that choose names, given every trial of the sweep as
// ClaimNext gives them to decide: what ends an adaptive sweep when
// ClaimNext cannot (its budget ran out while trials are still claimable).
// Each named trial must be paused; it becomes Pruned as by a Plan's Prune.
// It returns the numbers pruned. choose's error, or a trial that is not
// paused, aborts the transaction: nothing is written. choose runs as
// ClaimNext's decide does.
func (s *Store) Prune(ctx context.Context, sweep string, now time.Time, choose func(trials []results.Trial) ([]results.Pruning, error)) (pruned []int, err error) {
	op := fmt.Sprintf("prune trials of sweep %q", sweep)
	if choose == nil {
		return nil, fmt.Errorf("%s: no choose function", op)
	}
	var chooseErr error
	tok := newToken()
	err = s.run(ctx, op, txOptions{}, func(tx *txn) error {
		pruned, chooseErr = nil, nil
		if err := tx.lockSweep(ctx, lockAdaptive, sweep); err != nil {
			return err
		}
		if tx.lost {
			rows, err := tx.Query(ctx, `SELECT number FROM sweep_trials
				WHERE sweep = $1 AND write_id = $2 AND status = 'pruned' ORDER BY number`, sweep, tok)
			if err != nil {
				return err
			}
			if pruned, err = pgx.CollectRows(rows, pgx.RowTo[int]); err != nil || len(pruned) > 0 {
				return err // an earlier attempt committed
			}
		}
		trials, err := tx.trials(ctx, sweep, results.Filter{})
		if err != nil {
			return err
		}
		ps, err := results.CallDecide(func(ts []results.Trial) (results.Plan, error) {
			ps, err := choose(ts)
			return results.Plan{Action: results.PlanFinished, Prune: ps}, err
		}, trials)
		if err != nil {
			chooseErr = err
			return errRollback
		}
		for _, p := range ps.Prune {
			if err := results.CheckDecision(p.Decision); err != nil {
				return fmt.Errorf("prune trial %d: %w", p.Number, err)
			}
			if err := tx.prune(ctx, sweep, p, tok); err != nil {
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
func (tx *txn) start(ctx context.Context, sweep string, p results.Plan, next int, owner results.Owner, tok string) (*results.Trial, error) {
	in := p.Trial
	var n int
	err := tx.QueryRow(ctx, `SELECT number FROM sweep_trials WHERE sweep = $1 AND key = $2`, sweep, in.Key).Scan(&n)
	if err == nil {
		return nil, fmt.Errorf("start a trial: %w: %q is trial %d's key", results.ErrDuplicateKey, in.Key, n)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	t := &results.Trial{
		Number: next, Key: in.Key, Params: in.Params, Config: in.Config, Seed: in.Seed,
		Bracket: in.Bracket, Target: in.Target, Created: tx.now,
		Status: results.Running, Lease: &results.Lease{Owner: owner, Claimed: tx.now, Heartbeat: tx.now},
		Started: tx.now, Attempts: 1,
	}
	b := &pgx.Batch{}
	if err := insertTrial(b, sweep, t, tok); err != nil {
		return nil, err
	}
	if err := tx.SendBatch(ctx, b).Close(); err != nil {
		return nil, err
	}
	if err := tx.addDecision(ctx, sweep, t.Number, p.Decision); err != nil {
		return nil, err
	}
	return t, nil
}

// promote leases paused trial p.Number to owner towards p.Target, and
// returns it with its checkpoint. The trial's row is locked, and checked
// paused and not promoted on it.
func (tx *txn) promote(ctx context.Context, sweep string, p results.Plan, owner results.Owner, tok string) (*results.Trial, *results.Checkpoint, error) {
	t, err := tx.lockTrial(ctx, sweep, p.Number)
	if err != nil {
		return nil, nil, fmt.Errorf("promote: %w", err)
	}
	if t.Status != results.Paused || t.Promoted {
		return nil, nil, fmt.Errorf("promote trial %d: it is %s, not paused", t.Number, t.Status)
	}
	if last := t.LastEval(); p.Target <= last.Resource {
		return nil, nil, fmt.Errorf("promote trial %d: target %d is not beyond its rung %d (at %d)", t.Number, p.Target, t.Rung, last.Resource)
	}
	t.Promoted = true
	t.Target = p.Target
	if err := tx.addDecision(ctx, sweep, t.Number, p.Decision); err != nil {
		return nil, nil, err
	}
	ck, err := tx.claim(ctx, sweep, t, owner, tok)
	if err != nil {
		return nil, nil, err
	}
	if ck == nil {
		return nil, nil, results.Corruptf("sweep %q trial %d is paused without a checkpoint", sweep, t.Number)
	}
	return t, ck, nil
}

// prune stops paused trial p.Number for good.
func (tx *txn) prune(ctx context.Context, sweep string, p results.Pruning, tok string) error {
	t, err := tx.lockTrial(ctx, sweep, p.Number)
	if err != nil {
		return fmt.Errorf("prune: %w", err)
	}
	if t.Status != results.Paused {
		return fmt.Errorf("prune trial %d: it is %s, not paused", t.Number, t.Status)
	}
	t.Status = results.Pruned
	t.Finished = tx.now
	if err := tx.addDecision(ctx, sweep, t.Number, p.Decision); err != nil {
		return err
	}
	b := &pgx.Batch{}
	if err := updateTrial(b, sweep, t, tok); err != nil {
		return err
	}
	b.Queue(`DELETE FROM sweep_checkpoints WHERE sweep = $1 AND number = $2`, sweep, t.Number)
	return tx.SendBatch(ctx, b).Close()
}

// Pause stops trial at a rung (it reached its Target), atomically: ck
// replaces the stored checkpoint, hist (when not empty) the stored
// history, and the trial's Epoch and Iteration are ck's; eval is appended
// to Evals (Rung + 1; its Resource must be beyond the last evaluation's);
// Metrics become metrics; Promoted is cleared, Status set Paused, the
// lease cleared, and Duration += duration. A paused trial keeps its
// checkpoint until a promotion (ClaimNext) resumes it or it is pruned.
// ErrLeaseLost unless the trial is Running under owner (and attempt).
func (s *Store) Pause(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck results.Checkpoint, hist []results.Epoch, eval results.Eval, metrics results.Metrics, duration float64) error {
	ckb := results.EncodeCheckpoint(ck)
	var hb []byte
	if len(hist) > 0 {
		hb = results.EncodeHistory(hist)
	}
	tok := newToken()
	return s.run(ctx, fmt.Sprintf("pause trial %d of sweep %q", trial, sweep), txOptions{}, func(tx *txn) error {
		t, done, err := tx.heldOnce(ctx, sweep, trial, owner, tok)
		if done || err != nil {
			return err
		}
		if err := t.AddEval(eval); err != nil {
			return err
		}
		t.Status = results.Paused
		t.Lease = nil
		t.Metrics = metrics
		t.Duration += duration
		return tx.putProgress(ctx, sweep, t, &ck, ckb, hb, tok)
	})
}
