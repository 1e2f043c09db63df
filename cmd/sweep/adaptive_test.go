package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// ashaKillSpec is an ASHA sweep slow enough to be killed mid-way.
const ashaKillSpec = `
name = "asha-kill"
seed = 6
workers = 1

[data]
source = "synthetic"
train = 2000
val = 200
test = 200

[model]
hidden = [40]
weight_scale = 1e-2

[train]
epochs = 9
batch_size = 20

[search]
method = "asha"
sampler = "tpe"
trials = 12

[search.asha]
min_epochs = 1
eta = 3

[search.params]
learning_rate = { log_uniform = [1e-4, 2e-2] }
reg = { log_uniform = [1e-4, 1.0] }
`

// TestASHAKill9ThenRunAgain: an ASHA sweep killed (kill -9) after some
// trials paused, then run again, ends exactly as an uninterrupted
// one-worker run: the same trials, statuses, rungs and metrics.
func TestASHAKill9ThenRunAgain(t *testing.T) {
	spec := writeSpec(t, ashaKillSpec)
	db := newDB(t)
	gate := filepath.Join(t.TempDir(), "gate")
	cmd := sweepCmd([]string{"SWEEP_TEST_GATE=" + gate, "SWEEP_TEST_GATE_WHEN=promoted"}, "run", spec, "--db", db)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Killed while a promoted trial trains on from its rung's checkpoint.
	waitFor(t, "a promoted trial held training", func() bool {
		_, err := os.Stat(gate + ".held")
		return err == nil
	})
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	if code, stdout, stderr := runCLI(t, "run", spec, "--db", db); code != exitOK {
		t.Fatalf("run after kill -9: exit %d\n%s\n%s\n(first run: %s)", code, stdout, stderr, out.String())
	}
	db1 := newDB(t)
	if code, _, stderr := runCLI(t, "run", spec, "--db", db1); code != exitOK {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	type view struct {
		Status results.Status
		Rung   int
		M      results.Metrics
	}
	of := func(db string) map[string]view {
		m := map[string]view{}
		for _, tr := range trialsOf(t, db, "asha-kill") {
			m[tr.Key] = view{tr.Status, tr.Rung, tr.Metrics}
		}
		return m
	}
	got, want := of(db), of(db1)
	if len(got) != len(want) {
		t.Fatalf("%d trials after kill -9 and a rerun, %d uninterrupted", len(got), len(want))
	}
	for k, w := range want {
		if got[k] != w {
			t.Errorf("trial %s: after kill -9 %+v, uninterrupted %+v", k, got[k], w)
		}
	}
}

// TestBudget: an adaptive sweep with a budget stops starting trials when
// it runs out, stops the running ones at their next epoch end (pruned
// there), selects its best on what finished, and a later run finds the
// budget spent.
func TestBudget(t *testing.T) {
	src := strings.Replace(strings.Replace(ashaKillSpec, "trials = 12", "budget = \"1s\"", 1), `name = "asha-kill"`, `name = "budget"`, 1)
	spec := writeSpec(t, src)
	db := newDB(t)
	code, stdout, stderr := runCLI(t, "run", spec, "--db", db)
	if code != exitOK && code != exitTrialFailed {
		t.Fatalf("budgeted run: exit %d\n%s%s", code, stdout, stderr)
	}
	ts := trialsOf(t, db, "budget")
	if len(ts) == 0 {
		t.Fatal("no trial started")
	}
	for _, tr := range ts {
		if !tr.Status.Finished() || tr.Status == results.Paused {
			t.Errorf("trial %d is %s after the budget ran out", tr.Number, tr.Status)
		}
	}
	sw := openStoreSweep(t, db, "budget")
	if sw.Elapsed < 1 {
		t.Errorf("elapsed %v s recorded, want at least the budget", sw.Elapsed)
	}
	code, stdout, stderr = runCLI(t, "run", spec, "--db", db)
	if code != exitOK && code != exitTrialFailed || !strings.Contains(stderr, "0s left") || len(trialsOf(t, db, "budget")) != len(ts) {
		t.Errorf("run with the budget spent: exit %d, want nothing new and \"0s left\"\n%s%s", code, stdout, stderr)
	}
}

// TestHyperband runs a Hyperband sweep through the CLI: every trial ends
// done, pruned or diverged, in more than one bracket.
func TestHyperband(t *testing.T) {
	src := strings.NewReplacer(`name = "asha-kill"`, `name = "hb"`, `method = "asha"`, `method = "hyperband"`,
		"[search.asha]", "[search.hyperband]", "trials = 12", "trials = 15", "train = 2000", "train = 600").Replace(ashaKillSpec)
	db := newDB(t)
	code, stdout, stderr := runCLI(t, "run", writeSpec(t, src), "--db", db)
	if code != exitOK && code != exitTrialFailed {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	brackets := map[int]bool{}
	ts := trialsOf(t, db, "hb")
	for _, tr := range ts {
		brackets[tr.Bracket] = true
		if !tr.Status.Finished() || tr.Status == results.Paused {
			t.Errorf("trial %d is %s", tr.Number, tr.Status)
		}
	}
	if len(ts) != 15 || len(brackets) < 2 {
		t.Errorf("%d trials in brackets %v: want 15 in more than one", len(ts), brackets)
	}
}

// TestGridBudget: a grid sweep whose budget runs out mid-trial stops, its
// running trials checkpointed and interrupted, and exits 0 (a launcher
// must not take a spent budget for an error); a run with budget left
// resumes them from their checkpoints.
func TestGridBudget(t *testing.T) {
	long := strings.Replace(longKillSpec("grid-budget"), `method = "grid"`, "method = \"grid\"\nbudget = \"1s\"", 1)
	spec := writeSpec(t, long)
	db := newDB(t)
	code, stdout, stderr := runCLI(t, "run", spec, "--db", db)
	if code != exitOK || !strings.Contains(stdout, "budget ran out") {
		t.Fatalf("run out of budget: exit %d, want 0 and the budget named\n%s%s", code, stdout, stderr)
	}
	interrupted := 0
	for _, tr := range trialsOf(t, db, "grid-budget") {
		switch tr.Status {
		case results.Interrupted:
			interrupted++
		case results.Done, results.Pending:
		default:
			t.Errorf("trial %d is %s after the budget ran out", tr.Number, tr.Status)
		}
	}
	if interrupted == 0 {
		t.Errorf("no trial was stopped by the budget:\n%s", stdout)
	}
}
