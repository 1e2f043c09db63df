package trial

import (
	"context"
	"errors"
	"sync"

	"github.com/sweep-dev/sweep/results"
)

// saver writes a trial's checkpoints in the background, so that training
// does not wait for the store's synced commits. Only the newest checkpoint
// matters: one waiting to be written is replaced by a newer one, and so is
// one whose write is to be tried again (again). The first write error that
// is not retried ends the saves: it is passed to failed and returned by the
// next save, which stops the training.
type saver struct {
	write func(ctx context.Context, ck results.Checkpoint, hist []results.Epoch) error
	// writeGroup writes the checkpoints of a group's members (saveGroup).
	writeGroup func(ctx context.Context, cks []results.TrialCheckpoint) error
	// again, when not nil, is told of a failed write's error: it returns
	// nil (after a wait) to try again, or the error to end the saves with.
	again  func(ctx context.Context, err error) error
	failed func(error) // when not nil, told of the error that ends the saves
	ctx    context.Context
	cancel context.CancelFunc

	mu      sync.Mutex
	pending *savedState         // the next to write, nil if none
	busy    bool                // a goroutine is writing
	stopped bool                // stop was called
	err     error               // the error that ended the saves
	written *results.Checkpoint // Epoch and Iteration of the last checkpoint written, nil if none
	idle    *sync.Cond          // signalled when busy turns false
}

type savedState struct {
	ck    results.Checkpoint
	hist  []results.Epoch
	group []results.TrialCheckpoint // saveGroup's: written by writeGroup
}

// newSaver returns a saver whose writes run under a context derived from
// ctx, cancelled by stop.
func newSaver(ctx context.Context, write func(context.Context, results.Checkpoint, []results.Epoch) error,
	again func(context.Context, error) error, failed func(error)) *saver {
	s := &saver{write: write, again: again, failed: failed}
	s.ctx, s.cancel = context.WithCancel(ctx)
	s.idle = sync.NewCond(&s.mu)
	return s
}

// save queues ck for writing and returns at once, with the error that
// ended the saves if one did.
func (s *saver) save(ck results.Checkpoint, hist []results.Epoch) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.stopped {
		return nil
	}
	s.pending = &savedState{ck: ck, hist: hist}
	if !s.busy {
		s.busy = true
		go s.run()
	}
	return nil
}

// saveGroup is save for the checkpoints of a group's members, all of one
// moment, written together by writeGroup.
func (s *saver) saveGroup(cks []results.TrialCheckpoint) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return s.err
	}
	if s.stopped || len(cks) == 0 {
		return nil
	}
	s.pending = &savedState{ck: results.Checkpoint{Epoch: cks[0].Checkpoint.Epoch, Iteration: cks[0].Checkpoint.Iteration}, group: cks}
	if !s.busy {
		s.busy = true
		go s.run()
	}
	return nil
}

// flush waits until every checkpoint queued has been written (or the
// saves ended), and returns the error that ended them, nil if none did.
func (s *saver) flush() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.busy {
		s.idle.Wait()
	}
	return s.err
}

func (s *saver) run() {
	s.mu.Lock()
	for s.pending != nil && s.err == nil {
		p := s.pending
		s.pending = nil
		s.mu.Unlock()
		var err error
		if p.group != nil {
			err = s.writeGroup(s.ctx, p.group)
		} else {
			err = s.write(s.ctx, p.ck, p.hist)
		}
		retry := false
		if err != nil && s.again != nil {
			if err = s.again(s.ctx, err); err == nil {
				retry = true
			}
		}
		s.mu.Lock()
		switch {
		case retry:
			if s.pending == nil && !s.stopped {
				s.pending = p // unless a newer one came meanwhile
			}
		case err == nil:
			s.written = &results.Checkpoint{Epoch: p.ck.Epoch, Iteration: p.ck.Iteration}
		case s.stopped && errors.Is(err, context.Canceled):
			// stop cancelled the write: superseded, not a failure.
		default:
			s.err = err
			if s.failed != nil {
				s.failed(err)
			}
		}
	}
	s.pending = nil
	s.busy = false
	s.idle.Broadcast()
	s.mu.Unlock()
}

// stop drops a checkpoint still waiting (the trial is being finished or
// released with a newer state), cancels a write waiting for the database's
// lock or for its next attempt, and waits until no write is in progress, so
// none can land after it returns. It returns the error that ended the
// saves, nil if none did.
func (s *saver) stop() error {
	s.mu.Lock()
	s.stopped = true
	s.pending = nil
	s.mu.Unlock()
	s.cancel()
	s.mu.Lock()
	defer s.mu.Unlock()
	for s.busy {
		s.idle.Wait()
	}
	return s.err
}

// last returns the Epoch and Iteration (no Data) of the last checkpoint
// written, nil if none was.
func (s *saver) last() *results.Checkpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.written
}
