package main

import (
	"encoding/json"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/trial"
)

// TestStoppedOwner suspends a running sweep (SIGSTOP) and reads it past its
// lease: show says what is known (the lease expired, the process exists
// but is stopped), not that the process is gone; ls counts its trials as
// stale, not running.
func TestStoppedOwner(t *testing.T) {
	spec := writeSpec(t, longKillSpec("kill-test"))
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
			if strings.Contains(string(b), ") Z ") {
				t.Fatalf("the sweep ended before it could be stopped; output:\n%s", out)
			}
			time.Sleep(time.Millisecond)
		}
		st, err := boltstore.OpenExisting(db, boltstore.Options{Timeout: 50 * time.Millisecond})
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
	var recs []report.SweepRecord
	if err := json.Unmarshal([]byte(stdout), &recs); code != exitOK || err != nil || len(recs) != 1 || recs[0].Stale == 0 || recs[0].Running != 0 || recs[0].Active {
		t.Errorf("ls of a stopped sweep past its lease: exit %d, %+v: want its trials stale, none running", code, recs)
	}
}
