package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// checkFile runs bbolt's consistency check over the file at path.
func checkFile(t testing.TB, path string) {
	t.Helper()
	db, err := bolt.Open(path, 0o644, &bolt.Options{ReadOnly: true, Timeout: 10 * time.Second})
	if err != nil {
		t.Errorf("check %s: %v", path, err)
		return
	}
	defer db.Close()
	err = db.View(func(tx *bolt.Tx) error {
		for err := range tx.Check() {
			t.Errorf("check %s: %v", path, err)
		}
		return nil
	})
	if err != nil {
		t.Error(err)
	}
}

// newTestStore opens a fresh database in a temporary directory and checks
// the file at cleanup.
func newTestStore(t testing.TB) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "sweep.db")
	s, err := Open(path, Options{Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { checkFile(t, path) })
	return s
}

// grid returns n trials of the coursework's grid shape.
func grid(n int) []Trial {
	lrs := []float64{1e-3, 5e-3, 1e-4, 5e-4}
	regs := []float64{0.1, 0.25}
	decays := []float64{0.55, 0.6, 0.8}
	ts := make([]Trial, n)
	for i := range ts {
		lr, reg, dec := lrs[i%4], regs[(i/4)%2], decays[(i/8)%3]
		ts[i] = Trial{
			Key: fmt.Sprintf("lr=%g,reg=%g,decay=%g,i=%d", lr, reg, dec, i),
			Params: Params{
				{Name: "learning_rate", Value: lr},
				{Name: "reg", Value: reg},
				{Name: "lr_decay", Value: dec},
				{Name: "hidden", Value: []any{50.0}},
			},
			Config: []byte(fmt.Sprintf(`{"model":{"hidden":[50],"activation":"relu","weight_scale":0.0001},"train":{"optimizer":"sgd","iterations":1000,"batch_size":200,"learning_rate":%g,"lr_decay":%g,"reg":%g}}`, lr, dec, reg)),
			Seed:   uint64(i) * 7919,
		}
	}
	return ts
}

// history returns an n-epoch history.
func history(n int) []Epoch {
	h := make([]Epoch, n)
	for i := range h {
		h[i] = Epoch{Epoch: float64(i + 1), Iteration: (i + 1) * 295, LearningRate: 1e-3 * math.Pow(0.95, float64(i)),
			Loss: 2.3 - 0.05*float64(i), TrainAcc: 0.3 + 0.01*float64(i), ValAcc: 0.29 + 0.01*float64(i), ValLoss: 2.2 - 0.04*float64(i)}
	}
	return h
}

// twoLayer returns the weights of a d-h-c net in float32 (W1 b1 W2 b2),
// filled with a recognisable pattern.
func twoLayer(d, h, c int, seed uint32) *Model {
	tensor := func(name string, shape ...int) Tensor {
		n := 1
		for _, s := range shape {
			n *= s
		}
		b := make([]byte, 4*n)
		for i := 0; i < n; i++ {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(seed)+float32(i)*1e-4))
		}
		return Tensor{Name: name, Shape: shape, DType: "float32", Data: b}
	}
	return &Model{Tensors: []Tensor{tensor("W1", d, h), tensor("b1", h), tensor("W2", h, c), tensor("b2", c)}}
}

func owner(id string) Owner { return Owner{Host: "test", PID: 1, Start: 1, ID: id} }

// mustSweep creates sweep name with n grid trials.
func mustSweep(t testing.TB, s *Store, name string, n int, keep int) {
	t.Helper()
	_, err := s.EnsureSweep(context.Background(), Sweep{Name: name, Spec: []byte("name = \"" + name + "\"\n"), Metric: "val_acc", Keep: keep}, grid(n))
	if err != nil {
		t.Fatal(err)
	}
}

func contextBackground() context.Context { return context.Background() }

// plan returns a decide function that returns p whatever the history.
func plan(p Plan) func([]Trial) (Plan, error) {
	return func([]Trial) (Plan, error) { return p, nil }
}

// decision is a scheduler's decision record, as a test writes one.
func decision(format string, args ...any) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"why":%q}`, fmt.Sprintf(format, args...)))
}

// adaptiveTrial is new trial key of an adaptive sweep, to train to target.
func adaptiveTrial(key string, target int) *Trial {
	return &Trial{Key: key, Params: Params{{Name: "learning_rate", Value: 1e-3}}, Config: []byte(`{"train":{"epochs":9}}`), Seed: 7, Target: target}
}

// buildAdaptive creates adaptive sweep name (rungs at 1, 3 and 9 epochs)
// through ClaimNext, Pause, Finish and Prune, leaving trial 1 running
// (promoted from rung 1, with a checkpoint), 2 done at rung 2 (promoted
// once), 3 pruned at rung 1, 4 paused at rung 1, every one with its
// decisions, and 90 s elapsed.
func buildAdaptive(t testing.TB, s *Store, name string) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.EnsureSweep(ctx, Sweep{Name: name, Spec: []byte("name = \"" + name + "\"\n")}, nil); err != nil {
		t.Fatal(err)
	}
	o := owner("w")
	ck := func(n, rung int) Checkpoint {
		return Checkpoint{Epoch: float64(rung), Iteration: 100 * rung, Data: bytes.Repeat([]byte(fmt.Sprintf("trial %d rung %d;", n, rung)), 100)}
	}
	claim := func(p Plan) *Trial {
		tr, _, err := s.ClaimNext(ctx, name, o, t0, nil, plan(p))
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	pause := func(n, r int, v float64) {
		if err := s.Pause(ctx, name, n, o, t0, ck(n, r), history(r), Eval{Resource: r, Value: v}, Metrics{ValAcc: v, ValLoss: 2 - v, Epochs: float64(r)}, 1); err != nil {
			t.Fatal(err)
		}
	}
	for i, v := range []float64{0.4, 0.6, 0.2} { // 1, 2, 3: paused at rung 1
		n := claim(Plan{Action: PlanStart, Trial: adaptiveTrial(fmt.Sprint("k", i+1), 1), Decision: decision("start %d", i+1)}).Number
		pause(n, 1, v)
	}
	claim(Plan{Action: PlanPromote, Number: 2, Target: 3, Decision: decision("promote 2")})
	if err := s.Finish(ctx, name, 2, o, t0, Outcome{Status: Done, Metrics: Metrics{ValAcc: 0.7, ValLoss: 1.3, Epochs: 3}, History: history(3),
		Model: twoLayer(4, 3, 2, 2), Duration: 2, Eval: &Eval{Resource: 3, Value: 0.7}}); err != nil {
		t.Fatal(err)
	}
	claim(Plan{Action: PlanPromote, Number: 1, Target: 3, Decision: decision("promote 1")})
	if err := s.SaveCheckpoint(ctx, name, 1, o, t0, ck(1, 2), history(2)); err != nil {
		t.Fatal(err)
	}
	claim(Plan{Action: PlanStart, Trial: adaptiveTrial("k4", 1), Decision: decision("start 4")})
	pause(4, 1, 0.5)
	if _, err := s.Prune(ctx, name, t0, func([]Trial) ([]Pruning, error) {
		return []Pruning{{Number: 3, Decision: decision("prune 3")}}, nil
	}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddElapsed(ctx, name, 90*time.Second); err != nil {
		t.Fatal(err)
	}
}

// checkpointSize is the size of a realistic checkpoint: a 784-50-10 net in
// float64 with its SGD-momentum velocity.
const checkpointSize = 2 * 39760 * 8
