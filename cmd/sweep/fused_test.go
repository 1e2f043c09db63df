package main

import (
	"fmt"
	"math"
	"strings"
	"syscall"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

// groupsOf returns the group of each trial of a sweep, by trial number.
func groupsOf(ts []results.Trial) map[int]int {
	g := map[int]int{}
	for _, t := range ts {
		g[t.Number] = t.Group
	}
	return g
}

// TestFusedGroups: a grid's trials are grouped when they are created, in
// trial order, into the fewest groups of at most group_size trials, as
// even as they can be, whatever the workers; a trial alone in its group
// trains on its own (group 0); extending the sweep makes new groups and
// leaves the old ones as they were.
func TestFusedGroups(t *testing.T) {
	short := strings.Replace(killSpec, "epochs = 12", "epochs = 1", 1)
	size := func(src string, n int) string {
		return strings.Replace(src, "[search]\n", fmt.Sprintf("[search]\ngroup_size = %d\n", n), 1)
	}
	tests := []struct {
		name string
		spec string
		want []int // groups of trials 1, 2, ...
	}{
		{"default", short, []int{1, 1, 1, 1, 1, 1}},
		{"more workers", strings.Replace(short, "workers = 2", "workers = 6", 1), []int{1, 1, 1, 1, 1, 1}},
		{"group size 4", size(short, 4), []int{1, 1, 1, 2, 2, 2}},
		{"group size 5", size(short, 5), []int{1, 1, 1, 2, 2, 2}},
		{"group size 2", size(short, 2), []int{1, 1, 2, 2, 3, 3}},
		{"group size 1", size(short, 1), []int{0, 0, 0, 0, 0, 0}},
		{"unfused", unfused(short), []int{0, 0, 0, 0, 0, 0}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db := newDB(t)
			if code, _, stderr := runCLI(t, "run", writeSpec(t, tt.spec), "--db", db); code != exitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			got := groupsOf(trialsOf(t, db, "kill-test"))
			for i, w := range tt.want {
				if got[i+1] != w {
					t.Fatalf("groups %v, want %v (by trial number from 1)", got, tt.want)
				}
			}
		})
	}

	t.Run("extended", func(t *testing.T) {
		db := newDB(t)
		if code, _, stderr := runCLI(t, "run", writeSpec(t, short), "--db", db); code != exitOK {
			t.Fatalf("exit %d: %s", code, stderr)
		}
		before := trialsOf(t, db, "kill-test")
		more := strings.Replace(short, "learning_rate = [1e-4, 3e-4, 1e-3]", "learning_rate = [1e-4, 3e-4, 1e-3, 3e-3, 1e-2]", 1)
		code, stdout, stderr := runCLI(t, "run", writeSpec(t, more), "--db", db)
		if code != exitOK {
			t.Fatalf("extended: exit %d: %s", code, stderr)
		}
		after := trialsOf(t, db, "kill-test")
		if len(after) != 10 {
			t.Fatalf("%d trials after the extension, want 10", len(after))
		}
		for i, tr := range before {
			if a := after[i]; a.Group != tr.Group || a.Metrics != tr.Metrics {
				t.Errorf("trial %d changed: group %d → %d, metrics %+v → %+v", tr.Number, tr.Group, a.Group, tr.Metrics, a.Metrics)
			}
		}
		// Four new trials: a new group, after the old one.
		if g := groupsOf(after); g[7] != 2 || g[8] != 2 || g[9] != 2 || g[10] != 2 {
			t.Errorf("new trials in groups %v, want 2 2 2 2", g)
		}
		if !strings.Contains(stdout, "in 1 fused group") {
			t.Errorf("the start line does not count the groups to train:\n%s", stdout)
		}
	})
}

// TestFusedMemberLeavesThenKill: a group's member diverges and leaves it;
// the process is killed later, holding the others' checkpoints; the run
// again resumes them, and every trial ends bitwise as in an uninterrupted
// run by one worker: the member that left keeps its place in the others'
// product until the end of its epoch in the resumed run too.
func TestFusedMemberLeavesThenKill(t *testing.T) {
	src := strings.NewReplacer(
		"workers = 2", "workers = 1",
		"learning_rate = [1e-4, 3e-4, 1e-3]", "learning_rate = [1e-4, 1e-3, 1e9]",
		"train = 2000", "train = 4000", "hidden = [40]", "hidden = [100]", "epochs = 12", "epochs = 20",
	).Replace(killSpec)
	spec := writeSpec(t, src)
	db := newDB(t)
	cmd, out := sweepProcess(t, "run", spec, "--db", db)
	waitFor(t, "a diverged member and the others' checkpoint", anyTrial(db, func(tr results.Trial) bool {
		return tr.Status == results.Running && tr.Epoch >= 2
	}))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	diverged, running := 0, 0
	for _, tr := range trialsOf(t, db, "kill-test") {
		switch tr.Status {
		case results.Diverged:
			diverged++
		case results.Running:
			running++
		}
	}
	if diverged != 2 || running != 4 {
		t.Fatalf("killed with %d diverged and %d running trials, want 2 and 4; output:\n%s", diverged, running, out)
	}
	// Exit 3: two trials diverged.
	if code, stdout, stderr := runCLI(t, "run", spec, "--db", db); code != exitTrialFailed {
		t.Fatalf("run again: exit %d\n%s\n%s", code, stdout, stderr)
	}
	after := trialsOf(t, db, "kill-test")
	for _, tr := range after {
		want := results.Done
		if strings.Contains(string(tr.Config), "1e+09") || strings.Contains(string(tr.Config), "1000000000") {
			want = results.Diverged
		}
		if tr.Status != want || tr.Group != 1 {
			t.Errorf("trial %d: %s in group %d, want %s in group 1", tr.Number, tr.Status, tr.Group, want)
		}
	}
	db1 := newDB(t)
	if code, _, stderr := runCLI(t, "run", spec, "--db", db1, "--workers", "1"); code != exitTrialFailed {
		t.Fatalf("uninterrupted: exit %d: %s", code, stderr)
	}
	want := metricsByKey(trialsOf(t, db1, "kill-test"))
	for k, got := range metricsByKey(after) {
		if !sameMetrics(got, want[k]) {
			t.Errorf("trial %s: after a member left, kill -9 and run again %+v, uninterrupted %+v", k, got, want[k])
		}
	}
}

// sameMetrics is == with NaN equal to NaN (a diverged trial's metrics).
func sameMetrics(a, b results.Metrics) bool {
	nan := func(m *results.Metrics) {
		for _, p := range []*float64{&m.ValAcc, &m.ValLoss, &m.TrainAcc, &m.FinalValAcc} {
			if math.IsNaN(*p) {
				*p = -1
			}
		}
	}
	nan(&a)
	nan(&b)
	return a == b
}

// TestFusedExtendInterrupted: a fused sweep killed mid-way and extended
// before it runs again: its old trials end bitwise as the unextended sweep
// would have, uninterrupted; the new ones train in new groups.
func TestFusedExtendInterrupted(t *testing.T) {
	src := longKillSpec("kill-test")
	spec := writeSpec(t, src)
	db := newDB(t)
	cmd, _ := sweepProcess(t, "run", spec, "--db", db)
	waitFor(t, "a checkpoint", anyTrial(db, func(tr results.Trial) bool {
		return tr.Status == results.Running && tr.Iteration > 0
	}))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	more := writeSpec(t, strings.Replace(src, "reg = [0.0, 0.05]", "reg = [0.0, 0.05, 0.1]", 1))
	if code, stdout, stderr := runCLI(t, "run", more, "--db", db); code != exitOK {
		t.Fatalf("extended run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	var old []results.Trial
	for _, tr := range trialsOf(t, db, "kill-test") {
		if tr.Status != results.Done {
			t.Errorf("trial %d is %s", tr.Number, tr.Status)
		}
		switch {
		case tr.Number <= 6 && tr.Group != 1, tr.Number > 6 && tr.Group != 2:
			t.Errorf("trial %d in group %d", tr.Number, tr.Group)
		case tr.Number <= 6:
			old = append(old, tr)
		}
	}
	sameAsOneWorker(t, spec, "kill-test", old, "killed, then extended")
}
