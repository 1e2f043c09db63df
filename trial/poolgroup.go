package trial

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// trainGroup trains a claimed group (its members are held) to its end, as
// one does a single trial: each member is finished as soon as it leaves
// the group; the group's checkpoints are written together once per epoch;
// when the training stops (Ctrl-C, the budget, a failed write) the members
// still in the group are checkpointed together where they stopped and
// released.
func (p *Pool) trainGroup(ctx context.Context, worker int, g *results.GroupClaim, count func(func(*Stats))) (bool, error) {
	sctx := context.WithoutCancel(ctx)
	ms := g.Trials
	nums := make([]int, len(ms))
	for i, t := range ms {
		nums[i] = t.Number
	}
	defer func() {
		for _, n := range nums {
			p.unhold(n)
		}
	}()
	// The members resume together from one moment, or start again.
	from, some := 0, false
	for i, ck := range g.Checkpoints {
		some = some || ck != nil
		if ck == nil || i > 0 && ck.Iteration != from {
			from = 0
			break
		}
		from = ck.Iteration
	}
	for _, t := range ms {
		p.emit(Event{Kind: Started, Worker: worker, Trial: t, From: from, Total: p.iterations(t), Restarted: some && from == 0})
	}

	start := time.Now()
	tctx, stopTrain := context.WithCancelCause(ctx)
	defer stopTrain(nil)
	if !p.Deadline.IsZero() {
		var cancel context.CancelFunc
		tctx, cancel = context.WithDeadline(tctx, p.Deadline)
		defer cancel()
	}
	gs := p.Store.(Grouper)
	r := p.retrier(worker, ms[0])
	r.also = nums[1:]
	sv := newSaver(sctx, nil, r.again, stopTrain)
	sv.writeGroup = func(wctx context.Context, cks []results.TrialCheckpoint) error {
		return r.attempt(wctx, func(wctx context.Context, now time.Time) error {
			return gs.SaveCheckpoints(wctx, p.Sweep, p.Owner, now, cks)
		})
	}
	job := GroupJob{
		Claim: g, Data: p.Data,
		Save: sv.saveGroup,
		Progress: func(i int, h results.Epoch, total int) {
			p.emit(Event{Kind: EpochDone, Worker: worker, Trial: ms[i], Epoch: h, Total: total})
		},
		Leave: func(i int, o results.Outcome) error {
			t := ms[i]
			// A group checkpoint queued before the member left names it:
			// it lands first (Finish deletes the member's checkpoint).
			if err := sv.flush(); err != nil {
				return err
			}
			o.Duration = time.Since(start).Seconds()
			err := p.write(ctx, sctx, worker, t, func(wctx context.Context, now time.Time) error {
				return p.Store.Finish(wctx, p.Sweep, t.Number, p.attempt(t), now, o)
			})
			if err != nil {
				if lost(err) {
					return err
				}
				return fmt.Errorf("record trial %d of %q: %w", t.Number, p.Sweep, err)
			}
			p.unhold(t.Number)
			p.finished(worker, t, o, count)
			p.change()
			return nil
		},
	}
	res := TrainGroup(tctx, job)
	defer p.change()
	saveErr := sv.stop()
	dur := time.Since(start).Seconds()
	var rest []int // the members still in the group
	for i, left := range res.Left {
		if !left {
			rest = append(rest, i)
		}
	}
	if len(rest) == 0 {
		return true, nil
	}
	if lost(saveErr) || lost(res.Err) {
		err := errors.Join(saveErr, res.Err)
		more := true
		for _, i := range rest {
			m, _ := p.leaseLost(ctx, worker, ms[i], err, count)
			more = more && m
		}
		return more, nil
	}
	cause := res.Err
	if saveErr != nil {
		cause = saveErr
	}
	if saveErr == nil && p.budgetOut() && errors.Is(res.Err, context.DeadlineExceeded) {
		cause = budgetStop{res.Err}
	}
	// What the store holds to resume from: the group's last checkpoint
	// written by this attempt, else the one it was claimed with.
	stored := make([]*results.Checkpoint, len(ms))
	for _, i := range rest {
		if w := sv.last(); w != nil {
			stored[i] = w
		} else if !res.Restarted {
			stored[i] = g.Checkpoints[i]
		}
	}
	// Where the members stopped, saved together (then released without
	// a checkpoint of their own, so that they always resume together).
	if res.Checkpoints != nil {
		var cks []results.TrialCheckpoint
		for _, i := range rest {
			if ck := res.Checkpoints[i]; ck != nil {
				cks = append(cks, results.TrialCheckpoint{Trial: ms[i].Number, Attempt: ms[i].Attempts, Checkpoint: *ck, History: res.Histories[i]})
			}
		}
		if len(cks) == len(rest) {
			err := p.write(ctx, sctx, worker, ms[rest[0]], func(wctx context.Context, now time.Time) error {
				return gs.SaveCheckpoints(wctx, p.Sweep, p.Owner, now, cks)
			})
			switch {
			case err == nil:
				for _, i := range rest {
					stored[i] = res.Checkpoints[i]
				}
			case lost(err):
				more := true
				for _, i := range rest {
					m, _ := p.leaseLost(ctx, worker, ms[i], err, count)
					more = more && m
				}
				return more, nil
			default:
				cause = errors.Join(cause, fmt.Errorf("save the checkpoints of group %d at iteration %d: %w", g.Group, cks[0].Checkpoint.Iteration, err))
			}
		}
	}
	more := true
	var errs []error
	for _, i := range rest {
		m, err := p.release(ctx, worker, ms[i], nil, nil, dur, stored[i], cause, count)
		more = more && m
		if err != nil && !slices.ContainsFunc(errs, func(e error) bool { return e.Error() == err.Error() }) {
			errs = append(errs, err)
		}
	}
	return more, errors.Join(errs...)
}
