package trial

import (
	"sync"

	"github.com/sweep-dev/sweep/results"
)

// saver writes a trial's checkpoints in the background, so that training
// does not wait for the store's synced commits. Only the newest checkpoint
// matters: one waiting to be written is replaced by a newer one. The first
// write error is returned by the next save, which stops the training.
type saver struct {
	write func(results.Checkpoint, []results.Epoch) error

	mu      sync.Mutex
	pending *savedState // the next to write, nil if none
	busy    bool        // a goroutine is writing
	err     error       // the first write error
	idle    *sync.Cond  // signalled when busy turns false
}

type savedState struct {
	ck   results.Checkpoint
	hist []results.Epoch
}

func newSaver(write func(results.Checkpoint, []results.Epoch) error) *saver {
	s := &saver{write: write}
	s.idle = sync.NewCond(&s.mu)
	return s
}

// save queues ck for writing and returns at once, with the error of an
// earlier write if one failed.
func (s *saver) save(ck results.Checkpoint, hist []results.Epoch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	s.pending = &savedState{ck, hist}
	if !s.busy {
		s.busy = true
		go s.run()
	}
	return nil
}

func (s *saver) run() {
	s.mu.Lock()
	for s.pending != nil && s.err == nil {
		p := s.pending
		s.pending = nil
		s.mu.Unlock()
		err := s.write(p.ck, p.hist)
		s.mu.Lock()
		if err != nil && s.err == nil {
			s.err = err
		}
	}
	s.pending = nil
	s.busy = false
	s.idle.Broadcast()
	s.mu.Unlock()
}

// stop drops a checkpoint still waiting (the trial is being finished or
// released with a newer state) and waits for the write in progress. It
// returns the first write error.
func (s *saver) stop() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pending = nil
	for s.busy {
		s.idle.Wait()
	}
	return s.err
}
