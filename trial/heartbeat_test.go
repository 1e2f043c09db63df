package trial

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// nopRecorder accepts every write.
type nopRecorder struct{}

func (nopRecorder) Claim(context.Context, string, results.Owner, time.Time, func(results.Lease) bool) (*results.Trial, *results.Checkpoint, error) {
	return nil, nil, results.ErrNoWork
}
func (nopRecorder) Heartbeat(context.Context, string, []int, results.Owner, time.Time) error {
	return nil
}
func (nopRecorder) SaveCheckpoint(context.Context, string, int, results.Owner, time.Time, results.Checkpoint, []results.Epoch) error {
	return nil
}
func (nopRecorder) Finish(context.Context, string, int, results.Owner, time.Time, results.Outcome) error {
	return nil
}
func (nopRecorder) Release(context.Context, string, int, results.Owner, time.Time, *results.Checkpoint, []results.Epoch, float64) error {
	return nil
}
func (nopRecorder) Running(context.Context, string) ([]results.Trial, error) { return nil, nil }

// TestHeartbeatRetriesWhileTheLeaseLasts: a heartbeat refused because
// another process holds the database is tried again with backoff, at once
// rather than at the next tick; when refused for good it stops before the
// leases expire, and no lease counts as refreshed.
func TestHeartbeatRetriesWhileTheLeaseLasts(t *testing.T) {
	tests := []struct {
		name     string
		refusals int // -1: forever
	}{
		{"refused twice", 2},
		{"refused for good", -1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock := newRefusalClock(100 * time.Millisecond) // the lease lasts 9 refusals
			fs := &faultyStore{inner: nopRecorder{}, fail: func(c call) error {
				if tt.refusals < 0 || c.n < tt.refusals {
					return clock.refuse()
				}
				return nil
			}}
			p := &Pool{Store: fs, Sweep: "s", Owner: Self(), LeaseTTL: time.Second, Now: clock.now}
			claimed := clock.now()
			p.held = map[int]time.Time{3: claimed, 5: claimed}
			p.heartbeat(t.Context())

			calls := fs.made("heartbeat", 0)
			dl, _ := p.deadline(3)
			if tt.refusals >= 0 {
				last := calls[len(calls)-1]
				if len(calls) != tt.refusals+1 || last.err != nil || !slices.Equal(sortedInts(last.trials), []int{3, 5}) {
					t.Fatalf("%d heartbeats, the last of %v (%v); want %d, the last landing", len(calls), last.trials, last.err, tt.refusals+1)
				}
				if want := last.now.Add(p.ttl() - p.leaseMargin()); !dl.Equal(want) {
					t.Errorf("deadline %v after the heartbeat at %v, want %v", dl, last.now, want)
				}
				return
			}
			if len(calls) < 5 {
				t.Errorf("%d heartbeats, want about 9: retries while the lease lasts", len(calls))
			}
			for _, c := range calls[1:] {
				if !c.now.Before(dl) {
					t.Errorf("heartbeat retried at %v, past the deadline %v", c.now, dl)
				}
			}
			if want := claimed.Add(p.ttl() - p.leaseMargin()); !dl.Equal(want) {
				t.Errorf("deadline %v after refused heartbeats, want %v as claimed", dl, want)
			}
		})
	}
}

func sortedInts(ns []int) []int {
	ns = slices.Clone(ns)
	slices.Sort(ns)
	return ns
}
