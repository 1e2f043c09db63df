package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
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
			spec := writeSpec(t, killSpec)
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
	cmd := exec.Command(os.Args[0], "run", spec, "--db", db, "--workers", "2")
	cmd.Env = append(os.Environ(), "SWEEP_TEST_MAIN=1")
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

// TestStoppedOwner suspends a running sweep (SIGSTOP) and reads it past its
// lease: show says what is known (the lease expired, the process exists
// but is stopped), not that the process is gone; ls counts its trials as
// stale, not running.
func TestStoppedOwner(t *testing.T) {
	spec := writeSpec(t, killSpec)
	db := newDB(t)
	cmd, out := sweepProcess(t, "run", spec, "--db", db)
	t.Cleanup(func() {
		_ = cmd.Process.Signal(syscall.SIGCONT)
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	waitFor(t, "a running trial", anyTrial(db, func(tr results.Trial) bool { return tr.Status == results.Running }))
	// Stop it outside a transaction: a process stopped inside one holds
	// the database's lock, and every reader waits (then says it is locked).
	waitFor(t, "the process stopped outside a transaction", func() bool {
		if err := cmd.Process.Signal(syscall.SIGSTOP); err != nil {
			t.Fatal(err)
		}
		for {
			b, err := os.ReadFile("/proc/" + strconv.Itoa(cmd.Process.Pid) + "/stat")
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(string(b), ") T ") {
				break
			}
			time.Sleep(time.Millisecond)
		}
		st, err := results.OpenExisting(db, results.Options{Timeout: 50 * time.Millisecond})
		if err == nil {
			_, err = st.Trials(t.Context(), "kill-test", results.Filter{})
		}
		if err == nil {
			return true
		}
		if err := cmd.Process.Signal(syscall.SIGCONT); err != nil {
			t.Fatal(err)
		}
		return false
	})
	running := 0
	for _, tr := range trialsOf(t, db, "kill-test") {
		if tr.Status == results.Running {
			running = tr.Number
		}
	}
	if running == 0 {
		t.Fatalf("no trial running in the stopped process; output:\n%s", out)
	}
	setClock(t, time.Now().Add(2*trial.DefaultLeaseTTL))
	code, stdout, stderr := runCLI(t, "show", "kill-test", strconv.Itoa(running), "--db", db)
	if code != exitOK || !strings.Contains(stdout, "lease expired: its process still exists but is stopped") {
		t.Errorf("show of a stopped owner's trial: exit %d:\n%s%s", code, stdout, stderr)
	}
	code, stdout, _ = runCLI(t, "ls", "--format", "json", "--db", db)
	var recs []lsRecord
	if err := json.Unmarshal([]byte(stdout), &recs); code != exitOK || err != nil || len(recs) != 1 || recs[0].Stale == 0 || recs[0].Running != 0 || recs[0].Active {
		t.Errorf("ls of a stopped sweep past its lease: exit %d, %+v: want its trials stale, none running", code, recs)
	}
}
