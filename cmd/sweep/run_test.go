package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/results/storage"
)

// killSpec is a sweep whose trials take long enough to be killed mid-way:
// 6 trials of 12 epochs on 784-dimensional synthetic data.
const killSpec = `
name = "kill-test"
seed = 3
workers = 2

[data]
source = "synthetic"
train = 2000
val = 200
test = 200

[model]
hidden = [40]
weight_scale = 1e-2

[train]
epochs = 12
batch_size = 20

[search]
method = "grid"

[search.params]
learning_rate = [1e-4, 3e-4, 1e-3]
reg = [0.0, 0.05]
`

// longKillSpec is killSpec named name, its trials made long enough (a
// second or more each) that a loaded machine cannot finish the sweep
// before a test has stopped, killed or cut off a process mid-trial.
func longKillSpec(name string) string {
	return strings.NewReplacer(`name = "kill-test"`, fmt.Sprintf("name = %q", name),
		"train = 2000", "train = 4000", "hidden = [40]", "hidden = [100]", "epochs = 12", "epochs = 20").Replace(killSpec)
}

// sameAsOneWorker checks that trials have bitwise the metrics of the same
// sweep (spec, named name) run by one worker on a new file; how says how
// trials were run.
func sameAsOneWorker(t *testing.T, spec, name string, trials []results.Trial, how string) {
	t.Helper()
	db1 := newDB(t)
	if code, _, stderr := runCLI(t, "run", spec, "--db", db1, "--workers", "1"); code != exitOK {
		t.Fatalf("one worker on a file: exit %d: %s", code, stderr)
	}
	want := metricsByKey(trialsOf(t, db1, name))
	for k, got := range metricsByKey(trials) {
		if got != want[k] {
			t.Errorf("trial %s: %s %+v, one worker uninterrupted %+v", k, how, got, want[k])
		}
	}
}

func writeSpec(t *testing.T, src string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "spec.toml")
	if err := os.WriteFile(p, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// newDB returns the path of a new database in a temporary directory; at
// cleanup, if the test created it, its consistency is checked.
func newDB(t *testing.T) string {
	t.Helper()
	db := filepath.Join(t.TempDir(), "sweep.db")
	t.Cleanup(func() {
		if _, err := os.Stat(db); err != nil {
			return
		}
		st, err := boltstore.OpenExisting(db, boltstore.Options{})
		if err == nil {
			err = st.Check(context.Background())
		}
		if err != nil {
			t.Errorf("database check: %v", err)
		}
	})
	return db
}

// runCLI runs the CLI in-process.
func runCLI(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(t.Context(), args, &out, &errb)
	return code, out.String(), errb.String()
}

// sweepCmd is the CLI as a separate process (the test binary, see
// TestMain) with args, env added to its environment.
func sweepCmd(env []string, args ...string) *exec.Cmd {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "SWEEP_TEST_MAIN=1"), env...)
	return cmd
}

// sweepProcess starts the CLI as a separate process, its output in a buffer.
func sweepProcess(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	cmd := sweepCmd(nil, args...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	return cmd, &out
}

func trialsOf(t *testing.T, db, name string) []results.Trial {
	t.Helper()
	st, err := openExisting(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ts, err := st.Trials(context.Background(), name, results.Filter{})
	if err != nil {
		t.Fatal(err)
	}
	return ts
}

// waitFor polls cond every 20 ms for up to a minute.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// anyTrial returns a condition for waitFor: some trial of the kill-test
// sweep in db satisfies pred (false while the database does not exist yet).
func anyTrial(db string, pred func(results.Trial) bool) func() bool {
	return func() bool {
		st, err := storage.OpenExisting(context.Background(), db, storage.Options{Timeout: time.Second})
		if err != nil {
			return false
		}
		defer st.Close()
		ts, err := st.Trials(context.Background(), "kill-test", results.Filter{})
		if err != nil {
			return false
		}
		for _, tr := range ts {
			if pred(tr) {
				return true
			}
		}
		return false
	}
}

// metricsByKey is what must be identical between an interrupted and an
// uninterrupted sweep.
func metricsByKey(ts []results.Trial) map[string]results.Metrics {
	m := map[string]results.Metrics{}
	for _, t := range ts {
		m[t.Key] = t.Metrics
	}
	return m
}

// unfused is spec with fuse = false: every trial trains on its own.
func unfused(spec string) string {
	return strings.Replace(spec, "[search]\n", "[search]\nfuse = false\n", 1)
}

// TestKill9ThenRunAgain kills a run holding checkpointed trials, fused
// (a group of trials in one product, the default) and not, and runs it
// again.
func TestKill9ThenRunAgain(t *testing.T) {
	for _, mode := range []string{"fused", "unfused"} {
		t.Run(mode, func(t *testing.T) {
			src := killSpec
			if mode == "unfused" {
				src = unfused(src)
			}
			kill9ThenRunAgain(t, src, mode == "fused")
		})
	}
}

func kill9ThenRunAgain(t *testing.T, src string, fused bool) {
	spec := writeSpec(t, src)
	db := newDB(t)

	cmd, out := sweepProcess(t, "run", spec, "--db", db)
	// Kill -9 once some trial is running and has a checkpoint.
	waitFor(t, "a checkpoint", anyTrial(db, func(tr results.Trial) bool {
		return tr.Status == results.Running && tr.Iteration > 0
	}))
	if err := cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	var killed []int
	checkpointed := map[int]int{} // trial -> iteration of its checkpoint
	groupOf := map[int]int{}
	for _, tr := range trialsOf(t, db, "kill-test") {
		groupOf[tr.Number] = tr.Group
		if fused != (tr.Group != 0) {
			t.Errorf("trial %d is in group %d (fused %v)", tr.Number, tr.Group, fused)
		}
		if tr.Status == results.Running {
			killed = append(killed, tr.Number)
			if tr.Iteration > 0 {
				checkpointed[tr.Number] = tr.Iteration
			}
		}
	}
	if len(killed) == 0 {
		t.Fatalf("no trial was left running by the killed process; output:\n%s", out)
	}

	// Run again: the dead process's trials are reclaimed at once and
	// continue from their checkpoints; finished trials are not retrained.
	code, stdout, stderr := runCLI(t, "run", spec, "--db", db)
	if code != exitOK {
		t.Fatalf("second run: exit %d\n%s\n%s", code, stdout, stderr)
	}
	after := trialsOf(t, db, "kill-test")
	for _, tr := range after {
		if tr.Status != results.Done {
			t.Errorf("trial %d is %s after the second run", tr.Number, tr.Status)
		}
		wantAttempts := 1
		for _, k := range killed {
			if k == tr.Number {
				wantAttempts = 2
			}
		}
		if tr.Attempts != wantAttempts {
			t.Errorf("trial %d trained in %d attempts, want %d", tr.Number, tr.Attempts, wantAttempts)
		}
	}
	if len(checkpointed) == 0 {
		t.Fatal("no killed trial had a checkpoint")
	}
	for k, it := range checkpointed {
		line := fmt.Sprintf("trial %d resumes from its checkpoint at iteration %d\n", k, it)
		if fused {
			line = fmt.Sprintf("group %d resumes from its checkpoint at iteration %d\n", groupOf[k], it)
		}
		if !strings.Contains(stdout, line) {
			t.Errorf("trial %d did not resume from its checkpoint (no %q):\n%s", k, line, stdout)
		}
	}
	if !strings.Contains(stdout, "best: trial") || !strings.Contains(stdout, "test_acc") {
		t.Errorf("second run does not report the best trial:\n%s", stdout)
	}

	// Bitwise the same results as an uninterrupted run with one worker.
	sameAsOneWorker(t, spec, "kill-test", after, "after kill -9 and resume")
}

func TestInterruptExits130AndResumes(t *testing.T) {
	spec := writeSpec(t, killSpec)
	db := newDB(t)
	cmd, out := sweepProcess(t, "run", spec, "--db", db)
	waitFor(t, "a running trial", anyTrial(db, func(tr results.Trial) bool { return tr.Status == results.Running }))
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != exitInterrupted {
		t.Fatalf("exit code %d (%v), want 130; output:\n%s", code, err, out)
	}
	if !strings.Contains(out.String(), "sweep resume kill-test --db "+db) {
		t.Errorf("no resume command in the output:\n%s", out)
	}
	interrupted := 0
	for _, tr := range trialsOf(t, db, "kill-test") {
		switch tr.Status {
		case results.Running:
			t.Errorf("trial %d left running after Ctrl-C", tr.Number)
		case results.Interrupted:
			interrupted++
		}
	}
	if interrupted == 0 {
		t.Error("no trial marked interrupted")
	}
	code, stdout, stderr := runCLI(t, "resume", "kill-test", "--db", db)
	if code != exitOK || !strings.Contains(stdout, "best: trial") {
		t.Fatalf("resume: exit %d\n%s\n%s", code, stdout, stderr)
	}
	// Bitwise the results of an uninterrupted run.
	db1 := newDB(t)
	if code, _, stderr := runCLI(t, "run", spec, "--db", db1); code != exitOK {
		t.Fatalf("uninterrupted run: exit %d: %s", code, stderr)
	}
	want := metricsByKey(trialsOf(t, db1, "kill-test"))
	for k, got := range metricsByKey(trialsOf(t, db, "kill-test")) {
		if got != want[k] {
			t.Errorf("trial %s: after Ctrl-C and resume %+v, uninterrupted %+v", k, got, want[k])
		}
	}
}

func TestRunErrors(t *testing.T) {
	dir := t.TempDir()
	bad := writeSpec(t, "name = \"x\"\n[train]\nlearnig_rate = 1\n")
	good := writeSpec(t, strings.Replace(killSpec, "epochs = 12", "epochs = 1", 1))
	changed := writeSpec(t, strings.Replace(killSpec, "epochs = 12", "epochs = 2", 1))
	db := newDB(t)
	if code, _, stderr := runCLI(t, "run", good, "--db", db); code != exitOK {
		t.Fatalf("good spec: exit %d: %s", code, stderr)
	}
	tests := []struct {
		name string
		args []string
		code int
		msg  string
	}{
		{"no spec", []string{"run"}, exitUsage, "usage: sweep run"},
		{"negative workers", []string{"run", good, "--db", db, "--workers", "-3"}, exitUsage, "--workers -3"},
		{"bad spec", []string{"run", bad, "--db", db}, exitUsage, "learnig_rate"},
		{"missing spec", []string{"run", filepath.Join(dir, "nope.toml"), "--db", db}, exitUsage, "nope.toml"},
		{"changed settings", []string{"run", changed, "--db", db}, exitUsage, "epochs"},
		{"resume unknown", []string{"resume", "nope", "--db", db}, exitUsage, "kill-test"},
		{"resume no db", []string{"resume", "x", "--db", filepath.Join(dir, "none.db")}, exitUsage, "none.db"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, _, stderr := runCLI(t, tt.args...)
			if code != tt.code || !strings.Contains(stderr, tt.msg) {
				t.Errorf("exit %d, stderr %q; want %d and %q", code, stderr, tt.code, tt.msg)
			}
		})
	}
	if _, err := os.Stat(filepath.Join(dir, "none.db")); err == nil {
		t.Error("resume created a database file")
	}
}

func TestTwoProcessesShareASweep(t *testing.T) {
	spec := writeSpec(t, strings.Replace(killSpec, "epochs = 12", "epochs = 3", 1))
	db := newDB(t)
	a, outA := sweepProcess(t, "run", spec, "--db", db, "--workers", "1")
	b, outB := sweepProcess(t, "run", spec, "--db", db, "--workers", "1")
	errA, errB := a.Wait(), b.Wait()
	if errA != nil || errB != nil {
		t.Fatalf("exit: %v, %v\n--- a:\n%s\n--- b:\n%s", errA, errB, outA, outB)
	}
	trained := map[int]int{}
	for _, out := range []string{outA.String(), outB.String()} {
		for _, line := range strings.Split(out, "\n") {
			var n, total, num int
			if _, err := fmt.Sscanf(line, "[%d/%d] trial %d", &n, &total, &num); err == nil {
				trained[num]++
			}
		}
	}
	ts := trialsOf(t, db, "kill-test")
	for _, tr := range ts {
		if tr.Status != results.Done || tr.Attempts != 1 || trained[tr.Number] != 1 {
			t.Errorf("trial %d: %s, %d attempts, reported finished %d times", tr.Number, tr.Status, tr.Attempts, trained[tr.Number])
		}
	}
	if len(trained) != len(ts) {
		t.Errorf("%d trials reported, %d in the sweep", len(trained), len(ts))
	}
}

func TestSecondInterruptExitsAtOnce(t *testing.T) {
	spec := writeSpec(t, killSpec)
	db := newDB(t)
	cmd, out := sweepProcess(t, "run", spec, "--db", db)
	waitFor(t, "a running trial", anyTrial(db, func(tr results.Trial) bool { return tr.Status == results.Running }))
	for range 2 {
		if err := cmd.Process.Signal(os.Interrupt); err != nil {
			t.Fatal(err)
		}
	}
	_ = cmd.Wait()
	if st := cmd.ProcessState; st.Success() {
		t.Fatalf("process exited 0 after two interrupts; output:\n%s", out)
	}
	// Either way the database is consistent, and the next run finishes the
	// sweep: trials left running by the process are reclaimed at once.
	s, err := boltstore.OpenExisting(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("database after two interrupts: %v", err)
	}
	if code, stdout, stderr := runCLI(t, "run", spec, "--db", db); code != exitOK {
		t.Fatalf("run after two interrupts: exit %d\n%s\n%s", code, stdout, stderr)
	}
	for _, tr := range trialsOf(t, db, "kill-test") {
		if tr.Status != results.Done {
			t.Errorf("trial %d is %s", tr.Number, tr.Status)
		}
	}
}

func TestBadDataIsNotRecorded(t *testing.T) {
	db := newDB(t)
	src := "name = \"emb\"\n[data]\nsource = \"embedded\"\ntrain = %d\n[train]\niterations = 20\n[search]\nmethod = \"grid\"\n[search.params]\nreg = [0.0, 0.1]\n"
	code, _, stderr := runCLI(t, "run", writeSpec(t, fmt.Sprintf(src, 20000)), "--db", db)
	if code != exitUsage || !strings.Contains(stderr, "20000") {
		t.Fatalf("too many training images: exit %d, %q", code, stderr)
	}
	// The sweep was not recorded, so the corrected spec is not a change.
	if code, stdout, stderr := runCLI(t, "run", writeSpec(t, fmt.Sprintf(src, 500)), "--db", db); code != exitOK {
		t.Fatalf("corrected spec: exit %d\n%s\n%s", code, stdout, stderr)
	}
}

func TestFailedTrialExits3(t *testing.T) {
	src := "name = \"fails\"\n[data]\nsource = \"synthetic\"\ntrain = 300\nval = 50\ntest = 50\n[train]\niterations = 10\n[search]\nmethod = \"grid\"\n[search.params]\nreg = [0.0, 0.1]\n"
	db := newDB(t)
	st, err := openDB(context.Background(), db)
	if err != nil {
		t.Fatal(err)
	}
	// A trial whose stored config cannot be decoded fails when it trains;
	// the others train, and the sweep ends with exit code 3.
	sw := results.Sweep{Name: "fails", Spec: []byte(src), SpecPath: "fails.toml", Metric: "val_acc", Keep: 1}
	bad := results.Trial{Key: "broken", Config: []byte(`{"Hidden": "x"}`), Params: results.Params{{Name: "reg", Value: 0.5}}}
	if _, err := st.EnsureSweep(t.Context(), sw, []results.Trial{bad}); err != nil {
		t.Fatal(err)
	}
	code, stdout, stderr := runCLI(t, "resume", "fails", "--db", db)
	if code != exitTrialFailed {
		t.Fatalf("exit %d, want 3\n%s\n%s", code, stdout, stderr)
	}
	counts := map[results.Status]int{}
	for _, tr := range trialsOf(t, db, "fails") {
		counts[tr.Status]++
	}
	if counts[results.Failed] != 1 || counts[results.Done] != 2 {
		t.Errorf("statuses %v, want 1 failed and 2 done", counts)
	}
	if !strings.Contains(stdout, "failed") || !strings.Contains(stdout, "best: trial") {
		t.Errorf("output does not report the failure and the best trial:\n%s", stdout)
	}
}

func TestRunWarnings(t *testing.T) {
	// 65 trials: enough for 64 workers to have work (fewer would be
	// started, and not warned about).
	const src = "name = %q\n[data]\nsource = \"synthetic\"\ntrain = 100\nval = 20\ntest = 20\ndim = 10\n[model]\nhidden = [5]\n[train]\niterations = 3\nbatch_size = %d\n[search]\nfuse = false\n[search.params]\nreg = { uniform = [0.0, 1.0], steps = 65 }\n"
	code, stdout, stderr := runCLI(t, "run", writeSpec(t, fmt.Sprintf(src, "warn", 150)), "--db", newDB(t), "--workers", "64")
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{
		"warning: batch_size 150 is larger than the 100 training images",
		"warning: 64 workers on ",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not warn %q:\n%s", want, stderr)
		}
	}
	// Nothing to warn about: nothing said.
	if code, _, stderr := runCLI(t, "run", writeSpec(t, fmt.Sprintf(src, "calm", 50)), "--db", newDB(t), "--workers", "1"); code != exitOK || strings.Contains(stderr, "warning") {
		t.Errorf("exit %d, stderr %q: want 0 and no warning", code, stderr)
	}
}

// TestBadDataCreatesNoDatabase: a run refused for its data leaves no
// database file behind.
func TestBadDataCreatesNoDatabase(t *testing.T) {
	db := filepath.Join(t.TempDir(), "sweep.db")
	spec := writeSpec(t, "name = \"x\"\n[data]\nsource = \"mnist\"\npath = \"nothere\"\n")
	if code, _, stderr := runCLI(t, "run", spec, "--db", db); code != exitUsage || !strings.Contains(stderr, "not found") {
		t.Fatalf("exit %d, %q: want 2 and not found", code, stderr)
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("a database was created (%v)", err)
	}
}

// TestNothingSearched: a spec that searches nothing is one trial, said
// without empty parentheses or a plural.
func TestNothingSearched(t *testing.T) {
	spec := writeSpec(t, "name = \"one\"\n[data]\nsource = \"synthetic\"\ntrain = 200\nval = 50\ntest = 50\n[train]\niterations = 10\nbatch_size = 50\n")
	code, stdout, stderr := runCLI(t, "run", spec, "--db", newDB(t))
	if code != exitOK {
		t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
	}
	for _, want := range []string{`sweep "one": 1 trial, `, `sweep "one": 1 trial: 1 done`, "\nbest: trial 1: val_acc "} {
		if !strings.Contains(stdout, want) {
			t.Errorf("output lacks %q:\n%s", want, stdout)
		}
	}
	if strings.Contains(stdout, "()") || strings.Contains(stdout, "1 trials") {
		t.Errorf("output has empty parentheses or \"1 trials\":\n%s", stdout)
	}
}

// TestEmptyDatabaseFile: an empty file (mktemp, touch) is a new database.
func TestEmptyDatabaseFile(t *testing.T) {
	db := filepath.Join(t.TempDir(), "empty.db")
	if err := os.WriteFile(db, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	spec := writeSpec(t, "name = \"e\"\n[data]\nsource = \"synthetic\"\ntrain = 100\nval = 20\ntest = 20\n[train]\niterations = 5\nbatch_size = 20\n")
	if code, stdout, stderr := runCLI(t, "run", spec, "--db", db); code != exitOK {
		t.Fatalf("run into an empty file: exit %d\n%s%s", code, stdout, stderr)
	}
}
