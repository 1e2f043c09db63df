package boltstore

import (
	"fmt"
	"os"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// buildLarge writes a database of about 100 MB the way long use makes one:
// sweep "g" of 10,000 done trials with 20-epoch histories (buildSweep), and
// sweep "big" of 100 interrupted trials with a checkpoint each (a 784-50-10
// net in float64 with its momentum: checkpointSize) and 20 done trials, 3
// of them with kept 784-50-10 float32 models.
func buildLarge(tb testing.TB) *Store {
	tb.Helper()
	s := buildSweep(tb, 10000, 20)
	if _, err := s.EnsureSweep(tb.Context(), Sweep{Name: "big", Keep: 3}, grid(120)); err != nil {
		tb.Fatal(err)
	}
	db, err := bolt.Open(s.Path(), 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	ck := encodeCheckpoint(Checkpoint{Epoch: 3, Iteration: 885, Data: make([]byte, checkpointSize)})
	for lo := 1; lo <= 120; lo += 20 {
		err = db.Update(func(tx *bolt.Tx) error {
			st, err := getSweep(tx, "big")
			if err != nil {
				return err
			}
			for n := lo; n < lo+20; n++ {
				t, err := st.trial(n)
				if err != nil {
					return err
				}
				t.Started, t.Attempts = t0, 1
				if n <= 100 {
					t.Status, t.Epoch, t.Iteration = Interrupted, 3, 885
					if err := putBlob(st.ckpt, n, ck); err != nil {
						return err
					}
				} else {
					t.Status, t.Finished = Done, t0
					t.Metrics = Metrics{ValAcc: 0.3 + float64(n)/1000, ValLoss: 1.5}
					if n > 117 {
						m, err := encodeModel(twoLayer(784, 50, 10, uint32(n)))
						if err != nil {
							return err
						}
						if err := putBlob(st.models, n, m); err != nil {
							return err
						}
					}
				}
				if err := st.hist.Put(itob(n), encodeHistory(history(3))); err != nil {
					return err
				}
				if err := st.putTrial(t); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			tb.Fatal(err)
		}
	}
	return s
}

// BenchmarkCheck measures Check and CheckWritable on a file of about 100
// MB; EnsureSweep, what `sweep run` pays once, before its first write; and
// a read by a new Store (FirstRead: it walks every page first), against
// the same read by a Store that has (LaterRead).
func BenchmarkCheck(b *testing.B) {
	s := buildLarge(b)
	fi, err := os.Stat(s.Path())
	if err != nil {
		b.Fatal(err)
	}
	for _, bc := range []struct {
		name  string
		check func(*Store) error
	}{
		{"Check", func(s *Store) error { return s.Check(b.Context()) }},
		{"CheckWritable", func(s *Store) error { return s.CheckWritable(b.Context()) }},
		// A run's first write: the check, then the sweep's record.
		{"EnsureSweep", func(s *Store) error {
			_, err := s.EnsureSweep(b.Context(), Sweep{Name: "big", Keep: 3}, nil)
			return err
		}},
		// What a new Store's first transaction adds: the walk of every page.
		{"FirstRead", func(s *Store) error {
			_, err := (&Store{path: s.Path(), timeout: time.Second}).Sweep(b.Context(), "big")
			return err
		}},
		{"LaterRead", func(s *Store) error {
			_, err := s.Sweep(b.Context(), "big")
			return err
		}},
	} {
		b.Run(fmt.Sprintf("%s/file=%dMB/trials=10120", bc.name, fi.Size()>>20), func(b *testing.B) {
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				if err := bc.check(s); err != nil {
					b.Fatal(err)
				}
			}
			// CPU time (of every thread) is reported as well as wall time:
			// on a loaded machine it is the steadier figure.
			b.ReportMetric(float64((cpuTime()-cpu0).Milliseconds())/float64(b.N), "cpu-ms/op")
		})
	}
}
