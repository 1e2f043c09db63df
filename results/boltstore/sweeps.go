package boltstore

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/sweep-dev/sweep/results"
	bolt "go.etcd.io/bbolt"
)

// Sweep returns the sweep named name, with its spec and canonical form.
// ErrNoSweep if there is none.
func (s *Store) Sweep(ctx context.Context, name string) (*Sweep, error) {
	var sw *Sweep
	err := s.view(ctx, fmt.Sprintf("read sweep %q", name), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, name)
		if err != nil {
			return err
		}
		if sw, err = st.sweep(); err != nil {
			return err
		}
		sw.Spec = clone(st.b.Get(keySpec))
		sw.Canonical = clone(st.b.Get(keyCanonical))
		return nil
	})
	if err != nil {
		return nil, err
	}
	return sw, nil
}

func clone(b []byte) []byte {
	if b == nil {
		return nil
	}
	return append([]byte{}, b...)
}

// summaryRecord is the part of a trial record that Sweeps reads.
type summaryRecord struct {
	Status Status `json:"status"`
	Lease  *Lease `json:"lease"`
}

// Sweeps summarises every sweep, by name. A sweep is Active when one of its
// running trials has a heartbeat newer than now - staleAfter.
func (s *Store) Sweeps(ctx context.Context, now time.Time, staleAfter time.Duration) ([]Summary, error) {
	var out []Summary
	err := s.view(ctx, "list sweeps", func(tx *bolt.Tx) error {
		c := tx.Bucket(bucketSweeps).Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			if v != nil {
				return corruptf("the sweeps bucket holds a plain value under %q", k)
			}
			st, err := getSweep(tx, string(k))
			if err != nil {
				return err
			}
			sum, err := st.summary(now, staleAfter)
			if err != nil {
				return err
			}
			out = append(out, sum)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func (st *sweepTx) summary(now time.Time, staleAfter time.Duration) (Summary, error) {
	sw, err := st.sweep()
	if err != nil {
		return Summary{}, err
	}
	sum := Summary{Name: st.name, Created: sw.Created}
	err = st.trials.ForEach(func(k, v []byte) error {
		n, err := btoi(k)
		if err != nil {
			return err
		}
		if n != sum.Total+1 {
			return corruptf("sweep %q: trial numbers jump from %d to %d", st.name, sum.Total, n)
		}
		var r summaryRecord
		if err := json.Unmarshal(v, &r); err != nil {
			return corruptf("sweep %q trial %d record: %v", st.name, n, err)
		}
		sum.Total++
		switch r.Status {
		case Pending:
			sum.Pending++
		case Running:
			sum.Running++
			if r.Lease != nil && now.Sub(r.Lease.Heartbeat) < staleAfter {
				sum.Active = true
			}
		case Paused:
			sum.Paused++
		case Done:
			sum.Done++
		case Diverged:
			sum.Diverged++
		case Failed:
			sum.Failed++
		case Pruned:
			sum.Pruned++
		case Interrupted:
			sum.Interrupted++
		default:
			return corruptf("sweep %q trial %d record: status %q is not a status", st.name, n, r.Status)
		}
		return nil
	})
	if err != nil {
		return Summary{}, err
	}
	top, err := st.topDone(1, sw.Maximize())
	if err != nil {
		return Summary{}, err
	}
	if len(top) > 0 {
		acc := top[0].valAcc
		sum.BestValAcc = &acc
	}
	return sum, nil
}

// EnsureSweep creates sweep sw if it does not exist, or else replaces its
// Spec, SpecPath, Canonical, Metric, Keep, and Data and Input (when sw has
// them) with sw's (keeping Created, Best, Evaluations, Elapsed and
// ElapsedAt); then it adds every trial of trials whose Key is not in the
// sweep yet, numbered after the existing ones in the given order, with
// Status Pending and Created set (Params, Config, Seed and Key are taken from the
// given trial; every other field is reset). A given trial's Group is a
// label: the added trials that share one form a new group, numbered after
// the sweep's existing groups (results.RenumberGroups); the groups of the
// trials there before never change. It returns the numbers added.
// All of it is one transaction, so concurrent calls never duplicate a key.
//
// It is a run's first write, so it first checks the whole file, as Check
// does, in the same transaction, and refuses a file that fails the check
// (ErrCorrupt, listing every problem): a run never writes into a damaged
// file. That costs what Check costs (BenchmarkCheck), once a run.
//
// sw.Metric "" means "val_acc"; sw.Keep 0 means DefaultKeep.
func (s *Store) EnsureSweep(ctx context.Context, sw Sweep, trials []Trial) (added []int, err error) {
	op := fmt.Sprintf("ensure sweep %q", sw.Name)
	if err := results.CheckNewSweep(&sw, trials); err != nil {
		return nil, fmt.Errorf("%s: %w", op, err)
	}
	now := time.Now()
	// A run's first write: the whole file is checked first, in the same
	// transaction, and a damaged file refused (see CheckWritable).
	err = s.do(ctx, op, access{write: true, walk: true}, func(tx *bolt.Tx) error {
		added = added[:0]
		if err := checkTx(tx); err != nil {
			return err
		}
		root := tx.Bucket(bucketSweeps)
		b := root.Bucket([]byte(sw.Name))
		if b == nil {
			var err error
			if b, err = root.CreateBucket([]byte(sw.Name)); err != nil {
				return err
			}
			for _, name := range sweepSubBucket {
				if _, err := b.CreateBucket(name); err != nil {
					return err
				}
			}
			if sw.Created.IsZero() {
				sw.Created = now
			}
			sw.Best, sw.Evaluations, sw.Elapsed, sw.ElapsedAt = nil, nil, 0, time.Time{}
		}
		st, err := getSweep(tx, sw.Name)
		if err != nil {
			return err
		}
		if st.b.Get(keySweep) != nil {
			old, err := st.sweep()
			if err != nil {
				return err
			}
			sw.Created, sw.Best, sw.Evaluations = old.Created, old.Best, old.Evaluations
			sw.Elapsed, sw.ElapsedAt = old.Elapsed, old.ElapsedAt
			if sw.Data == nil {
				sw.Data = old.Data
			}
			if sw.Input == nil {
				sw.Input = old.Input
			}
		}
		if err := st.putSweep(&sw); err != nil {
			return err
		}
		if err := st.b.Put(keySpec, nonNil(sw.Spec)); err != nil {
			return err
		}
		if err := st.b.Put(keyCanonical, nonNil(sw.Canonical)); err != nil {
			return err
		}
		next, err := st.lastNumber()
		if err != nil {
			return err
		}
		var (
			fresh  []Trial
			seen   = map[string]bool{}
			groups bool
		)
		for _, in := range trials {
			if seen[in.Key] || st.keys.Get([]byte(in.Key)) != nil {
				continue
			}
			seen[in.Key] = true
			next++
			fresh = append(fresh, Trial{
				Number: next, Key: in.Key, Params: in.Params, Config: in.Config, Seed: in.Seed,
				Group: in.Group, Status: Pending, Created: now,
			})
			groups = groups || in.Group != 0
		}
		if groups {
			last, err := st.lastGroup()
			if err != nil {
				return err
			}
			results.RenumberGroups(fresh, last)
			if err := raiseSchema(tx, schemaGroups); err != nil {
				return err
			}
		}
		for i := range fresh {
			t := &fresh[i]
			if err := st.putTrial(t); err != nil {
				return err
			}
			if err := st.keys.Put([]byte(t.Key), itob(t.Number)); err != nil {
				return fmt.Errorf("trial key %q: %w", t.Key, err)
			}
			added = append(added, t.Number)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return added, nil
}

func nonNil(b []byte) []byte {
	if b == nil {
		return []byte{}
	}
	return b
}

// SetBest records b, which must name a done trial, as the sweep's selected best trial, appends it to the
// sweep's Evaluations (each call is a use of the test set, even of the
// same trial again: the caller is expected not to make that call), and
// sets that trial's TestAcc to b.TestAcc.
func (s *Store) SetBest(ctx context.Context, sweep string, b Best) error {
	return s.update(ctx, fmt.Sprintf("set best trial %d of sweep %q", b.Trial, sweep), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		t, err := st.trial(b.Trial)
		if err != nil {
			return err
		}
		if t.Status != Done {
			return fmt.Errorf("trial %d is %s: only a done trial can be selected", t.Number, t.Status)
		}
		sw, err := st.sweep()
		if err != nil {
			return err
		}
		if len(sw.Evaluations) == 0 && sw.Best != nil {
			// A record from before evaluations were recorded: its one.
			sw.Evaluations = []Best{*sw.Best}
		}
		sw.Evaluations = append(sw.Evaluations, b)
		sw.Best = &b
		if err := st.putSweep(sw); err != nil {
			return err
		}
		acc := b.TestAcc
		t.TestAcc = &acc
		return st.putTrial(t)
	})
}

// AddElapsed adds d to the sweep's Elapsed, in one transaction, and
// returns the new total: the accounting of a wall-clock budget across
// runs, so a budgeted sweep interrupted after 4 of its 10 minutes runs
// about 6 more when resumed. d must not be negative.
//
// Two processes running the sweep at once that each add their own time
// count the time they overlap twice: TickElapsed counts it once.
func (s *Store) AddElapsed(ctx context.Context, sweep string, d time.Duration) (total time.Duration, err error) {
	op := fmt.Sprintf("add elapsed time to sweep %q", sweep)
	if d < 0 {
		return 0, fmt.Errorf("%s: %v < 0", op, d)
	}
	err = s.update(ctx, op, func(tx *bolt.Tx) error {
		return updateElapsed(tx, sweep, func(sw *Sweep) {
			sw.Elapsed += d.Seconds()
			total = seconds(sw.Elapsed)
		})
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// TickElapsed accounts wall-clock time to the sweep's budget, counting the
// time any process runs the sweep once, however many run it at once. In
// one transaction it adds to Elapsed the time since the sweep's last tick
// (ElapsedAt), by whichever process, when that is at most gap (the sweep
// ran all along); when it is more (no process ran the sweep in between:
// it was stopped), or now is before the last tick (another host's clock),
// it adds nothing. It sets ElapsedAt to now (unless now is before it) and
// returns the new total.
//
// Each process running the sweep calls it every so often (well within
// gap: at each heartbeat, with gap the lease's staleness), when it starts,
// and when it stops; time is counted from a process's first tick.
func (s *Store) TickElapsed(ctx context.Context, sweep string, now time.Time, gap time.Duration) (total time.Duration, err error) {
	err = s.update(ctx, fmt.Sprintf("tick elapsed time of sweep %q", sweep), func(tx *bolt.Tx) error {
		return updateElapsed(tx, sweep, func(sw *Sweep) {
			if d := now.Sub(sw.ElapsedAt); !sw.ElapsedAt.IsZero() && d > 0 && d <= gap {
				sw.Elapsed += d.Seconds()
			}
			if now.After(sw.ElapsedAt) {
				sw.ElapsedAt = now
			}
			total = seconds(sw.Elapsed)
		})
	})
	if err != nil {
		return 0, err
	}
	return total, nil
}

// updateElapsed rewrites the sweep's record through fn.
func updateElapsed(tx *bolt.Tx, sweep string, fn func(sw *Sweep)) error {
	st, err := getSweep(tx, sweep)
	if err != nil {
		return err
	}
	sw, err := st.sweep()
	if err != nil {
		return err
	}
	fn(sw)
	return st.putSweep(sw)
}

// seconds converts seconds to a Duration.
func seconds(s float64) time.Duration { return time.Duration(s * float64(time.Second)) }
