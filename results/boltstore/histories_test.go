//go:build !race

package boltstore

import (
	"testing"
	"time"
)

// TestListingDoesNotReadHistories checks that listing a sweep's trials (what
// a leaderboard does) never decodes their histories: its allocations are the
// same with 1-epoch and 200-epoch histories, over 10,000 trials. Its time is
// logged, not asserted (the 200 ms budget is a benchmark's:
// BenchmarkLeaderboardTop10 in cmd/sweep). Not built with -race, whose
// instrumentation allocates.
func TestListingDoesNotReadHistories(t *testing.T) {
	var allocs [2]float64
	for i, epochs := range []int{1, 200} {
		s := buildSweep(t, 10000, epochs)
		start := time.Now()
		ts, err := s.Trials(t.Context(), "g", Filter{})
		if err != nil {
			t.Fatal(err)
		}
		Rank(ts, true)
		t.Logf("leaderboard of 10,000 trials with %d-epoch histories: %v", epochs, time.Since(start))
		allocs[i] = testing.AllocsPerRun(2, func() { s.Trials(t.Context(), "g", Filter{}) })
	}
	if allocs[1] > allocs[0]*1.01 {
		t.Errorf("allocations grow with histories: %v with 1 epoch, %v with 200", allocs[0], allocs[1])
	}
}
