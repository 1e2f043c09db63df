package results

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
			if Status(v) != Running {
				continue
			}
			n, err := btoi(k)
			if err != nil {
				return err
			}
			t, err := st.trial(n)
			if err != nil {
				return err
			}
			if t.Status == Running {
				out = append(out, *t)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
