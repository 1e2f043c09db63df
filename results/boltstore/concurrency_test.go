//go:build unix

package boltstore

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"syscall"
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

// writeCheckpoints claims trial 1 of sweep "g" and checkpoints it back to
// back (checkpoint i at epoch i) until stop is closed, calling started
// once the first checkpoint is stored; it returns the number written.
func writeCheckpoints(s *Store, o Owner, stop <-chan struct{}, started func()) (int, error) {
	ctx := contextBackground()
	data := make([]byte, checkpointSize)
	tr, _, err := s.Claim(ctx, "g", o, time.Now(), nil)
	if err != nil {
		return 0, err
	}
	if tr.Number != 1 {
		return 0, fmt.Errorf("claimed trial %d, want 1", tr.Number)
	}
	for i := 0; ; i++ {
		select {
		case <-stop:
			return i, nil
		default:
		}
		data[i%len(data)]++
		if err := s.SaveCheckpoint(ctx, "g", tr.Number, o, time.Now(), Checkpoint{Epoch: float64(i + 1), Data: data}, history(i%20+1)); err != nil {
			return i, err
		}
		if i == 0 {
			started()
		}
	}
}

// liveReads is what measureReads saw.
type liveReads struct {
	lat        []time.Duration // each read's latency, sorted
	inWrite    int             // reads issued while a write transaction held the file
	progressed int             // reads that saw a checkpoint newer than the read before
}

// inWrite probes the lock of the file open as probe until a write
// transaction holds it (a write holds it exclusively, so a shared
// non-blocking flock fails), at most tries times; it reports whether one
// did. It waits on that event, the lock's state, not on time.
func inWrite(t *testing.T, probe *os.File, tries int) bool {
	for range tries {
		err := syscall.Flock(int(probe.Fd()), syscall.LOCK_SH|syscall.LOCK_NB)
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return true
		}
		if err != nil {
			t.Fatal(err)
		}
		if err := syscall.Flock(int(probe.Fd()), syscall.LOCK_UN); err != nil {
			t.Fatal(err)
		}
		runtime.Gosched()
	}
	return false
}

// measureReads reads the leaderboard (Trials) and trial 1 with its history
// n times while another goroutine or process checkpoints trial 1 back to
// back (writeCheckpoints, started). Each read is issued once a write
// transaction is seen holding the file (inWrite), so it waits for that
// write; it counts those reads, and the reads that found a newer
// checkpoint than the read before (a write committed in between).
func measureReads(t *testing.T, s *Store, n int) liveReads {
	probe, err := os.Open(s.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer probe.Close()
	var r liveReads
	last := 0.0
	for i := range n {
		if inWrite(t, probe, 10000) {
			r.inWrite++
		}
		start := time.Now()
		if _, err := s.Trials(t.Context(), "g", Filter{}); err != nil {
			t.Fatalf("read %d during writes: %v", i, err)
		}
		tr, _, err := s.Trial(t.Context(), "g", 1)
		if err != nil {
			t.Fatalf("read %d during writes: %v", i, err)
		}
		r.lat = append(r.lat, time.Since(start))
		if tr.Epoch < last {
			t.Fatalf("read %d: checkpoint of epoch %v after one of epoch %v", i, tr.Epoch, last)
		}
		if tr.Epoch > last && i > 0 {
			r.progressed++
		}
		last = tr.Epoch
	}
	slices.Sort(r.lat)
	return r
}

// reportLatency logs the latencies and asserts that the reads overlapped
// the writes: some were issued while a write transaction held the file
// (and answered once it committed), and writes committed between reads.
func reportLatency(t *testing.T, what string, r liveReads, writes int) {
	lat := r.lat
	p := func(q float64) time.Duration { return lat[int(q*float64(len(lat)-1))] }
	t.Logf("%s: %d reads during %d checkpoint writes of %d KB: p50 %v, p90 %v, p99 %v, max %v; %d issued during a write transaction, %d after a newer checkpoint",
		what, len(lat), writes, checkpointSize/1000, p(0.5), p(0.9), p(0.99), lat[len(lat)-1], r.inWrite, r.progressed)
	// The figures are reported, not asserted: they follow the machine (a
	// reader waits for at most the write transaction in flight, whose
	// length is the disk's fsync time and the scheduler's). What is
	// asserted is that every read answered without error, and that reads
	// and writes did overlap.
	if r.inWrite == 0 {
		t.Errorf("no read was issued while a write transaction held the file")
	}
	if r.progressed == 0 {
		t.Errorf("no write committed between two reads")
	}
}

// TestLiveReadGoroutine: a reader answers, without error, while another
// goroutine writes checkpoints continuously.
func TestLiveReadGoroutine(t *testing.T) {
	s := newTestStore(t)
	mustSweep(t, s, "g", 24, 3)
	var (
		stop    = make(chan struct{})
		started = make(chan struct{})
		writes  int
		werr    error
		wg      sync.WaitGroup
	)
	wg.Go(func() {
		writes, werr = writeCheckpoints(s, owner("writer"), stop, func() { close(started) })
		if werr != nil {
			select {
			case <-started:
			default:
				close(started)
			}
		}
	})
	<-started
	r := measureReads(t, s, 100)
	close(stop)
	wg.Wait()
	if werr != nil {
		t.Fatalf("writer failed: %v", werr)
	}
	reportLatency(t, "goroutine writer", r, writes)
}

// TestLiveReadProcess: the same with the writer in another process (this
// test binary, re-executed), which says "started" on its stdout after its
// first checkpoint, and the number of checkpoints written when its stdin
// closes.
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
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	out := bufio.NewReader(stdout)
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	if line, err := out.ReadString('\n'); line != "started\n" {
		t.Fatalf("the writer process said %q (%v), want started", line, err)
	}
	r := measureReads(t, s, 100)
	stdin.Close() // tells the writer to stop
	var writes int
	if _, err := fmt.Fscan(out, &writes); err != nil {
		t.Errorf("reading the writer's count: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("writer process: %v", err)
	}
	reportLatency(t, "writer process", r, writes)
}

// testHelpers are the helper processes tests re-execute this binary as:
// each runs instead of the tests when its environment variable is set, and
// is given its value.
var testHelpers = map[string]func(arg string) int{
	"RESULTS_TEST_WRITER": writerProcess, // TestLiveReadProcess
}

// TestMain runs a helper process when re-executed as one.
func TestMain(m *testing.M) {
	for env, helper := range testHelpers {
		if arg := os.Getenv(env); arg != "" {
			os.Exit(helper(arg))
		}
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
	n, err := writeCheckpoints(s, owner("proc"+strconv.Itoa(os.Getpid())), stop, func() { fmt.Println("started") })
	fmt.Println(n)
	if err != nil {
		fmt.Fprintln(os.Stderr, "writer:", err)
		return 1
	}
	return 0
}
