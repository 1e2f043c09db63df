package boltstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

func TestOpen(t *testing.T) {
	garbage := bytes.Repeat([]byte("not a database "), 1000)
	foreign := func(t *testing.T, path string) {
		db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("widgets")); return err }); err != nil {
			t.Fatal(err)
		}
	}
	newer := func(t *testing.T, path string) {
		if _, err := Open(path, Options{}); err != nil {
			t.Fatal(err)
		}
		db, err := bolt.Open(path, 0o644, &bolt.Options{Timeout: time.Second})
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		if err := db.Update(func(tx *bolt.Tx) error {
			return tx.Bucket(bucketMeta).Put(keySchema, encodeSchema(schemaVersion+1))
		}); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name     string
		setup    func(t *testing.T, path string) // nil: no file
		existing bool                            // OpenExisting instead of Open
		want     error                           // nil: success
		msg      string                          // in the error
	}{
		{name: "create", want: nil},
		{name: "existing/missing", existing: true, want: ErrNotFound, msg: `open results "`},
		{name: "empty file", setup: func(t *testing.T, p string) { os.WriteFile(p, nil, 0o644) }},
		{name: "existing/empty file", existing: true, setup: func(t *testing.T, p string) { os.WriteFile(p, nil, 0o644) }, want: ErrCorrupt},
		{name: "garbage", setup: func(t *testing.T, p string) { os.WriteFile(p, garbage, 0o644) }, want: ErrCorrupt},
		{name: "existing/garbage", existing: true, setup: func(t *testing.T, p string) { os.WriteFile(p, garbage, 0o644) }, want: ErrCorrupt},
		{name: "short garbage", setup: func(t *testing.T, p string) { os.WriteFile(p, []byte("hello"), 0o644) }, want: ErrCorrupt},
		{name: "foreign bbolt", setup: foreign, want: ErrSchema, msg: "widgets"},
		{name: "existing/foreign bbolt", existing: true, setup: foreign, want: ErrSchema},
		{name: "newer schema", setup: newer, want: ErrSchema, msg: "newer"},
		{name: "existing/newer schema", existing: true, setup: newer, want: ErrSchema},
		{name: "existing/ok", existing: true, setup: func(t *testing.T, p string) { Open(p, Options{}) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "sweep.db")
			if tc.setup != nil {
				tc.setup(t, path)
			}
			before, _ := os.ReadFile(path)
			open := Open
			if tc.existing {
				open = OpenExisting
			}
			s, err := open(path, Options{Timeout: time.Second})
			if tc.want == nil {
				if err != nil {
					t.Fatal(err)
				}
				if s.Path() != path {
					t.Errorf("Path() = %q", s.Path())
				}
				checkFile(t, path)
				if _, err := s.Sweeps(t.Context(), time.Now(), time.Minute); err != nil {
					t.Error(err)
				}
				return
			}
			if !errors.Is(err, tc.want) {
				t.Fatalf("err = %v, want %v", err, tc.want)
			}
			if !strings.Contains(err.Error(), tc.msg) || !strings.Contains(err.Error(), "open results") {
				t.Errorf("err = %q, want it to contain %q", err, tc.msg)
			}
			after, statErr := os.ReadFile(path)
			if tc.setup == nil && !errors.Is(statErr, os.ErrNotExist) {
				t.Errorf("a file was created")
			}
			if !bytes.Equal(before, after) {
				t.Errorf("the file was changed")
			}
		})
	}
}

func TestMissingFileLater(t *testing.T) {
	s := newTestStore(t)
	mustSweep(t, s, "g", 1, 3)
	path := s.Path()
	os.Rename(path, path+".moved")
	t.Cleanup(func() { os.Rename(path+".moved", path) })
	if _, err := s.Trials(t.Context(), "g", Filter{}); !errors.Is(err, ErrNotFound) {
		t.Errorf("read: %v, want ErrNotFound", err)
	}
	if _, _, err := s.Claim(t.Context(), "g", owner("a"), t0, nil); !errors.Is(err, ErrNotFound) {
		t.Errorf("write: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a write re-created the file")
	}
}

func TestEnsureSweep(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	if _, err := s.Sweep(ctx, "g"); !errors.Is(err, ErrNoSweep) || !strings.Contains(err.Error(), "no sweeps") {
		t.Errorf("Sweep of an empty database: %v", err)
	}
	sw := Sweep{Name: "g", Spec: []byte("name = 'g'\n"), SpecPath: "sweeps/g.toml", Canonical: []byte(`{"a":1}`), Metric: "val_acc"}
	ts := grid(6)
	added, err := s.EnsureSweep(ctx, sw, ts[:4])
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{1, 2, 3, 4}; !slices.Equal(added, want) {
		t.Errorf("added %v, want %v", added, want)
	}
	got, err := s.Sweep(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if got.Keep != DefaultKeep || !bytes.Equal(got.Spec, sw.Spec) || !bytes.Equal(got.Canonical, sw.Canonical) || got.SpecPath != sw.SpecPath || got.Created.IsZero() || got.Best != nil {
		t.Errorf("Sweep = %+v", got)
	}
	created := got.Created

	// Extend: trials 3..6 given again, 5 and 6 are new; spec replaced.
	sw.Spec = []byte("name = 'g' # more\n")
	sw.Keep = 5
	added, err = s.EnsureSweep(ctx, sw, append([]Trial{ts[5]}, ts[2:5]...))
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{5, 6}; !slices.Equal(added, want) {
		t.Errorf("added %v, want %v", added, want)
	}
	got, _ = s.Sweep(ctx, "g")
	if got.Keep != 5 || string(got.Spec) != "name = 'g' # more\n" || !got.Created.Equal(created) {
		t.Errorf("Sweep after extension = %+v", got)
	}
	trials, err := s.Trials(ctx, "g", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	wantKeys := []string{ts[0].Key, ts[1].Key, ts[2].Key, ts[3].Key, ts[5].Key, ts[4].Key}
	for i, tr := range trials {
		if tr.Number != i+1 || tr.Key != wantKeys[i] || tr.Status != Pending || tr.Created.IsZero() {
			t.Errorf("trial %d = %+v", i+1, tr)
		}
	}
	if !reflect.DeepEqual(trials[0].Params, ts[0].Params) || !bytes.Equal(trials[0].Config, ts[0].Config) || trials[0].Seed != ts[0].Seed {
		t.Errorf("trial 1 params/config/seed: %+v", trials[0])
	}
	for _, bad := range []Sweep{{}, {Name: "x", Metric: "accuracy"}, {Name: "x", Keep: -1}} {
		if _, err := s.EnsureSweep(ctx, bad, nil); err == nil {
			t.Errorf("EnsureSweep(%+v) succeeded", bad)
		}
	}
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "x"}, []Trial{{}}); err == nil {
		t.Errorf("EnsureSweep of a trial without key succeeded")
	}
	if _, err := s.Sweep(ctx, "nope"); !errors.Is(err, ErrNoSweep) || !strings.Contains(err.Error(), `"g"`) {
		t.Errorf("Sweep(nope) = %v, want ErrNoSweep listing g", err)
	}
}

func TestLifecycle(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	mustSweep(t, s, "g", 3, 3)
	a, b := owner("a"), owner("b")
	never := func(Lease) bool { return false }

	tr, ck, err := s.Claim(ctx, "g", a, t0, never)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Number != 1 || tr.Status != Running || tr.Attempts != 1 || !tr.Started.Equal(t0) || ck != nil ||
		tr.Lease == nil || tr.Lease.Owner != a || !tr.Lease.Heartbeat.Equal(t0) {
		t.Fatalf("claim 1 = %+v, %v", tr, ck)
	}
	ck1 := Checkpoint{Epoch: 1, Iteration: 295, Data: []byte("snapshot 1")}
	if err := s.SaveCheckpoint(ctx, "g", 1, a, t0.Add(time.Second), ck1, history(1)); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"checkpoint by another owner", s.SaveCheckpoint(ctx, "g", 1, b, t0, ck1, nil)},
		{"checkpoint of a pending trial", s.SaveCheckpoint(ctx, "g", 2, a, t0, ck1, nil)},
		{"finish by another owner", s.Finish(ctx, "g", 1, b, t0, Outcome{Status: Done})},
		{"release by another owner", s.Release(ctx, "g", 1, b, t0, nil, nil, 1)},
	} {
		if !errors.Is(tc.err, ErrLeaseLost) {
			t.Errorf("%s: %v, want ErrLeaseLost", tc.name, tc.err)
		}
	}
	if err := s.SaveCheckpoint(ctx, "g", 9, a, t0, ck1, nil); !errors.Is(err, ErrNoTrial) || !strings.Contains(err.Error(), "1..3") {
		t.Errorf("checkpoint of trial 9: %v, want ErrNoTrial with 1..3", err)
	}

	// Ctrl-C: released with a newer checkpoint.
	ck2 := Checkpoint{Epoch: 2, Iteration: 590, Data: []byte("snapshot 2")}
	if err := s.Release(ctx, "g", 1, a, t0.Add(2*time.Second), &ck2, history(2), 2.5); err != nil {
		t.Fatal(err)
	}
	got, hist, err := s.Trial(ctx, "g", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Interrupted || got.Lease != nil || got.Duration != 2.5 || got.Epoch != 2 || got.Iteration != 590 || len(hist) != 2 {
		t.Errorf("released trial = %+v, %d epochs", got, len(hist))
	}
	// Reclaimed by b, with the checkpoint.
	tr, ck, err = s.Claim(ctx, "g", b, t0.Add(3*time.Second), never)
	if err != nil {
		t.Fatal(err)
	}
	if tr.Number != 1 || tr.Attempts != 2 || !tr.Started.Equal(t0) || ck == nil || !reflect.DeepEqual(*ck, ck2) {
		t.Fatalf("reclaim = %+v, %+v", tr, ck)
	}
	// a claims 2, then dies; b takes 2 over once it is stale.
	if tr, _, err = s.Claim(ctx, "g", a, t0, never); err != nil || tr.Number != 2 {
		t.Fatalf("claim 2: %+v, %v", tr, err)
	}
	if tr, _, err = s.Claim(ctx, "g", b, t0, never); err != nil || tr.Number != 3 {
		t.Fatalf("claim 3: %+v, %v", tr, err)
	}
	if _, _, err = s.Claim(ctx, "g", b, t0, never); !errors.Is(err, ErrNoWork) {
		t.Fatalf("claim with everything running: %v, want ErrNoWork", err)
	}
	staleA := func(l Lease) bool { return l.Owner.ID == "a" }
	if tr, _, err = s.Claim(ctx, "g", b, t0.Add(time.Minute), staleA); err != nil || tr.Number != 2 || tr.Attempts != 2 {
		t.Fatalf("claim of stale 2: %+v, %v", tr, err)
	}
	// Heartbeat: a lost 2; b holds 1, 2, 3.
	if err := s.Heartbeat(ctx, "g", []int{1, 2, 3}, b, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	err = s.Heartbeat(ctx, "g", []int{2}, a, t0)
	if !errors.Is(err, ErrLeaseLost) || !strings.Contains(err.Error(), "trials 2") {
		t.Errorf("heartbeat of a lost trial: %v", err)
	}
	sums, err := s.Sweeps(ctx, t0.Add(2*time.Minute+time.Second), time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 1 || !sums[0].Active || sums[0].Running != 3 || sums[0].Total != 3 || sums[0].BestValAcc != nil {
		t.Errorf("Sweeps = %+v", sums)
	}
	if sums, _ := s.Sweeps(ctx, t0.Add(time.Hour), time.Minute); sums[0].Active {
		t.Errorf("active with stale heartbeats")
	}

	// Outcomes.
	for _, o := range []struct {
		n int
		o Outcome
	}{
		{1, Outcome{Status: Done, Metrics: Metrics{ValAcc: 0.51, ValLoss: 1.4, TrainAcc: 0.55, Iterations: 1000, Epochs: 3.4}, History: history(4), Model: twoLayer(4, 3, 2, 1), Duration: 3}},
		{2, Outcome{Status: Diverged, Metrics: Metrics{DivergedAt: 17, ValAcc: 0.1, ValLoss: math.NaN(), TrainAcc: math.Inf(-1), FinalValAcc: math.Inf(1)}, Duration: 1}},
		{3, Outcome{Status: Failed, Error: "boom", Stack: "goroutine 1 [running]:", Duration: 1}},
	} {
		if err := s.Finish(ctx, "g", o.n, b, t0.Add(time.Hour), o.o); err != nil {
			t.Fatal(err)
		}
	}
	got, hist, err = s.Trial(ctx, "g", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got.Status != Done || got.ValAcc != 0.51 || got.Duration != 5.5 || got.Lease != nil || !got.Finished.Equal(t0.Add(time.Hour)) || !reflect.DeepEqual(hist, history(4)) {
		t.Errorf("finished trial 1 = %+v, %v", got, hist)
	}
	got, hist, _ = s.Trial(ctx, "g", 2)
	if got.Status != Diverged || got.DivergedAt != 17 || hist != nil || got.ValAcc != 0.1 || !math.IsNaN(got.ValLoss) ||
		!math.IsInf(got.TrainAcc, -1) || !math.IsInf(got.FinalValAcc, 1) {
		t.Errorf("trial 2 = %+v, %v", got, hist)
	}
	if b, err := json.Marshal(got); err != nil || !strings.Contains(string(b), `"val_loss":"NaN"`) || !strings.Contains(string(b), `"val_acc":0.1,`) {
		t.Errorf("json.Marshal(trial 2) = %s, %v", b, err)
	} else {
		var back Trial
		if err := json.Unmarshal(b, &back); err != nil || !math.IsNaN(back.ValLoss) || back.DivergedAt != 17 || back.Number != 2 {
			t.Errorf("json round trip of trial 2: %+v, %v", back, err)
		}
	}
	got, _, _ = s.Trial(ctx, "g", 3)
	if got.Status != Failed || got.Error != "boom" || got.Stack == "" {
		t.Errorf("trial 3 = %+v", got)
	}
	if err := s.Finish(ctx, "g", 1, b, t0, Outcome{Status: Done}); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("second finish: %v, want ErrLeaseLost", err)
	}
	if err := s.Finish(ctx, "g", 1, b, t0, Outcome{Status: Interrupted}); err == nil {
		t.Errorf("finish with status interrupted succeeded")
	}
	m, err := s.Model(ctx, "g", 1)
	if err != nil || !reflect.DeepEqual(m, twoLayer(4, 3, 2, 1)) {
		t.Errorf("Model(1) = %v, %v", m, err)
	}
	if _, err := s.Model(ctx, "g", 2); !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "kept: trials 1") {
		t.Errorf("Model(2) = %v", err)
	}
	if _, _, err := s.Claim(ctx, "g", a, t0, func(Lease) bool { return true }); !errors.Is(err, ErrNoWork) {
		t.Errorf("claim of a finished sweep: %v", err)
	}
	if err := s.SetBest(ctx, "g", Best{Trial: 1, ValAcc: 0.51, ValLoss: 1.4, TestAcc: 0.49, TestLoss: 1.5, Evaluated: t0}); err != nil {
		t.Fatal(err)
	}
	sw, _ := s.Sweep(ctx, "g")
	got, _, _ = s.Trial(ctx, "g", 1)
	if sw.Best == nil || sw.Best.TestAcc != 0.49 || got.TestAcc == nil || *got.TestAcc != 0.49 {
		t.Errorf("after SetBest: %+v, %+v", sw.Best, got.TestAcc)
	}
	sums, _ = s.Sweeps(ctx, t0, time.Minute)
	want := Summary{Name: "g", Total: 3, Done: 1, Diverged: 1, Failed: 1, Created: sums[0].Created}
	acc := 0.51
	want.BestValAcc = &acc
	if !reflect.DeepEqual(sums[0], want) {
		t.Errorf("summary = %+v, want %+v", sums[0], want)
	}
	if err := s.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}
	if _, _, err := s.Claim(ctx, "nope", a, t0, nil); !errors.Is(err, ErrNoSweep) || !strings.Contains(err.Error(), `(sweeps: "g")`) {
		t.Errorf("Claim in an unknown sweep: %v", err)
	}
	done, err := s.Trials(ctx, "g", Filter{Status: []Status{Diverged, Failed}})
	if err != nil || len(done) != 2 || done[0].Number != 2 || done[1].Number != 3 {
		t.Errorf("Trials(diverged, failed) = %+v, %v", done, err)
	}
}

// TestKeptModels finishes trials with random-ish metrics and checks that the
// models kept are always those of the best Keep done trials.
func TestKeptModels(t *testing.T) {
	for _, tc := range []struct {
		metric string
		keep   int
	}{{"val_acc", 3}, {"val_loss", 2}, {"val_acc", 1}} {
		t.Run(tc.metric+"/keep="+string(rune('0'+tc.keep)), func(t *testing.T) {
			ctx := t.Context()
			s := newTestStore(t)
			const n = 10
			if _, err := s.EnsureSweep(ctx, Sweep{Name: "g", Metric: tc.metric, Keep: tc.keep}, grid(n)); err != nil {
				t.Fatal(err)
			}
			o := owner("a")
			accs := []float64{0.3, 0.5, 0.5, 0.1, 0.7, 0.2, 0.5, 0.6, 0.7, 0.4}
			for i := range n {
				tr, _, err := s.Claim(ctx, "g", o, t0, nil)
				if err != nil {
					t.Fatal(err)
				}
				out := Outcome{Status: Done, Metrics: Metrics{ValAcc: accs[i], ValLoss: 2 - accs[i]}, Model: twoLayer(2, 2, 2, uint32(i))}
				if i == 4 {
					out.Status, out.Metrics.ValAcc = Failed, 0.99 // never kept
				}
				if err := s.Finish(ctx, "g", tr.Number, o, t0, out); err != nil {
					t.Fatal(err)
				}
				ts, err := s.Trials(ctx, "g", Filter{})
				if err != nil {
					t.Fatal(err)
				}
				Rank(ts, tc.metric != "val_loss")
				var want, have []int
				for _, tr := range ts {
					if tr.Status == Done && len(want) < tc.keep {
						want = append(want, tr.Number)
					}
					if _, err := s.Model(ctx, "g", tr.Number); err == nil {
						have = append(have, tr.Number)
					}
				}
				slices.Sort(want)
				slices.Sort(have)
				if !slices.Equal(have, want) {
					t.Fatalf("after trial %d: models of %v, want %v", i+1, have, want)
				}
			}
		})
	}
}

func TestCorruptRecord(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	mustSweep(t, s, "g", 3, 3)
	db, err := bolt.Open(s.Path(), 0o644, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		sb := tx.Bucket(bucketSweeps).Bucket([]byte("g"))
		if err := sb.Bucket(bucketTrials).Put(itob(2), []byte(`{"trial":2,"status":`)); err != nil {
			return err
		}
		return sb.Bucket(bucketHistory).Put(itob(1), []byte{1, 5, 0})
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Trials(ctx, "g", Filter{}); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "trial 2") {
		t.Errorf("Trials: %v, want ErrCorrupt naming trial 2", err)
	}
	if _, _, err := s.Trial(ctx, "g", 1); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Trial(1): %v, want ErrCorrupt", err)
	}
	if _, err := s.Sweeps(ctx, t0, time.Minute); !errors.Is(err, ErrCorrupt) {
		t.Errorf("Sweeps: %v, want ErrCorrupt", err)
	}
}

func TestOpenDirectory(t *testing.T) {
	dir := t.TempDir()
	for name, open := range map[string]func(string, Options) (*Store, error){"Open": Open, "OpenExisting": OpenExisting} {
		_, err := open(dir, Options{})
		if !errors.Is(err, ErrNotFound) || !strings.Contains(err.Error(), "is a directory") {
			t.Errorf("%s(a directory): %v, want ErrNotFound saying it is a directory", name, err)
		}
	}
}
