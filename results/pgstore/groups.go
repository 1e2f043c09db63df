package pgstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
)

// finishedStatuses are the statuses for which results.Status.Finished
// holds: a group's members in them are over, and not claimed.
var finishedStatuses = func() []string {
	var out []string
	for _, s := range results.Statuses {
		if s.Finished() {
			out = append(out, string(s))
		}
	}
	return out
}()

// errContended is ClaimGroup's error when it found nothing claimable but
// passed over a group some of whose unfinished members a concurrent
// transaction held locked (a claim of the same group, a heartbeat): the
// group may be claimable once they commit, so the call is tried again
// (run's backoff, as a serialisation failure is) rather than say ErrNoWork.
var errContended = errors.New("the members of a claimable group were locked by concurrent transactions")

// ClaimGroup takes, in one transaction, a trial of the sweep as Claim
// does (the lowest-numbered pending or interrupted trial not locked by a
// concurrent claim, else a stale running one), and when it has a group,
// every unfinished member of the group with it: all are leased to owner
// (Running, Started if zero, Attempts + 1, the lease's times the
// database's now()) and returned by number with their checkpoints, with
// the group's finished members. A trial of no group is claimed alone.
//
// The members are locked (SELECT ... FOR UPDATE SKIP LOCKED, in the order
// of their numbers) and checked on their locked rows: a group is taken
// only if every unfinished member is locked by this transaction and
// claimable, so that concurrent claims never split a group or take a
// member twice. A group one of whose members is not claimable (a live
// lease, paused), or is locked by another transaction, is passed over,
// the rows locked for it released (a savepoint rolled back), and the next
// claimable trial looked at. When nothing else is claimable and a group
// was passed over for a lock, the transaction is tried again after a
// backoff (errContended); ErrNoWork if nothing is claimable.
//
// As Claim's, the claim writes its token with the rows it leases, so that
// a retry after a lost COMMIT returns what the first attempt claimed.
func (s *Store) ClaimGroup(ctx context.Context, sweep string, owner results.Owner, now time.Time, stale func(results.Lease) bool) (*results.GroupClaim, error) {
	var (
		gc  *results.GroupClaim
		tok = newToken()
	)
	err := s.run(ctx, fmt.Sprintf("claim a group of trials of sweep %q", sweep), txOptions{}, func(tx *txn) error {
		var err error
		if tx.lost {
			if gc, err = tx.claimedGroup(ctx, sweep, owner, tok); err != nil || gc != nil {
				return err
			}
		}
		if gc, err = tx.claimGroup(ctx, sweep, owner, stale, tok); err != nil || gc != nil {
			return err
		}
		if err := tx.sweepExists(ctx, sweep); err != nil {
			return err
		}
		return results.ErrNoWork
	})
	if err != nil {
		return nil, err
	}
	return gc, nil
}

// claimGroup is ClaimGroup's work in its transaction: nil if nothing is
// claimable.
func (tx *txn) claimGroup(ctx context.Context, sweep string, owner results.Owner, stale func(results.Lease) bool, tok string) (*results.GroupClaim, error) {
	// Rolled back to when a group is passed over: its rows' locks go.
	if _, err := tx.Exec(ctx, `SAVEPOINT claim_group`); err != nil {
		return nil, err
	}
	passed := []int32{}
	contended := false
	for {
		t, err := tx.claimable(ctx, sweep, stale, passed)
		if err != nil {
			return nil, err
		}
		if t == nil {
			break
		}
		if t.Group == 0 {
			ck, err := tx.claim(ctx, sweep, t, owner, tok)
			if err != nil {
				return nil, err
			}
			tx.rebaseLease(t)
			return &results.GroupClaim{Trials: []*results.Trial{t}, Checkpoints: []*results.Checkpoint{ck}}, nil
		}
		members, locked, err := tx.lockGroup(ctx, sweep, t.Group)
		if err != nil {
			return nil, err
		}
		whole := locked && !slices.ContainsFunc(members, func(m *results.Trial) bool { return !tx.claimableNow(m, stale) })
		if !whole {
			contended = contended || !locked
			passed = append(passed, int32(t.Group))
			if _, err := tx.Exec(ctx, `ROLLBACK TO SAVEPOINT claim_group`); err != nil {
				return nil, err
			}
			continue
		}
		gc := &results.GroupClaim{Group: t.Group}
		for _, m := range members {
			ck, err := tx.claim(ctx, sweep, m, owner, tok)
			if err != nil {
				return nil, err
			}
			tx.rebaseLease(m)
			gc.Trials = append(gc.Trials, m)
			gc.Checkpoints = append(gc.Checkpoints, ck)
		}
		if gc.Finished, err = tx.finishedMembers(ctx, sweep, t.Group); err != nil {
			return nil, err
		}
		return gc, nil
	}
	if contended {
		return nil, errContended
	}
	return nil, nil
}

// claimableNow reports whether t, read on its locked row, may be claimed:
// pending, interrupted, or running with a stale lease or none (Claim's
// rule).
func (tx *txn) claimableNow(t *results.Trial, stale func(results.Lease) bool) bool {
	switch t.Status {
	case results.Pending, results.Interrupted:
		return true
	}
	return tx.staleLease(t, stale)
}

// lockGroup locks the unfinished members of group g of sweep that no
// other transaction has locked, and returns them by number; locked
// reports that they are all of them (no other transaction holds one).
func (tx *txn) lockGroup(ctx context.Context, sweep string, g int) (members []*results.Trial, locked bool, err error) {
	rows, err := tx.Query(ctx, `SELECT number, record FROM sweep_trials
		WHERE sweep = $1 AND grp = $2 AND status <> ALL($3)
		ORDER BY number FOR UPDATE SKIP LOCKED`, sweep, g, finishedStatuses)
	if err != nil {
		return nil, false, err
	}
	if members, err = tx.decodeRows(sweep, rows); err != nil {
		return nil, false, err
	}
	// A member finished since (by the transaction that held it) is not
	// counted: the rows locked are then the group's unfinished members.
	var unfinished int
	if err := tx.QueryRow(ctx, `SELECT count(*) FROM sweep_trials
		WHERE sweep = $1 AND grp = $2 AND status <> ALL($3)`, sweep, g, finishedStatuses).Scan(&unfinished); err != nil {
		return nil, false, err
	}
	return members, len(members) >= unfinished, nil
}

// finishedMembers returns the finished members of group g of sweep, by
// number.
func (tx *txn) finishedMembers(ctx context.Context, sweep string, g int) ([]results.Trial, error) {
	rows, err := tx.Query(ctx, `SELECT number, record FROM sweep_trials
		WHERE sweep = $1 AND grp = $2 AND status = ANY($3) ORDER BY number`, sweep, g, finishedStatuses)
	if err != nil {
		return nil, err
	}
	ts, err := tx.decodeRows(sweep, rows)
	if err != nil {
		return nil, err
	}
	var out []results.Trial
	for _, t := range ts {
		out = append(out, *t)
	}
	return out, nil
}

// decodeRows decodes rows of (number, record), their leases as stored.
func (tx *txn) decodeRows(sweep string, rows pgx.Rows) ([]*results.Trial, error) {
	var (
		out []*results.Trial
		n   int
		rec []byte
		bad error
	)
	_, err := pgx.ForEachRow(rows, []any{&n, &rec}, func() error {
		t, err := results.DecodeTrial(sweep, n, rec)
		if err != nil {
			bad = err
			return err
		}
		out = append(out, t)
		return nil
	})
	if bad != nil {
		return nil, bad
	}
	return out, err
}

// claimedGroup returns what a ClaimGroup with token tok leased (the trials
// running under it, with their checkpoints, and their group's finished
// members), nil if none: the check of a retry whose earlier attempt's
// COMMIT was lost.
func (tx *txn) claimedGroup(ctx context.Context, sweep string, owner results.Owner, tok string) (*results.GroupClaim, error) {
	rows, err := tx.Query(ctx, `SELECT number, record FROM sweep_trials
		WHERE sweep = $1 AND status = 'running' AND write_id = $2 ORDER BY number`, sweep, tok)
	if err != nil {
		return nil, err
	}
	ts, err := tx.decodeRows(sweep, rows)
	if err != nil || len(ts) == 0 {
		return nil, err
	}
	gc := &results.GroupClaim{Group: ts[0].Group}
	for _, t := range ts {
		ck, err := tx.checkpoint(ctx, sweep, t.Number)
		if err != nil {
			return nil, err
		}
		if t.Lease != nil {
			t.Lease.Owner = owner // with its Attempt, as a claim returns it
		}
		tx.rebaseLease(t)
		gc.Trials = append(gc.Trials, t)
		gc.Checkpoints = append(gc.Checkpoints, ck)
	}
	if gc.Group != 0 {
		if gc.Finished, err = tx.finishedMembers(ctx, sweep, gc.Group); err != nil {
			return nil, err
		}
	}
	return gc, nil
}

// SaveCheckpoints stores, in one transaction, each checkpoint of cks as its
// trial's latest, with its history, records its progress and refreshes the
// trial's heartbeat (to the database's now()), as SaveCheckpoint does for
// one. Each trial's row is locked (in the order of their numbers) and
// checked held by owner in the TrialCheckpoint's Attempt (owner.Attempt
// when that is 0): if one is not, nothing is written and the error wraps
// ErrLeaseLost, naming it. Like SaveCheckpoint, it is idempotent, so a
// retry after a lost COMMIT writes the same again.
func (s *Store) SaveCheckpoints(ctx context.Context, sweep string, owner results.Owner, now time.Time, cks []results.TrialCheckpoint) error {
	type encoded struct{ ck, hist []byte }
	enc := make([]encoded, len(cks))
	ns := make([]int, len(cks))
	for i, c := range cks {
		enc[i] = encoded{results.EncodeCheckpoint(c.Checkpoint), results.EncodeHistory(c.History)}
		ns[i] = c.Trial
	}
	// Rows are locked in the order of their numbers, as Heartbeat's are.
	order := make([]int, len(cks))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(a, b int) int { return cks[a].Trial - cks[b].Trial })
	return s.run(ctx, fmt.Sprintf("checkpoint trials %s of sweep %q", numbers(ns), sweep), txOptions{}, func(tx *txn) error {
		if len(cks) == 0 {
			return tx.sweepExists(ctx, sweep)
		}
		held := map[int]*results.Trial{}
		for _, i := range order {
			c := cks[i]
			o := owner
			if c.Attempt != 0 {
				o.Attempt = c.Attempt
			}
			if t := held[c.Trial]; t != nil {
				if err := results.Held(t, o); err != nil {
					return err
				}
				continue
			}
			t, err := tx.heldTrial(ctx, sweep, c.Trial, o)
			if err != nil {
				return err
			}
			held[c.Trial] = t
		}
		b := &pgx.Batch{}
		for i := range cks {
			t := held[cks[i].Trial]
			t.Lease.Heartbeat = tx.now
			if err := queueProgress(b, sweep, t, &cks[i].Checkpoint, enc[i].ck, enc[i].hist, ""); err != nil {
				return err
			}
		}
		return tx.SendBatch(ctx, b).Close()
	})
}
