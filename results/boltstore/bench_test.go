package boltstore

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

// buildSweep writes sweep "g" with n done trials, each with an
// epochs-long history, in one transaction (the Store's own path would take
// two fsynced transactions per trial).
func buildSweep(tb testing.TB, n, epochs int) *Store {
	tb.Helper()
	s := newTestStore(tb)
	if _, err := s.EnsureSweep(tb.Context(), Sweep{Name: "g"}, grid(n)); err != nil {
		tb.Fatal(err)
	}
	db, err := bolt.Open(s.Path(), 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		tb.Fatal(err)
	}
	defer db.Close()
	hist := encodeHistory(history(epochs))
	err = db.Update(func(tx *bolt.Tx) error {
		st, err := getSweep(tx, "g")
		if err != nil {
			return err
		}
		for i := 1; i <= n; i++ {
			t, err := st.trial(i)
			if err != nil {
				return err
			}
			t.Status = Done
			t.Started, t.Finished, t.Duration, t.Attempts = t0, t0.Add(time.Minute), 60, 1
			acc := 0.3 + 0.2*float64((i*7919)%1000)/1000
			t.Metrics = Metrics{ValAcc: acc, ValLoss: 2 - acc, TrainAcc: acc + 0.05, FinalValAcc: acc, Iterations: 5900, Epochs: float64(epochs)}
			if err := st.putTrial(t); err != nil {
				return err
			}
			if err := st.hist.Put(itob(i), hist); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		tb.Fatal(err)
	}
	return s
}

// BenchmarkTrials lists every trial of a 10,000-trial sweep with 20-epoch
// histories (the histories are not read).
func BenchmarkTrials(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("trials=%d/epochs=20", n), func(b *testing.B) {
			s := buildSweep(b, n, 20)
			fi, _ := os.Stat(s.Path())
			b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
			b.ReportAllocs()
			for b.Loop() {
				ts, err := s.Trials(b.Context(), "g", Filter{})
				if err != nil || len(ts) != n {
					b.Fatal(len(ts), err)
				}
			}
		})
	}
}

// BenchmarkLeaderboard is `sweep leaderboard --top 10`'s work: list, rank,
// cut.
func BenchmarkLeaderboard(b *testing.B) {
	s := buildSweep(b, 10000, 20)
	b.Run("trials=10000/epochs=20/top=10", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			ts, err := s.Trials(b.Context(), "g", Filter{})
			if err != nil {
				b.Fatal(err)
			}
			Rank(ts, true)
			if ts = ts[:10]; ts[0].Status != Done {
				b.Fatal(ts[0])
			}
		}
	})
	b.Run("trials=10000/sweeps", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := s.Sweeps(b.Context(), t0, time.Minute); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("trials=10000/trial", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := s.Trial(b.Context(), "g", 5000); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkClaimNext is the store's share of an adaptive sweep's decision:
// a ClaimNext that finds nothing claimable, gives every trial to decide
// (here, ASHA-like records with three rungs' evaluations and a decision
// record each, which are not read) and applies a Wait (nothing written,
// no fsync). The scheduler's own cost is search/asha's benchmark.
func BenchmarkClaimNext(b *testing.B) {
	for _, n := range []int{100, 10000} {
		b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) {
			s := buildSweep(b, n, 20)
			db, err := bolt.Open(s.Path(), 0o644, &bolt.Options{Timeout: time.Second})
			if err != nil {
				b.Fatal(err)
			}
			err = db.Update(func(tx *bolt.Tx) error {
				st, err := getSweep(tx, "g")
				if err != nil {
					return err
				}
				for i := 1; i <= n; i++ {
					t, err := st.trial(i)
					if err != nil {
						return err
					}
					t.Evals = []Eval{{Resource: 1, Value: t.ValAcc - 0.1}, {Resource: 3, Value: t.ValAcc - 0.05}, {Resource: 9, Value: t.ValAcc}}
					t.Rung, t.Target, t.Bracket = 3, 9, i%3
					if err := st.putTrial(t); err != nil {
						return err
					}
					if err := st.addDecision(i, []byte(`{"action":"promote","reason":{"text":"promote trial 7 from rung 1 (1 epoch) to 3 epochs","rungs":[{"rung":1,"resource":1,"n":27,"k":9,"best":{"number":3,"value":0.41},"cutoff":{"number":9,"value":0.37},"rank":4}]}}`)); err != nil {
						return err
					}
				}
				return nil
			})
			db.Close()
			if err != nil {
				b.Fatal(err)
			}
			o := owner("w")
			wait := func(ts []Trial) (Plan, error) {
				if len(ts) != n {
					b.Fatalf("decide was given %d trials", len(ts))
				}
				return Plan{Action: PlanWait}, nil
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := s.ClaimNext(b.Context(), "g", o, t0, nil, wait); !errors.Is(err, ErrWait) {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkWrite measures the write transactions of a run, each an open,
// one fsynced transaction and a close.
func BenchmarkWrite(b *testing.B) {
	s := buildSweep(b, 100, 20)
	if _, err := s.EnsureSweep(b.Context(), Sweep{Name: "w"}, grid(1)); err != nil {
		b.Fatal(err)
	}
	o := owner("w")
	if _, _, err := s.Claim(b.Context(), "w", o, t0, nil); err != nil {
		b.Fatal(err)
	}
	data := make([]byte, checkpointSize)
	b.Run(fmt.Sprintf("checkpoint=%dKB", checkpointSize/1000), func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.SaveCheckpoint(b.Context(), "w", 1, o, t0, Checkpoint{Epoch: 1, Data: data}, history(10)); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("heartbeat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if err := s.Heartbeat(b.Context(), "w", []int{1}, o, t0); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// TestFileSize runs the coursework's grid through the store as two workers
// would: 24 trials of a 784-50-10 float32 net, a checkpoint per epoch
// (params + best params + loss history, as trial's codec writes), 20-epoch
// histories, keep = 3 models.
func TestFileSize(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	mustSweep(t, s, "coursework", 24, 3)
	ck := make([]byte, 2*39760*4+1000*8+200)
	workers := []Owner{owner("w1"), owner("w2")}
	running := make([]*Trial, len(workers))
	finished := 0
	for step := 0; finished < 24; step++ {
		for w, o := range workers {
			if running[w] == nil {
				tr, _, err := s.Claim(ctx, "coursework", o, t0, nil)
				if err != nil {
					continue // ErrNoWork near the end
				}
				running[w] = tr
			}
			tr := running[w]
			tr.Iteration++ // used as the epoch counter here
			if tr.Iteration <= 20 {
				if err := s.SaveCheckpoint(ctx, "coursework", tr.Number, o, t0, Checkpoint{Epoch: float64(tr.Iteration), Data: ck}, history(tr.Iteration)); err != nil {
					t.Fatal(err)
				}
				continue
			}
			acc := 0.3 + 0.01*float64((tr.Number*37)%24)
			out := Outcome{Status: Done, Metrics: Metrics{ValAcc: acc, ValLoss: 2 - acc}, History: history(20), Model: twoLayer(784, 50, 10, uint32(tr.Number)), Duration: 30}
			if err := s.Finish(ctx, "coursework", tr.Number, o, t0, out); err != nil {
				t.Fatal(err)
			}
			running[w] = nil
			finished++
		}
	}
	fi, err := os.Stat(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("24 trials, 3 kept 784-50-10 float32 models (%d KB each), checkpoints of %d KB, 20-epoch histories: %s is %d KB",
		2*39760*4/2/1000, len(ck)/1000, filepath.Base(s.Path()), fi.Size()/1000)
	if fi.Size() > 2<<20 {
		t.Errorf("file is %d bytes, want < 2 MB", fi.Size())
	}
}
