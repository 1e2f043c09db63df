package main

import (
	"testing"
	"time"
)

func TestShowGolden(t *testing.T) {
	db := fixtureDB(t)
	setClock(t, t0.Add(10*time.Minute))
	runGolden(t, db, []cliCase{
		{"show-done", []string{"show", "golden", "2", "--db", "$DB"}},
		{"show-diverged", []string{"show", "golden", "3", "--db", "$DB"}},
		{"show-failed", []string{"show", "golden", "4", "--db", "$DB"}},
		{"show-running", []string{"show", "golden", "5", "--db", "$DB"}},
		{"show-pending", []string{"show", "golden", "6", "--db", "$DB"}},
		{"show-json", []string{"show", "golden", "5", "--format", "json", "--db", "$DB"}},
		{"show-unknown-trial", []string{"show", "golden", "7", "--db", "$DB"}},
		{"show-not-a-number", []string{"show", "golden", "best", "--db", "$DB"}},
		{"show-unknown-sweep", []string{"show", "gold", "1", "--db", "$DB"}},
		{"show-no-trial", []string{"show", "golden", "--db", "$DB"}},
		{"show-tail", []string{"show", "golden", "2", "--tail", "1", "--db", "$DB"}},
		{"show-epochs", []string{"show", "golden", "2", "--epochs", "--db", "$DB"}},
		{"show-epochs-json", []string{"show", "golden", "2", "--epochs", "--tail", "1", "--format", "json", "--db", "$DB"}},
		{"show-bad-tail", []string{"show", "golden", "2", "--tail", "-1", "--db", "$DB"}},
	})
	t.Run("stale", func(t *testing.T) {
		setClock(t, t0.Add(70*time.Minute))
		runGolden(t, db, []cliCase{{"show-running-stale", []string{"show", "golden", "5", "--db", "$DB"}}})
	})
}
