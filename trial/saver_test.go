package trial

import (
	"context"
	"errors"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

func TestSaverWritesNewestAndReportsErrors(t *testing.T) {
	started := make(chan int, 10)
	release := make(chan struct{})
	var written []int
	s := newSaver(t.Context(), func(_ context.Context, ck results.Checkpoint, _ []results.Epoch) error {
		started <- ck.Iteration
		<-release
		written = append(written, ck.Iteration) // one writer at a time
		return nil
	}, nil, nil)
	if err := s.save(results.Checkpoint{Iteration: 1}, nil); err != nil {
		t.Fatal(err)
	}
	<-started // 1 is being written: 2 and 3 are replaced by 4 meanwhile
	for it := 2; it <= 4; it++ {
		if err := s.save(results.Checkpoint{Iteration: it}, nil); err != nil {
			t.Fatal(err)
		}
	}
	release <- struct{}{}
	if it := <-started; it != 4 {
		t.Errorf("second write is of iteration %d, want 4", it)
	}
	close(release)
	if err := s.stop(); err != nil { // waits for the write of 4
		t.Fatal(err)
	}
	if len(written) != 2 || written[0] != 1 || written[1] != 4 {
		t.Errorf("written %v, want [1 4]: the newest checkpoint at each write", written)
	}
	if w := s.last(); w == nil || w.Iteration != 4 {
		t.Errorf("last written %+v, want iteration 4", w)
	}

	boom := errors.New("lease lost")
	wrote := make(chan struct{})
	var failedWith error
	s = newSaver(t.Context(), func(context.Context, results.Checkpoint, []results.Epoch) error { close(wrote); return boom },
		nil, func(err error) { failedWith = err })
	_ = s.save(results.Checkpoint{Iteration: 1}, nil)
	<-wrote
	if err := s.stop(); !errors.Is(err, boom) {
		t.Errorf("stop: %v, want the write error", err)
	}
	if !errors.Is(failedWith, boom) {
		t.Errorf("failed was told %v, want the write error", failedWith)
	}
	if err := s.save(results.Checkpoint{Iteration: 2}, nil); !errors.Is(err, boom) {
		t.Errorf("save after a failed write: %v, want the write error", err)
	}
	if w := s.last(); w != nil {
		t.Errorf("last written %+v after a failed write, want none", w)
	}
}

// TestSaverRetriesTheNewest: a write to be tried again (a locked database)
// is replaced by a newer checkpoint queued meanwhile, and training is not
// held up by it: save returns at once throughout.
func TestSaverRetriesTheNewest(t *testing.T) {
	locked := errors.New("locked")
	attempts := make(chan int)
	unlock := make(chan struct{}) // closed: writes succeed
	retrying := make(chan struct{})
	proceed := make(chan struct{})
	var written []int
	s := newSaver(t.Context(), func(_ context.Context, ck results.Checkpoint, _ []results.Epoch) error {
		attempts <- ck.Iteration
		select {
		case <-unlock:
			written = append(written, ck.Iteration)
			return nil
		default:
			return locked
		}
	}, func(_ context.Context, err error) error {
		if !errors.Is(err, locked) {
			return err
		}
		retrying <- struct{}{}
		<-proceed // the backoff's wait
		return nil
	}, nil)
	_ = s.save(results.Checkpoint{Iteration: 1}, nil)
	if it := <-attempts; it != 1 {
		t.Fatalf("first attempt writes %d, want 1", it)
	}
	<-retrying // 1 was refused; while it waits, training goes on
	for it := 2; it <= 3; it++ {
		if err := s.save(results.Checkpoint{Iteration: it}, nil); err != nil {
			t.Fatal(err)
		}
	}
	proceed <- struct{}{}
	if it := <-attempts; it != 3 {
		t.Errorf("second attempt writes %d, want the newest, 3", it)
	}
	<-retrying
	close(unlock)
	proceed <- struct{}{}
	if it := <-attempts; it != 3 {
		t.Errorf("third attempt writes %d, want 3", it)
	}
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if len(written) != 1 || written[0] != 3 || s.last().Iteration != 3 {
		t.Errorf("written %v, last %+v; want [3]", written, s.last())
	}
}

// TestSaverStopCancelsRetries: stop ends a write being retried without
// reporting an error (the outcome or release supersedes it), and the last
// checkpoint written is the one before.
func TestSaverStopCancelsRetries(t *testing.T) {
	retrying := make(chan struct{})
	wrote1 := make(chan struct{})
	s := newSaver(t.Context(), func(ctx context.Context, ck results.Checkpoint, _ []results.Epoch) error {
		if ck.Iteration == 1 {
			close(wrote1)
			return nil
		}
		return errors.Join(results.ErrLocked, ctx.Err())
	}, func(ctx context.Context, err error) error {
		if ctx.Err() != nil {
			return err
		}
		close(retrying)
		<-ctx.Done() // a long backoff, ended by stop
		return ctx.Err()
	}, func(err error) { t.Errorf("failed(%v) called for a write stop cancelled", err) })
	_ = s.save(results.Checkpoint{Iteration: 1}, nil)
	<-wrote1 // 1 is being written: 2 is queued behind it
	_ = s.save(results.Checkpoint{Iteration: 2}, nil)
	<-retrying
	if err := s.stop(); err != nil {
		t.Errorf("stop: %v, want nil: the retried write was superseded", err)
	}
	if w := s.last(); w == nil || w.Iteration != 1 {
		t.Errorf("last written %+v, want iteration 1", w)
	}
}
