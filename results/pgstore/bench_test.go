package pgstore

import (
	"fmt"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// BenchmarkClaimFinish measures a worker's round: Claim a trial, Finish
// it done with its weights (the ranking of kept models included), on a
// sweep that has done trials already, as one late in a large sweep has.
//
//	go test -run - -bench ClaimFinish ./results/pgstore/
func BenchmarkClaimFinish(b *testing.B) {
	for _, done := range []int{0, 10000} {
		b.Run(fmt.Sprintf("done=%d", done), func(b *testing.B) {
			s, _ := newStore(b)
			ctx := b.Context()
			const pending = 20000
			d := &results.Dump{Sweep: results.Sweep{Name: "g", Metric: "val_acc", Keep: results.DefaultKeep}}
			now := time.Now()
			for n := 1; n <= done+pending; n++ {
				tr := results.Trial{Number: n, Key: fmt.Sprint("k", n), Params: results.Params{{Name: "lr", Value: 0.1}}, Status: results.Pending, Created: now}
				if n <= done {
					tr.Status, tr.Attempts, tr.ValAcc, tr.ValLoss = results.Done, 1, float64(n%1000)/1000, 1
				}
				d.Trials = append(d.Trials, results.TrialDump{Trial: tr})
			}
			if err := s.Load(ctx, d, false); err != nil {
				b.Fatal(err)
			}
			o := owner("a")
			m := testModel()
			b.ReportAllocs()
			for b.Loop() {
				tr, _, err := s.Claim(ctx, "g", o, time.Now(), nil)
				if err != nil {
					b.Fatal(err)
				}
				if err := s.Finish(ctx, "g", tr.Number, o, time.Now(), results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}, Model: m}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
