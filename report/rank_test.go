package report

import (
	"errors"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// numbers returns the trial numbers of ts, in order.
func numbers(ts []results.Trial) []int {
	ns := make([]int, len(ts))
	for i, t := range ts {
		ns[i] = t.Number
	}
	return ns
}

// byNumber sorts ts back into creation order.
func byNumber(ts []results.Trial) {
	slices.SortFunc(ts, func(a, b results.Trial) int { return a.Number - b.Number })
}

func TestSort(t *testing.T) {
	mk := func(n int, st results.Status, acc float64, hidden ...any) results.Trial {
		scale := any(1e-3)
		if n%2 == 0 {
			scale = "he"
		}
		return results.Trial{Number: n, Status: st, Metrics: results.Metrics{ValAcc: acc, ValLoss: 1 - acc},
			Params: results.Params{{Name: "hidden", Value: hidden}, {Name: "activation", Value: []string{"relu", "swish"}[n%2]},
				{Name: "weight_scale", Value: scale}}}
	}
	ts := []results.Trial{
		mk(1, results.Done, 0.5, 100.0), mk(2, results.Pending, 0, 50.0), mk(3, results.Done, math.NaN(), 100.0, 100.0),
		mk(4, results.Done, 0.7, 50.0), mk(5, results.Failed, 0, 200.0), mk(6, results.Done, 0.5, 100.0),
	}
	tests := []struct {
		key  string
		want []int
	}{
		{"val_acc", []int{1, 6, 4, 2, 3, 5}},  // ties keep their order; NaN and untrained last, in their order
		{"-val_acc", []int{4, 1, 6, 2, 3, 5}}, // still last when descending; ties still in order
		{"val_loss", []int{4, 1, 6, 2, 3, 5}}, // 1-NaN is NaN: last
		{"hidden", []int{2, 4, 1, 6, 3, 5}},   // lists element by element, a prefix first
		{"-hidden", []int{5, 3, 1, 6, 2, 4}},
		{"-activation", []int{1, 3, 5, 2, 4, 6}},
		{"weight_scale", []int{1, 3, 5, 2, 4, 6}}, // the union: "0.001" < "he" by text
		{"status", []int{2, 1, 3, 4, 6, 5}},       // in the order of results.Statuses
		{"trial", []int{1, 2, 3, 4, 5, 6}},
		{"-trial", []int{6, 5, 4, 3, 2, 1}},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			byNumber(ts)
			if err := Sort(ts, tt.key); err != nil {
				t.Fatal(err)
			}
			if got := numbers(ts); !slices.Equal(got, tt.want) {
				t.Errorf("Sort by %s: %v, want %v", tt.key, got, tt.want)
			}
		})
	}
}

// TestSortStable: ties keep their order, in sweeps larger than a sort's
// insertion-sort cutoff too.
func TestSortStable(t *testing.T) {
	ts := make([]results.Trial, 100)
	for i := range ts {
		ts[i] = results.Trial{Number: i + 1, Status: results.Done, Metrics: results.Metrics{ValAcc: float64((i * 7) % 3)}}
	}
	for _, key := range []string{"val_acc", "-val_acc"} {
		byNumber(ts)
		if err := Sort(ts, key); err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(ts); i++ {
			if a, b := ts[i-1], ts[i]; a.ValAcc == b.ValAcc && a.Number > b.Number {
				t.Fatalf("Sort by %s: trial %d before %d, which ties with it", key, a.Number, b.Number)
			}
		}
	}
}

// TestSortMissing: trials without a value for the key come last either
// way: a test accuracy not evaluated, a parameter not searched in an
// older part of an extended sweep, a trial that never diverged.
func TestSortMissing(t *testing.T) {
	acc := 0.4
	ts := []results.Trial{
		{Number: 1, Status: results.Done},
		{Number: 2, Status: results.Done, TestAcc: &acc, Params: results.Params{{Name: "reg", Value: 0.5}}, Metrics: results.Metrics{DivergedAt: 0}},
		{Number: 3, Status: results.Diverged, Params: results.Params{{Name: "reg", Value: 0.1}}, Metrics: results.Metrics{DivergedAt: 7}},
	}
	for key, want := range map[string][]int{
		"test_acc": {2, 1, 3}, "-test_acc": {2, 1, 3},
		"reg": {3, 2, 1}, "-reg": {2, 3, 1},
		"diverged_at": {3, 1, 2}, "-diverged_at": {3, 1, 2},
	} {
		byNumber(ts)
		if err := Sort(ts, key); err != nil {
			t.Fatal(err)
		}
		if got := numbers(ts); !slices.Equal(got, want) {
			t.Errorf("Sort by %s: %v, want %v", key, got, want)
		}
	}
}

// TestSortProgress: an unfinished trial sorts by the progress of its last
// checkpoint, a finished one by what it trained.
func TestSortProgress(t *testing.T) {
	ts := []results.Trial{
		{Number: 1, Status: results.Done, Metrics: results.Metrics{Iterations: 100, Epochs: 2}, Iteration: 999, Epoch: 9},
		{Number: 2, Status: results.Running, Metrics: results.Metrics{Iterations: 999, Epochs: 9}, Iteration: 50, Epoch: 1},
	}
	for _, key := range []string{"iterations", "epochs"} {
		byNumber(ts)
		if err := Sort(ts, key); err != nil {
			t.Fatal(err)
		}
		if got := numbers(ts); !slices.Equal(got, []int{2, 1}) {
			t.Errorf("Sort by %s: %v, want [2 1]", key, got)
		}
	}
}

func TestSortUnknownKey(t *testing.T) {
	ts := []results.Trial{
		{Number: 2, Params: results.Params{{Name: "hidden", Value: []any{50.0}}}},
		{Number: 1, Params: results.Params{{Name: "activation", Value: "relu"}}},
	}
	err := Sort(ts, "-nope")
	if !errors.Is(err, ErrUnknownSortKey) {
		t.Fatalf("Sort by -nope: %v, want ErrUnknownSortKey", err)
	}
	want := `unknown sort key "-nope" (valid: trial, status, val_acc, val_loss, train_acc, final_val_acc, test_acc, iterations, epochs, rung, diverged_at, duration_s, seed, attempts, hidden, activation; -KEY sorts descending)`
	if err.Error() != want {
		t.Errorf("error:\n%s\nwant\n%s", err, want)
	}
	if got := numbers(ts); !slices.Equal(got, []int{2, 1}) {
		t.Errorf("trials reordered by a failed Sort: %v", got)
	}
	if got := SortKeys(ts); len(got) != len(metricKeys)+2 || got[len(got)-1] != "activation" {
		t.Errorf("SortKeys = %v", got)
	}
}

func TestParseStatuses(t *testing.T) {
	got, err := ParseStatuses("done, failed,pruned")
	if err != nil || !slices.Equal(got, []results.Status{results.Done, results.Failed, results.Pruned}) {
		t.Errorf("ParseStatuses = %v, %v", got, err)
	}
	_, err = ParseStatuses("done,finished")
	if !errors.Is(err, ErrUnknownStatus) || !strings.Contains(err.Error(), `"finished" (valid: pending, running, paused, done,`) {
		t.Errorf("ParseStatuses(done,finished): %v, want ErrUnknownStatus listing the valid ones", err)
	}
	if _, err := ParseStatuses(""); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("ParseStatuses(\"\"): %v, want ErrUnknownStatus", err)
	}
}

func TestFilterStatus(t *testing.T) {
	ts := []results.Trial{{Number: 1, Status: results.Done}, {Number: 2, Status: results.Failed}, {Number: 3, Status: results.Done}}
	got := FilterStatus(ts, []results.Status{results.Done, results.Pruned})
	if !slices.Equal(numbers(got), []int{1, 3}) {
		t.Errorf("done or pruned: %v", numbers(got))
	}
	if !slices.Equal(numbers(ts), []int{1, 2, 3}) {
		t.Errorf("FilterStatus changed its argument: %v", numbers(ts))
	}
	if got := FilterStatus(ts, nil); len(got) != 3 {
		t.Errorf("no statuses: %v, want all", numbers(got))
	}
}

func TestCounts(t *testing.T) {
	live := &results.Lease{Owner: results.Owner{Host: "a"}}
	dead := &results.Lease{Owner: results.Owner{Host: "b"}}
	ts := []results.Trial{
		{Status: results.Done}, {Status: results.Done}, {Status: results.Pending}, {Status: results.Diverged},
		{Status: results.Running, Lease: live}, {Status: results.Running, Lease: dead}, {Status: results.Running},
	}
	stale := func(l results.Lease) bool { return l.Owner.Host == "b" }
	if got, want := Counts("g", ts, stale), `sweep "g": 7 trials: 2 done, 1 diverged, 1 running, 2 stale, 1 pending`; got != want {
		t.Errorf("Counts = %q, want %q", got, want)
	}
	if got, want := Counts("g", ts, nil), `sweep "g": 7 trials: 2 done, 1 diverged, 2 running, 1 stale, 1 pending`; got != want {
		t.Errorf("Counts without a stale rule = %q, want %q", got, want)
	}
	if got, want := Counts("e", nil, nil), `sweep "e": 0 trials`; got != want {
		t.Errorf("Counts of none = %q, want %q", got, want)
	}
}

func TestTrained(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	running := results.Trial{Status: results.Running, Duration: 10, Lease: &results.Lease{Claimed: t0}}
	if got := Trained(&running, t0.Add(5*time.Second)); got != 15 {
		t.Errorf("running: %v, want 15 (10 s before, 5 s since its claim)", got)
	}
	if got := Trained(&running, t0.Add(-time.Minute)); got != 10 {
		t.Errorf("running, clock behind its claim: %v, want 10", got)
	}
	done := results.Trial{Status: results.Done, Duration: 10, Lease: &results.Lease{Claimed: t0}}
	if got := Trained(&done, t0.Add(time.Hour)); got != 10 {
		t.Errorf("done: %v, want its duration 10", got)
	}
}

// sweepFixture is a finished sweep of four trials whose best, trial 2, is
// selected and evaluated on the test set.
func sweepFixture() (*results.Sweep, []results.Trial) {
	test := 0.45
	sw := &results.Sweep{Name: "g", Metric: "val_acc", Best: &results.Best{Trial: 2, ValAcc: 0.5, TestAcc: test}}
	sw.Evaluations = []results.Best{*sw.Best}
	ts := []results.Trial{
		{Number: 1, Status: results.Done, Metrics: results.Metrics{ValAcc: 0.4, ValLoss: 1}},
		{Number: 2, Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5, ValLoss: 1}, TestAcc: &test},
		{Number: 3, Status: results.Failed},
		{Number: 4, Status: results.Diverged, Metrics: results.Metrics{ValAcc: 0.1, ValLoss: math.NaN()}},
	}
	return sw, ts
}

func TestRank(t *testing.T) {
	sw, ts := sweepFixture()
	sel := Rank(sw, ts)
	if !slices.Equal(numbers(ts), []int{2, 1, 3, 4}) {
		t.Errorf("ranked %v, want [2 1 3 4]", numbers(ts))
	}
	if sel == nil || sel.Trial != 2 {
		t.Errorf("selected %v, want trial 2", sel)
	}
	// Extended: a new trial pending, the selection does not stand.
	ts = append(ts, results.Trial{Number: 5, Status: results.Pending})
	if sel := Rank(sw, ts); sel != nil {
		t.Errorf("unfinished sweep: selected %v, want none", sel)
	}
	// val_loss sweeps rank by lowest loss.
	sw.Metric, sw.Best = "val_loss", nil
	ts[0].ValLoss = 2 // trial 2, the leader by val_acc
	Rank(sw, ts)
	if got := numbers(ts); got[0] != 1 {
		t.Errorf("by val_loss: %v, want trial 1 (loss 1) first", got)
	}
}

func TestNewBoard(t *testing.T) {
	tests := []struct {
		name     string
		o        Options
		all      []int
		shown    []int
		selected bool
	}{
		{"ranked", Options{}, []int{2, 1, 3, 4}, []int{2, 1, 3, 4}, true},
		{"top", Options{Top: 2}, []int{2, 1, 3, 4}, []int{2, 1}, true},
		{"top beyond", Options{Top: 9}, []int{2, 1, 3, 4}, []int{2, 1, 3, 4}, true},
		{"status", Options{Status: []results.Status{results.Failed, results.Diverged}}, []int{2, 1, 3, 4}, []int{3, 4}, true},
		{"status top", Options{Status: []results.Status{results.Done, results.Failed}, Top: 2}, []int{2, 1, 3, 4}, []int{2, 1}, true},
		{"sort", Options{Sort: "-trial", Top: 3}, []int{4, 3, 2, 1}, []int{4, 3, 2}, true},
		{"none", Options{Status: []results.Status{results.Pruned}}, []int{2, 1, 3, 4}, []int{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sw, ts := sweepFixture()
			b, err := NewBoard(sw, ts, tt.o)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(numbers(b.All), tt.all) || !slices.Equal(numbers(b.Shown), tt.shown) {
				t.Errorf("all %v shown %v, want %v and %v", numbers(b.All), numbers(b.Shown), tt.all, tt.shown)
			}
			if (b.Selected != nil) != tt.selected || !b.Finished {
				t.Errorf("selected %v, finished %v", b.Selected, b.Finished)
			}
		})
	}
	sw, ts := sweepFixture()
	ts[2].Status = results.Running
	b, err := NewBoard(sw, ts, Options{})
	if err != nil || b.Finished || b.Selected != nil {
		t.Errorf("a running trial: finished %v, selected %v, %v; want neither", b.Finished, b.Selected, err)
	}
	if _, err := NewBoard(sw, ts, Options{Sort: "val_accuracy"}); !errors.Is(err, ErrUnknownSortKey) {
		t.Errorf("unknown sort key: %v", err)
	}
}
