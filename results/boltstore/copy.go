package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"github.com/sweep-dev/sweep/results"
)

var _ results.Store = (*Store)(nil)

// Location returns the file's path: what messages name.
func (s *Store) Location() string { return s.path }

// Close does nothing: a Store holds no open file between calls.
func (s *Store) Close() error { return nil }

// Dump reads the whole of sweep in one read transaction.
func (s *Store) Dump(ctx context.Context, sweep string) (*results.Dump, error) {
	var d *results.Dump
	err := s.view(ctx, fmt.Sprintf("read all of sweep %q", sweep), func(tx *bolt.Tx) error {
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		sw, err := st.sweep()
		if err != nil {
			return err
		}
		sw.Spec = clone(st.b.Get(keySpec))
		sw.Canonical = clone(st.b.Get(keyCanonical))
		trials, err := st.allTrials(Filter{})
		if err != nil {
			return err
		}
		d = &results.Dump{Sweep: *sw, Trials: make([]results.TrialDump, len(trials))}
		for i, t := range trials {
			td := &d.Trials[i]
			td.Trial = t
			n := t.Number
			if td.Trial.Decisions, err = st.decisions(n); err != nil {
				return err
			}
			if v := st.hist.Get(itob(n)); v != nil {
				if td.History, err = decodeHistory(v); err != nil {
					return fmt.Errorf("trial %d: %w", n, err)
				}
			}
			v, err := getBlob(st.ckpt, n)
			if err != nil {
				return err
			}
			if v != nil {
				if td.Checkpoint, err = decodeCheckpoint(v); err != nil {
					return fmt.Errorf("trial %d: %w", n, err)
				}
			}
			if v, err = getBlob(st.models, n); err != nil {
				return err
			}
			if v != nil {
				if td.Model, err = decodeModel(v); err != nil {
					return fmt.Errorf("trial %d: %w", n, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return d, nil
}

// Load writes a dumped sweep as it was, in one write transaction, after
// checking the file as EnsureSweep does. ErrExists if the file has a sweep
// of that name, unless replace is set: then it is deleted first.
func (s *Store) Load(ctx context.Context, d *results.Dump, replace bool) error {
	op := fmt.Sprintf("write sweep %q", d.Sweep.Name)
	if err := results.CheckDump(d); err != nil {
		return fmt.Errorf("%s: %w", op, err)
	}
	sw := d.Sweep // as CheckDump completed it
	return s.do(ctx, op, access{write: true, walk: true}, func(tx *bolt.Tx) error {
		if err := checkTx(tx); err != nil {
			return err
		}
		root := tx.Bucket(bucketSweeps)
		if root.Bucket([]byte(sw.Name)) != nil {
			if !replace {
				return fmt.Errorf("%w already", ErrExists)
			}
			if err := root.DeleteBucket([]byte(sw.Name)); err != nil {
				return err
			}
		}
		b, err := root.CreateBucket([]byte(sw.Name))
		if err != nil {
			return err
		}
		for _, name := range sweepSubBucket {
			if _, err := b.CreateBucket(name); err != nil {
				return err
			}
		}
		st, err := getSweep(tx, sw.Name)
		if err != nil {
			return err
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
		for i := range d.Trials {
			td := &d.Trials[i]
			t := td.Trial
			n := t.Number
			if err := st.putTrial(&t); err != nil {
				return err
			}
			if err := st.keys.Put([]byte(t.Key), itob(n)); err != nil {
				return fmt.Errorf("trial key %q: %w", t.Key, err)
			}
			if len(t.Decisions) > 0 {
				if st.dec == nil {
					if st.dec, err = st.b.CreateBucket(bucketDecisions); err != nil {
						return err
					}
				}
				v, err := encodeDecisions(t.Decisions)
				if err != nil {
					return fmt.Errorf("trial %d: decisions: %w", n, err)
				}
				if err := st.dec.Put(itob(n), v); err != nil {
					return err
				}
			}
			if len(td.History) > 0 {
				if err := st.hist.Put(itob(n), encodeHistory(td.History)); err != nil {
					return err
				}
			}
			if td.Checkpoint != nil {
				if err := putBlob(st.ckpt, n, encodeCheckpoint(*td.Checkpoint)); err != nil {
					return err
				}
			}
			if td.Model != nil {
				mb, err := encodeModel(td.Model)
				if err != nil {
					return fmt.Errorf("trial %d: model: %w", n, err)
				}
				if err := putBlob(st.models, n, mb); err != nil {
					return err
				}
			}
		}
		for i := range d.Trials {
			if d.Trials[i].Trial.Group != 0 {
				return raiseSchema(tx, schemaGroups) // paused trials' too
			}
		}
		for i := range d.Trials {
			if d.Trials[i].Trial.Status == Paused {
				return raiseSchema(tx, schemaPaused)
			}
		}
		return nil
	})
}
