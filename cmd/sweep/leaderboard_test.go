package main

import (
	"context"
	"encoding/binary"
	"flag"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/trial"
)

var update = flag.Bool("update", false, "rewrite the golden files of testdata/ with the outputs")

// t0 is the fixed time of the fixture databases.
var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// fixtureSpec is the spec of the fixture sweeps: 6 trials on tiny
// synthetic data (100 features, 10 classes), whose weights are made up.
const fixtureSpec = `name = "golden"
seed = 1

[data]
source = "synthetic"
train = 200
val = 100
test = 100

[model]
hidden = [8]
weight_scale = 1e-2

[train]
epochs = 2
batch_size = 50

[search]
method = "grid"

[search.params]
learning_rate = [1e-3, 5e-3, 1e-2]
reg = [0.1, 0.25]
`

// fixtureOwner is the (remote) process that ran the fixture trials.
var fixtureOwner = results.Owner{Host: "node7", PID: 4242, Start: 1, ID: "fixture"}

// specTrials returns the trial records of spec src, as run records them.
func specTrials(t testing.TB, path, src string) []results.Trial {
	t.Helper()
	spec, err := search.Parse(path, []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := trial.Records(spec)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// fixtureModel returns made-up float32 weights of a 100-8-10 net.
func fixtureModel(seed int) *results.Model {
	tensor := func(name string, shape ...int) results.Tensor {
		n := 1
		for _, s := range shape {
			n *= s
		}
		b := make([]byte, 4*n)
		for i := range n {
			v := float32(0.1 * math.Sin(float64(seed*1000+len(name)*100+i)))
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(v))
		}
		return results.Tensor{Name: name, Shape: shape, DType: "float32", Data: b}
	}
	return &results.Model{Tensors: []results.Tensor{tensor("W1", 100, 8), tensor("b1", 8), tensor("W2", 8, 10), tensor("b2", 10)}}
}

// fixtureHistory returns an epochs-long history ending at val_acc acc.
func fixtureHistory(epochs int, acc, lr float64) []results.Epoch {
	h := make([]results.Epoch, epochs)
	for i := range h {
		f := float64(i+1) / float64(epochs)
		h[i] = results.Epoch{Epoch: float64(i + 1), Iteration: 4 * (i + 1), LearningRate: lr * math.Pow(0.95, float64(i)),
			Loss: 2.3 - 0.4*f, TrainAcc: acc*f + 0.05, ValAcc: acc * f, ValLoss: 2.25 - 0.35*f}
	}
	return h
}

// fixtureDB writes, through the results API and at fixed times, a database
// of two sweeps:
//
//   - "golden", unfinished: trial 1 and 2 done (2 is the leader), 3
//     diverged, 4 failed, 5 running (node7:4242, heartbeat at t0+9m50s),
//     6 pending;
//   - "golden-done", finished: 4 trials, 3 done and 1 failed, no best
//     trial selected yet (the first `sweep best` evaluates it).
func fixtureDB(t testing.TB) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "sweep.db")
	st, err := openDB(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := st.Check(context.Background()); err != nil {
			t.Error(err)
		}
	})
	ctx := context.Background()
	ensure := func(name, src string) {
		src = strings.Replace(src, `name = "golden"`, `name = "`+name+`"`, 1)
		sw := results.Sweep{Name: name, Spec: []byte(src), SpecPath: "sweeps/" + name + ".toml", Metric: "val_acc", Created: t0}
		if _, err := st.EnsureSweep(ctx, sw, specTrials(t, sw.SpecPath, src)); err != nil {
			t.Fatal(err)
		}
	}
	at := func(min int) time.Time { return t0.Add(time.Duration(min) * time.Minute) }
	claim := func(name string, min int) *results.Trial {
		tr, _, err := st.Claim(ctx, name, fixtureOwner, at(min), nil)
		if err != nil {
			t.Fatal(err)
		}
		return tr
	}
	finish := func(name string, min int, o results.Outcome) {
		tr := claim(name, min)
		if err := st.Finish(ctx, name, tr.Number, fixtureOwner, at(min+1), o); err != nil {
			t.Fatal(err)
		}
	}
	done := func(acc float64, seed int) results.Outcome {
		lr := 1e-3
		return results.Outcome{Status: results.Done, Duration: 41.25 + acc,
			Metrics: results.Metrics{ValAcc: acc, ValLoss: round3(1.9 - acc), TrainAcc: round3(acc + 0.05), FinalValAcc: round3(acc - 0.01), Iterations: 8, Epochs: 2},
			History: fixtureHistory(2, acc, lr), Model: fixtureModel(seed)}
	}

	ensure("golden", fixtureSpec)
	finish("golden", 0, done(0.41, 1))
	finish("golden", 1, done(0.47, 2))
	diverged := fixtureHistory(2, 0.12, 1e-2)
	diverged[1].Loss, diverged[1].ValLoss = math.NaN(), math.Inf(1)
	finish("golden", 2, results.Outcome{Status: results.Diverged, Duration: 3.5, History: diverged,
		Metrics: results.Metrics{ValAcc: 0.12, ValLoss: math.NaN(), TrainAcc: 0.1, FinalValAcc: 0.1, Iterations: 7, Epochs: 1.75, DivergedAt: 7}})
	finish("golden", 3, results.Outcome{Status: results.Failed, Duration: 0.25,
		Error: "train: out of memory\nwhile allocating 3072 x 50", Stack: "goroutine 7 [running]:\ntrial.train(...)\n\ttrial/train.go:99"})
	running := claim("golden", 4)
	ck := results.Checkpoint{Epoch: 1, Iteration: 4, Data: []byte("opaque")}
	if err := st.SaveCheckpoint(ctx, "golden", running.Number, fixtureOwner, at(9).Add(50*time.Second), ck, fixtureHistory(1, 0.3, 1e-2)); err != nil {
		t.Fatal(err)
	}

	ensure("golden-done", strings.Replace(fixtureSpec, "learning_rate = [1e-3, 5e-3, 1e-2]", "learning_rate = [1e-3, 5e-3]", 1))
	finish("golden-done", 0, done(0.38, 3))
	finish("golden-done", 1, done(0.44, 4))
	finish("golden-done", 2, results.Outcome{Status: results.Failed, Error: "boom"})
	finish("golden-done", 3, done(0.44, 5)) // ties with trial 2 on val_acc and val_loss: 2 wins

	// A trial that diverged before its first evaluation has no metric
	// values (NaN), not zeros: shown as missing, sorted last.
	ensure("golden-early", strings.Replace(fixtureSpec, "learning_rate = [1e-3, 5e-3, 1e-2]", "learning_rate = [1e-3]", 1))
	nan := math.NaN()
	finish("golden-early", 0, results.Outcome{Status: results.Diverged, Duration: 0.5,
		Metrics: results.Metrics{ValAcc: nan, ValLoss: nan, TrainAcc: nan, FinalValAcc: nan, Iterations: 3, Epochs: 0.75, DivergedAt: 4},
		Error:   "loss became NaN or Inf at iteration 4"})
	finish("golden-early", 1, done(0.3, 6))
	return db
}

func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// setClock fixes the query commands' clock for the test.
func setClock(t *testing.T, at time.Time) {
	old := clock
	clock = func() time.Time { return at }
	t.Cleanup(func() { clock = old })
}

// golden compares got with testdata/name.golden, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (go test -update rewrites it):\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// cliCase is a CLI call whose exit code, stdout and stderr are compared
// with a golden file. $DB in args is the fixture database and $DIR its
// folder; their paths become $DB and $DIR again in the outputs.
type cliCase struct {
	golden string
	args   []string
}

func runGolden(t *testing.T, db string, cases []cliCase) {
	t.Helper()
	dir := filepath.Dir(db)
	for _, c := range cases {
		t.Run(c.golden, func(t *testing.T) {
			args := make([]string, len(c.args))
			for i, a := range c.args {
				args[i] = strings.NewReplacer("$DB", db, "$DIR", dir).Replace(a)
			}
			code, stdout, stderr := runCLI(t, args...)
			got := "$ sweep " + strings.Join(c.args, " ") + "\nexit " + itoa(code) + "\n--- stdout\n" + stdout + "--- stderr\n" + stderr
			golden(t, c.golden, strings.NewReplacer(db, "$DB", dir, "$DIR").Replace(got))
		})
	}
}

func TestLeaderboardGolden(t *testing.T) {
	db := fixtureDB(t)
	setClock(t, t0.Add(10*time.Minute))
	runGolden(t, db, []cliCase{
		{"leaderboard", []string{"leaderboard", "golden", "--db", "$DB"}},
		{"leaderboard-top", []string{"leaderboard", "golden", "--top", "2", "--db", "$DB"}},
		{"leaderboard-sort-param-desc", []string{"leaderboard", "golden", "--sort", "-learning_rate", "--db", "$DB"}},
		{"leaderboard-sort-val-loss", []string{"leaderboard", "golden", "--sort", "val_loss", "--db", "$DB"}},
		{"leaderboard-status", []string{"leaderboard", "golden", "--status", "done", "--status", "failed", "--db", "$DB"}},
		{"leaderboard-status-none", []string{"leaderboard", "golden", "--status", "pruned", "--db", "$DB"}},
		{"leaderboard-csv", []string{"leaderboard", "golden", "--format", "csv", "--db", "$DB"}},
		{"leaderboard-json", []string{"leaderboard", "golden", "--format", "json", "--top", "3", "--db", "$DB"}},
		{"leaderboard-watch-finished", []string{"leaderboard", "golden-done", "--watch", "--db", "$DB"}},
		{"leaderboard-bad-sort", []string{"leaderboard", "golden", "--sort", "val_accuracy", "--db", "$DB"}},
		{"leaderboard-bad-format", []string{"leaderboard", "golden", "--format", "xml", "--db", "$DB"}},
		{"leaderboard-bad-status", []string{"leaderboard", "golden", "--status", "finished", "--db", "$DB"}},
		{"leaderboard-bad-top", []string{"leaderboard", "golden", "--top", "-1", "--db", "$DB"}},
		{"leaderboard-watch-json", []string{"leaderboard", "golden", "--watch", "--format", "json", "--db", "$DB"}},
		{"leaderboard-unknown-sweep", []string{"leaderboard", "nope", "--db", "$DB"}},
		{"leaderboard-early-divergence", []string{"leaderboard", "golden-early", "--sort", "val_loss", "--db", "$DB"}},
		{"export-early-divergence-csv", []string{"export", "golden-early", "--format", "csv", "--db", "$DB"}},
		{"export-early-divergence-json", []string{"export", "golden-early", "--format", "json", "--db", "$DB"}},
		{"show-early-divergence", []string{"show", "golden-early", "1", "--db", "$DB"}},
		{"ls-csv", []string{"ls", "--format", "csv", "--db", "$DB"}},
	})
	t.Run("stale", func(t *testing.T) {
		// An hour later nothing runs "golden": --watch draws it, sees no
		// live process twice, and stops.
		setClock(t, t0.Add(70*time.Minute))
		old := watchEvery
		watchEvery = time.Millisecond
		t.Cleanup(func() { watchEvery = old })
		runGolden(t, db, []cliCase{{"leaderboard-watch-stopped", []string{"leaderboard", "golden", "--watch", "--top", "2", "--db", "$DB"}}})
	})
}

// BenchmarkLeaderboardTop10 is `sweep leaderboard NAME --top 10` in-process
// (open, read the sweep, list, rank, format) on a sweep of 10,000 done
// trials. Its time and memory must not depend on the trials' histories:
// compare epochs=20 with epochs=200.
func BenchmarkLeaderboardTop10(b *testing.B) {
	for _, epochs := range []int{20, 200} {
		b.Run(fmt.Sprintf("trials=10000/epochs=%d", epochs), func(b *testing.B) {
			db := bigSweep(b, 10000, epochs)
			fi, err := os.Stat(db)
			if err != nil {
				b.Fatal(err)
			}
			args := []string{"leaderboard", "big", "--top", "10", "--db", db}
			b.ReportAllocs()
			for b.Loop() {
				if code := run(b.Context(), args, io.Discard, io.Discard); code != exitOK {
					b.Fatalf("exit %d", code)
				}
			}
			b.ReportMetric(float64(fi.Size())/1e6, "file-MB")
		})
	}
}

// bigSweep records sweep "big" of n done trials with epochs-long
// histories, through the results API.
func bigSweep(b *testing.B, n, epochs int) string {
	db := filepath.Join(b.TempDir(), "big.db")
	st, err := openDB(context.Background(), db)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	lrs, regs := []float64{1e-3, 5e-3, 1e-4, 5e-4}, []float64{0.1, 0.25}
	trials := make([]results.Trial, n)
	for i := range trials {
		lr, reg := lrs[i%4], regs[(i/4)%2]
		trials[i] = results.Trial{Key: itoa(i), Seed: uint64(i),
			Params: results.Params{{Name: "learning_rate", Value: lr}, {Name: "reg", Value: reg}, {Name: "lr_decay", Value: 0.5 + float64(i)/float64(2*n)}},
			Config: []byte(fmt.Sprintf(`{"Hidden":[50],"LearningRate":%g,"Reg":%g,"BatchSize":200,"Iterations":1000}`, lr, reg))}
	}
	if _, err := st.EnsureSweep(ctx, results.Sweep{Name: "big", Created: t0}, trials); err != nil {
		b.Fatal(err)
	}
	for i := range n {
		tr, _, err := st.Claim(ctx, "big", fixtureOwner, t0, nil)
		if err != nil {
			b.Fatal(err)
		}
		acc := 0.3 + 0.2*float64((i*7919)%1000)/1000
		o := results.Outcome{Status: results.Done, Duration: 60, History: fixtureHistory(epochs, acc, 1e-3),
			Metrics: results.Metrics{ValAcc: acc, ValLoss: 2 - acc, TrainAcc: acc + 0.05, FinalValAcc: acc, Iterations: 1000, Epochs: float64(epochs)}}
		if err := st.Finish(ctx, "big", tr.Number, fixtureOwner, t0, o); err != nil {
			b.Fatal(err)
		}
	}
	return db
}
