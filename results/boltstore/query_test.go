package boltstore

import (
	"errors"
	"testing"
)

func TestRunning(t *testing.T) {
	s := newTestStore(t)
	mustSweep(t, s, "g", 4, 3)
	ctx := t.Context()
	a, b := owner("a"), owner("b")
	for _, o := range []Owner{a, b, a} {
		if _, _, err := s.Claim(ctx, "g", o, t0, nil); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Finish(ctx, "g", 2, b, t0, Outcome{Status: Done, Metrics: Metrics{ValAcc: 0.5}}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Running(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0].Number != 1 || got[1].Number != 3 {
		t.Fatalf("running trials %+v, want 1 and 3", got)
	}
	for _, tr := range got {
		if tr.Lease == nil || tr.Lease.Owner != a || !tr.Lease.Heartbeat.Equal(t0) {
			t.Errorf("trial %d: lease %+v, want owner a at t0", tr.Number, tr.Lease)
		}
	}
	if _, err := s.Running(ctx, "nope"); !errors.Is(err, ErrNoSweep) {
		t.Errorf("unknown sweep: %v, want ErrNoSweep", err)
	}
}
