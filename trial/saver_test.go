package trial

import (
	"errors"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

func TestSaverWritesNewestAndReportsErrors(t *testing.T) {
	started := make(chan int, 10)
	release := make(chan struct{})
	var written []int
	s := newSaver(func(ck results.Checkpoint, _ []results.Epoch) error {
		started <- ck.Iteration
		<-release
		written = append(written, ck.Iteration) // one writer at a time
		return nil
	})
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

	boom := errors.New("lease lost")
	wrote := make(chan struct{})
	s = newSaver(func(results.Checkpoint, []results.Epoch) error { close(wrote); return boom })
	_ = s.save(results.Checkpoint{Iteration: 1}, nil)
	<-wrote
	if err := s.stop(); !errors.Is(err, boom) {
		t.Errorf("stop: %v, want the write error", err)
	}
	if err := s.save(results.Checkpoint{Iteration: 2}, nil); !errors.Is(err, boom) {
		t.Errorf("save after a failed write: %v, want the write error", err)
	}
}
