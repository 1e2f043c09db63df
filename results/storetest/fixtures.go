package storetest

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"math"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// evaluated is when the tests' test-set evaluations happened: data given
// to SetBest, not a now argument, so stored as given.
var evaluated = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// spec is the spec file of sweep name.
func spec(name string) []byte { return []byte("name = \"" + name + "\"\n") }

// grid returns n trials of a grid sweep, keys "lr=...,i=N", with the
// full-range seeds search.SeedFor gives (most above math.MaxInt64).
func grid(n int) []results.Trial {
	ts := make([]results.Trial, n)
	for i := range ts {
		lr := []float64{1e-3, 5e-3, 1e-4, 5e-5}[i%4]
		ts[i] = results.Trial{
			Key:    fmt.Sprintf("lr=%g,i=%d", lr, i+1),
			Params: results.Params{{Name: "learning_rate", Value: lr}, {Name: "hidden", Value: []any{50.0}}},
			Config: json.RawMessage(fmt.Sprintf(`{"train":{"learning_rate":%g,"iterations":1000}}`, lr)),
			Seed:   uint64(i+1) * 0x9e3779b97f4a7c15,
		}
	}
	return ts
}

// history returns an n-epoch history.
func history(n int) []results.Epoch {
	h := make([]results.Epoch, n)
	for i := range h {
		h[i] = results.Epoch{Epoch: float64(i + 1), Iteration: (i + 1) * 295, LearningRate: 1e-3 * math.Pow(0.95, float64(i)),
			Loss: 2.3 - 0.05*float64(i), TrainAcc: 0.3 + 0.01*float64(i), ValAcc: 0.29 + 0.01*float64(i), ValLoss: 2.2 - 0.04*float64(i)}
	}
	return h
}

// divergedHistory is the history of a trial whose loss became NaN, then
// infinite.
func divergedHistory() []results.Epoch {
	h := history(3)
	h[1].Loss, h[1].ValLoss, h[1].ValAcc = math.NaN(), math.NaN(), 0.1
	h[2].Loss, h[2].ValLoss, h[2].TrainAcc, h[2].LearningRate = math.Inf(1), math.Inf(-1), math.NaN(), 5e-324
	return h
}

// divergedMetrics are the metrics of a diverged trial: NaN and infinities.
var divergedMetrics = results.Metrics{ValAcc: 0.1, ValLoss: math.NaN(), TrainAcc: math.Inf(-1), FinalValAcc: math.Inf(1),
	Iterations: 590, Epochs: 2, DivergedAt: 412}

// model returns weights identified by seed: a float32 and a float64 matrix
// holding every kind of value a float can (negative zero, subnormals, the
// largest, infinities, NaNs with payloads), and a float64 scalar, so that
// a bitwise round trip shows.
func model(seed int) *results.Model {
	s := uint64(seed)
	f32 := []uint32{
		math.Float32bits(float32(seed) + 0.1), 0x8000_0000, 0x0000_0001, 0x7f7f_ffff,
		0x7f80_0000, 0xff80_0000, 0x7fc0_0000 | uint32(s), 0xffa0_0001,
		math.Float32bits(-3.25), math.Float32bits(1e-7), 0x3eaa_aaab, uint32(s) << 20,
	}
	f64 := []uint64{
		math.Float64bits(float64(seed) + 0.1), 0x8000_0000_0000_0000, 1, 0x7fef_ffff_ffff_ffff,
		0x7ff0_0000_0000_0000, 0x7ff8_0000_0000_0000 | s, 0xfff4_0000_0000_0001 | s<<8, math.Float64bits(1.0 / 3),
	}
	b32 := make([]byte, 0, 4*len(f32))
	for _, v := range f32 {
		b32 = binary.LittleEndian.AppendUint32(b32, v)
	}
	b64 := make([]byte, 0, 8*len(f64))
	for _, v := range f64 {
		b64 = binary.LittleEndian.AppendUint64(b64, v)
	}
	return &results.Model{Tensors: []results.Tensor{
		{Name: "W1", Shape: []int{3, 4}, DType: "float32", Data: b32},
		{Name: "b1", Shape: []int{2, 4}, DType: "float64", Data: b64},
		{Name: "temperature", Shape: []int{}, DType: "float64", Data: binary.LittleEndian.AppendUint64(nil, math.Float64bits(float64(seed)))},
	}}
}

// testInput is a sweep's Input with float32 values a float64 round trip
// would change.
func testInput() *results.Input {
	return &results.Input{Shape: []int{1, 2, 2}, Classes: []string{"T-shirt/top", "Trouser", "Ankle boot"},
		Mean: []float32{0.1, 127.30001, 254.99998, 1e-7}, Std: []float32{1, 0.33333334, 64.1, 3.4028235e38}}
}

// plan returns a decide function that returns p whatever the trials.
func plan(p results.Plan) func([]results.Trial) (results.Plan, error) {
	return func([]results.Trial) (results.Plan, error) { return p, nil }
}

// decision is a scheduler's decision record.
func decision(format string, args ...any) json.RawMessage {
	return json.RawMessage(fmt.Sprintf(`{"why":%q}`, fmt.Sprintf(format, args...)))
}

// adaptiveTrial is new trial key of an adaptive sweep, to train to target.
func adaptiveTrial(key string, target int) *results.Trial {
	return &results.Trial{Key: key, Params: results.Params{{Name: "learning_rate", Value: 1e-3}},
		Config: json.RawMessage(`{"train":{"epochs":9}}`), Seed: 7, Target: target}
}

// rungCheckpoint is trial n's checkpoint at resource r.
func rungCheckpoint(n, r int) results.Checkpoint {
	return results.Checkpoint{Epoch: float64(r), Iteration: 100 * r, Data: bytes.Repeat(fmt.Appendf(nil, "trial %d rung %d;", n, r), 100)}
}

// The trials of the mixed sweep (buildMixed): one in each status.
const (
	mixedRunning     = 1 // promoted from rung 1 towards 3 and checkpointed, under mixedOwner's lease
	mixedDone        = 2 // promoted from rung 1, done at rung 2 with its weights: the sweep's best
	mixedPruned      = 3 // pruned at rung 1
	mixedPaused      = 4 // paused at rung 1, with its checkpoint
	mixedInterrupted = 5 // released with a checkpoint and a history
	mixedDiverged    = 6 // NaN and infinite metrics; no decision record
	mixedFailed      = 7 // an error and its stack
	mixedPending     = 8 // added by EnsureSweep, in group 1 (alone)
	mixedTrials      = 8
)

// mixedOwner runs the mixed sweep.
var mixedOwner = owner("mixed")

// mixedSweep is the record of the mixed sweep name.
func mixedSweep(name string) results.Sweep {
	return results.Sweep{Name: name, Spec: spec(name), SpecPath: "sweeps/" + name + ".toml",
		Canonical: []byte(`{"name":"` + name + `","search":{"kind":"asha"}}`), Metric: "val_acc", Keep: 2,
		Data: &results.DataRef{Path: "/data/fashion-mnist", Fingerprint: "v1:0123abcd"}, Input: testInput()}
}

// buildMixed creates the adaptive sweep name (rungs at 1 and 3), with a
// trial in every status (see mixedRunning...), decision records, histories,
// checkpoints, kept weights, a best trial, and elapsed time.
func (fx *fixture) buildMixed(name string) {
	fx.t.Helper()
	ctx, o := fx.ctx, mixedOwner
	fx.ensure(mixedSweep(name), nil)
	for i, v := range []float64{0.4, 0.6, 0.2} {
		n := fx.start(name, o, fmt.Sprint("k", i+1), 1, decision("start %d", i+1)).Number
		fx.pause(name, o, n, 1, v)
	}
	fx.promote(name, o, mixedDone, 3, decision("promote 2"))
	fx.finish(name, mixedDone, o, results.Outcome{Status: results.Done,
		Metrics: results.Metrics{ValAcc: 0.7, ValLoss: 1.3, TrainAcc: 0.75, FinalValAcc: 0.69, Iterations: 885, Epochs: 3, BestEpoch: 3},
		History: history(3), Model: model(mixedDone), Duration: 2, Eval: &results.Eval{Resource: 3, Value: 0.7}})
	fx.promote(name, o, mixedRunning, 3, decision("promote 1"))
	fx.must(fx.s.SaveCheckpoint(ctx, name, mixedRunning, o, now(), rungCheckpoint(mixedRunning, 2), history(2)))
	fx.start(name, o, "k4", 1, decision("start 4"))
	fx.pause(name, o, mixedPaused, 1, 0.5)
	pruned, err := fx.s.Prune(ctx, name, now(), func([]results.Trial) ([]results.Pruning, error) {
		return []results.Pruning{{Number: mixedPruned, Decision: decision("prune 3")}}, nil
	})
	fx.must(err)
	if len(pruned) != 1 || pruned[0] != mixedPruned {
		fx.t.Fatalf("Prune = %v, want [%d]", pruned, mixedPruned)
	}
	fx.start(name, o, "k5", 1, decision("start 5"))
	fx.start(name, o, "k6", 1, nil)
	fx.start(name, o, "k7", 1, decision("start 7"))
	fx.must(fx.s.Release(ctx, name, mixedInterrupted, o, now(),
		&results.Checkpoint{Epoch: 0.5, Iteration: 150, Data: []byte("half an epoch")}, history(1), 0.75))
	fx.finish(name, mixedDiverged, o, results.Outcome{Status: results.Diverged, Metrics: divergedMetrics, History: divergedHistory(), Duration: 0.5})
	fx.finish(name, mixedFailed, o, results.Outcome{Status: results.Failed, Error: "out of memory", Stack: "goroutine 7 [running]:\nmain.train()", Duration: 0.25})
	if added := fx.ensure(mixedSweep(name), grouped(7)); len(added) != 1 || added[0] != mixedPending {
		fx.t.Fatalf("EnsureSweep added %v, want [%d]", added, mixedPending)
	}
	fx.must(fx.s.SetBest(ctx, name, results.Best{Trial: mixedDone, ValAcc: 0.7, ValLoss: 1.3, TestAcc: 0.68, TestLoss: 1.35, Evaluated: evaluated}))
	_, err = fx.s.AddElapsed(ctx, name, 90*time.Second)
	fx.must(err)
	for range 2 {
		_, err = fx.s.TickElapsed(ctx, name, now(), time.Hour)
		fx.must(err)
	}
}
