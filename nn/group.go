package nn

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"

	"gonum.org/v1/gonum/blas"
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
	// give a negative Left: such a member is ignored, Config included).
	// A member with Left set does not resume: its Resume is ignored.
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
	// ends the training with that error. It is not called at the end of
	// training (unlike Train's hook, which also sees the last epoch end):
	// the members have then completed and there is nothing to resume.
	Hook func(ctx context.Context, snaps []*Snapshot[T]) error
	// Leave, when set, is called as soon as a member leaves the group
	// (diverged, stopped early by its Patience, or completed at the end
	// with the others), with its result, before the group's next step.
	// Members cancelled with the group do not leave it: their results
	// come with TrainGroup's.
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
// minibatches: bitwise with gonum's products, and alone in a group with
// any backend; within float rounding with OpenBLAS in a larger group
// (OpenBLAS rounds a column of a product differently with other columns
// beside it). A member leaves the group when it diverges or stops early;
// the others go on. A member's
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
//
// Each step draws BatchSize indices from the group's minibatch stream, a
// PCG seeded from opt.Seed (on a stream of its own, not a member's), whose
// state a snapshot's BatchRNG holds. A member's own source, seeded from its Config.Seed as in Train,
// draws its initial weights, its training-accuracy subset and its dropout
// masks, in Train's order, but no minibatches. A member without hidden
// layers (softmax regression) takes part too: its one affine layer is its
// first.
//
// The layout of the fused products (which members have columns in them,
// in member order, each as many as its first layer has outputs: its first
// hidden size, or its number of classes) is a function of the group's
// history alone, so that the columns of each product are rounded alike in
// every attempt. A member has columns in the products of step s (0-based)
// while it trains, and, once it has left after L steps (Result.Steps, or
// GroupMember.Left), while s < ⌈L/E⌉·E, E the steps of an epoch: until the
// end of the epoch of its last step. The columns of a member that has left
// are zero.
func TrainGroup[T Float](ctx context.Context, members []GroupMember[T], train, val Data, opt GroupOptions[T]) ([]*Result[T], error) {
	g, err := newGroup(members, train, val, opt)
	if err != nil {
		return nil, err
	}
	return g.run(ctx, opt.Hook)
}

// groupStream is the PCG stream (the second word of its seed) of a group's
// minibatch indices: rand.NewPCG(GroupOptions.Seed, groupStream). Each step
// draws BatchSize indices with IntN(rows), as Train does from its own
// source.
const groupStream = 0xb47c4b47c4b47c4b

// groupMember is one member of a group training.
type groupMember[T Float] struct {
	t        *trainer[T] // nil for a member not trained here (Left set)
	training bool
	// steps is, once the member has left (in this training or, by Left, an
	// earlier one), the number of steps it took part in; 0 for none.
	steps int
	width int // its columns in the fused products: the first layer's outputs
	col   int // its first column in the current layout; -1 when outside

	// this step's
	loss float64
	dz1  Mat[T] // gradient with respect to the first layer's output, the net's scratch
}

// block returns the member's rows of a fused buffer of n·D elements laid
// out as wt (its first layer's weights, transposed: width×D).
func (m *groupMember[T]) block(buf []T, d int) []T {
	return buf[m.col*d : (m.col+m.width)*d]
}

// inLayout reports whether m has columns in the fused products of step s
// (0-based): while it trains, and once it has left until the end of the
// epoch in which its last step fell.
func (m *groupMember[T]) inLayout(s, perEpoch int) bool {
	return m.training || m.steps > 0 && s < (m.steps+perEpoch-1)/perEpoch*perEpoch
}

// group is the state of a TrainGroup: its members, the minibatch stream
// and buffers, and the fused products' buffers.
type group[T Float] struct {
	members         []groupMember[T]
	results         []*Result[T]
	active          int // members training
	train           Data
	src             *rand.PCG
	rng             *rand.Rand
	s               int // steps completed: every training member's iteration
	total, perEpoch int
	leave           func(int, *Result[T])

	xb  []T   // minibatch rows, B×D
	yb  []int // their labels
	idx []int // their indices
	// The fused products, for a layout of n columns: wt = [W1_a | W1_b |
	// ...]ᵀ (n×D: each member's first-layer weights, transposed, one
	// contiguous block), z = x·wtᵀ + [b1_a | b1_b | ...] (B×n), dz =
	// [dZ1_a | dZ1_b | ...] (B×n) and dwt = dzᵀ·x (n×D: each member's
	// dW1ᵀ, a contiguous block). While a member trains, its first layer's
	// weights live in its block of wt, where its update rule changes them
	// in place (its rule's state for them in the same, transposed, order);
	// its net's W1 is brought up to date (syncOut) before anything reads
	// it: evaluations, snapshots, results. Blocks of members that left are
	// zero. Each buffer has room for the widest layout.
	wt, z, dz, dwt []T
	cols           int // n
	scratch        []T // D×(widest first layer): transposes
	ev             []T // the members' evaluation rows
}

func newGroup[T Float](members []GroupMember[T], train, val Data, opt GroupOptions[T]) (*group[T], error) {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: group: "+format, append([]any{ErrConfig}, a...)...)
	}
	g := &group[T]{
		members: make([]groupMember[T], len(members)),
		results: make([]*Result[T], len(members)),
		train:   train,
		leave:   opt.Leave,
	}
	ref, resumed := -1, -1 // the first member that counts; the first training one that resumes
	for i, m := range members {
		gm := &g.members[i]
		gm.col = -1
		if m.Left < 0 {
			continue // leaves no trace
		}
		cfg := m.Config
		if err := cfg.Validate(); err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		if ref < 0 {
			ref = i
			g.perEpoch = max(train.X.Rows/cfg.BatchSize, 1)
			g.total = cfg.Iterations
			if cfg.Epochs > 0 {
				g.total = cfg.Epochs * g.perEpoch
			}
		}
		rc := members[ref].Config
		switch {
		case cfg.BatchSize != rc.BatchSize:
			return nil, bad("member %d has batch size %d, member %d %d: members share their minibatches", i, cfg.BatchSize, ref, rc.BatchSize)
		case cfg.Epochs != rc.Epochs || cfg.Iterations != rc.Iterations:
			return nil, bad("member %d trains for %d epochs or %d iterations, member %d for %d or %d: members share their length",
				i, cfg.Epochs, cfg.Iterations, ref, rc.Epochs, rc.Iterations)
		}
		if m.Left > 0 {
			if m.Left > g.total {
				return nil, bad("member %d left after %d steps, more than the %d of training", i, m.Left, g.total)
			}
			gm.steps = m.Left
			gm.width = firstWidth(cfg, train, val)
			continue
		}
		t, err := initTrainer(cfg, train, val, m.Resume)
		if err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		// The members evaluate one after another: one buffer for their
		// chunks of rows (500 × D each, 1.5 MB at D=784).
		t.ev = &g.ev
		gm.t, gm.training, gm.width = t, true, t.net.Dims[1]
		g.active++
		switch {
		case resumed < 0 && m.Resume != nil && g.active > 1:
			return nil, bad("member %d resumes and member %d does not: resume every training member or none", i, firstTraining(members))
		case resumed < 0 && m.Resume != nil:
			resumed = i
		case resumed >= 0 && m.Resume == nil:
			return nil, bad("member %d does not resume and member %d does: resume every training member or none", i, resumed)
		case resumed >= 0 && m.Resume.Iteration != members[resumed].Resume.Iteration:
			return nil, bad("member %d resumes from iteration %d, member %d from %d: resume all from one moment",
				i, m.Resume.Iteration, resumed, members[resumed].Resume.Iteration)
		case resumed >= 0 && !bytes.Equal(m.Resume.BatchRNG, members[resumed].Resume.BatchRNG):
			return nil, bad("member %d resumes with another minibatch stream than member %d: resume all from one moment", i, resumed)
		}
	}
	g.src = rand.NewPCG(opt.Seed, groupStream)
	g.rng = rand.New(g.src)
	if resumed >= 0 {
		s := members[resumed].Resume
		if s.BatchRNG == nil {
			return nil, bad("member %d: the snapshot has no minibatch stream (BatchRNG): not one of TrainGroup", resumed)
		}
		if err := g.src.UnmarshalBinary(s.BatchRNG); err != nil {
			return nil, bad("member %d: snapshot: minibatch stream: %v", resumed, err)
		}
		g.s = s.Iteration
	}
	if g.active == 0 {
		return g, nil
	}
	n, b, d := 0, members[ref].Config.BatchSize, train.X.Cols
	for i := range g.members {
		n += g.members[i].width
	}
	g.wt, g.dwt = make([]T, d*n), make([]T, d*n)
	g.z, g.dz = make([]T, b*n), make([]T, b*n)
	g.xb, g.yb, g.idx = make([]T, b*d), make([]int, b), make([]int, b)
	widest := 0
	for i := range g.members {
		widest = max(widest, g.members[i].width)
	}
	g.scratch = make([]T, d*widest)
	// The rules' state of the first layer's weights, in the order of the
	// blocks of wt.
	for i := range g.members {
		if m := &g.members[i]; m.training {
			g.reorderState(m, true)
		}
	}
	return g, nil
}

// transposeInto sets dst (c×r) to the transpose of src (r×c).
func transposeInto[T Float](dst, src []T, r, c int) {
	for i := range r {
		row := src[i*c : (i+1)*c]
		for j, v := range row {
			dst[j*r+i] = v
		}
	}
}

// reorderState puts the state of m's update rule for its first layer's
// weights (the first D·width elements of each slot) in the transposed
// order of wt (toGroup), or back in the net's order.
func (g *group[T]) reorderState(m *groupMember[T], toGroup bool) {
	d, h := g.train.X.Cols, m.width
	for _, sl := range m.t.rule.(splitRule[T]).slots() {
		w1 := sl[:d*h]
		tmp := g.scratch[:d*h]
		if toGroup {
			transposeInto(tmp, w1, d, h)
		} else {
			transposeInto(tmp, w1, h, d)
		}
		copy(w1, tmp)
	}
}

// syncIn copies m's first-layer weights from its net into its block of wt.
func (g *group[T]) syncIn(m *groupMember[T]) {
	d := g.train.X.Cols
	transposeInto(m.block(g.wt, d), m.t.net.w[0].Data, d, m.width)
}

// syncOut copies m's first-layer weights from its block of wt into its
// net, which then holds all of its parameters.
func (g *group[T]) syncOut(m *groupMember[T]) {
	if m.col < 0 {
		return
	}
	d := g.train.X.Cols
	transposeInto(m.t.net.w[0].Data, m.block(g.wt, d), m.width, d)
}

// syncAll is syncOut for every training member.
func (g *group[T]) syncAll() {
	for i := range g.members {
		if m := &g.members[i]; m.training {
			g.syncOut(m)
		}
	}
}

// firstWidth returns the number of outputs of the first affine layer of
// the net that cfg describes on train and val: its first hidden size, or
// the number of classes for a net without hidden layers.
func firstWidth(cfg Config, train, val Data) int {
	switch {
	case len(cfg.Hidden) > 0:
		return cfg.Hidden[0]
	case cfg.Classes > 0:
		return cfg.Classes
	}
	return Classes(train.Y, val.Y)
}

func firstTraining[T Float](members []GroupMember[T]) int {
	for i, m := range members {
		if m.Left == 0 {
			return i
		}
	}
	return -1
}

func (g *group[T]) run(ctx context.Context, hook func(context.Context, []*Snapshot[T]) error) ([]*Result[T], error) {
	for g.s < g.total && g.active > 0 {
		if err := ctx.Err(); err != nil {
			return g.cancel(err)
		}
		g.step()
		if g.s%g.perEpoch == 0 || g.s == g.total {
			g.syncAll() // the members evaluate their nets
		}
		for i := range g.members {
			if m := &g.members[i]; m.training {
				if res, _ := m.t.endStep(); res != nil {
					g.depart(i, res)
				}
			}
		}
		// At an epoch end, as Train calls its hook, but not at the end:
		// a completed member has nothing to resume.
		if g.s%g.perEpoch == 0 && g.s < g.total && g.active > 0 && hook != nil {
			snaps, err := g.snapshots()
			if err != nil {
				return nil, err
			}
			if err := hook(ctx, snaps); err != nil {
				return nil, fmt.Errorf("epoch hook at step %d: %w", g.s, err)
			}
		}
	}
	for i := range g.members {
		if g.members[i].training {
			g.depart(i, g.members[i].t.result(Completed))
		}
	}
	return g.results, nil
}

// depart records the result of member i, which leaves the group (its net
// up to date: syncOut).
func (g *group[T]) depart(i int, res *Result[T]) {
	m := &g.members[i]
	m.training, m.steps = false, res.Steps()
	g.results[i] = res
	g.active--
	// Its columns stay in the layout, zero, until its epoch ends.
	if m.col >= 0 {
		d, b, n := g.train.X.Cols, len(g.yb), g.cols
		clear(m.block(g.wt, d))
		for r := range b {
			clear(g.dz[r*n+m.col : r*n+m.col+m.width])
		}
	}
	if g.leave != nil {
		g.leave(i, res)
	}
}

// snapshots returns a snapshot of every training member, nil for the others.
func (g *group[T]) snapshots() ([]*Snapshot[T], error) {
	batch, err := g.src.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("save minibatch stream: %w", err)
	}
	snaps := make([]*Snapshot[T], len(g.members))
	d := g.train.X.Cols
	for i := range g.members {
		m := &g.members[i]
		if !m.training {
			continue
		}
		g.syncOut(m)
		if snaps[i], err = m.t.snapshot(); err != nil {
			return nil, fmt.Errorf("member %d: %w", i, err)
		}
		snaps[i].BatchRNG = slices.Clone(batch)
		// The state of the first layer's weights in the net's order.
		for _, sl := range snaps[i].Optimizer.Slots {
			w1 := sl[:d*m.width]
			tmp := g.scratch[:d*m.width]
			transposeInto(tmp, w1, m.width, d)
			copy(w1, tmp)
		}
	}
	return snaps, nil
}

// cancel ends the training of every training member with outcome Cancelled
// and a snapshot.
func (g *group[T]) cancel(err error) ([]*Result[T], error) {
	snaps, serr := g.snapshots()
	if serr != nil {
		return nil, errors.Join(err, serr)
	}
	for i, snap := range snaps {
		if snap != nil {
			res := g.members[i].t.result(Cancelled)
			res.Snapshot = snap
			g.results[i] = res
		}
	}
	return g.results, fmt.Errorf("group training stopped at step %d: %w", g.s, err)
}

// relayout sets every member's columns for step g.s. When the layout
// changes, the buffers are cleared and the training members' weights
// moved to their new blocks.
func (g *group[T]) relayout() {
	n, changed := 0, false
	for i := range g.members {
		m := &g.members[i]
		col := -1
		if m.inLayout(g.s, g.perEpoch) {
			col = n
			n += m.width
		}
		if col != m.col {
			changed = true
		}
	}
	if !changed {
		return
	}
	g.syncAll()
	d, b := g.train.X.Cols, len(g.yb)
	clear(g.wt[:d*n])
	clear(g.z[:b*n])
	clear(g.dz[:b*n])
	n = 0
	for i := range g.members {
		m := &g.members[i]
		m.col = -1
		if m.inLayout(g.s, g.perEpoch) {
			m.col = n
			n += m.width
		}
		if m.training {
			g.syncIn(m)
		}
	}
	g.cols = n
}

// step runs one step of every training member: one minibatch, the first
// layers' products fused, the rest of each net on its own, each member's
// update. A member whose loss is not finite leaves (Diverged), changing
// nothing. It does not allocate unless a member leaves or the layout
// changes.
func (g *group[T]) step() {
	g.relayout()
	rows, d, b, n := g.train.X.Rows, g.train.X.Cols, len(g.yb), g.cols
	for i := range g.idx {
		g.idx[i] = g.rng.IntN(rows)
	}
	gather(g.train, g.idx, g.xb, g.yb)
	wt, z, dz, dwt := g.wt[:n*d], g.z[:b*n], g.dz[:b*n], g.dwt[:n*d]

	// z = x·W1 + b as AffineForward computes it: b first, then the product
	// added to it.
	for i := range g.members {
		m := &g.members[i]
		if !m.training {
			continue
		}
		for r := range b {
			copy(z[r*n+m.col:r*n+m.col+m.width], m.t.net.b[0])
		}
	}
	gemm(blas.NoTrans, blas.Trans, b, n, d, 1, g.xb, d, wt, d, 1, z, n)

	for i := range g.members {
		m := &g.members[i]
		if !m.training {
			continue
		}
		t := m.t
		z1 := t.net.firstOut(b)
		fromColumns(z1, z, n, m.col)
		loss, dz1 := t.net.lossFrom(z1, g.yb)
		m.loss, m.dz1 = loss+t.net.regLoss(m.block(wt, d)), dz1
		if !isFinite(m.loss) {
			res := t.result(Diverged)
			res.DivergedAt = t.it + 1
			g.syncOut(m)
			g.depart(i, res)
			continue
		}
		toColumns(dz, n, m.col, m.dz1)
	}
	gemm(blas.Trans, blas.NoTrans, n, d, b, 1, dz, n, g.xb, d, 0, dwt, d)

	// dW1 = xᵀ·dZ1 + reg·W1 and db1 as AffineBackward computes them, then
	// the update, the first layer's weights where they are.
	for i := range g.members {
		m := &g.members[i]
		if !m.training {
			continue
		}
		t := m.t
		w1, dw1 := m.block(wt, d), m.block(dwt, d)
		if reg := t.net.Reg; reg != 0 {
			axpy(T(reg), w1, dw1)
		}
		colSums(t.net.db[0], m.dz1)
		t.updateSplit(m.loss, w1, dw1)
	}
	g.s++
}

// toColumns copies src (r×c) into the columns [col, col+c) of dst, which
// has r rows of n.
func toColumns[T Float](dst []T, n, col int, src Mat[T]) {
	c := src.Cols
	for r := range src.Rows {
		copy(dst[r*n+col:r*n+col+c], src.Data[r*c:(r+1)*c])
	}
}

// fromColumns copies the columns [col, col+c) of src, which has r rows of
// n, into dst (r×c).
func fromColumns[T Float](dst Mat[T], src []T, n, col int) {
	c := dst.Cols
	for r := range dst.Rows {
		copy(dst.Data[r*c:(r+1)*c], src[r*n+col:r*n+col+c])
	}
}
