package main

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results/boltstore"
)

func TestBestGolden(t *testing.T) {
	db := fixtureDB(t)
	setClock(t, t0.Add(10*time.Minute))
	// golden-done is finished but has no best trial yet: the first call
	// evaluates it on the test set and records it; later ones read it.
	runGolden(t, db, []cliCase{
		{"best-unfinished", []string{"best", "golden", "--db", "$DB"}},
		{"best-unfinished-json", []string{"best", "golden", "--format", "json", "--db", "$DB"}},
		{"best-evaluates", []string{"best", "golden-done", "--db", "$DB"}},
	})
	st, err := boltstore.OpenExisting(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	sw, err := st.Sweep(context.Background(), "golden-done")
	if err != nil || sw.Best == nil || sw.Best.Trial != 2 {
		t.Fatalf("best of golden-done recorded as %+v (%v), want trial 2", sw.Best, err)
	}
	evaluated := sw.Best.Evaluated
	runGolden(t, db, []cliCase{
		{"best-recorded", []string{"best", "golden-done", "--db", "$DB"}},
		{"best-json", []string{"best", "golden-done", "--format", "json", "--db", "$DB"}},
		{"leaderboard-best", []string{"leaderboard", "golden-done", "--db", "$DB"}},
		{"best-unknown-sweep", []string{"best", "nope", "--db", "$DB"}},
	})
	sw, err = st.Sweep(context.Background(), "golden-done")
	if err != nil || !sw.Best.Evaluated.Equal(evaluated) {
		t.Errorf("the test set was evaluated again: %v, then %+v (%v)", evaluated, sw.Best, err)
	}
}

func containsAll(s string, subs ...string) bool {
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			return false
		}
	}
	return true
}
