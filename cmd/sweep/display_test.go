package main

import (
	"testing"
	"time"

	"github.com/vbauerster/mpb/v8/decor"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
)

// TestETA: no estimate until this run has finished a trial (trials finished
// by an earlier run do not count), then the average time per trial of this
// run times the trials left.
func TestETA(t *testing.T) {
	start := time.Now().Add(-10 * time.Second)
	f := eta(start, 4, nil)
	if got := f(decor.Statistics{Current: 4, Total: 10}); got != "  ETA -" {
		t.Errorf("before this run finished a trial: %q, want \"  ETA -\"", got)
	}
	got := f(decor.Statistics{Current: 6, Total: 10}) // 2 trials in ~10 s: 4 left take ~20 s
	if got != "  ETA 20s" && got != "  ETA 21s" {
		t.Errorf("after 2 trials in 10 s with 4 left: %q, want about 20s", got)
	}
	// Fused groups: no trial finished yet, but 2 trials' worth trained.
	g := eta(start, 4, func() float64 { return 2 })
	if got := g(decor.Statistics{Current: 4, Total: 10}); got != "  ETA 20s" && got != "  ETA 21s" {
		t.Errorf("2 trials' worth in 10 s, 4 left: %q, want about 20s", got)
	}
}

// TestEpochText: a worker's line shows its epoch rounded and a huge loss
// in three significant digits.
func TestEpochText(t *testing.T) {
	e := trial.Event{Kind: trial.EpochDone, Trial: &results.Trial{Number: 1},
		Epoch: results.Epoch{Epoch: 88.88888888888889, Iteration: 800, Loss: 5508347170094318, ValAcc: 0.1}}
	if got, want := epochText(e), "trial 1  epoch 88.9  loss 5.51e+15  val_acc 0.1000"; got != want {
		t.Errorf("epochText = %q, want %q", got, want)
	}
}

func TestBudgetLeft(t *testing.T) {
	now := time.Now()
	for _, tt := range []struct {
		deadline time.Time
		want     string
	}{
		{time.Time{}, ""},
		{now.Add(42*time.Second + 200*time.Millisecond), "  budget left 42s"},
		{now.Add(-time.Second), "  budget left 0s"},
	} {
		if got := budgetLeft(tt.deadline, now); got != tt.want {
			t.Errorf("budgetLeft(%v) = %q, want %q", tt.deadline, got, tt.want)
		}
	}
}

// TestAtRung: a promoted trial is announced as promoted only when it starts
// from its rung's checkpoint, not when it resumes from further on.
func TestAtRung(t *testing.T) {
	evals := []results.Eval{{Resource: 1, Value: 0.5}, {Resource: 3, Value: 0.7}}
	for _, tt := range []struct {
		unit      string
		epoch     float64
		iteration int
		want      bool
	}{
		{"epochs", 3, 150, true},
		{"epochs", 5.18, 233, false},
		{"iterations", 0, 3, true},
		{"iterations", 0, 7, false},
	} {
		d := &display{unit: tt.unit}
		tr := &results.Trial{Evals: evals, Epoch: tt.epoch, Iteration: tt.iteration}
		if got := d.atRung(tr); got != tt.want {
			t.Errorf("%s at epoch %v, iteration %d: atRung %v, want %v", tt.unit, tt.epoch, tt.iteration, got, tt.want)
		}
	}
}
