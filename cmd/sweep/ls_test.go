package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
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
			{"ls-bad-format", []string{"ls", "--format", "xml", "--db", "$DB"}},
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
		{"export", "g", "-o", out}, {"export-model", "g", "-o", out}, {"serve", "--addr", "127.0.0.1:0"},
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

// liveSpec is a sweep slow enough to be read while it runs: 6 trials of
// about half a second each (more under -race), 2 workers.
const liveSpec = `
name = "live-test"
seed = 5
workers = 2

[data]
source = "synthetic"
train = 4000
val = 200
test = 200

[model]
hidden = [128]
weight_scale = 1e-2

[train]
epochs = 20
batch_size = 20

[search]
method = "grid"
fuse = false  # trials end one by one, for the views that follow the run

[search.params]
learning_rate = [3e-4, 1e-3, 3e-3]
reg = [0.0, 0.05]
`

// TestLiveReads runs a sweep in another process and reads it with ls,
// leaderboard (table and JSON), show and leaderboard --watch while one of
// its trials is held running (the child holds it at its first epoch until
// the reads are done): every read answers and sees the trial running with a
// live owner. Then, reading on while the run writes, every read still
// answers and the run finishes normally with every trial done.
func TestLiveReads(t *testing.T) {
	spec := writeSpec(t, liveSpec)
	dir := t.TempDir()
	db, gate := filepath.Join(dir, "sweep.db"), filepath.Join(dir, "gate")
	cmd := sweepCmd([]string{"SWEEP_TEST_GATE=" + gate}, "run", spec, "--db", db)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	waitFor(t, "a trial held at its first epoch", func() bool {
		_, err := os.Stat(gate + ".held")
		return err == nil
	})

	// The trial is running now, for as long as the gate is closed.
	code, stdout, stderr := runCLI(t, "ls", "--format", "json", "--db", db)
	var sums []report.SweepRecord
	if code != exitOK || json.Unmarshal([]byte(stdout), &sums) != nil || len(sums) != 1 || !sums[0].Active || sums[0].Running == 0 {
		t.Errorf("ls --format json while a trial runs: exit %d, %+v %s", code, sums, stderr)
	}
	if code, stdout, stderr := runCLI(t, "ls", "--db", db); code != exitOK || !strings.Contains(stdout, "running on ") {
		t.Errorf("ls while a trial runs: exit %d:\n%s%s", code, stdout, stderr)
	}
	code, stdout, stderr = runCLI(t, "leaderboard", "live-test", "--format", "json", "--db", db)
	var recs []report.TrialRecord
	if code != exitOK || json.Unmarshal([]byte(stdout), &recs) != nil || len(recs) != 6 {
		t.Fatalf("leaderboard --format json while a trial runs: exit %d, %d records: %s", code, len(recs), stderr)
	}
	held := 0
	for _, r := range recs {
		if r.Status == results.Running {
			held = r.Trial
		}
	}
	if held == 0 {
		t.Fatalf("leaderboard lists no running trial while one is held:\n%s", stdout)
	}
	if code, stdout, stderr := runCLI(t, "show", "live-test", itoa(held), "--db", db); code != exitOK || !strings.Contains(stdout, ": running\n") || !strings.Contains(stdout, "ago, alive)") {
		t.Errorf("show %d while it runs: exit %d:\n%s%s", held, code, stdout, stderr)
	}
	oldEvery := watchEvery
	watchEvery = 20 * time.Millisecond
	t.Cleanup(func() { watchEvery = oldEvery })
	var watchOut, watchErr bytes.Buffer
	watched := make(chan int, 1)
	go func() {
		watched <- run(context.Background(), []string{"leaderboard", "live-test", "--watch", "--db", db}, &watchOut, &watchErr)
	}()
	if err := os.WriteFile(gate+".go", nil, 0o644); err != nil {
		t.Fatal(err)
	}

	// Reads while the run trains and writes: each answers.
	var runErr error
	reads := 0
	for running := true; running; {
		select {
		case runErr = <-exited:
			running = false
		default:
		}
		for _, args := range [][]string{
			{"leaderboard", "live-test", "--format", "json"}, {"leaderboard", "live-test", "--top", "3"}, {"ls"}, {"show", "live-test", "1"},
		} {
			if code, stdout, stderr := runCLI(t, append(args, "--db", db)...); code != exitOK {
				t.Fatalf("%v during the run: exit %d:\n%s%s", args, code, stdout, stderr)
			}
			reads++
		}
	}
	if runErr != nil || strings.Contains(out.String(), "locked") {
		t.Fatalf("the run, read %d times, failed: %v\n%s", reads, runErr, out.String())
	}
	for _, tr := range trialsOf(t, db, "live-test") {
		if tr.Status != results.Done || tr.Attempts != 1 {
			t.Errorf("trial %d: %s after %d attempts, want done after 1", tr.Number, tr.Status, tr.Attempts)
		}
	}

	// --watch ends with the sweep, its last table the final one.
	if code := <-watched; code != exitOK {
		t.Fatalf("leaderboard --watch: exit %d: %s", code, watchErr.String())
	}
	tables := strings.Split(watchOut.String(), "\n\n")
	if last := tables[len(tables)-1]; !strings.HasPrefix(last, `sweep "live-test": 6 trials: 6 done`) || strings.Count(last, " done ") != 6 {
		t.Errorf("last table of --watch:\n%s", last)
	}
	t.Logf("%d reads during the run; --watch drew %d tables", reads, len(tables))
}
