package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// Claim takes, in one transaction, a trial of the sweep: the
// lowest-numbered pending or interrupted trial that no concurrent claim
// has locked (SELECT ... FOR UPDATE SKIP LOCKED: claims by many workers
// do not wait for each other), else the lowest-numbered running trial
// whose lease stale finds stale (given the lease rebased to this process's
// clock; a nil stale never finds one stale) or that has no lease. It sets
// the trial Running under a lease of owner, Started if zero, Attempts + 1,
// and returns it with its latest checkpoint (nil if none). ErrNoWork if no
// trial is claimable. A paused trial is not claimable.
//
// The lease's times, and Started, are the database's now(); the now
// argument is ignored (see doc.go). The returned trial's lease is rebased
// to this process's clock.
func (s *Store) Claim(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool) (*results.Trial, *results.Checkpoint, error) {
	var (
		t   *results.Trial
		ck  *results.Checkpoint
		tok = newToken()
	)
	err := s.run(ctx, fmt.Sprintf("claim a trial of sweep %q", sweep), txOptions{}, func(tx *txn) error {
		var err error
		if t, ck, err = tx.claimNow(ctx, sweep, owner, stale, tok); err != nil || t != nil {
			return err
		}
		if err := tx.sweepExists(ctx, sweep); err != nil {
			return err
		}
		return results.ErrNoWork
	})
	if err != nil {
		return nil, nil, err
	}
	return t, ck, nil
}

// claimNow is Claim's work, and ClaimNext's first step: it claims the
// claimable trial if there is one, or returns a nil trial. When an earlier
// attempt's COMMIT was lost, it first looks for the trial that attempt
// claimed (with token tok).
func (tx *txn) claimNow(ctx context.Context, sweep string, owner results.Owner, stale func(results.Lease) bool, tok string) (*results.Trial, *results.Checkpoint, error) {
	if tx.lost {
		t, ck, err := tx.claimed(ctx, sweep, owner, tok)
		if err != nil || t != nil {
			return t, ck, err
		}
	}
	t, err := tx.claimable(ctx, sweep, stale, nil)
	if err != nil || t == nil {
		return nil, nil, err
	}
	ck, err := tx.claim(ctx, sweep, t, owner, tok)
	if err != nil {
		return nil, nil, err
	}
	tx.rebaseLease(t)
	return t, ck, nil
}

// claimed returns the trial of sweep that a claim with token tok leased,
// nil if none is running under it.
func (tx *txn) claimed(ctx context.Context, sweep string, owner results.Owner, tok string) (*results.Trial, *results.Checkpoint, error) {
	var (
		n   int
		rec []byte
	)
	err := tx.QueryRow(ctx, `SELECT number, record FROM sweep_trials
		WHERE sweep = $1 AND status = 'running' AND write_id = $2`, sweep, tok).Scan(&n, &rec)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, nil, nil
	}
	if err != nil {
		return nil, nil, err
	}
	t, err := results.DecodeTrial(sweep, n, rec)
	if err != nil {
		return nil, nil, err
	}
	ck, err := tx.checkpoint(ctx, sweep, n)
	if err != nil {
		return nil, nil, err
	}
	if t.Lease != nil {
		t.Lease.Owner = owner // with its Attempt, as a claim returns it
	}
	tx.rebaseLease(t)
	return t, ck, nil
}

// claimable returns, its row locked, the trial Claim takes (see Claim);
// nil if there is none. The running trials are read without locks, and
// the one found stale is locked (SKIP LOCKED) and checked again. Trials
// of the groups passed (ClaimGroup's passed over) are not taken.
func (tx *txn) claimable(ctx context.Context, sweep string, stale func(results.Lease) bool, passed []int32) (*results.Trial, error) {
	var (
		n   int
		rec []byte
	)
	if passed == nil {
		passed = []int32{} // not NULL, which would exclude every trial
	}
	err := tx.QueryRow(ctx, `SELECT number, record FROM sweep_trials
		WHERE sweep = $1 AND status IN ('pending', 'interrupted') AND grp <> ALL($2)
		ORDER BY number LIMIT 1 FOR UPDATE SKIP LOCKED`, sweep, passed).Scan(&n, &rec)
	if err == nil {
		return results.DecodeTrial(sweep, n, rec)
	}
	if !errors.Is(err, pgx.ErrNoRows) {
		return nil, err
	}
	type row struct {
		n   int
		rec []byte
	}
	rows, err := tx.Query(ctx, `SELECT number, record FROM sweep_trials
		WHERE sweep = $1 AND status = 'running' AND grp <> ALL($2) ORDER BY number`, sweep, passed)
	if err != nil {
		return nil, err
	}
	running, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (row, error) {
		var x row
		err := r.Scan(&x.n, &x.rec)
		return x, err
	})
	if err != nil {
		return nil, err
	}
	for _, r := range running {
		t, err := results.DecodeTrial(sweep, r.n, r.rec)
		if err != nil {
			return nil, err
		}
		if !tx.staleLease(t, stale) {
			continue
		}
		var now []byte
		err = tx.QueryRow(ctx, `SELECT record FROM sweep_trials
			WHERE sweep = $1 AND number = $2 AND status = 'running' FOR UPDATE SKIP LOCKED`, sweep, r.n).Scan(&now)
		if errors.Is(err, pgx.ErrNoRows) {
			continue // claimed, or written, meanwhile
		}
		if err != nil {
			return nil, err
		}
		if !bytes.Equal(now, r.rec) {
			if t, err = results.DecodeTrial(sweep, r.n, now); err != nil {
				return nil, err
			}
			if !tx.staleLease(t, stale) {
				continue
			}
		}
		return t, nil
	}
	return nil, nil
}

// staleLease reports whether running trial t may be taken from its
// holder: it has no lease, or stale finds its lease, rebased to this
// process's clock, stale.
func (tx *txn) staleLease(t *results.Trial, stale func(results.Lease) bool) bool {
	switch {
	case t.Status != results.Running:
		return false
	case t.Lease == nil:
		return true
	case stale == nil:
		return false
	}
	c := *t
	tx.rebaseLease(&c)
	return stale(*c.Lease)
}

// lease sets t Running under a new lease of owner at the transaction's
// time (Started if zero, Attempts + 1) and writes it, with token tok.
func (tx *txn) lease(ctx context.Context, sweep string, t *results.Trial, owner results.Owner, tok string) error {
	t.Status = results.Running
	t.Lease = &results.Lease{Owner: owner, Claimed: tx.now, Heartbeat: tx.now}
	if t.Started.IsZero() {
		t.Started = tx.now
	}
	t.Attempts++
	return tx.putTrial(ctx, sweep, t, tok)
}

// claim leases t to owner and returns its checkpoint, nil if it has none.
func (tx *txn) claim(ctx context.Context, sweep string, t *results.Trial, owner results.Owner, tok string) (*results.Checkpoint, error) {
	if err := tx.lease(ctx, sweep, t, owner, tok); err != nil {
		return nil, err
	}
	return tx.checkpoint(ctx, sweep, t.Number)
}

// SaveCheckpoint stores ck as trial's latest checkpoint (replacing the
// previous one) with the history so far, records ck's progress in the
// trial's Epoch and Iteration, and refreshes the heartbeat (to the
// database's now()). ErrLeaseLost unless the trial is Running under owner
// (and attempt): the row is locked and checked, so a write of a presumed
// dead worker changes nothing.
func (s *Store) SaveCheckpoint(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck results.Checkpoint, hist []results.Epoch) error {
	ckb := results.EncodeCheckpoint(ck)
	hb := results.EncodeHistory(hist)
	return s.run(ctx, fmt.Sprintf("checkpoint trial %d of sweep %q", trial, sweep), txOptions{}, func(tx *txn) error {
		t, err := tx.heldTrial(ctx, sweep, trial, owner)
		if err != nil {
			return err
		}
		t.Lease.Heartbeat = tx.now
		return tx.putProgress(ctx, sweep, t, &ck, ckb, hb, "")
	})
}

// putProgress writes trial t with its training progress: checkpoint ck
// (encoded: ckb), whose position becomes t's, and the history (encoded:
// hb). A nil ck or hb keeps the stored one.
func (tx *txn) putProgress(ctx context.Context, sweep string, t *results.Trial, ck *results.Checkpoint, ckb, hb []byte, tok string) error {
	b := &pgx.Batch{}
	if err := queueProgress(b, sweep, t, ck, ckb, hb, tok); err != nil {
		return err
	}
	return tx.SendBatch(ctx, b).Close()
}

// queueProgress queues putProgress's writes in b.
func queueProgress(b *pgx.Batch, sweep string, t *results.Trial, ck *results.Checkpoint, ckb, hb []byte, tok string) error {
	if ck != nil {
		t.Epoch, t.Iteration = ck.Epoch, ck.Iteration
		b.Queue(upsert("sweep_checkpoints"), sweep, t.Number, ckb)
	}
	if hb != nil {
		b.Queue(upsert("sweep_histories"), sweep, t.Number, hb)
	}
	return updateTrial(b, sweep, t, tok)
}

// Heartbeat refreshes, in one transaction, the heartbeat of each listed
// trial still running under owner (to the database's now()). If some are
// not (or do not exist), the others are still refreshed and the error
// wraps ErrLeaseLost, naming them.
func (s *Store) Heartbeat(ctx context.Context, sweep string, trials []int, owner results.Owner, now time.Time) error {
	var lost []int
	op := fmt.Sprintf("heartbeat of sweep %q", sweep)
	err := s.run(ctx, op, txOptions{}, func(tx *txn) error {
		lost = lost[:0]
		ns := make([]int32, len(trials))
		for i, n := range trials {
			ns[i] = int32(n)
		}
		// Only running trials are locked (see heldTrial); the others are lost.
		rows, err := tx.Query(ctx, `SELECT number, record FROM sweep_trials
			WHERE sweep = $1 AND number = ANY($2) AND status = 'running' ORDER BY number FOR UPDATE`, sweep, ns)
		if err != nil {
			return err
		}
		held := map[int]*results.Trial{}
		var decodeErr error
		var n int
		var rec []byte
		_, err = pgx.ForEachRow(rows, []any{&n, &rec}, func() error {
			t, err := results.DecodeTrial(sweep, n, rec)
			if err != nil {
				decodeErr = err
				return err
			}
			if results.Held(t, owner) == nil {
				held[n] = t
			}
			return nil
		})
		if decodeErr != nil {
			return decodeErr
		}
		if err != nil {
			return err
		}
		if len(held) == 0 {
			if err := tx.sweepExists(ctx, sweep); err != nil {
				return err
			}
		}
		b := &pgx.Batch{}
		for _, n := range trials {
			t := held[n]
			if t == nil {
				lost = append(lost, n)
				continue
			}
			t.Lease.Heartbeat = tx.now
			if err := updateTrial(b, sweep, t, ""); err != nil {
				return err
			}
			delete(held, n) // a number listed twice is written once
		}
		if b.Len() == 0 {
			return nil
		}
		return tx.SendBatch(ctx, b).Close()
	})
	if err != nil {
		return err
	}
	if len(lost) > 0 {
		return s.scrub(fmt.Errorf("%s (results %q): %w: trials %s are no longer held by %s", op, s.loc, results.ErrLeaseLost, numbers(lost), owner))
	}
	return nil
}

// Finish records the outcome of trial's attempt: Status, Metrics, History
// (kept as stored when o.History is empty), Error, Stack, Finished (the
// database's now()), Duration += o.Duration; it clears the lease and
// deletes the checkpoint. o.Status must be a finished status. When o.Eval
// is not nil it is appended to Evals (Rung + 1, Promoted cleared), as by
// Pause. ErrLeaseLost unless the trial is Running under owner (and
// attempt).
//
// Kept models: when the trial is Done, o.Model is stored if the trial ranks
// (by results.LessMetrics) within the sweep's best Keep done trials, and
// the models of trials pushed out of them are deleted; otherwise o.Model is
// dropped. The finishes of done trials of a sweep are serialised (an
// advisory lock) so that the sweep never keeps more than Keep models.
func (s *Store) Finish(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, o results.Outcome) error {
	op := fmt.Sprintf("finish trial %d of sweep %q", trial, sweep)
	if !o.Status.Finished() {
		return fmt.Errorf("%s: status %q is not a finished status", op, o.Status)
	}
	var hb, mb []byte
	if len(o.History) > 0 {
		hb = results.EncodeHistory(o.History)
	}
	if o.Model != nil && o.Status == results.Done {
		var err error
		if mb, err = results.EncodeModel(o.Model); err != nil {
			return fmt.Errorf("%s: model: %w", op, err)
		}
	}
	tok := newToken()
	return s.run(ctx, op, txOptions{}, func(tx *txn) error {
		t, done, err := tx.heldOnce(ctx, sweep, trial, owner, tok)
		if done || err != nil {
			return err
		}
		if err := t.Finish(o, tx.now); err != nil {
			return err
		}
		b := &pgx.Batch{}
		if err := updateTrial(b, sweep, t, tok); err != nil {
			return err
		}
		if hb != nil {
			b.Queue(upsert("sweep_histories"), sweep, trial, hb)
		}
		b.Queue(`DELETE FROM sweep_checkpoints WHERE sweep = $1 AND number = $2`, sweep, trial)
		if err := tx.SendBatch(ctx, b).Close(); err != nil {
			return err
		}
		if t.Status != results.Done {
			return nil
		}
		return tx.keepModels(ctx, sweep, trial, mb)
	})
}

// keepModels stores model (when not nil) as trial n's if n is among the
// sweep's best Keep done trials, and deletes every model outside them,
// under the sweep's models lock.
func (tx *txn) keepModels(ctx context.Context, sweep string, n int, model []byte) error {
	if err := tx.lockSweep(ctx, lockModels, sweep); err != nil {
		return err
	}
	var (
		metric string
		keep   int
	)
	if err := tx.QueryRow(ctx, `SELECT metric, keep FROM sweep_sweeps WHERE name = $1`, sweep).Scan(&metric, &keep); err != nil {
		return err
	}
	if keep == 0 {
		keep = results.DefaultKeep // a loaded record's 0 (results.Sweep.Keep)
	}
	top, err := tx.topDone(ctx, sweep, max(keep, 0), metric != "val_loss")
	if err != nil {
		return err
	}
	b := &pgx.Batch{}
	if model != nil && slices.Contains(top, int32(n)) {
		b.Queue(upsert("sweep_models"), sweep, n, model)
	}
	b.Queue(`DELETE FROM sweep_models WHERE sweep = $1 AND NOT (number = ANY($2))`, sweep, top)
	return tx.SendBatch(ctx, b).Close()
}

// topDone returns the numbers of the best k done trials of the sweep, best
// first (an index scan: see rankOrder).
func (tx *txn) topDone(ctx context.Context, sweep string, k int, maximize bool) ([]int32, error) {
	rows, err := tx.Query(ctx, `SELECT number FROM sweep_trials WHERE sweep = $1 AND status = 'done'
		ORDER BY `+rankOrder(maximize)+` LIMIT $2`, sweep, k)
	if err != nil {
		return nil, err
	}
	top, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if top == nil {
		top = []int32{}
	}
	return top, err
}

// Release gives trial back after an interruption (Ctrl-C): Status
// Interrupted, lease cleared, Duration += duration; ck, when not nil,
// replaces the stored checkpoint (which is kept otherwise), and hist, when
// not empty, the stored history. ErrLeaseLost unless the trial is Running
// under owner (and attempt).
func (s *Store) Release(ctx context.Context, sweep string, trial int, owner results.Owner, now time.Time, ck *results.Checkpoint, hist []results.Epoch, duration float64) error {
	var ckb, hb []byte
	if ck != nil {
		ckb = results.EncodeCheckpoint(*ck)
	}
	if len(hist) > 0 {
		hb = results.EncodeHistory(hist)
	}
	tok := newToken()
	return s.run(ctx, fmt.Sprintf("release trial %d of sweep %q", trial, sweep), txOptions{}, func(tx *txn) error {
		t, done, err := tx.heldOnce(ctx, sweep, trial, owner, tok)
		if done || err != nil {
			return err
		}
		t.Status = results.Interrupted
		t.Lease = nil
		t.Duration += duration
		return tx.putProgress(ctx, sweep, t, ck, ckb, hb, tok)
	})
}

// Trials returns the sweep's trials that f selects, by number, their
// leases rebased to this process's clock. Histories and decisions are not
// read; only the selected trials' records are sent and decoded.
func (s *Store) Trials(ctx context.Context, sweep string, f results.Filter) ([]results.Trial, error) {
	var out []results.Trial
	err := s.run(ctx, fmt.Sprintf("list trials of sweep %q", sweep), txOptions{readOnly: true}, func(tx *txn) error {
		var err error
		out, err = tx.trials(ctx, sweep, f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// trials decodes the sweep's trials that f selects, by number, checking
// that the numbers are 1..N, with their leases rebased.
func (tx *txn) trials(ctx context.Context, sweep string, f results.Filter) ([]results.Trial, error) {
	q, args := `SELECT number, record FROM sweep_trials WHERE sweep = $1 ORDER BY number`, []any{sweep}
	if len(f.Status) > 0 {
		statuses := make([]string, len(f.Status))
		for i, st := range f.Status {
			statuses[i] = string(st)
		}
		q = `SELECT number, CASE WHEN status = ANY($2) THEN record END FROM sweep_trials WHERE sweep = $1 ORDER BY number`
		args = append(args, statuses)
	}
	rows, err := tx.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	out := []results.Trial{}
	var (
		n, prev int
		rec     []byte
		bad     error
	)
	_, err = pgx.ForEachRow(rows, []any{&n, &rec}, func() error {
		if n != prev+1 {
			bad = results.Corruptf("sweep %q: trial numbers jump from %d to %d", sweep, prev, n)
			return bad
		}
		prev = n
		if rec == nil {
			return nil
		}
		t, err := results.DecodeTrial(sweep, n, rec)
		if err != nil {
			bad = err
			return err
		}
		if f.Match(t.Status) {
			tx.rebaseLease(t)
			out = append(out, *t)
		}
		return nil
	})
	if bad != nil {
		return nil, bad
	}
	if err != nil {
		return nil, err
	}
	if prev == 0 {
		if err := tx.sweepExists(ctx, sweep); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Trial returns trial number of the sweep, with its Decisions and its
// lease rebased, and its history (nil if none). ErrNoTrial if there is no
// such trial.
func (s *Store) Trial(ctx context.Context, sweep string, number int) (*results.Trial, []results.Epoch, error) {
	var (
		t    *results.Trial
		hist []results.Epoch
	)
	err := s.run(ctx, fmt.Sprintf("read trial %d of sweep %q", number, sweep), txOptions{readOnly: true}, func(tx *txn) error {
		var rec, dec, hb []byte
		err := tx.QueryRow(ctx, `SELECT t.record,
			(SELECT data FROM sweep_decisions d WHERE d.sweep = t.sweep AND d.number = t.number),
			(SELECT data FROM sweep_histories h WHERE h.sweep = t.sweep AND h.number = t.number)
			FROM sweep_trials t WHERE t.sweep = $1 AND t.number = $2`, sweep, number).Scan(&rec, &dec, &hb)
		if errors.Is(err, pgx.ErrNoRows) {
			return tx.noTrial(ctx, sweep, number)
		}
		if err != nil {
			return err
		}
		if t, err = results.DecodeTrial(sweep, number, rec); err != nil {
			return err
		}
		if dec != nil {
			if t.Decisions, err = results.DecodeDecisions(dec); err != nil {
				return fmt.Errorf("sweep %q trial %d: %w", sweep, number, err)
			}
		}
		hist = nil
		if hb != nil {
			if hist, err = results.DecodeHistory(hb); err != nil {
				return fmt.Errorf("sweep %q trial %d: %w", sweep, number, err)
			}
		}
		tx.rebaseLease(t)
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return t, hist, nil
}

// Running returns the sweep's running trials, by number, with their
// leases rebased to this process's clock; cheap on a large sweep (an
// index of the running trials).
func (s *Store) Running(ctx context.Context, sweep string) ([]results.Trial, error) {
	var out []results.Trial
	err := s.run(ctx, fmt.Sprintf("list running trials of sweep %q", sweep), txOptions{readOnly: true}, func(tx *txn) error {
		out = nil
		rows, err := tx.Query(ctx, `SELECT number, record FROM sweep_trials
			WHERE sweep = $1 AND status = 'running' ORDER BY number`, sweep)
		if err != nil {
			return err
		}
		var (
			n   int
			rec []byte
			bad error
		)
		_, err = pgx.ForEachRow(rows, []any{&n, &rec}, func() error {
			t, err := results.DecodeTrial(sweep, n, rec)
			switch {
			case err != nil:
				bad = err
			case t.Status != results.Running:
				bad = results.Corruptf("sweep %q: trial %d's row says it is running, its record says %s", sweep, n, t.Status)
			default:
				tx.rebaseLease(t)
				out = append(out, *t)
			}
			return bad
		})
		if bad != nil {
			return bad
		}
		if err != nil {
			return err
		}
		if len(out) == 0 {
			return tx.sweepExists(ctx, sweep)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Model returns the kept final weights of trial number. The error wraps
// ErrNotFound (and lists the kept trials) if its weights were not kept,
// ErrNoTrial if there is no such trial.
func (s *Store) Model(ctx context.Context, sweep string, number int) (*results.Model, error) {
	var m *results.Model
	err := s.run(ctx, fmt.Sprintf("read model of trial %d of sweep %q", number, sweep), txOptions{readOnly: true}, func(tx *txn) error {
		var (
			exists bool
			data   []byte
		)
		err := tx.QueryRow(ctx, `SELECT
			EXISTS (SELECT 1 FROM sweep_trials WHERE sweep = $1 AND number = $2),
			(SELECT data FROM sweep_models WHERE sweep = $1 AND number = $2)`, sweep, number).Scan(&exists, &data)
		if err != nil {
			return err
		}
		if !exists {
			return tx.noTrial(ctx, sweep, number)
		}
		if data == nil {
			rows, err := tx.Query(ctx, `SELECT number FROM sweep_models WHERE sweep = $1 ORDER BY number`, sweep)
			if err != nil {
				return err
			}
			kept, err := pgx.CollectRows(rows, pgx.RowTo[int])
			if err != nil {
				return err
			}
			if len(kept) == 0 {
				return fmt.Errorf("%w: weights of trial %d were not kept (no weights are kept)", results.ErrNotFound, number)
			}
			return fmt.Errorf("%w: weights of trial %d were not kept (kept: trials %s)", results.ErrNotFound, number, numbers(kept))
		}
		if m, err = results.DecodeModel(data); err != nil {
			return fmt.Errorf("sweep %q trial %d: %w", sweep, number, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}
