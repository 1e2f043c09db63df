package main

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestLsGolden(t *testing.T) {
	db := fixtureDB(t)
	empty := filepath.Join(t.TempDir(), "empty.db")
	if code, _, stderr := runCLI(t, "export", "x", "--db", empty); code != exitUsage {
		t.Fatalf("export of a missing database: exit %d: %s", code, stderr)
	}
	t.Run("live", func(t *testing.T) {
		// Trial 5's heartbeat is 10 s old: node7:4242 runs the sweep.
		setClock(t, t0.Add(10*time.Minute))
		runGolden(t, db, []cliCase{
			{"ls", []string{"ls", "--db", "$DB"}},
			{"ls-json", []string{"ls", "--format", "json", "--db", "$DB"}},
		})
	})
	t.Run("stale", func(t *testing.T) {
		// An hour later, its lease is stale: nothing runs the sweep.
		setClock(t, t0.Add(70*time.Minute))
		runGolden(t, db, []cliCase{
			{"ls-stale", []string{"ls", "--db", "$DB"}},
			{"ls-bad-format", []string{"ls", "--format", "csv", "--db", "$DB"}},
			{"ls-extra-arg", []string{"ls", "golden", "--db", "$DB"}},
		})
	})
}

// TestQueriesNeverCreateADatabase: every query command on a path that does
// not exist fails with exit 2, says so, and leaves no file behind.
func TestQueriesNeverCreateADatabase(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "none.db")
	out := filepath.Join(dir, "out")
	for _, args := range [][]string{
		{"ls"}, {"leaderboard", "g"}, {"leaderboard", "g", "--watch"}, {"show", "g", "1"}, {"best", "g"},
		{"export", "g", "-o", out}, {"export-model", "g", "-o", out},
	} {
		t.Run(args[0], func(t *testing.T) {
			code, _, stderr := runCLI(t, append(args, "--db", db)...)
			if code != exitUsage || !containsAll(stderr, "none.db", "no such file") {
				t.Errorf("exit %d, stderr %q; want 2 and the missing file named", code, stderr)
			}
		})
	}
	ents, err := os.ReadDir(dir)
	if err != nil || len(ents) != 0 {
		t.Errorf("files left in %s: %v %v", dir, ents, err)
	}
}
