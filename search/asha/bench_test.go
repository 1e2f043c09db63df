package asha_test

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/search/asha"
	"github.com/sweep-dev/sweep/search/tpe"
)

// benchSpec is the space: 10 epochs, hidden sizes, and log and
// linear ranges.
const benchSpec = `name = "bench"
seed = 1
[train]
epochs = 10
[search]
method = "random"
trials = 10000
[search.params]
hidden = [[50], [100], [200], [400]]
learning_rate = { log_uniform = [1e-5, 1e-2] }
reg = { log_uniform = [1e-4, 1.0] }
lr_decay = { uniform = [0.5, 1.0] }
weight_scale = { log_uniform = [1e-5, 1e-2] }
`

// steadyHistory returns n trials of ASHA (rungs 1, 3, 9, 10 epochs, eta 3)
// in its steady state: every rung's top third promoted (the top 1/27
// done), the rest paused, and the last two trials running. Next finds no
// promotion and starts a new trial, the costliest decision.
func steadyHistory(spec *search.Spec, n int) []search.TrialRecord {
	rng := rand.New(rand.NewPCG(1, 2))
	smp := search.NewRandomSampler(spec)
	h := make([]search.TrialRecord, n)
	for i := range h {
		values, _ := smp.Sample(nil, i+1, 0)
		params := make([]search.ParamValue, len(values))
		for j, v := range values {
			params[j] = search.ParamValue{Name: spec.Search.Params[j].Name, Value: v}
		}
		h[i] = search.TrialRecord{Number: i + 1, Key: fmt.Sprint(i + 1), Params: params, Status: search.StatusPaused}
		h[i].Evals = []search.Eval{{Resource: 1, Value: rng.Float64()}}
	}
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(h[b].Evals[0].Value, h[a].Evals[0].Value) })
	for q, i := range order {
		t := &h[i]
		v := t.Evals[0].Value
		t.Rung = 1
		for _, r := range []struct{ frac, res int }{{3, 3}, {9, 9}, {27, 10}} {
			if q < n/r.frac {
				t.Rung++
				t.Evals = append(t.Evals, search.Eval{Resource: r.res, Value: v + float64(r.res)/100})
			}
		}
		if t.Rung == 4 {
			t.Status = search.StatusDone
		}
	}
	for i := n - 2; i < n; i++ {
		h[i].Status, h[i].Rung, h[i].Evals = search.StatusRunning, 0, nil
	}
	return h
}

// BenchmarkNext is the cost of deciding the next job with 10,000 trials in
// the sweep: a new trial drawn at random or by TPE, or a promotion.
func BenchmarkNext(b *testing.B) {
	spec := mustParse(b, benchSpec)
	const n = 10000
	h := steadyHistory(spec, n)
	// promote: one more trial, paused at rung 1 and the best there.
	withPaused := append(slices.Clone(h), search.TrialRecord{Number: n + 1, Key: "new", Params: h[0].Params,
		Status: search.StatusPaused, Rung: 1, Evals: []search.Eval{{Resource: 1, Value: 2}}})
	for _, bc := range []struct {
		name string
		smp  search.Sampler
		h    []search.TrialRecord
		want search.Action
	}{
		{"sampler=random", search.NewRandomSampler(spec), h, search.Start},
		{"sampler=tpe", tpe.New(spec, tpe.Options{}), h, search.Start},
		{"promote", search.NewRandomSampler(spec), withPaused, search.Promote},
	} {
		sch, err := asha.New(spec, asha.Config{Min: 1, Eta: 3}, bc.smp)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(fmt.Sprintf("trials=%d/%s", n, bc.name), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				d, err := sch.Next(bc.h)
				if err != nil || d.Action != bc.want {
					b.Fatalf("%v, %v (%s)", d.Action, err, d.Reason.Text)
				}
			}
		})
	}
}
