package trial

import (
	"bufio"
	"errors"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
)

// holdLock makes another process hold path's lock, as bbolt takes it
// (flock(1) takes the same flock(2) lock), and returns once it does.
// release ends that process.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	// --close: only flock itself holds the lock, not the command it runs,
	// so killing its process group releases it.
	cmd := exec.Command("flock", "--exclusive", "--close", path, "sh", "-c", "echo held; exec sleep 60")
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("flock(1) (util-linux): %v", err)
	}
	var once sync.Once
	release = func() {
		once.Do(func() {
			_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
			_ = cmd.Wait()
		})
	}
	t.Cleanup(release)
	if line, err := bufio.NewReader(out).ReadString('\n'); line != "held\n" {
		t.Fatalf("flock(1) did not take the lock: %q, %v", line, err)
	}
	return release
}

// TestDatabaseHeldByAnotherProcess: another process holds the database past
// the store's lock timeout in mid-sweep; the pool retries until it lets go,
// and the sweep ends as an undisturbed one does.
func TestDatabaseHeldByAnotherProcess(t *testing.T) {
	undisturbed := newFixture(t, testSpec)
	if _, err := undisturbed.pool(2).Run(t.Context()); err != nil {
		t.Fatal(err)
	}
	want := undisturbed.outcomes(t)

	f := newFixture(t, testSpec)
	st, err := boltstore.Open(f.store.Location(), boltstore.Options{Timeout: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	const refusals = 3
	var (
		hold    sync.Once
		holding atomic.Bool
		freed   = make(chan func(), 1)
		retries atomic.Int32
	)
	p := f.pool(2)
	p.Store = st
	p.LeaseTTL = 30 * time.Second // waits of about 100 ms, 200 ms, 400 ms
	p.Events = func(e Event) {
		switch {
		case e.Kind == EpochDone && e.Trial.Number == 1 && e.Epoch.Epoch == 1:
			hold.Do(func() {
				freed <- holdLock(t, filepath.Clean(f.store.Location()))
				holding.Store(true)
			})
		case e.Kind == Retrying && holding.Load():
			if !errors.Is(e.Err, results.ErrLocked) {
				t.Errorf("Retrying event with error %v, want ErrLocked", e.Err)
			}
			if retries.Add(1) == refusals {
				(<-freed)()
			}
		}
	}
	stats, err := p.Run(t.Context())
	if err != nil {
		t.Fatalf("run: %v", err)
	}
	if n := retries.Load(); n < refusals {
		t.Fatalf("%d writes refused while the lock was held, want %d", n, refusals)
	}
	if stats.Trained != 6 || stats.LeaseLost != 0 || stats.Interrupted != 0 {
		t.Errorf("stats %+v, want 6 trained", stats)
	}
	assertSameOutcomes(t, "with the database held by another process", want, f.outcomes(t))
}
