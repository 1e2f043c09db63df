package boltstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Claim takes, in one transaction, the lowest-numbered trial of the sweep
// that is pending, interrupted, or running with stale(its lease) true (a nil
// stale never finds a lease stale). It sets the trial Running under
// Lease{owner, now, now}, sets Started if zero, increments Attempts, and
// returns it with its latest checkpoint (nil if none). ErrNoWork if no
// trial is claimable.
//
// A paused trial is not claimable: only a promotion (ClaimNext) resumes
// it. An interrupted or stale trial of an adaptive sweep is claimed as any
// other, and goes on towards its Target.
func (s *Store) Claim(ctx context.Context, sweep string, owner Owner, now time.Time, stale func(Lease) bool) (*Trial, *Checkpoint, error) {
	var (
		t  *Trial
		ck *Checkpoint
	)
	err := s.update(ctx, fmt.Sprintf("claim a trial of sweep %q", sweep), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		if t, err = st.claimable(stale); err != nil {
			return err
		}
		if t == nil {
			return ErrNoWork
		}
		ck, err = st.claim(t, owner, now)
		return err
	})
	if err != nil {
		return nil, nil, err
	}
	return t, ck, nil
}

// claimable returns the trial Claim takes: the lowest-numbered trial that
// is pending, interrupted, or running with stale(its lease) true (or no
// lease); nil if there is none.
func (st *sweepTx) claimable(stale func(Lease) bool) (*Trial, error) {
	c := st.open.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		n, err := btoi(k)
		if err != nil {
			return nil, err
		}
		switch Status(v) {
		case Pending, Interrupted:
			return st.trial(n)
		case Paused:
			continue
		}
		r, err := st.trial(n)
		if err != nil {
			return nil, err
		}
		if r.Status == Running && (r.Lease == nil || (stale != nil && stale(*r.Lease))) {
			return r, nil
		}
	}
	return nil, nil
}

// lease sets t Running under a new lease of owner (Started if zero,
// Attempts + 1) and writes it.
func (st *sweepTx) lease(t *Trial, owner Owner, now time.Time) error {
	t.Status = Running
	t.Lease = &Lease{Owner: owner, Claimed: now, Heartbeat: now}
	if t.Started.IsZero() {
		t.Started = now
	}
	t.Attempts++
	return st.putTrial(t)
}

// claim leases t to owner and returns its checkpoint, nil if it has none.
func (st *sweepTx) claim(t *Trial, owner Owner, now time.Time) (*Checkpoint, error) {
	if err := st.lease(t, owner, now); err != nil {
		return nil, err
	}
	v, err := getBlob(st.ckpt, t.Number)
	if err != nil || v == nil {
		return nil, err
	}
	ck, err := decodeCheckpoint(v)
	if err != nil {
		return nil, fmt.Errorf("trial %d: %w", t.Number, err)
	}
	return ck, nil
}

// SaveCheckpoint stores ck as trial's latest checkpoint (replacing the
// previous one) with the history so far, records ck's progress in the
// trial's Epoch and Iteration, and refreshes the heartbeat. ErrLeaseLost
// unless the trial is Running under owner.
func (s *Store) SaveCheckpoint(ctx context.Context, sweep string, trial int, owner Owner, now time.Time, ck Checkpoint, hist []Epoch) error {
	ckb := encodeCheckpoint(ck)
	hb := encodeHistory(hist)
	return s.update(ctx, fmt.Sprintf("checkpoint trial %d of sweep %q", trial, sweep), func(tx *bolt.Tx) error {
		st, t, err := heldTrial(tx, sweep, trial, owner)
		if err != nil {
			return err
		}
		t.Lease.Heartbeat = now
		return st.putProgress(t, &ck, ckb, hb)
	})
}

// putProgress stores trial t with its training progress: checkpoint ck
// (encoded: ckb), whose position becomes t's, and the history (encoded:
// hb). A nil ck or hb keeps the stored one.
func (st *sweepTx) putProgress(t *Trial, ck *Checkpoint, ckb, hb []byte) error {
	if ck != nil {
		t.Epoch, t.Iteration = ck.Epoch, ck.Iteration
		if err := putBlob(st.ckpt, t.Number, ckb); err != nil {
			return err
		}
	}
	if hb != nil {
		if err := st.hist.Put(itob(t.Number), hb); err != nil {
			return err
		}
	}
	return st.putTrial(t)
}

// heldTrial returns trial n of sweep if it is running under owner.
func heldTrial(tx *bolt.Tx, sweep string, n int, owner Owner) (*sweepTx, *Trial, error) {
	st, err := getSweep(tx, sweep)
	if err != nil {
		return nil, nil, err
	}
	t, err := st.trial(n)
	if err != nil {
		return nil, nil, err
	}
	if err := held(t, owner); err != nil {
		return nil, nil, err
	}
	return st, t, nil
}

// Heartbeat refreshes, in one transaction, the heartbeat of each listed
// trial still running under owner. If some are not (or do not exist), the
// others are still refreshed and the error wraps ErrLeaseLost, naming them.
func (s *Store) Heartbeat(ctx context.Context, sweep string, trials []int, owner Owner, now time.Time) error {
	var lost []int
	op := fmt.Sprintf("heartbeat of sweep %q", sweep)
	err := s.update(ctx, op, func(tx *bolt.Tx) error {
		lost = lost[:0]
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		for _, n := range trials {
			t, err := st.trial(n)
			if err == nil {
				err = held(t, owner)
			}
			if err != nil {
				lost = append(lost, n)
				continue
			}
			t.Lease.Heartbeat = now
			if err := st.putTrial(t); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if len(lost) > 0 {
		return fmt.Errorf("%s (results %q): %w: trials %s are no longer held by %s", op, s.path, ErrLeaseLost, numbers(lost), owner)
	}
	return nil
}

// Finish records the outcome of trial's attempt: Status, Metrics, History
// (kept as stored when o.History is empty), Error, Stack, Finished = now,
// Duration += o.Duration; it clears the lease and deletes the checkpoint.
// o.Status must be a finished status. When o.Eval is not nil it is
// appended to Evals (Rung + 1, Promoted cleared), as by Pause; its
// Resource must be beyond the trial's last evaluation's. ErrLeaseLost
// unless the trial is Running under owner.
//
// Kept models: when the trial is Done, o.Model is stored if the trial ranks
// (by Less) within the sweep's best Keep done trials, and the models of
// trials pushed out of them are deleted; otherwise o.Model is dropped.
func (s *Store) Finish(ctx context.Context, sweep string, trial int, owner Owner, now time.Time, o Outcome) error {
	op := fmt.Sprintf("finish trial %d of sweep %q", trial, sweep)
	if !o.Status.Finished() {
		return fmt.Errorf("%s: status %q is not a finished status", op, o.Status)
	}
	var hb, mb []byte
	if len(o.History) > 0 {
		hb = encodeHistory(o.History)
	}
	if o.Model != nil && o.Status == Done {
		var err error
		if mb, err = encodeModel(o.Model); err != nil {
			return fmt.Errorf("%s: model: %w", op, err)
		}
	}
	return s.update(ctx, op, func(tx *bolt.Tx) error {
		st, t, err := heldTrial(tx, sweep, trial, owner)
		if err != nil {
			return err
		}
		if err := t.Finish(o, now); err != nil {
			return err
		}
		if err := st.putTrial(t); err != nil {
			return err
		}
		if hb != nil {
			if err := st.hist.Put(itob(trial), hb); err != nil {
				return err
			}
		}
		if err := deleteBlob(st.ckpt, trial); err != nil {
			return err
		}
		if t.Status != Done {
			return nil
		}
		return st.keepModels(trial, mb)
	})
}

// doneEntry is a done trial in the done index.
type doneEntry struct {
	n               int
	valAcc, valLoss float64
}

// topDone returns the best k done trials of the sweep by Less, from the
// done index (no trial record is decoded).
func (st *sweepTx) topDone(k int, maximize bool) ([]doneEntry, error) {
	var all []doneEntry
	err := st.done.ForEach(func(key, v []byte) error {
		n, err := btoi(key)
		if err != nil {
			return err
		}
		acc, loss, err := decodeDone(v)
		if err != nil {
			return fmt.Errorf("trial %d: %w", n, err)
		}
		all = append(all, doneEntry{n, acc, loss})
		return nil
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(all, func(a, b doneEntry) int {
		if lessMetrics(a.valAcc, a.valLoss, a.n, b.valAcc, b.valLoss, b.n, maximize) {
			return -1
		}
		return 1 // numbers differ, so a and b are never equal
	})
	return all[:min(k, len(all))], nil
}

// keepModels stores model (when not nil) as trial n's if n is among the
// sweep's best Keep done trials, and deletes every model outside them.
func (st *sweepTx) keepModels(n int, model []byte) error {
	sw, err := st.sweep()
	if err != nil {
		return err
	}
	top, err := st.topDone(sw.Keep, sw.Maximize())
	if err != nil {
		return err
	}
	in := func(n int) bool {
		return slices.ContainsFunc(top, func(e doneEntry) bool { return e.n == n })
	}
	if model != nil && in(n) {
		if err := putBlob(st.models, n, model); err != nil {
			return err
		}
	}
	kept, err := blobNumbers(st.models)
	if err != nil {
		return err
	}
	for _, m := range kept {
		if !in(m) {
			if err := deleteBlob(st.models, m); err != nil {
				return err
			}
		}
	}
	return nil
}

// Release gives trial back after an interruption (Ctrl-C): Status
// Interrupted, lease cleared, Duration += duration; ck, when not nil,
// replaces the stored checkpoint (which is kept otherwise), and hist, when
// not empty, the stored history. ErrLeaseLost unless the trial is Running
// under owner.
func (s *Store) Release(ctx context.Context, sweep string, trial int, owner Owner, now time.Time, ck *Checkpoint, hist []Epoch, duration float64) error {
	var ckb, hb []byte
	if ck != nil {
		ckb = encodeCheckpoint(*ck)
	}
	if len(hist) > 0 {
		hb = encodeHistory(hist)
	}
	return s.update(ctx, fmt.Sprintf("release trial %d of sweep %q", trial, sweep), func(tx *bolt.Tx) error {
		st, t, err := heldTrial(tx, sweep, trial, owner)
		if err != nil {
			return err
		}
		t.Status = Interrupted
		t.Lease = nil
		t.Duration += duration
		return st.putProgress(t, ck, ckb, hb)
	})
}

// Trials returns the sweep's trials that f selects, by number. Histories are
// not read.
func (s *Store) Trials(ctx context.Context, sweep string, f Filter) ([]Trial, error) {
	var out []Trial
	err := s.view(ctx, fmt.Sprintf("list trials of sweep %q", sweep), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		out, err = st.allTrials(f)
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// allTrials decodes the sweep's trials that f selects, by number,
// checking that the numbers are 1..N.
func (st *sweepTx) allTrials(f Filter) ([]Trial, error) {
	last, err := st.lastNumber()
	if err != nil {
		return nil, err
	}
	out := make([]Trial, 0, last)
	c := st.trials.Cursor()
	prev := 0
	for k, v := c.First(); k != nil; k, v = c.Next() {
		n, err := btoi(k)
		if err != nil {
			return nil, err
		}
		if n != prev+1 {
			return nil, corruptf("sweep %q: trial numbers jump from %d to %d", st.name, prev, n)
		}
		prev = n
		t, err := decodeTrial(st.name, n, v)
		if err != nil {
			return nil, err
		}
		if f.Match(t.Status) {
			out = append(out, *t)
		}
	}
	return out, nil
}

// Trial returns trial number of the sweep, with its Decisions, and its
// history (nil if none). ErrNoTrial if there is no such trial.
func (s *Store) Trial(ctx context.Context, sweep string, number int) (*Trial, []Epoch, error) {
	var (
		t    *Trial
		hist []Epoch
	)
	err := s.view(ctx, fmt.Sprintf("read trial %d of sweep %q", number, sweep), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		if t, err = st.trial(number); err != nil {
			return err
		}
		if t.Decisions, err = st.decisions(number); err != nil {
			return err
		}
		hist = nil
		if v := st.hist.Get(itob(number)); v != nil {
			if hist, err = decodeHistory(v); err != nil {
				return fmt.Errorf("trial %d: %w", number, err)
			}
		}
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return t, hist, nil
}

// Model returns the kept final weights of trial number. The error wraps
// ErrNotFound (and lists the kept trials) if its weights were not kept,
// ErrNoTrial if there is no such trial.
func (s *Store) Model(ctx context.Context, sweep string, number int) (*Model, error) {
	var m *Model
	err := s.view(ctx, fmt.Sprintf("read model of trial %d of sweep %q", number, sweep), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		if _, err := st.trial(number); err != nil {
			return err
		}
		v, err := getBlob(st.models, number)
		if err != nil {
			return err
		}
		if v == nil {
			// Check the listing before saying so: a damaged page can make
			// the lookup miss the weights.
			kept, err := blobNumbers(st.models)
			if err != nil {
				return err
			}
			if slices.Contains(kept, number) {
				return corruptf("weights of sweep %q trial %d are in the file, but looking them up misses them", sweep, number)
			}
			if len(kept) == 0 {
				return fmt.Errorf("%w: weights of trial %d were not kept (no weights are kept)", ErrNotFound, number)
			}
			return fmt.Errorf("%w: weights of trial %d were not kept (kept: trials %s)", ErrNotFound, number, numbers(kept))
		}
		m, err = decodeModel(v)
		if err != nil {
			return fmt.Errorf("trial %d: %w", number, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return m, nil
}
