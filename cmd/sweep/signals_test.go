//go:build unix

package main

import (
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// TestStopSignals stops a real run with each signal a scheduler or a
// closed terminal sends: the running trials are checkpointed and marked
// interrupted, none is left running, and the exit code is 128+n.
func TestStopSignals(t *testing.T) {
	for _, tt := range []struct {
		sig  syscall.Signal
		code int
		says string
	}{
		{syscall.SIGTERM, 143, "stopped by SIGTERM"},
		{syscall.SIGHUP, 129, "stopped by SIGHUP"},
	} {
		t.Run(tt.sig.String(), func(t *testing.T) {
			// Trials five times killSpec's length: on a loaded machine a
			// whole sweep of the short ones could end between the first
			// checkpoint seen and the signal, leaving none to interrupt.
			spec := writeSpec(t, strings.Replace(killSpec, "epochs = 12", "epochs = 60", 1))
			db := newDB(t)
			cmd, out := sweepProcess(t, "run", spec, "--db", db)
			waitFor(t, "a checkpoint", anyTrial(db, func(tr results.Trial) bool {
				return tr.Status == results.Running && tr.Iteration > 0
			}))
			if err := cmd.Process.Signal(tt.sig); err != nil {
				t.Fatal(err)
			}
			_ = cmd.Wait()
			if code := cmd.ProcessState.ExitCode(); code != tt.code {
				t.Fatalf("exit code %d (%v), want %d; output:\n%s", code, cmd.ProcessState, tt.code, out)
			}
			if !strings.Contains(out.String(), tt.says) || !strings.Contains(out.String(), "sweep resume kill-test") {
				t.Errorf("output does not say %q and how to resume:\n%s", tt.says, out)
			}
			interrupted := 0
			for _, tr := range trialsOf(t, db, "kill-test") {
				switch tr.Status {
				case results.Running:
					t.Errorf("trial %d left running", tr.Number)
				case results.Interrupted:
					interrupted++
				}
			}
			if interrupted == 0 {
				t.Error("no trial marked interrupted")
			}
		})
	}
}

// TestClosedStdout runs a sweep whose stdout is a pipe nobody reads (`sweep
// run x.toml | head`, head gone): training goes on, every trial finishes
// and is recorded, and the process exits 0 instead of dying of SIGPIPE.
func TestClosedStdout(t *testing.T) {
	spec := writeSpec(t, `
name = "closed-stdout"
[data]
source = "synthetic"
train = 300
val = 50
test = 50
[train]
iterations = 30
batch_size = 50
[search.params]
learning_rate = [1e-3, 2e-3, 3e-3, 4e-3]
`)
	db := newDB(t)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	r.Close() // the reader is gone before the first line is written
	cmd := sweepCmd(nil, "run", spec, "--db", db, "--workers", "2")
	cmd.Stdout = w
	var stderr strings.Builder
	cmd.Stderr = &stderr
	err = cmd.Run()
	w.Close()
	if err != nil {
		t.Fatalf("run with a closed stdout: %v (%v)\n%s", err, cmd.ProcessState, stderr.String())
	}
	for _, tr := range trialsOf(t, db, "closed-stdout") {
		if tr.Status != results.Done {
			t.Errorf("trial %d is %s", tr.Number, tr.Status)
		}
	}
}

// TestAllDivergedExits3: diverged is not success.
func TestAllDivergedExits3(t *testing.T) {
	spec := writeSpec(t, `
name = "all-diverge"
[data]
source = "synthetic"
train = 300
val = 50
test = 50
[model]
weight_scale = 1.0
[train]
iterations = 50
batch_size = 50
[search.params]
learning_rate = [1e6, 1e7]
`)
	code, stdout, stderr := runCLI(t, "run", spec, "--db", newDB(t))
	if code != exitTrialFailed {
		t.Fatalf("exit %d, want %d\n%s\n%s", code, exitTrialFailed, stdout, stderr)
	}
	if !strings.Contains(stdout, "2 diverged") || !strings.Contains(stdout, "2 of 2 trials failed or diverged") {
		t.Errorf("the summary does not say that every trial diverged:\n%s", stdout)
	}
}

// TestClosedPipeReads: a query command whose reader closed stdout ends
// quietly (as if SIGPIPE had killed it), not with a "broken pipe" error.
func TestClosedPipeReads(t *testing.T) {
	db := fixtureDB(t)
	for _, args := range [][]string{{"ls"}, {"leaderboard", "golden"}, {"export", "golden"}, {"show", "golden", "2"}} {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		r.Close()
		cmd := sweepCmd(nil, append(args, "--db", db)...)
		cmd.Stdout = w
		var stderr strings.Builder
		cmd.Stderr = &stderr
		_ = cmd.Run()
		w.Close()
		if code := cmd.ProcessState.ExitCode(); code != exitBrokenPipe || stderr.String() != "" {
			t.Errorf("%v into a closed pipe: exit %d, stderr %q; want %d and nothing said", args, code, stderr.String(), exitBrokenPipe)
		}
	}
}
