package boltstore

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	bolt "go.etcd.io/bbolt"
)

// TestEvaluations: every SetBest is recorded as a use of the test set
// (even of the same trial again), Best stays the latest, EnsureSweep keeps
// them, and a record written before evaluations were recorded counts its
// Best as one use.
func TestEvaluations(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	mustSweep(t, s, "g", 3, 3)
	o := owner("a")
	for i := range 3 {
		tr, _, err := s.Claim(ctx, "g", o, t0, nil)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Finish(ctx, "g", tr.Number, o, t0, Outcome{Status: Done, Metrics: Metrics{ValAcc: 0.4 + 0.1*float64(i)}}); err != nil {
			t.Fatal(err)
		}
	}
	uses := func(want int, best int) *Sweep {
		t.Helper()
		sw, err := s.Sweep(ctx, "g")
		if err != nil {
			t.Fatal(err)
		}
		if got := sw.TestSetUses(); got != want {
			t.Errorf("TestSetUses() = %d, want %d (evaluations %+v)", got, want, sw.Evaluations)
		}
		if best == 0 && sw.Best != nil || best != 0 && (sw.Best == nil || sw.Best.Trial != best) {
			t.Errorf("Best = %+v, want trial %d", sw.Best, best)
		}
		return sw
	}
	uses(0, 0)
	evals := []Best{
		{Trial: 2, ValAcc: 0.5, TestAcc: 0.48, TestLoss: 1.4, Evaluated: t0},
		{Trial: 3, ValAcc: 0.6, TestAcc: 0.57, TestLoss: 1.2, Evaluated: t0.Add(1)}, // the sweep was extended
		{Trial: 3, ValAcc: 0.6, TestAcc: 0.57, TestLoss: 1.2, Evaluated: t0.Add(2)}, // the caller should not, but did
	}
	for i, b := range evals {
		if err := s.SetBest(ctx, "g", b); err != nil {
			t.Fatal(err)
		}
		uses(i+1, b.Trial)
	}
	// Extending the sweep keeps them.
	if _, err := s.EnsureSweep(ctx, Sweep{Name: "g"}, grid(4)); err != nil {
		t.Fatal(err)
	}
	sw := uses(3, 3)
	for i, e := range sw.Evaluations {
		if !sameBest(e, evals[i]) {
			t.Errorf("evaluation %d = %+v, want %+v", i+1, e, evals[i])
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Errorf("Check: %v", err)
	}

	// The stored form, and a record of the format before evaluations.
	db, err := bolt.Open(s.Path(), 0o644, nil)
	if err != nil {
		t.Fatal(err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketSweeps).Bucket([]byte("g"))
		if rec := string(b.Get(keySweep)); !strings.Contains(rec, `"test_evaluations":[{"trial":2,`) {
			t.Errorf("stored record %s", rec)
		}
		var old map[string]any
		if err := json.Unmarshal(b.Get(keySweep), &old); err != nil {
			return err
		}
		delete(old, "test_evaluations")
		v, _ := json.Marshal(old)
		return b.Put(keySweep, v)
	})
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	if sw := uses(1, 3); sw.Evaluations != nil {
		t.Errorf("an old record has evaluations %+v", sw.Evaluations)
	}
	if err := s.SetBest(ctx, "g", evals[1]); err != nil {
		t.Fatal(err)
	}
	if sw := uses(2, 3); !sameBest(sw.Evaluations[0], evals[2]) || !sameBest(sw.Evaluations[1], evals[1]) {
		t.Errorf("after SetBest on an old record: %+v", sw.Evaluations)
	}
	if (&Sweep{}).TestSetUses() != 0 {
		t.Error("a sweep without Best has used its test set")
	}
}

// TestEnsureSweepData: a sweep's data reference is stored, replaced when a
// run gives one (the data moved), and kept when it gives none.
func TestEnsureSweepData(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	ensure := func(d *DataRef) *DataRef {
		t.Helper()
		if _, err := s.EnsureSweep(ctx, Sweep{Name: "d", Spec: []byte("name = \"d\"\n"), Metric: "val_acc", Data: d}, grid(2)); err != nil {
			t.Fatal(err)
		}
		sw, err := s.Sweep(ctx, "d")
		if err != nil {
			t.Fatal(err)
		}
		return sw.Data
	}
	first := &DataRef{Path: "/data/a", Fingerprint: "v1:abc"}
	if got := ensure(first); got == nil || *got != *first {
		t.Fatalf("stored %+v, want %+v", got, first)
	}
	if got := ensure(nil); got == nil || *got != *first {
		t.Errorf("after a run that gave none: %+v, want %+v kept", got, first)
	}
	moved := &DataRef{Path: "/data/b", Fingerprint: "v1:abc"}
	if got := ensure(moved); got == nil || *got != *moved {
		t.Errorf("after the data moved: %+v, want %+v", got, moved)
	}
}

// TestEnsureSweepInput: a sweep's input description round-trips exactly
// (float32 mean image included) and is kept when a run gives none.
func TestEnsureSweepInput(t *testing.T) {
	ctx := t.Context()
	s := newTestStore(t)
	in := &Input{Shape: []int{1, 2, 2}, Classes: []string{"T-shirt/top", "Trouser"}, Mean: []float32{0.1, 127.30001, 254.99998, 1e-7}}
	for _, give := range []*Input{in, nil} {
		if _, err := s.EnsureSweep(ctx, Sweep{Name: "i", Spec: []byte("name = \"i\"\n"), Metric: "val_acc", Input: give}, grid(1)); err != nil {
			t.Fatal(err)
		}
		sw, err := s.Sweep(ctx, "i")
		if err != nil {
			t.Fatal(err)
		}
		if sw.Input == nil || !reflect.DeepEqual(*sw.Input, *in) {
			t.Errorf("given %v: stored %+v, want %+v", give, sw.Input, in)
		}
	}
}
