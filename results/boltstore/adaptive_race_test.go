//go:build unix

package boltstore

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func init() { testHelpers["RESULTS_TEST_TOY"] = toyProcess }

// toyRungs are the rungs of the toy scheduler: trials start towards 1,
// are promoted to 3, then to 9, where they finish.
var toyRungs = []int{1, 3, 9}

// toyTrials is how many trials the toy sweep starts.
const toyTrials = 24

// toyValue is trial n's validation accuracy at resource r: a function of
// (n, r) alone, as a trial's curve is of its config and seed.
func toyValue(n, r int) float64 { return float64((n*7919+r*104729)%1000) / 1000 }

// toyDecide is a small ASHA-like scheduler over the store's trials: it
// promotes the best paused trial whose value at its rung is at least 0.3,
// else starts a new trial while fewer than toyTrials exist, else waits
// while trials are in flight, else finishes, pruning the paused ones. It
// checks the history it is given, and records in each decision who made
// it. last is set to the plan returned.
func toyDecide(who string, last *Plan) func([]Trial) (Plan, error) {
	return func(ts []Trial) (Plan, error) {
		var best *Trial
		inFlight := false
		for i := range ts {
			tr := &ts[i]
			if tr.Number != i+1 || tr.Rung != len(tr.Evals) || tr.Decisions != nil {
				return Plan{}, fmt.Errorf("decide was given trial %d as %+v", i+1, tr)
			}
			switch tr.Status {
			case Pending, Running, Interrupted:
				inFlight = true
			case Paused:
				if tr.Promoted || tr.Rung < 1 || tr.Rung >= len(toyRungs) || tr.Evals[tr.Rung-1].Resource != toyRungs[tr.Rung-1] {
					return Plan{}, fmt.Errorf("decide was given paused trial %+v", tr)
				}
				v := tr.Evals[tr.Rung-1].Value
				if v >= 0.3 && (best == nil || v > best.Evals[best.Rung-1].Value) {
					best = tr
				}
			}
		}
		rec := func(action string, n, rung int) json.RawMessage {
			b, _ := json.Marshal(map[string]any{"action": action, "trial": n, "rung": rung, "by": who})
			return b
		}
		var p Plan
		switch {
		case best != nil:
			p = Plan{Action: PlanPromote, Number: best.Number, Target: toyRungs[best.Rung], Decision: rec("promote", best.Number, best.Rung)}
		case len(ts) < toyTrials:
			n := len(ts) + 1
			p = Plan{Action: PlanStart, Trial: &Trial{Number: n, Key: fmt.Sprint("t", n), Seed: uint64(n), Target: toyRungs[0]}, Decision: rec("start", n, 0)}
		case inFlight:
			p = Plan{Action: PlanWait}
		default:
			p = Plan{Action: PlanFinished}
			for i := range ts {
				if ts[i].Status == Paused {
					p.Prune = append(p.Prune, Pruning{Number: ts[i].Number, Decision: rec("prune", ts[i].Number, ts[i].Rung)})
				}
			}
		}
		*last = p
		return p, nil
	}
}

// toyWorker works on the toy sweep "toy" as owner who until it is
// finished: it claims with ClaimNext, and "trains" each trial to its
// target, pausing it there (with a checkpoint naming the trial and rung)
// or finishing it at the last rung. It logs each claim ("start N",
// "promote N R": from rung R). After its first claim it waits until a
// trial is running under another owner, so that the workers' claims
// overlap.
func toyWorker(ctx context.Context, s *Store, who string, log func(string)) error {
	o := owner(who)
	var last Plan
	decide := toyDecide(who, &last)
	waited := false
	for {
		last = Plan{}
		tr, ck, err := s.ClaimNext(ctx, "toy", o, time.Now(), never, decide)
		switch {
		case errors.Is(err, ErrWait):
			runtime.Gosched()
			continue
		case errors.Is(err, ErrNoWork):
			return nil
		case err != nil:
			return err
		}
		switch last.Action {
		case PlanStart:
			if tr.Number != last.Trial.Number || ck != nil || tr.Attempts != 1 {
				return fmt.Errorf("started %+v (checkpoint %v), planned %+v", tr, ck, last.Trial)
			}
			log(fmt.Sprint("start ", tr.Number))
		case PlanPromote:
			want := fmt.Sprintf("trial %d rung %d", tr.Number, tr.Rung)
			if tr.Number != last.Number || !tr.Promoted || tr.Target != last.Target || ck == nil || string(ck.Data) != want {
				return fmt.Errorf("promoted %+v with checkpoint %+v, planned %+v", tr, ck, last)
			}
			log(fmt.Sprint("promote ", tr.Number, " ", tr.Rung))
		default:
			return fmt.Errorf("claimed trial %d without a plan (%v)", tr.Number, last.Action)
		}
		if !waited {
			if err := otherRunning(ctx, s, o); err != nil {
				return err
			}
			waited = true
		}
		r := tr.Target
		v := toyValue(tr.Number, r)
		m := Metrics{ValAcc: v, ValLoss: 2 - v, Epochs: float64(r)}
		if r == toyRungs[len(toyRungs)-1] {
			err = s.Finish(ctx, "toy", tr.Number, o, time.Now(), Outcome{Status: Done, Metrics: m, Eval: &Eval{Resource: r, Value: v}})
		} else {
			ck := Checkpoint{Epoch: float64(r), Data: []byte(fmt.Sprintf("trial %d rung %d", tr.Number, tr.Rung+1))}
			err = s.Pause(ctx, "toy", tr.Number, o, time.Now(), ck, history(r), Eval{Resource: r, Value: v}, m, 0.1)
		}
		if err != nil {
			return err
		}
	}
}

// otherRunning waits until a trial of the toy sweep runs under another
// owner than o (the state of the file is the event waited for), for at
// most a minute.
func otherRunning(ctx context.Context, s *Store, o Owner) error {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		running, err := s.Running(ctx, "toy")
		if err != nil {
			return err
		}
		for _, tr := range running {
			if !tr.Lease.Owner.Same(o) {
				return nil
			}
		}
		runtime.Gosched()
	}
	return fmt.Errorf("%s: no other owner ran a trial within a minute", o.ID)
}

// checkToy checks the claims the workers logged (who: lines) and the
// store's record of the toy sweep: every trial started once, no trial
// promoted twice from a rung, every promotion the toy scheduler would make
// made, each trial's decisions one per claim (and prune), and the file
// sound.
func checkToy(t *testing.T, s *Store, logs map[string][]string) {
	t.Helper()
	starts := map[int]int{}
	promotions := map[[2]int]int{}
	for who, lines := range logs {
		if len(lines) == 0 {
			t.Errorf("worker %s claimed nothing", who)
		}
		for _, l := range lines {
			var n, r int
			switch {
			case strings.HasPrefix(l, "start "):
				fmt.Sscan(l[len("start "):], &n)
				starts[n]++
			case strings.HasPrefix(l, "promote "):
				fmt.Sscan(l[len("promote "):], &n, &r)
				promotions[[2]int{n, r}]++
			default:
				t.Errorf("worker %s logged %q", who, l)
			}
		}
	}
	for n := 1; n <= toyTrials; n++ {
		if starts[n] != 1 {
			t.Errorf("trial %d started %d times", n, starts[n])
		}
	}
	for k, c := range promotions {
		if c != 1 {
			t.Errorf("trial %d promoted from rung %d %d times", k[0], k[1], c)
		}
	}
	trials, err := s.Trials(t.Context(), "toy", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(trials) != toyTrials {
		t.Fatalf("%d trials, want %d", len(trials), toyTrials)
	}
	done, pruned := 0, 0
	for _, tr := range trials {
		// The toy scheduler promotes every trial whose value at its rung
		// is at least 0.3, whatever the order of events.
		rung := 1
		for rung < len(toyRungs) && toyValue(tr.Number, toyRungs[rung-1]) >= 0.3 {
			rung++
		}
		wantStatus := Pruned
		if rung == len(toyRungs) {
			wantStatus = Done
			done++
		} else {
			pruned++
		}
		if tr.Status != wantStatus || tr.Rung != rung || tr.Promoted || tr.Lease != nil {
			t.Errorf("trial %d = %s at rung %d (promoted %v), want %s at rung %d", tr.Number, tr.Status, tr.Rung, tr.Promoted, wantStatus, rung)
		}
		for i, e := range tr.Evals {
			if e != (Eval{Resource: toyRungs[i], Value: toyValue(tr.Number, toyRungs[i])}) {
				t.Errorf("trial %d evaluation %d = %+v", tr.Number, i+1, e)
			}
		}
		for r := 1; r < rung; r++ {
			if promotions[[2]int{tr.Number, r}] != 1 {
				t.Errorf("trial %d: promotion from rung %d logged %d times", tr.Number, r, promotions[[2]int{tr.Number, r}])
			}
		}
		ds := decisionsOf(t, s, "toy", tr.Number)
		if want := rung + btoi01(wantStatus == Pruned); len(ds) != want {
			t.Errorf("trial %d has %d decisions, want %d: %q", tr.Number, len(ds), want, ds)
		}
	}
	t.Logf("%d trials: %d done, %d pruned; %d promotions", len(trials), done, pruned, len(promotions))
	if done == 0 || pruned == 0 || len(promotions) == 0 {
		t.Errorf("the toy sweep exercised too little: %d done, %d pruned, %d promotions", done, pruned, len(promotions))
	}
	if err := s.Check(t.Context()); err != nil {
		t.Error(err)
	}
}

func btoi01(b bool) int {
	if b {
		return 1
	}
	return 0
}

// newToy creates the toy sweep, with no trials, in a new database.
func newToy(t *testing.T) *Store {
	s := newTestStore(t)
	if _, err := s.EnsureSweep(t.Context(), Sweep{Name: "toy", Spec: []byte("name = \"toy\"\n")}, nil); err != nil {
		t.Fatal(err)
	}
	return s
}

// TestClaimNextGoroutines: two goroutines, each with its own Store on one
// file, run the toy adaptive sweep to its end at once: no trial is started
// twice, none promoted twice from a rung, and the sweep ends as the
// scheduler's rules say whatever the interleaving.
func TestClaimNextGoroutines(t *testing.T) {
	s := newToy(t)
	var (
		mu   sync.Mutex
		logs = map[string][]string{}
		wg   sync.WaitGroup
	)
	for _, who := range []string{"g1", "g2"} {
		s, err := Open(s.Path(), Options{Timeout: 30 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() {
			err := toyWorker(t.Context(), s, who, func(l string) {
				mu.Lock()
				defer mu.Unlock()
				logs[who] = append(logs[who], l)
			})
			if err != nil {
				t.Errorf("worker %s: %v", who, err)
			}
		})
	}
	wg.Wait()
	checkToy(t, s, logs)
}

// TestClaimNextProcesses: the same with the two workers in two processes
// (this test binary, re-executed, is the second), each logging its claims.
func TestClaimNextProcesses(t *testing.T) {
	s := newToy(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RESULTS_TEST_TOY="+s.Path())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var (
		child, parent []string
		childErr      error
		wg            sync.WaitGroup
	)
	wg.Go(func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			child = append(child, sc.Text())
		}
		childErr = cmd.Wait()
	})
	if err := toyWorker(t.Context(), s, "parent", func(l string) { parent = append(parent, l) }); err != nil {
		t.Errorf("parent worker: %v", err)
	}
	wg.Wait()
	if childErr != nil {
		t.Fatalf("child worker: %v", childErr)
	}
	checkToy(t, s, map[string][]string{"parent": parent, "child": child})
}

// toyProcess is TestClaimNextProcesses's second worker: it logs its claims
// on stdout.
func toyProcess(path string) int {
	s, err := OpenExisting(path, Options{Timeout: 30 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	who := "proc" + strconv.Itoa(os.Getpid())
	if err := toyWorker(context.Background(), s, who, func(l string) { fmt.Fprintln(out, l) }); err != nil {
		fmt.Fprintln(os.Stderr, "toy worker:", err)
		return 1
	}
	return 0
}
