package results

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// TestConcurrentClaims: two Stores on one file, several goroutines each,
// claiming and finishing until no work is left: every trial is claimed
// exactly once.
func TestConcurrentClaims(t *testing.T) {
	ctx := t.Context()
	s1 := newTestStore(t)
	s2, err := Open(s1.Path(), Options{Timeout: 30 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	mustSweep(t, s1, "g", n, 3)
	var (
		mu     sync.Mutex
		claims = map[int]int{}
		wg     sync.WaitGroup
	)
	for w := range 6 {
		s := []*Store{s1, s2}[w%2]
		o := owner(fmt.Sprint("w", w))
		wg.Go(func() {
			for {
				tr, _, err := s.Claim(ctx, "g", o, time.Now(), func(Lease) bool { return false })
				if errors.Is(err, ErrNoWork) {
					return
				}
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				claims[tr.Number]++
				mu.Unlock()
				if err := s.SaveCheckpoint(ctx, "g", tr.Number, o, time.Now(), Checkpoint{Epoch: 1, Data: make([]byte, 1000)}, history(1)); err != nil {
					t.Error(err)
				}
				if err := s.Finish(ctx, "g", tr.Number, o, time.Now(), Outcome{Status: Done, Metrics: Metrics{ValAcc: float64(tr.Number%7) / 10}, Model: twoLayer(3, 2, 2, 0)}); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for i := 1; i <= n; i++ {
		if claims[i] != 1 {
			t.Errorf("trial %d claimed %d times", i, claims[i])
		}
	}
	sums, err := s2.Sweeps(ctx, time.Now(), time.Minute)
	if err != nil || sums[0].Done != n {
		t.Errorf("Sweeps = %+v, %v", sums, err)
	}
}

// TestEnsureSweepRace: goroutines on two Stores create the same sweep with
// overlapping trial lists at once; every key is recorded exactly once and
// numbers are 1..n.
func TestEnsureSweepRace(t *testing.T) {
	ctx := t.Context()
	s1 := newTestStore(t)
	s2, err := Open(s1.Path(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	ts := grid(30)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		added []int
	)
	for i := range 8 {
		s := []*Store{s1, s2}[i%2]
		wg.Go(func() {
			// Each caller gives a different, overlapping subset.
			var mine []Trial
			for j, tr := range ts {
				if j%(i%3+1) == 0 || j >= 20 {
					mine = append(mine, tr)
				}
			}
			a, err := s.EnsureSweep(ctx, Sweep{Name: "g"}, mine)
			if err != nil {
				t.Error(err)
			}
			mu.Lock()
			added = append(added, a...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(added)
	if len(added) != len(ts) || added[0] != 1 || added[len(added)-1] != len(ts) || len(slices.Compact(added)) != len(ts) {
		t.Errorf("added = %v", added)
	}
	got, err := s1.Trials(ctx, "g", Filter{})
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for i, tr := range got {
		if tr.Number != i+1 || keys[tr.Key] {
			t.Errorf("trial %d: %q duplicated or misnumbered", tr.Number, tr.Key)
		}
		keys[tr.Key] = true
	}
	if len(keys) != len(ts) {
		t.Errorf("%d keys, want %d", len(keys), len(ts))
	}
}

// checkpointSize is the size of a realistic checkpoint: a 784-50-10 net in
// float64 with its SGD-momentum velocity.
const checkpointSize = 2 * 39760 * 8

// writeCheckpoints claims trials of sweep "g" and checkpoints them back to
// back until stop is closed; it returns the number of checkpoints written.
func writeCheckpoints(s *Store, o Owner, stop <-chan struct{}) (int, error) {
	ctx := contextBackground()
	data := make([]byte, checkpointSize)
	tr, _, err := s.Claim(ctx, "g", o, time.Now(), nil)
	if err != nil {
		return 0, err
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return i, nil
		default:
		}
		data[i%len(data)]++
		if err := s.SaveCheckpoint(ctx, "g", tr.Number, o, time.Now(), Checkpoint{Epoch: float64(i), Data: data}, history(i%20+1)); err != nil {
			return i, err
		}
	}
}

// measureReads reads the leaderboard (Trials) and a trial with its history
// n times while writes go on, and returns the latencies, sorted.
func measureReads(t *testing.T, s *Store, n int) []time.Duration {
	var lat []time.Duration
	for i := range n {
		start := time.Now()
		if _, err := s.Trials(t.Context(), "g", Filter{}); err != nil {
			t.Fatalf("read %d during writes: %v", i, err)
		}
		if _, _, err := s.Trial(t.Context(), "g", 1); err != nil {
			t.Fatalf("read %d during writes: %v", i, err)
		}
		lat = append(lat, time.Since(start))
		time.Sleep(5 * time.Millisecond)
	}
	slices.Sort(lat)
	return lat
}

func reportLatency(t *testing.T, what string, lat []time.Duration, writes int) {
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	t.Logf("%s: %d reads during %d checkpoint writes of %d KB: p50 %v, p90 %v, p99 %v, max %v",
		what, len(lat), writes, checkpointSize/1000, p(0.5), p(0.9), p(0.99), lat[len(lat)-1])
	// The figures are reported, not asserted: they follow the machine (a
	// reader waits for at most the write transaction in flight, whose
	// length is the disk's fsync time and the scheduler's). What is
	// asserted is that every read answered without error.
}

// TestLiveReadGoroutine: a reader answers, without error, while another
// goroutine writes checkpoints continuously.
func TestLiveReadGoroutine(t *testing.T) {
	s := newTestStore(t)
	mustSweep(t, s, "g", 24, 3)
	stop := make(chan struct{})
	var (
		writes atomic.Int64
		werr   error
		wg     sync.WaitGroup
	)
	wg.Go(func() {
		n, err := writeCheckpoints(s, owner("writer"), stop)
		writes.Store(int64(n))
		werr = err
	})
	time.Sleep(20 * time.Millisecond)
	lat := measureReads(t, s, 100)
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatalf("writer failed: %v", werr)
	}
	reportLatency(t, "goroutine writer", lat, int(writes.Load()))
}

// TestLiveReadProcess: the same with the writer in another process (this
// test binary, re-executed).
func TestLiveReadProcess(t *testing.T) {
	if path := os.Getenv("RESULTS_TEST_WRITER"); path != "" {
		return // the helper process's copy of this test: see TestMain
	}
	s := newTestStore(t)
	mustSweep(t, s, "g", 24, 3)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "RESULTS_TEST_WRITER="+s.Path())
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait for the first checkpoint.
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(5 * time.Millisecond) {
		tr, _, err := s.Trial(t.Context(), "g", 1)
		if err != nil {
			t.Fatal(err)
		}
		if tr.Epoch > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the writer process wrote nothing")
		}
	}
	lat := measureReads(t, s, 100)
	stdin.Close() // tells the writer to stop
	var writes int
	if _, err := fmt.Fscan(out, &writes); err != nil {
		t.Errorf("reading the writer's count: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer process: %v", err)
	}
	reportLatency(t, "writer process", lat, writes)
}

// TestMain runs the writer of TestLiveReadProcess when re-executed.
func TestMain(m *testing.M) {
	if path := os.Getenv("RESULTS_TEST_WRITER"); path != "" {
		os.Exit(writerProcess(path))
	}
	os.Exit(m.Run())
}

func writerProcess(path string) int {
	s, err := OpenExisting(path, Options{Timeout: 30 * time.Second})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	stop := make(chan struct{})
	go func() {
		var b [1]byte
		os.Stdin.Read(b[:]) // EOF when the parent closes it
		close(stop)
	}()
	n, err := writeCheckpoints(s, owner("proc"+strconv.Itoa(os.Getpid())), stop)
	fmt.Println(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		return 1
	}
	return 0
}
