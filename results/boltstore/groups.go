package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sweep-dev/sweep/results"
	bolt "go.etcd.io/bbolt"
)

// ClaimGroup takes, in one transaction, the lowest-numbered claimable
// trial of the sweep (as Claim: pending, interrupted, or running with
// stale(its lease) true or no lease; not paused) whose group, if it has
// one, is claimable as a whole: every unfinished member claimable by the
// same rule. A trial of no group is leased alone; a group's unfinished
// members are all leased to owner (Running, Started if zero, Attempts +
// 1, Lease{owner, now, now}) and returned by number with their
// checkpoints, with the group's finished members. A group that is not
// claimable as a whole is passed over, all its members. ErrNoWork if
// nothing is claimable.
//
// The transaction holds the file's lock, so concurrent claims (of any
// process) never split a group. The members of a group are found by a
// scan of the sweep's trial records, made once a call and only when the
// first claimable trial has a group.
func (s *Store) ClaimGroup(ctx context.Context, sweep string, owner Owner, now time.Time, stale func(Lease) bool) (*results.GroupClaim, error) {
	var gc *results.GroupClaim
	err := s.update(ctx, fmt.Sprintf("claim a group of trials of sweep %q", sweep), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		if gc, err = st.claimGroup(owner, now, stale); err != nil {
			return err
		}
		if gc == nil {
			return ErrNoWork
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return gc, nil
}

// claimableNow reports whether t may be claimed now: pending, interrupted,
// or running with stale(its lease) true or no lease (Claim's rule).
func claimableNow(t *Trial, stale func(Lease) bool) bool {
	switch t.Status {
	case Pending, Interrupted:
		return true
	case Running:
		return t.Lease == nil || (stale != nil && stale(*t.Lease))
	}
	return false
}

// claimGroup is ClaimGroup's work in its transaction: nil if nothing is
// claimable.
func (st *sweepTx) claimGroup(owner Owner, now time.Time, stale func(Lease) bool) (*results.GroupClaim, error) {
	var (
		members map[int][]int // group -> its trials, by number; read when first needed
		passed  = map[int]bool{}
	)
	c := st.open.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		if Status(v) == Paused {
			continue
		}
		n, err := btoi(k)
		if err != nil {
			return nil, err
		}
		t, err := st.trial(n)
		if err != nil {
			return nil, err
		}
		if !claimableNow(t, stale) || passed[t.Group] {
			continue
		}
		if t.Group == 0 {
			ck, err := st.claim(t, owner, now)
			if err != nil {
				return nil, err
			}
			return &results.GroupClaim{Trials: []*Trial{t}, Checkpoints: []*Checkpoint{ck}}, nil
		}
		if members == nil {
			if members, err = st.groups(); err != nil {
				return nil, err
			}
		}
		gc := &results.GroupClaim{Group: t.Group}
		whole := true
		for _, m := range members[t.Group] {
			mt, err := st.trial(m)
			if err != nil {
				return nil, err
			}
			switch {
			case mt.Status.Finished():
				gc.Finished = append(gc.Finished, *mt)
			case claimableNow(mt, stale):
				gc.Trials = append(gc.Trials, mt)
			default:
				whole = false
			}
		}
		if !whole {
			passed[t.Group] = true
			continue
		}
		// Writes follow; the cursor is not used again.
		for _, mt := range gc.Trials {
			ck, err := st.claim(mt, owner, now)
			if err != nil {
				return nil, err
			}
			gc.Checkpoints = append(gc.Checkpoints, ck)
		}
		return gc, nil
	}
	return nil, nil
}

// groupRecord is the part of a trial record that groups reads.
type groupRecord struct {
	Group int `json:"group"`
}

// groups maps each group of the sweep to its trials, by number.
func (st *sweepTx) groups() (map[int][]int, error) {
	out := map[int][]int{}
	err := st.trials.ForEach(func(k, v []byte) error {
		n, err := btoi(k)
		if err != nil {
			return err
		}
		var r groupRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return corruptf("sweep %q trial %d record: %v", st.name, n, err)
		}
		if r.Group != 0 {
			out[r.Group] = append(out[r.Group], n)
		}
		return nil
	})
	return out, err
}

// lastGroup is the sweep's largest group number, 0 if it has none.
func (st *sweepTx) lastGroup() (int, error) {
	last := 0
	err := st.trials.ForEach(func(k, v []byte) error {
		var r groupRecord
		if err := json.Unmarshal(v, &r); err != nil {
			n, _ := btoi(k)
			return corruptf("sweep %q trial %d record: %v", st.name, n, err)
		}
		last = max(last, r.Group)
		return nil
	})
	return last, err
}

// SaveCheckpoints stores, in one transaction, each checkpoint of cks as its
// trial's latest, with its history, records its progress and refreshes the
// trial's heartbeat, as SaveCheckpoint does for one. Each trial is fenced
// by owner with the TrialCheckpoint's Attempt (owner.Attempt when that is
// 0): if one is not running under that lease and attempt, nothing is
// written and the error wraps ErrLeaseLost, naming it.
func (s *Store) SaveCheckpoints(ctx context.Context, sweep string, owner Owner, now time.Time, cks []results.TrialCheckpoint) error {
	type encoded struct{ ck, hist []byte }
	enc := make([]encoded, len(cks))
	ns := make([]int, len(cks))
	for i, c := range cks {
		enc[i] = encoded{encodeCheckpoint(c.Checkpoint), encodeHistory(c.History)}
		ns[i] = c.Trial
	}
	return s.update(ctx, fmt.Sprintf("checkpoint trials %s of sweep %q", numbers(ns), sweep), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		for _, c := range cks {
			if _, err := st.heldBy(c, owner); err != nil {
				return err
			}
		}
		// Every trial is held: write (a trial listed twice, last wins).
		for i := range cks {
			t, err := st.trial(cks[i].Trial)
			if err != nil {
				return err
			}
			t.Lease.Heartbeat = now
			if err := st.putProgress(t, &cks[i].Checkpoint, enc[i].ck, enc[i].hist); err != nil {
				return err
			}
		}
		return nil
	})
}

// heldBy returns c's trial if it runs under owner's lease in attempt
// c.Attempt (owner.Attempt when that is 0).
func (st *sweepTx) heldBy(c results.TrialCheckpoint, owner Owner) (*Trial, error) {
	t, err := st.trial(c.Trial)
	if err != nil {
		return nil, err
	}
	if c.Attempt != 0 {
		owner.Attempt = c.Attempt
	}
	if err := held(t, owner); err != nil {
		return nil, err
	}
	return t, nil
}
