package nn

import (
	"context"
	"errors"
)

// GroupMember is one trial of a group training (TrainGroup).
type GroupMember[T Float] struct {
	// Config is the member's: its Seed draws its initial weights, its
	// training-accuracy subset and its dropout masks, as in Train; its
	// minibatches come from the group's stream.
	Config Config
	// Resume, when set, continues the member from this snapshot (one that
	// TrainGroup produced: with BatchRNG). Either every member that trains
	// resumes, all from snapshots of one moment (the same Iteration and
	// BatchRNG), or none does.
	Resume *Snapshot[T]
	// Left, when positive, marks a member that is not trained: it left the
	// group in an earlier attempt after taking part in Left steps (its
	// Result's Steps). Its columns stay in the fused product's layout until
	// the end of the epoch in which its last step fell, as they did in
	// that attempt, so that the others' results do not depend on whether
	// this attempt saw it leave. 0 for a member to train (a member that
	// never took a step leaves no trace: give Left 0 and leave it out, or
	// give a negative Left).
	Left int
}

// GroupOptions are the optional parts of a group training.
type GroupOptions[T Float] struct {
	// Seed seeds the group's minibatch stream, when no member resumes.
	Seed uint64
	// Hook, when set, is called at the end of every epoch (after the
	// members that stopped early at it have left) with a snapshot of every
	// member still training, by member index (nil for the others), owned by
	// it: all from the same moment, so that they resume together. An error
	// ends the training with that error.
	Hook func(ctx context.Context, snaps []*Snapshot[T]) error
	// Leave, when set, is called as soon as a member leaves the group
	// (diverged, stopped early by its Patience, or completed at the end
	// with the others), with its result, before the group's next step.
	Leave func(member int, r *Result[T])
}

// Steps returns the number of training steps the trial took part in: its
// Iterations, and for a Diverged one the step whose loss was not finite.
func (r *Result[T]) Steps() int {
	if r.Outcome == Diverged {
		return r.DivergedAt
	}
	return r.Iterations
}

// TrainGroup trains the members side by side on the same minibatches: one
// minibatch stream (seeded by opt.Seed) drawn once per step for the group,
// one gather, the first layer of every member as one wide product
// X·[W1_a | W1_b | ...] and one for every dW1, the rest of each net on its
// own. Each member trains as Train would train it with the group's
// minibatches (the same history within float rounding; OpenBLAS may round
// a product differently with other columns beside it), and leaves the
// group when it diverges or stops early; the others go on. A member's
// result depends on its config, the group's members and seed, and nothing
// else: not on interruptions (a group resumed from its snapshots goes on
// bitwise as it would have), nor on which members an earlier attempt saw
// leave (GroupMember.Left).
//
// The members must share their data (train, val), BatchSize and length
// (Epochs, or Iterations); they may differ in anything else (hidden sizes,
// depth, optimizer, learning rate, regularisation, normalisation,
// dropout...). It returns one result per member, nil for those with Left
// set. A cancelled ctx ends the training within one step: every member
// still training gets outcome Cancelled and a Snapshot (all of one moment,
// to resume together), and the error wraps ctx.Err(). Other errors are
// ErrConfig (bad configs, data or snapshots) or the hook's; then the
// results are nil.
func TrainGroup[T Float](ctx context.Context, members []GroupMember[T], train, val Data, opt GroupOptions[T]) ([]*Result[T], error) {
	return nil, errors.New("nn: TrainGroup is not implemented yet")
}
