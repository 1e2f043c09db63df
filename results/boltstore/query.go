package boltstore

import (
	"context"
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// Running returns the sweep's running trials, by number, with their leases.
// It reads the open index and decodes only the records of running trials,
// so it is cheap on a large sweep (what `sweep ls` calls to tell whether a
// live process holds them).
func (s *Store) Running(ctx context.Context, sweep string) ([]Trial, error) {
	var out []Trial
	err := s.view(ctx, fmt.Sprintf("list running trials of sweep %q", sweep), func(tx *bolt.Tx) error {
		out = out[:0]
		st, err := getSweep(tx, sweep)
		if err != nil {
			return err
		}
		c := st.open.Cursor()
		for k, v := c.First(); k != nil; k, v = c.Next() {
			n, err := btoi(k)
			if err != nil {
				return err
			}
			if status := Status(v); !status.Valid() || status.Finished() {
				return corruptf("sweep %q: the open index gives trial %d status %q", sweep, n, v)
			} else if status != Running {
				continue
			}
			t, err := st.trial(n)
			if err != nil {
				return err
			}
			if t.Status != Running {
				return corruptf("sweep %q: the open index says trial %d is running, its record says %s", sweep, n, t.Status)
			}
			out = append(out, *t)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
