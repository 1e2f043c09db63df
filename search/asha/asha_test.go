package asha_test

import (
	"errors"
	"fmt"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/search/asha"
	"github.com/sweep-dev/sweep/search/tpe"
)

func mustParse(t testing.TB, src string) *search.Spec {
	t.Helper()
	spec, err := search.Parse("t.toml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return spec
}

// specOf returns a spec training `train` (e.g. "epochs = 9") with a
// continuous space, so that every draw is a new configuration.
func specOf(t testing.TB, train, metric string) *search.Spec {
	return mustParse(t, fmt.Sprintf(`name = "asha"
seed = 1
[train]
%s
[search]
method = "random"
trials = 100
metric = %q
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-2] }
lr_decay = { uniform = [0.5, 1.0] }
`, train, metric))
}

// sim plays a sweep with one worker: each decision is carried out at once,
// the trial training to its target and pausing or finishing there, with
// curve giving its value after each unit of resource.
type sim struct {
	t     testing.TB
	sch   *asha.Scheduler
	h     []search.TrialRecord
	curve func(number, resource int) float64
	log   []string
}

func (s *sim) trial(n int) *search.TrialRecord {
	i := slices.IndexFunc(s.h, func(r search.TrialRecord) bool { return r.Number == n })
	if i < 0 {
		s.t.Fatalf("no trial %d", n)
	}
	return &s.h[i]
}

// step asks for a decision and carries it out; it returns the action.
func (s *sim) step() search.Action {
	s.t.Helper()
	d := s.decide()
	if d.Action == search.Start || d.Action == search.Promote {
		s.train(d, d.Target)
	}
	return d.Action
}

// decide asks for a decision and claims its trial: a new record, or a
// paused one set running.
func (s *sim) decide() search.Decision {
	s.t.Helper()
	d, err := s.sch.Next(s.h)
	if err != nil {
		s.t.Fatal(err)
	}
	switch d.Action {
	case search.Start:
		s.h = append(s.h, search.TrialRecord{Number: d.Number, Key: d.Trial.Key, Params: d.Trial.Params, Status: search.StatusRunning})
		s.log = append(s.log, fmt.Sprintf("start %d b%d ->%d", d.Number, d.Bracket, d.Target))
	case search.Promote:
		tr := s.trial(d.Number)
		if tr.Status != search.StatusPaused || tr.Rung != d.Rung || tr.Promoted {
			s.t.Fatalf("promote trial %d from rung %d: it is %s at rung %d, promoted %v", d.Number, d.Rung, tr.Status, tr.Rung, tr.Promoted)
		}
		tr.Status, tr.Promoted = search.StatusRunning, true
		s.log = append(s.log, fmt.Sprintf("promote %d b%d r%d->%d", d.Number, d.Bracket, d.Rung, d.Target))
	default:
		s.log = append(s.log, d.Action.String())
	}
	return d
}

// train trains d's trial on to resource upto; at d's target it pauses or
// finishes there.
func (s *sim) train(d search.Decision, upto int) {
	tr := s.trial(d.Number)
	last, _ := tr.Last()
	for r := last.Resource + 1; r <= upto; r++ {
		tr.Evals = append(tr.Evals, search.Eval{Resource: r, Value: s.curve(tr.Number, r)})
	}
	if upto < d.Target {
		return
	}
	ladder := s.sch.Rungs(s.sch.Bracket(tr.Number))
	tr.Rung = slices.Index(ladder, d.Target) + 1
	tr.Promoted = false
	tr.Status = search.StatusDone
	if d.Pause {
		tr.Status = search.StatusPaused
	}
}

// runToEnd steps until the sweep is finished, then prunes what End says.
func (s *sim) runToEnd(limit int) {
	s.t.Helper()
	for range limit {
		if s.step() == search.Finished {
			for _, d := range s.sch.End(s.h) {
				s.trial(d.Number).Status = search.StatusPruned
				s.log = append(s.log, fmt.Sprintf("prune %d r%d", d.Number, d.Rung))
			}
			return
		}
	}
	s.t.Fatalf("not finished after %d decisions: %v", limit, s.log)
}

// base values of trials 1..9 at their first epoch; each epoch adds 0.01.
var base = []float64{0.5, 0.7, 0.3, 0.8, 0.6, 0.2, 0.9, 0.4, 0.1}

func linear(number, resource int) float64 {
	return base[(number-1)%len(base)] + 0.01*float64(resource)
}

// TestGoldenSequence plays ASHA (1 to 9 epochs, eta 3, 9 trials) with one
// worker, against the sequence worked out by hand (see the comments).
func TestGoldenSequence(t *testing.T) {
	tests := []struct {
		name   string
		trials int
		want   []string
	}{{
		name:   "9 trials",
		trials: 9,
		want: []string{
			"start 1 b0 ->1",     // rung 1 (1 epoch) empty
			"start 2 b0 ->1",     // rung 1: n = 1, k = 0
			"start 3 b0 ->1",     // n = 2, k = 0
			"promote 2 b0 r1->3", // n = 3, k = 1: trial 2 (0.71) is the best
			"start 4 b0 ->1",     // rung 2: n = 1, k = 0; rung 1: its best promoted
			"promote 4 b0 r1->3", // rung 1: n = 4, k = 1: trial 4 (0.81)
			"start 5 b0 ->1",     // rung 2: n = 2, k = 0; rung 1: 4 promoted
			"start 6 b0 ->1",     // rung 1: n = 5, k = 1
			"start 7 b0 ->1",     // rung 1: n = 6, k = 2: 4 and 2, promoted
			"promote 7 b0 r1->3", // rung 1: n = 7, k = 2: 7 (0.91) is the best
			"promote 7 b0 r2->9", // rung 2: n = 3, k = 1: 7 (0.93), to the end
			"start 8 b0 ->1",     // rung 2's and rung 1's top k promoted
			"start 9 b0 ->1",     // rung 1: n = 8, k = 2
			"finished",           // rung 1: n = 9, k = 3: 7, 4, 2 promoted; all trials started
			"prune 1 r1", "prune 2 r2", "prune 3 r1", "prune 4 r2", "prune 5 r1", "prune 6 r1", "prune 8 r1", "prune 9 r1",
		},
	}, {
		// Draining: with 4 trials, rung 2 ends with 2 trials and k = 0, so
		// nothing would reach 9 epochs; when nothing is in flight and no
		// trial may start, k becomes 1.
		name:   "4 trials drain",
		trials: 4,
		want: []string{
			"start 1 b0 ->1", "start 2 b0 ->1", "start 3 b0 ->1",
			"promote 2 b0 r1->3", // rung 1: n = 3, k = 1
			"start 4 b0 ->1",
			"promote 4 b0 r1->3", // rung 1: n = 4, k = 1: 4 (0.81)
			// No trial in flight, none may start: drain, lowest rung up.
			// Rung 1 (k = 1) has promoted its best; rung 2: n = 2, k = 0
			// raised to 1: 4 (0.83).
			"promote 4 b0 r2->9",
			"finished",
			"prune 1 r1", "prune 2 r2", "prune 3 r1",
		},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			spec := specOf(t, "epochs = 9", "val_acc")
			sch, err := asha.New(spec, asha.Config{Min: 1, Eta: 3, Trials: tt.trials}, search.NewRandomSampler(spec))
			if err != nil {
				t.Fatal(err)
			}
			s := &sim{t: t, sch: sch, curve: linear}
			s.runToEnd(100)
			if !slices.Equal(s.log, tt.want) {
				t.Errorf("decisions:\n%s\nwant:\n%s", strings.Join(s.log, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

// paused is a trial paused at rung (from 1) with values at 1, 3, 9 epochs.
func paused(n, rung int, values ...float64) search.TrialRecord {
	tr := search.TrialRecord{Number: n, Key: fmt.Sprint(n), Status: search.StatusPaused, Rung: rung}
	for i, v := range values {
		tr.Evals = append(tr.Evals, search.Eval{Resource: []int{1, 3, 9}[i], Value: v})
	}
	return tr
}

func promoted(tr search.TrialRecord) search.TrialRecord {
	tr.Status, tr.Promoted = search.StatusRunning, true
	return tr
}

func status(tr search.TrialRecord, s search.Status) search.TrialRecord {
	tr.Status = s
	return tr
}

// TestNext checks single decisions on hand-built histories, with the
// reports they record.
func TestNext(t *testing.T) {
	nan := math.NaN()
	tests := []struct {
		name   string
		metric string
		trials int
		h      []search.TrialRecord
		want   search.Decision // Action, Number, Rung, Target, Pause
		report search.RungReport
		text   string
	}{{
		name: "ties by trial number",
		h:    []search.TrialRecord{paused(1, 1, 0.5), paused(2, 1, 0.7), paused(3, 1, 0.7), paused(4, 1, 0.2), paused(5, 1, 0.1), paused(6, 1, 0.3)},
		want: search.Decision{Action: search.Promote, Number: 2, Rung: 1, Target: 3, Pause: true},
		report: search.RungReport{Rung: 1, Resource: 1, N: 6, K: 2, Best: search.RungEntry{Number: 2, Value: 0.7},
			Cutoff: search.RungEntry{Number: 3, Value: 0.7}, Trial: search.RungEntry{Number: 2, Value: 0.7}, Rank: 1},
		text: "promote trial 2 from rung 1 (1 epoch) to rung 2 (3 epochs): val_acc 0.7 ranks 1 of 6, in the top k = floor(6/3) = 2, 0 of which promoted already (cut-off 0.7, trial 3)",
	}, {
		name: "next in the top k after a promoted one",
		h: []search.TrialRecord{promoted(paused(1, 1, 0.9)), paused(2, 1, 0.7), paused(3, 1, 0.8), paused(4, 1, 0.2), paused(5, 1, 0.1),
			paused(6, 1, 0.3)},
		want: search.Decision{Action: search.Promote, Number: 3, Rung: 1, Target: 3, Pause: true},
		report: search.RungReport{Rung: 1, Resource: 1, N: 6, K: 2, Promoted: 1, Best: search.RungEntry{Number: 1, Value: 0.9},
			Cutoff: search.RungEntry{Number: 3, Value: 0.8}, Trial: search.RungEntry{Number: 3, Value: 0.8}, Rank: 2},
		text: "promote trial 3 from rung 1 (1 epoch) to rung 2 (3 epochs): val_acc 0.8 ranks 2 of 6, in the top k = floor(6/3) = 2, 1 of which promoted already (cut-off 0.8, trial 3)",
	}, {
		name: "the highest rung first, to the end",
		h: []search.TrialRecord{paused(1, 2, 0.5, 0.6), paused(2, 2, 0.6, 0.7), paused(3, 2, 0.4, 0.5), paused(4, 1, 0.9), paused(5, 1, 0.1),
			paused(6, 1, 0.3), paused(7, 1, 0.2)},
		want: search.Decision{Action: search.Promote, Number: 2, Rung: 2, Target: 9},
		report: search.RungReport{Rung: 2, Resource: 3, N: 3, K: 1, Best: search.RungEntry{Number: 2, Value: 0.7},
			Cutoff: search.RungEntry{Number: 2, Value: 0.7}, Trial: search.RungEntry{Number: 2, Value: 0.7}, Rank: 1},
		text: "promote trial 2 from rung 2 (3 epochs) to rung 3 (9 epochs): val_acc 0.7 ranks 1 of 3, in the top k = floor(3/3) = 1, 0 of which promoted already (cut-off 0.7, trial 2)",
	}, {
		name:   "val_loss is minimised, NaN last",
		metric: "val_loss",
		h:      []search.TrialRecord{paused(1, 1, nan), paused(2, 1, 1.2), paused(3, 1, 0.9)},
		want:   search.Decision{Action: search.Promote, Number: 3, Rung: 1, Target: 3, Pause: true},
		report: search.RungReport{Rung: 1, Resource: 1, N: 3, K: 1, Best: search.RungEntry{Number: 3, Value: 0.9},
			Cutoff: search.RungEntry{Number: 3, Value: 0.9}, Trial: search.RungEntry{Number: 3, Value: 0.9}, Rank: 1},
	}, {
		name: "a trial above the cut-off that failed takes its place",
		h: []search.TrialRecord{status(promoted(paused(1, 1, 0.9)), search.StatusFailed), paused(2, 1, 0.7), paused(3, 1, 0.8),
			paused(4, 1, 0.2)},
		want: search.Decision{Action: search.Start, Number: 5, Target: 1, Pause: true},
		report: search.RungReport{Rung: 1, Resource: 1, N: 4, K: 1, Promoted: 1, Best: search.RungEntry{Number: 1, Value: 0.9},
			Cutoff: search.RungEntry{Number: 1, Value: 0.9}},
		text: "start trial 5 at rung 1 (1 epoch): no paused trial in the top k of any rung (rung 1 (1 epoch): 4 trials, k = 1, 1 promoted)",
	}, {
		name:   "wait for trials in flight",
		trials: 4,
		h:      []search.TrialRecord{promoted(paused(1, 1, 0.9)), paused(2, 1, 0.7), paused(3, 1, 0.8), paused(4, 1, 0.2)},
		want:   search.Decision{Action: search.Wait},
		report: search.RungReport{Rung: 1, Resource: 1, N: 4, K: 1, Promoted: 1, Best: search.RungEntry{Number: 1, Value: 0.9},
			Cutoff: search.RungEntry{Number: 1, Value: 0.9}},
		text: "wait: no paused trial in the top k of any rung (rung 1 (1 epoch): 4 trials, k = 1, 1 promoted); all 4 trials started, 1 in flight",
	}, {
		name:   "drain",
		trials: 2,
		h:      []search.TrialRecord{paused(1, 1, 0.5), paused(2, 1, 0.7)},
		want:   search.Decision{Action: search.Promote, Number: 2, Rung: 1, Target: 3, Pause: true},
		report: search.RungReport{Rung: 1, Resource: 1, N: 2, K: 1, Drain: true, Best: search.RungEntry{Number: 2, Value: 0.7},
			Cutoff: search.RungEntry{Number: 2, Value: 0.7}, Trial: search.RungEntry{Number: 2, Value: 0.7}, Rank: 1},
		text: "promote trial 2 from rung 1 (1 epoch) to rung 2 (3 epochs): val_acc 0.7 ranks 1 of 2, in the top k = 1 (floor(2/3) = 0, raised: no trial in flight and none may start), 0 of which promoted already (cut-off 0.7, trial 2)",
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			metric := tt.metric
			if metric == "" {
				metric = "val_acc"
			}
			spec := specOf(t, "epochs = 9", metric)
			sch, err := asha.New(spec, asha.Config{Trials: tt.trials}, search.NewRandomSampler(spec))
			if err != nil {
				t.Fatal(err)
			}
			d, err := sch.Next(tt.h)
			if err != nil {
				t.Fatal(err)
			}
			got := search.Decision{Action: d.Action, Number: d.Number, Rung: d.Rung, Target: d.Target, Pause: d.Pause}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("decision %+v, want %+v", got, tt.want)
			}
			if rs := d.Reason.Rungs; len(rs) == 0 || rs[len(rs)-1] != tt.report {
				t.Errorf("reports %+v,\nwant last %+v", rs, tt.report)
			}
			if tt.text != "" && d.Reason.Text != tt.text {
				t.Errorf("text\n%s\nwant\n%s", d.Reason.Text, tt.text)
			}
		})
	}
}

// TestEnd: at the end of a sweep every paused trial is pruned, with its
// rank at its rung.
func TestEnd(t *testing.T) {
	spec := specOf(t, "epochs = 9", "val_acc")
	sch, err := asha.New(spec, asha.Config{}, search.NewRandomSampler(spec))
	if err != nil {
		t.Fatal(err)
	}
	h := []search.TrialRecord{
		promoted(paused(1, 1, 0.9)), paused(2, 1, 0.7), paused(3, 1, 0.8), paused(4, 1, 0.2),
		status(paused(5, 3, 0.6, 0.7, 0.8), search.StatusDone),
	}
	ds := sch.End(h)
	var got []string
	for _, d := range ds {
		r := d.Reason.Rungs[0]
		got = append(got, fmt.Sprintf("%v %d r%d rank %d/%d k %d", d.Action, d.Number, d.Rung, r.Rank, r.N, r.K))
	}
	want := []string{"prune 2 r1 rank 3/5 k 1", "prune 3 r1 rank 2/5 k 1", "prune 4 r1 rank 5/5 k 1"}
	if !slices.Equal(got, want) {
		t.Errorf("End:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if text := ds[1].Reason.Text; text != "trial 3 stops at rung 1 (1 epoch): val_acc 0.8 ranks 2 of 5, below the top k = floor(5/3) = 1 (cut-off 0.9, trial 1); not promoted" {
		t.Errorf("text: %s", text)
	}
}

// TestIterations: a spec that trains by iterations has rungs in
// iterations.
func TestIterations(t *testing.T) {
	spec := specOf(t, "iterations = 1000", "val_acc")
	if _, err := asha.New(spec, asha.Config{}, search.NewRandomSampler(spec)); !errors.Is(err, search.ErrInvalid) {
		t.Errorf("no Min: %v, want ErrInvalid", err)
	}
	sch, err := asha.New(spec, asha.Config{Min: 100}, search.NewRandomSampler(spec))
	if err != nil {
		t.Fatal(err)
	}
	if got := sch.Rungs(0); !slices.Equal(got, []int{100, 300, 900, 1000}) {
		t.Errorf("rungs %v", got)
	}
	d, err := sch.Next(nil)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != search.Start || d.Number != 1 || d.Target != 100 || !d.Pause || d.Trial.Iterations != 1000 {
		t.Errorf("first decision %+v, iterations %d", d, d.Trial.Iterations)
	}
	if d.Reason.Text != "start trial 1 at rung 1 (100 iterations): no trial has reached a rung" {
		t.Errorf("text: %s", d.Reason.Text)
	}
}

func TestNewErrors(t *testing.T) {
	epochs := specOf(t, "epochs = 9", "val_acc")
	searched := mustParse(t, `name = "s"
[train]
epochs = 9
[search]
method = "random"
trials = 2
[search.params]
epochs = [3, 9]
`)
	for _, tt := range []struct {
		name string
		spec *search.Spec
		c    asha.Config
	}{
		{"eta 1", epochs, asha.Config{Eta: 1}},
		{"min above max", epochs, asha.Config{Min: 10}},
		{"epochs searched", searched, asha.Config{}},
	} {
		if _, err := asha.New(tt.spec, tt.c, search.NewRandomSampler(tt.spec)); !errors.Is(err, search.ErrInvalid) {
			t.Errorf("%s: %v, want ErrInvalid", tt.name, err)
		}
		if _, err := asha.NewHyperband(tt.spec, tt.c, search.NewRandomSampler(tt.spec)); !errors.Is(err, search.ErrInvalid) {
			t.Errorf("hyperband %s: %v, want ErrInvalid", tt.name, err)
		}
	}
}

// TestHyperbandBrackets: the brackets' ladders and weights are Optuna's,
// and a trial's bracket is a pure function of (seed, number).
func TestHyperbandBrackets(t *testing.T) {
	spec := specOf(t, "epochs = 10", "val_acc")
	sch, err := asha.NewHyperband(spec, asha.Config{}, search.NewRandomSampler(spec))
	if err != nil {
		t.Fatal(err)
	}
	wantRungs := [][]int{{1, 3, 9, 10}, {3, 9, 10}, {9, 10}}
	if sch.Brackets() != 3 {
		t.Fatalf("%d brackets, want 3", sch.Brackets())
	}
	for b, want := range wantRungs {
		if got := sch.Rungs(b); !slices.Equal(got, want) {
			t.Errorf("bracket %d rungs %v, want %v", b, got, want)
		}
	}
	// Optuna's allocation for 3 brackets, eta 3: ceil(3·9/3) = 9,
	// ceil(3·3/2) = 5, ceil(3·1/1) = 3 of 17.
	const n = 170000
	var count [3]int
	var first []int
	for i := 1; i <= n; i++ {
		b := sch.Bracket(i)
		count[b]++
		if i <= 20 {
			first = append(first, b)
		}
	}
	for b, w := range []float64{9, 5, 3} {
		if got := float64(count[b]) / n; math.Abs(got-w/17) > 0.005 {
			t.Errorf("bracket %d: %.4f of trials, want %.4f", b, got, w/17)
		}
	}
	// Golden: changing the assignment would move existing trials.
	if want := []int{0, 1, 1, 0, 0, 0, 2, 2, 1, 0, 2, 2, 2, 2, 0, 1, 0, 0, 2, 1}; !slices.Equal(first, want) {
		t.Errorf("brackets of trials 1-20: %v, want %v", first, want)
	}
	again, _ := asha.NewHyperband(spec, asha.Config{}, search.NewRandomSampler(spec))
	reseeded := *spec
	reseeded.Seed = 2
	other, _ := asha.NewHyperband(&reseeded, asha.Config{}, search.NewRandomSampler(&reseeded))
	same := 0
	for i := 1; i <= 1000; i++ {
		if again.Bracket(i) != sch.Bracket(i) {
			t.Fatalf("trial %d: bracket %d, then %d", i, sch.Bracket(i), again.Bracket(i))
		}
		if other.Bracket(i) == sch.Bracket(i) {
			same++
		}
	}
	if same > 700 { // independent draws agree about 40% of the time
		t.Errorf("seed 2 puts %d of 1000 trials in seed 1's brackets", same)
	}
}

// TestHyperbandResume: a Hyperband sweep killed while a trial trains (it
// is left interrupted with the epochs it checkpointed), then resumed by a
// new scheduler made from the spec, which first finishes the interrupted
// trial as a runner does, makes the decisions of an uninterrupted run with
// one worker, and every trial stays in its bracket.
func TestHyperbandResume(t *testing.T) {
	spec := specOf(t, "epochs = 10", "val_acc")
	c := asha.Config{Trials: 30}
	newSim := func() *sim {
		sch, err := asha.NewHyperband(spec, c, tpe.New(spec, tpe.Options{}))
		if err != nil {
			t.Fatal(err)
		}
		return &sim{t: t, sch: sch, curve: linear}
	}
	straight := newSim()
	straight.runToEnd(500)

	for _, crashAt := range []int{3, 12, 25, 40} {
		killed := newSim()
		for range crashAt {
			killed.step()
		}
		d := killed.decide()
		if d.Action != search.Start && d.Action != search.Promote {
			t.Fatalf("decision %d is %v: crash elsewhere", crashAt+1, d.Action)
		}
		last, _ := killed.trial(d.Number).Last()
		killed.train(d, last.Resource+(d.Target-last.Resource)/2)
		killed.trial(d.Number).Status = search.StatusInterrupted

		resumed := newSim()
		resumed.h, resumed.log = slices.Clone(killed.h), slices.Clone(killed.log)
		resumed.trial(d.Number).Status = search.StatusRunning
		resumed.train(d, d.Target) // the stored target
		resumed.runToEnd(500)
		if !slices.Equal(resumed.log, straight.log) {
			t.Errorf("killed after %d decisions, resumed:\n%s\nstraight through:\n%s", crashAt, strings.Join(resumed.log, "\n"), strings.Join(straight.log, "\n"))
		}
	}
	brackets := map[int]bool{}
	for _, line := range straight.log {
		var n, b int
		if _, err := fmt.Sscanf(line, "start %d b%d", &n, &b); err == nil {
			brackets[b] = true
			if b != straight.sch.Bracket(n) {
				t.Errorf("trial %d started in bracket %d, is in %d", n, b, straight.sch.Bracket(n))
			}
		}
	}
	if len(brackets) != 3 {
		t.Errorf("trials in brackets %v: want all 3 used", brackets)
	}
}

// TestRanking: the full table of a rung, for display.
func TestRanking(t *testing.T) {
	spec := specOf(t, "epochs = 9", "val_acc")
	sch, _ := asha.New(spec, asha.Config{}, search.NewRandomSampler(spec))
	h := []search.TrialRecord{paused(1, 1, 0.5), paused(2, 2, 0.7, 0.75), paused(3, 1, 0.6)}
	got := sch.Ranking(h, 0, 1)
	want := []search.RungEntry{{Number: 2, Value: 0.7}, {Number: 3, Value: 0.6}, {Number: 1, Value: 0.5}}
	if !slices.Equal(got, want) {
		t.Errorf("rung 1: %v, want %v", got, want)
	}
	if got := sch.Ranking(h, 0, 3); got != nil {
		t.Errorf("the last rung: %v, want nil", got)
	}
}

// TestFiniteSpace: without a trial limit, a finite space runs out of new
// configurations; the sweep then drains and finishes rather than failing.
func TestFiniteSpace(t *testing.T) {
	spec := mustParse(t, `name = "finite"
[train]
epochs = 9
[search]
method = "random"
trials = 3
[search.params]
learning_rate = [1e-3, 1e-4, 1e-5]
`)
	sch, err := asha.New(spec, asha.Config{}, search.NewRandomSampler(spec))
	if err != nil {
		t.Fatal(err)
	}
	s := &sim{t: t, sch: sch, curve: linear}
	s.runToEnd(50)
	want := []string{"start 1 b0 ->1", "start 2 b0 ->1", "start 3 b0 ->1", "promote 2 b0 r1->3", "promote 2 b0 r2->9", "finished",
		"prune 1 r1", "prune 3 r1"}
	if !slices.Equal(s.log, want) {
		t.Errorf("decisions:\n%s\nwant:\n%s", strings.Join(s.log, "\n"), strings.Join(want, "\n"))
	}
	d, _ := sch.Next(s.h)
	if !strings.HasSuffix(d.Reason.Text, "every configuration of the space started, none in flight") {
		t.Errorf("text: %s", d.Reason.Text)
	}
}
