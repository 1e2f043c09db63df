package pgstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/internal/pgtest"
	"github.com/sweep-dev/sweep/results"
)

// await receives from ch, failing t after a minute.
func await[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(time.Minute):
		t.Fatalf("waited a minute for %s", what)
	}
	panic("unreachable")
}

// TestRestart restarts the server while a worker checkpoints, beats and
// ticks in a loop: the calls cut off retry and succeed once it is back,
// and no error surfaces. A call begun while the server is down is among
// them.
func TestRestart(t *testing.T) {
	t.Parallel() // its own server; it waits for it more than it works
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	s := openDSN(t, dsn)
	ctx := t.Context()
	ensure(t, s, "g", 1)
	o := owner("a")
	o.Attempt = claim(t, s, "g", o).Attempts

	started := make(chan int, 100000)
	done := make(chan int, 100000)
	pause := make(chan chan struct{})
	stop := make(chan struct{})
	errs := make(chan error, 1)
	go func() {
		for i := 0; ; i++ {
			select {
			case <-stop:
				errs <- nil
				return
			case resume := <-pause:
				<-resume
			default:
			}
			started <- i
			var err error
			switch i % 3 {
			case 0:
				err = s.SaveCheckpoint(ctx, "g", 1, o, time.Now(), results.Checkpoint{Epoch: float64(i), Data: []byte{byte(i)}}, nil)
			case 1:
				err = s.Heartbeat(ctx, "g", []int{1}, o, time.Now())
			case 2:
				_, err = s.TickElapsed(ctx, "g", time.Now(), time.Minute)
			}
			if err != nil {
				errs <- fmt.Errorf("call %d: %w", i, err)
				return
			}
			done <- i
		}
	}()
	waitDone := func(n int) int {
		last := 0
		for range n {
			last = await(t, done, "a call to return")
		}
		return last
	}
	waitDone(10)
	// Stop the server between two calls, then let the next call start.
	resume := make(chan struct{})
	pause <- resume
	srv.Stop(t)
	for len(started) > 0 {
		<-started
	}
	close(resume)
	during := await(t, started, "a call to start while the server is down")
	down := time.Now()
	srv.Start(t)
	t.Logf("call %d started with the server down, which came back %v later", during, time.Since(down))
	if last := waitDone(10); last <= during {
		t.Fatalf("call %d returned after the restart, not beyond %d", last, during)
	}
	// Restarts wherever the calls are: between statements, in a COMMIT.
	for range 2 {
		srv.Restart(t)
		waitDone(5)
	}
	close(stop)
	if err := await(t, errs, "the loop to end"); err != nil {
		t.Fatalf("a call failed across a restart shorter than the timeout: %v", err)
	}
	// A restart in the middle of a sequence of claims and finishes.
	ensure(t, s, "g", 4)
	for n := 2; n <= 4; n++ {
		if n == 3 {
			srv.Restart(t)
		}
		tr := claim(t, s, "g", o)
		if err := s.Finish(ctx, "g", tr.Number, o, time.Now(), results.Outcome{Status: results.Done, Model: testModel()}); err != nil {
			t.Fatal(err)
		}
	}
}

// TestUnavailable: with the server stopped, a call gives up after
// Options.Timeout (or when ctx ends) with ErrUnavailable, naming the
// operation and the database.
func TestUnavailable(t *testing.T) {
	t.Parallel() // its own server; it waits for timeouts more than it works
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	ctx := t.Context()
	s, err := Open(ctx, dsn, Options{Timeout: 500 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	patient, err := Open(ctx, dsn, Options{Timeout: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	defer patient.Close()
	ensure(t, s, "g", 1)
	srv.Stop(t)
	defer srv.Start(t)

	start := time.Now()
	err = s.Heartbeat(ctx, "g", []int{1}, owner("a"), time.Now())
	if !errors.Is(err, results.ErrUnavailable) || !strings.Contains(err.Error(), `heartbeat of sweep "g"`) || !strings.Contains(err.Error(), s.Location()) {
		t.Fatalf("Heartbeat with the server down: %v", err)
	}
	if d := time.Since(start); d < 400*time.Millisecond || d > 5*time.Second {
		t.Errorf("Heartbeat gave up after %v with a timeout of 500ms", d)
	}

	if _, err := Open(ctx, dsn, Options{Timeout: 300 * time.Millisecond}); !errors.Is(err, results.ErrUnavailable) {
		t.Fatalf("Open with the server down: %v", err)
	}

	// ctx ends before a long timeout.
	short, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	_, err = patient.Trials(short, "g", results.Filter{})
	if !errors.Is(err, results.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Trials with the server down until ctx ends: %v, want ErrUnavailable and the context's error", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Trials gave up after %v with a context of 300ms", d)
	}
}

// cutProxy forwards connections to a server's socket, and can lose the
// answer to a COMMIT: the server commits, and the client's connection
// dies before it hears so.
type cutProxy struct {
	dir   string // its socket's directory: a DSN's host
	armed atomic.Bool
	cuts  atomic.Int32
}

// commitMsg is a simple-protocol COMMIT (pgx's Tx.Commit).
var commitMsg = []byte("Q\x00\x00\x00\x0bcommit\x00")

func newCutProxy(t *testing.T, target string) *cutProxy {
	p := &cutProxy{dir: t.TempDir()}
	l, err := net.Listen("unix", filepath.Join(p.dir, ".s.PGSQL.5432"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { l.Close(); wg.Wait() })
	wg.Go(func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			wg.Go(func() { p.serve(c, filepath.Join(target, ".s.PGSQL.5432")) })
		}
	})
	return p
}

// cutNextCommit arms the proxy: the next COMMIT it forwards loses its answer.
func (p *cutProxy) cutNextCommit() { p.armed.Store(true) }

func (p *cutProxy) serve(client net.Conn, target string) {
	server, err := net.Dial("unix", target)
	if err != nil {
		client.Close()
		return
	}
	var cutting atomic.Bool
	answered := make(chan struct{}, 1)
	go func() { // server to client
		buf := make([]byte, 64<<10)
		for {
			n, err := server.Read(buf)
			if n > 0 {
				if cutting.Load() {
					answered <- struct{}{} // the server's answer to the COMMIT: dropped
					return
				}
				if _, err := client.Write(buf[:n]); err != nil {
					return
				}
			}
			if err != nil {
				client.Close()
				return
			}
		}
	}()
	defer client.Close()
	defer server.Close()
	buf := make([]byte, 64<<10)
	for {
		n, err := client.Read(buf)
		if n > 0 {
			cut := bytes.Contains(buf[:n], commitMsg) && p.armed.CompareAndSwap(true, false)
			if cut {
				cutting.Store(true)
			}
			if _, err := server.Write(buf[:n]); err != nil {
				return
			}
			if cut {
				select {
				case <-answered: // committed, and the client will never know
				case <-time.After(10 * time.Second):
				}
				p.cuts.Add(1)
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				server.Close()
			}
			return
		}
	}
}

// TestCommitLost loses the answer to the COMMIT of each kind of write
// that must happen once: the transaction committed, the client saw its
// connection die, and retried. Each call returns what its committed
// attempt did, and nothing is done twice.
func TestCommitLost(t *testing.T) {
	srv := pgtest.Shared(t)
	dsn := srv.NewDatabase(t)
	proxy := newCutProxy(t, srv.SocketDir())
	s := openDSN(t, strings.Replace(dsn, "host="+srv.SocketDir(), "host="+proxy.dir, 1))
	ctx := t.Context()
	o := owner("a")
	cut := func(what string, call func() error) {
		t.Helper()
		before := proxy.cuts.Load()
		proxy.cutNextCommit()
		if err := call(); err != nil {
			t.Fatalf("%s, its COMMIT's answer lost: %v", what, err)
		}
		if proxy.cuts.Load() != before+1 {
			t.Fatalf("%s: the proxy cut no COMMIT", what)
		}
	}
	var added []int
	cut("EnsureSweep", func() (err error) { added, err = s.EnsureSweep(ctx, results.Sweep{Name: "g"}, grid(3)); return err })
	if fmt.Sprint(added) != "[1 2 3]" {
		t.Fatalf("EnsureSweep added %v, want [1 2 3]", added)
	}
	cut("EnsureSweep of more", func() (err error) { added, err = s.EnsureSweep(ctx, results.Sweep{Name: "g"}, grid(4)); return err })
	if fmt.Sprint(added) != "[4]" {
		t.Fatalf("EnsureSweep added %v, want [4]", added)
	}
	var tr *results.Trial
	cut("Claim", func() (err error) { tr, _, err = s.Claim(ctx, "g", o, time.Now(), nil); return err })
	if tr.Number != 1 || tr.Attempts != 1 || tr.Lease == nil || !tr.Lease.Owner.Same(o) {
		t.Fatalf("Claim returned %+v", tr)
	}
	cut("Finish", func() error {
		return s.Finish(ctx, "g", 1, o, time.Now(), results.Outcome{Status: results.Done, Metrics: results.Metrics{ValAcc: 0.5}, Model: testModel()})
	})
	cut("SetBest", func() error { return s.SetBest(ctx, "g", results.Best{Trial: 1, TestAcc: 0.4}) })
	var total time.Duration
	cut("AddElapsed", func() (err error) { total, err = s.AddElapsed(ctx, "g", 5*time.Second); return err })
	if total != 5*time.Second {
		t.Fatalf("AddElapsed of 5s returned a total of %v", total)
	}
	tr = claim(t, s, "g", o)
	cut("Release", func() error { return s.Release(ctx, "g", tr.Number, o, time.Now(), nil, nil, 1) })
	tr = claim(t, s, "g", o)
	cut("Pause", func() error {
		return s.Pause(ctx, "g", tr.Number, o, time.Now(), results.Checkpoint{Data: []byte("ck")}, nil, results.Eval{Resource: 1, Value: 0.3}, results.Metrics{}, 1)
	})
	var pruned []int
	cut("Prune", func() (err error) {
		pruned, err = s.Prune(ctx, "g", time.Now(), func([]results.Trial) ([]results.Pruning, error) {
			return []results.Pruning{{Number: tr.Number}}, nil
		})
		return err
	})
	if fmt.Sprint(pruned) != fmt.Sprint([]int{tr.Number}) {
		t.Fatalf("Prune returned %v, want [%d]", pruned, tr.Number)
	}
	decide := func(ts []results.Trial) (results.Plan, error) {
		return results.Plan{Action: results.PlanStart, Trial: &results.Trial{Key: fmt.Sprintf("new%d", len(ts))}}, nil
	}
	claim(t, s, "g", o) // trial 3
	claim(t, s, "g", o) // trial 4
	cut("ClaimNext", func() (err error) { tr, _, err = s.ClaimNext(ctx, "g", o, time.Now(), nil, decide); return err })
	if tr.Number != 5 || tr.Key != "new4" {
		t.Fatalf("ClaimNext started trial %d %q, want 5 new4", tr.Number, tr.Key)
	}

	d, err := s.Dump(ctx, "g")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, td := range d.Trials {
		got = append(got, fmt.Sprintf("%d:%s:%d", td.Trial.Number, td.Trial.Status, td.Trial.Attempts))
	}
	if want := "[1:done:1 2:pruned:2 3:running:1 4:running:1 5:running:1]"; fmt.Sprint(got) != want {
		t.Errorf("trials %v, want %s", got, want)
	}
	if len(d.Sweep.Evaluations) != 1 || d.Sweep.Elapsed != 5 {
		t.Errorf("sweep: %d evaluations, elapsed %vs; want 1, 5s", len(d.Sweep.Evaluations), d.Sweep.Elapsed)
	}
	if d.Trials[0].Model == nil || d.Trials[1].Checkpoint != nil || len(d.Trials[1].Trial.Evals) != 1 {
		t.Errorf("trial 1 model %v, trial 2 checkpoint %v, evals %v", d.Trials[0].Model != nil, d.Trials[1].Checkpoint != nil, d.Trials[1].Trial.Evals)
	}
}
