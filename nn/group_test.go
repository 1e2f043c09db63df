package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// groupConfigs are the members of the test groups: different widths,
// depths, optimizers, learning rates, regularisation, normalisation,
// dropout, and a net without hidden layers, on blobSplits (20 steps per
// epoch of 50).
func groupConfigs() []Config {
	base := func(seed uint64, hidden []int, opt string, lr, reg float64) Config {
		return Config{Hidden: hidden, WeightScale: 1e-1, Optimizer: opt, LearningRate: lr, LRDecay: 0.95, Reg: reg,
			BatchSize: 50, Epochs: 5, Seed: seed}
	}
	plain := base(1, []int{32}, "sgd", 1e-1, 1e-3)
	momentum := base(2, []int{16}, "momentum", 5e-2, 0)
	bn := base(3, []int{24}, "adam", 1e-3, 1e-2)
	bn.Normalization, bn.WeightInit = "batchnorm", "he"
	drop := base(4, []int{40}, "nesterov", 1e-2, 1e-4)
	drop.Dropout, drop.Activation = []float64{0.3}, "tanh"
	deep := base(5, []int{20, 12}, "rmsprop", 1e-3, 1e-3)
	deep.Normalization, deep.LRSchedule, deep.WarmupEpochs = "layernorm", "cosine", 1
	softmax := base(6, nil, "sgd", 5e-2, 1e-3)
	return []Config{plain, momentum, bn, drop, deep, softmax}
}

func membersOf[T Float](cfgs ...Config) []GroupMember[T] {
	ms := make([]GroupMember[T], len(cfgs))
	for i, c := range cfgs {
		ms[i].Config = c
	}
	return ms
}

// pureGo reports whether the products are gonum's, whose columns do not
// depend on the width of the product they are computed in.
func pureGo() bool { return strings.HasPrefix(BLASBackend(), "gonum") }

// diffResults says how two results differ, bitwise; "" when they do not.
func diffResults[T Float](want, got *Result[T]) string {
	switch {
	case want == nil || got == nil:
		if want != got {
			return fmt.Sprintf("result %v, want %v", got, want)
		}
		return ""
	case got.Outcome != want.Outcome || got.Iterations != want.Iterations || got.DivergedAt != want.DivergedAt:
		return fmt.Sprintf("outcome %v after %d iterations (diverged at %d), want %v after %d (%d)",
			got.Outcome, got.Iterations, got.DivergedAt, want.Outcome, want.Iterations, want.DivergedAt)
	case !slices.Equal(got.LossHistory, want.LossHistory):
		return "loss histories differ"
	case !slices.Equal(got.History, want.History):
		return "histories differ"
	case !slices.Equal(got.Net.Params(), want.Net.Params()):
		return "final parameters differ"
	case !slices.Equal(got.BestParams, want.BestParams) || got.BestValAcc != want.BestValAcc || got.BestEpoch != want.BestEpoch:
		return "best parameters differ"
	case got.FinalValAcc != want.FinalValAcc || got.FinalValLoss != want.FinalValLoss || got.FinalTrainAcc != want.FinalTrainAcc:
		return "final evaluations differ"
	}
	return ""
}

// openBLASLossTol is the relative difference allowed between a member's
// losses in a group and alone with OpenBLAS, whose products round a
// column differently with other columns beside it (another blocking of
// the same sums): float32 products differ in their last bits (~1e-7),
// and over the 100 steps of these trainings the differences grow
// (each step's parameters carry the previous steps'): measured up to 1e-6
// on the minibatch losses and 4e-5 on the batchnorm member's validation
// loss. 1e-3 leaves room and still catches a member trained on other
// minibatches or with another's weights, whose losses differ by far more
// (tens of percent).
const openBLASLossTol = 1e-3

// closeResults says how two results of the same training differ beyond
// OpenBLAS's rounding; "" when they do not.
func closeResults[T Float](want, got *Result[T]) string {
	if got.Outcome != want.Outcome || got.Iterations != want.Iterations || len(got.LossHistory) != len(want.LossHistory) ||
		len(got.History) != len(want.History) {
		return fmt.Sprintf("outcome %v after %d iterations, want %v after %d", got.Outcome, got.Iterations, want.Outcome, want.Iterations)
	}
	for i, l := range got.LossHistory {
		if w := want.LossHistory[i]; math.Abs(l-w) > openBLASLossTol*math.Abs(w) {
			return fmt.Sprintf("loss of iteration %d is %g, want %g", i+1, l, w)
		}
	}
	for i, h := range got.History {
		if w := want.History[i]; math.Abs(h.ValLoss-w.ValLoss) > openBLASLossTol*math.Abs(w.ValLoss) {
			return fmt.Sprintf("validation loss of epoch %d is %g, want %g", i+1, h.ValLoss, w.ValLoss)
		}
	}
	return ""
}

// TestGroupMembersTrainAsAlone: every member of a group trains as it would
// alone, in a group of one with the same seed: bitwise with gonum's
// products, within rounding with OpenBLAS's.
func TestGroupMembersTrainAsAlone(t *testing.T) {
	t.Run("float32", func(t *testing.T) { testGroupMembersTrainAsAlone[float32](t) })
	t.Run("float64", func(t *testing.T) { testGroupMembersTrainAsAlone[float64](t) })
}

func testGroupMembersTrainAsAlone[T Float](t *testing.T) {
	train, val := blobSplits()
	cfgs := groupConfigs()
	const seed = 7
	together, err := TrainGroup(t.Context(), membersOf[T](cfgs...), train, val, GroupOptions[T]{Seed: seed})
	if err != nil {
		t.Fatal(err)
	}
	for i, cfg := range cfgs {
		alone, err := TrainGroup(t.Context(), membersOf[T](cfg), train, val, GroupOptions[T]{Seed: seed})
		if err != nil {
			t.Fatal(err)
		}
		r := together[i]
		if r.Outcome != Completed || r.Iterations != 100 || len(r.History) != 5 || !finite(r.LossHistory) {
			t.Errorf("member %d: outcome %v after %d iterations, %d epochs", i, r.Outcome, r.Iterations, len(r.History))
		}
		diff := closeResults(alone[0], r)
		if pureGo() {
			diff = diffResults(alone[0], r)
		}
		if diff != "" {
			t.Errorf("member %d (%v) in the group: %s", i, cfg.Hidden, diff)
		}
	}
	// A member learns: the blobs are separable.
	if acc := together[0].BestValAcc; acc < 0.9 {
		t.Errorf("member 0 reaches validation accuracy %g, want >= 0.9", acc)
	}
	// Another seed draws other minibatches.
	other, err := TrainGroup(t.Context(), membersOf[T](cfgs[0]), train, val, GroupOptions[T]{Seed: seed + 1})
	if err != nil {
		t.Fatal(err)
	}
	if slices.Equal(other[0].LossHistory, together[0].LossHistory) {
		t.Error("another group seed gave the same losses")
	}
}

// TestGroupOfOneTrainsLikeReference: a member trains as the coursework's
// Solver loop, written out here with the public API, would train it on
// the group's minibatches (those of the stream rand.NewPCG(seed,
// groupStream), BatchSize indices a step): within rounding (the group
// computes its first layer transposed, x·(W1ᵀ)ᵀ and dW1ᵀ = dz1ᵀ·x, which
// sum in another order than Loss's products, and the L2 term of W1 in
// its transposed order), with either backend; the same validation
// accuracy at every epoch.
// referenceTol bounds the relative difference of losses and parameters
// between a group of one and the reference over its 100 float32 steps:
// rounding differences (~1e-7 a step) that grow, most with Adam after
// batchnorm (2e-3 seen), against the tens of percent that a wrong
// minibatch, weight or update gives.
const referenceTol = 1e-2

func TestGroupOfOneTrainsLikeReference(t *testing.T) {
	train, val := blobSplits()
	train.Scale, train.Shift = make([]float32, 20), make([]float32, 20)
	for i := range train.Scale {
		train.Scale[i], train.Shift[i] = 0.5+float32(i)/40, float32(i)/20-0.5
	}
	val.Scale, val.Shift = train.Scale, train.Shift
	cfgs := groupConfigs()
	for _, i := range []int{0, 2, 3, 5} { // plain, batchnorm+adam, dropout+nesterov, no hidden layer
		cfg := cfgs[i]
		t.Run(fmt.Sprint(cfg.Hidden, cfg.Normalization, cfg.Optimizer), func(t *testing.T) {
			const seed = 11
			res, err := TrainGroup(t.Context(), membersOf[float32](cfg), train, val, GroupOptions[float32]{Seed: seed})
			if err != nil {
				t.Fatal(err)
			}
			losses, accs, net := referenceTraining[float32](t, cfg, seed, train, val)
			r := res[0]
			for k, l := range losses {
				if math.Abs(r.LossHistory[k]-l) > referenceTol*math.Abs(l) {
					t.Errorf("loss of step %d is %g, the reference's %g", k+1, r.LossHistory[k], l)
					break
				}
			}
			// Before batchnorm, b1's gradient is zero but for rounding, which
			// Adam scales up to steps of the learning rate: noise, which
			// moves the other parameters by a few percent in 100 steps
			// (the losses stay within referenceTol). Compare the others'.
			params := net.Params()
			if cfg.Normalization == "batchnorm" && cfg.Optimizer == "adam" {
				params = nil
			}
			for k, p := range params {
				if q := r.Net.Params()[k]; math.Abs(float64(q-p)) > referenceTol*(math.Abs(float64(p))+1e-3) {
					t.Errorf("parameter %d is %g, the reference's %g", k, q, p)
					break
				}
			}
			for e, h := range r.History {
				if h.ValAcc != accs[e] {
					t.Errorf("epoch %d: validation accuracy %g, reference %g", e+1, h.ValAcc, accs[e])
				}
			}
		})
	}
}

// referenceTraining trains cfg on train as the Solver does (step schedule,
// no patience) with the minibatches of a group seeded seed, and returns
// the losses, the validation accuracy at each epoch end and the net. The
// trial's source draws the initial weights, then the training-accuracy
// subset (no draw: train has at most DefaultTrainAccSamples rows), then
// the dropout masks.
func referenceTraining[T Float](t *testing.T, cfg Config, seed uint64, train, val Data) ([]float64, []float64, *FullyConnectedNet[T]) {
	t.Helper()
	if train.X.Rows > DefaultTrainAccSamples || cfg.LRSchedule == "cosine" || cfg.Iterations > 0 {
		t.Fatal("the reference does not draw a training subset, nor follow the cosine schedule or Iterations")
	}
	rng := rand.New(rand.NewPCG(cfg.Seed, 0x5eed5eed5eed5eed))
	net, err := NewNet[T](train.X.Cols, Classes(train.Y, val.Y), cfg, rng)
	if err != nil {
		t.Fatal(err)
	}
	rule, err := NewUpdateRule[T](cfg, net.NumTrainable())
	if err != nil {
		t.Fatal(err)
	}
	batches := rand.New(rand.NewPCG(seed, groupStream))
	n, d, b := train.X.Rows, train.X.Cols, cfg.BatchSize
	perEpoch := n / b
	lr := cfg.LearningRate
	var losses, accs []float64
	x, y := NewMat[T](b, d), make([]int, b)
	for it := 1; it <= cfg.Epochs*perEpoch; it++ {
		for i := range b {
			j := batches.IntN(n)
			for k, v := range train.X.Row(j) {
				x.Data[i*d+k] = T(v*train.Scale[k] + train.Shift[k])
			}
			y[i] = train.Y[j]
		}
		losses = append(losses, net.Loss(x, y))
		rule.Update(net.Params()[:net.NumTrainable()], net.Grads(), lr)
		if it%perEpoch == 0 {
			acc, _, err := Evaluate(net, val)
			if err != nil {
				t.Fatal(err)
			}
			accs = append(accs, acc)
			lr *= cfg.LRDecay
		}
	}
	return losses, accs, net
}

// TestGroupDivergence: a member whose loss becomes Inf leaves with outcome
// Diverged at that step, as Train reports it; the others complete; and a
// new attempt told that it left (Left) trains the others bitwise as the
// first did.
func TestGroupDivergence(t *testing.T) {
	train, val := blobSplits()
	cfgs := groupConfigs()
	wild := cfgs[0]
	wild.LearningRate, wild.Seed = 1e12, 99
	members := membersOf[float32](cfgs[0], wild, cfgs[2], cfgs[4])
	var left []int
	leave := func(i int, r *Result[float32]) {
		left = append(left, i)
		if r == nil || r.Outcome == Cancelled {
			t.Errorf("member %d left with %v", i, r)
		}
	}
	res, err := TrainGroup(t.Context(), members, train, val, GroupOptions[float32]{Seed: 3, Leave: leave})
	if err != nil {
		t.Fatal(err)
	}
	d := res[1]
	if d.Outcome != Diverged || d.DivergedAt < 2 || d.Steps() != d.DivergedAt {
		t.Fatalf("the wild member: outcome %v at %d", d.Outcome, d.DivergedAt)
	}
	if d.Iterations != d.DivergedAt-1 || len(d.LossHistory) != d.DivergedAt-1 || !finite(d.LossHistory) {
		t.Errorf("the wild member: %d iterations, %d losses", d.Iterations, len(d.LossHistory))
	}
	if !slices.Equal(left, []int{1, 0, 2, 3}) {
		t.Errorf("members left in the order %v, want the diverged one first", left)
	}
	for _, i := range []int{0, 2, 3} {
		if res[i].Outcome != Completed || res[i].Iterations != 100 {
			t.Errorf("member %d: outcome %v after %d iterations", i, res[i].Outcome, res[i].Iterations)
		}
	}
	alone, err := TrainGroup(t.Context(), membersOf[float32](wild), train, val, GroupOptions[float32]{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if diff := diffResults(alone[0], d); diff != "" && pureGo() {
		t.Errorf("the wild member alone: %s", diff)
	}

	// Again, with the wild member known to have left.
	members[1].Left = d.Steps()
	again, err := TrainGroup(t.Context(), members, train, val, GroupOptions[float32]{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	if again[1] != nil {
		t.Errorf("the member that left has a result: %v", again[1])
	}
	for _, i := range []int{0, 2, 3} {
		if diff := diffResults(res[i], again[i]); diff != "" {
			t.Errorf("member %d with Left: %s", i, diff)
		}
	}
	// A member that took no step leaves no trace: as absent.
	members[1].Left = -1
	without, err := TrainGroup(t.Context(), members, train, val, GroupOptions[float32]{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	short, err := TrainGroup(t.Context(), membersOf[float32](cfgs[0], cfgs[2], cfgs[4]), train, val, GroupOptions[float32]{Seed: 3})
	if err != nil {
		t.Fatal(err)
	}
	for j, i := range []int{0, 2, 3} {
		if diff := diffResults(short[j], without[i]); diff != "" {
			t.Errorf("member %d with Left -1: %s", i, diff)
		}
	}
}

// TestGroupResume: a group interrupted at any step (in mid-epoch, at an
// epoch end from the hook's snapshots, or as a member leaves) and resumed
// from its members' snapshots ends bitwise as the uninterrupted one, with
// the members that had left given Left.
func TestGroupResume(t *testing.T) {
	train, val := blobSplits()
	cfgs := groupConfigs()[:5]
	wild := groupConfigs()[0]
	wild.LearningRate, wild.LRDecay = 5, 1 // diverges in the third epoch
	cfgs = append(cfgs, wild)
	const w = 5 // the wild member
	opt := GroupOptions[float32]{Seed: 7}
	var hooked []int // iterations of the hook's calls
	opt.Hook = func(_ context.Context, snaps []*Snapshot[float32]) error {
		var it int
		var batch []byte
		for i, s := range snaps {
			if s == nil {
				continue
			}
			if batch != nil && (s.Iteration != it || !slices.Equal(s.BatchRNG, batch)) {
				t.Errorf("member %d's snapshot is of iteration %d, not %d, or of another stream", i, s.Iteration, it)
			}
			it, batch = s.Iteration, s.BatchRNG
		}
		hooked = append(hooked, it)
		return nil
	}
	full, err := TrainGroup(t.Context(), membersOf[float32](cfgs...), train, val, opt)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(hooked, []int{20, 40, 60, 80}) {
		t.Errorf("the hook saw iterations %v, want every epoch end but the last", hooked)
	}
	div := full[w].DivergedAt
	if full[w].Outcome != Diverged || div <= 40 || div >= 60 {
		t.Fatalf("the wild member: %v at %d, want diverged in the third epoch: pick another learning rate", full[w].Outcome, div)
	}

	// resume resumes from the cancelled results, with Left for the
	// members that had left, and checks every result against full's.
	resume := func(what string, cancelled []*Result[float32], at int) {
		t.Helper()
		members := membersOf[float32](cfgs...)
		for i, r := range cancelled {
			switch {
			case r.Outcome == Cancelled && r.Snapshot.Iteration == at:
				members[i].Resume = r.Snapshot
			case r.Outcome == Cancelled:
				t.Fatalf("%s: member %d cancelled at %d, want %d", what, i, r.Snapshot.Iteration, at)
			default:
				if diff := diffResults(full[i], r); diff != "" {
					t.Errorf("%s: member %d, which left before: %s", what, i, diff)
				}
				members[i].Left = r.Steps()
			}
		}
		resumed, err := TrainGroup(t.Context(), members, train, val, GroupOptions[float32]{})
		if err != nil {
			t.Fatal(err)
		}
		for i, r := range resumed {
			if members[i].Left > 0 {
				continue
			}
			if diff := diffResults(full[i], r); diff != "" {
				t.Errorf("%s: member %d: %s", what, i, diff)
			}
		}
	}

	// In mid-epoch, after the wild member left in that epoch.
	stop := (div-1)/20*20 + 19
	ctx := &countingCtx{Context: t.Context()}
	ctx.n.Store(int64(stop))
	cancelled, err := TrainGroup(ctx, membersOf[float32](cfgs...), train, val, opt)
	if !errors.Is(err, context.Canceled) || cancelled == nil {
		t.Fatalf("cancel: err %v", err)
	}
	resume("mid-epoch", cancelled, stop)

	// At the end of epoch 2, by the hook, with every member training.
	cctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var snaps []*Snapshot[float32]
	hopt := opt
	hopt.Hook = func(_ context.Context, s []*Snapshot[float32]) error {
		if s[0].Epoch == 2 {
			snaps = s
			cancel()
		}
		return nil
	}
	cancelled, err = TrainGroup(cctx, membersOf[float32](cfgs...), train, val, hopt)
	if !errors.Is(err, context.Canceled) || snaps == nil {
		t.Fatalf("cancel from the hook: err %v", err)
	}
	for i, r := range cancelled {
		if r.Outcome != Cancelled || !slices.Equal(r.Snapshot.Params, snaps[i].Params) || !slices.Equal(r.Snapshot.BatchRNG, snaps[i].BatchRNG) {
			t.Errorf("member %d: cancelled snapshot differs from the hook's", i)
		}
		cancelled[i] = &Result[float32]{Outcome: Cancelled, Snapshot: snaps[i]}
	}
	resume("epoch end", cancelled, 40)
	// The same, in an attempt that knows that the wild member left later.
	cancelled[w] = full[w]
	resume("epoch end, with Left", cancelled, 40)

	// As the wild member leaves: before the next step.
	cctx, cancel = context.WithCancel(t.Context())
	defer cancel()
	lopt := opt
	lopt.Leave = func(int, *Result[float32]) { cancel() }
	cancelled, err = TrainGroup(cctx, membersOf[float32](cfgs...), train, val, lopt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel from Leave: err %v", err)
	}
	resume("as a member leaves", cancelled, div)

	// Before the first step.
	cctx, cancel = context.WithCancel(t.Context())
	cancel()
	cancelled, err = TrainGroup(cctx, membersOf[float32](cfgs...), train, val, opt)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("cancel before the start: err %v", err)
	}
	resume("before the start", cancelled, 0)
}

// TestGroupPatience: a member whose validation accuracy stops improving
// leaves at the epoch its Patience runs out; the others go on.
func TestGroupPatience(t *testing.T) {
	train, val := blobSplits()
	patient, other := baseConfig(), groupConfigs()[1]
	patient.Epochs, other.Epochs = 40, 40
	plain, err := TrainGroup(t.Context(), membersOf[float32](patient, other), train, val, GroupOptions[float32]{Seed: 5})
	if err != nil {
		t.Fatal(err)
	}
	// Where patience 3 must stop: 3 epochs after the best so far.
	stopAt, best, bestEpoch := 0, -1.0, 0
	for e, h := range plain[0].History {
		if h.ValAcc > best {
			best, bestEpoch = h.ValAcc, e+1
		}
		if e+1-bestEpoch >= 3 {
			stopAt = e + 1
			break
		}
	}
	if stopAt == 0 {
		t.Fatal("the validation accuracy never plateaued for 3 epochs: pick another config")
	}
	patient.Patience = 3
	var training []bool // per hook call: is the patient member in it
	hook := func(_ context.Context, snaps []*Snapshot[float32]) error {
		training = append(training, snaps[0] != nil)
		return nil
	}
	res, err := TrainGroup(t.Context(), membersOf[float32](patient, other), train, val, GroupOptions[float32]{Seed: 5, Hook: hook})
	if err != nil {
		t.Fatal(err)
	}
	r := res[0]
	if r.Outcome != EarlyStopped || len(r.History) != stopAt || r.Iterations != 20*stopAt {
		t.Fatalf("outcome %v after %d epochs, want early stopped after %d", r.Outcome, len(r.History), stopAt)
	}
	if !slices.Equal(r.History, plain[0].History[:stopAt]) || r.BestValAcc != best || r.BestEpoch != float64(bestEpoch) {
		t.Error("history or best epoch differs from the run without patience")
	}
	if o := res[1]; o.Outcome != Completed || o.Iterations != 800 {
		t.Errorf("the other member: outcome %v after %d iterations", o.Outcome, o.Iterations)
	}
	if len(training) != 39 || slices.Index(training, false) != stopAt-1 || slices.Contains(training[stopAt-1:], true) {
		t.Errorf("the patient member is in the hook's snapshots %v, want in the first %d", training, stopAt-1)
	}
}

// TestGroupErrors: groups that cannot train are ErrConfig, without results.
func TestGroupErrors(t *testing.T) {
	train, val := blobSplits()
	cfgs := groupConfigs()
	var snaps []*Snapshot[float32]
	hook := func(_ context.Context, s []*Snapshot[float32]) error {
		if snaps == nil {
			snaps = s
		}
		return nil
	}
	if _, err := TrainGroup(t.Context(), membersOf[float32](cfgs[:2]...), train, val, GroupOptions[float32]{Hook: hook}); err != nil {
		t.Fatal(err)
	}
	var alone *Snapshot[float32] // a snapshot of Train's
	if _, err := Train(t.Context(), cfgs[1], train, val, TrainOptions[float32]{Hook: func(_ context.Context, s *Snapshot[float32]) (bool, error) {
		alone = s
		return true, nil
	}}); err != nil {
		t.Fatal(err)
	}
	mod := func(f func(ms []GroupMember[float32])) []GroupMember[float32] {
		ms := membersOf[float32](cfgs[:2]...)
		f(ms)
		return ms
	}
	resume := func(f func(s0, s1 *Snapshot[float32])) []GroupMember[float32] {
		ms := membersOf[float32](cfgs[:2]...)
		s0, s1 := *snaps[0], *snaps[1]
		f(&s0, &s1)
		ms[0].Resume, ms[1].Resume = &s0, &s1
		return ms
	}
	tests := []struct {
		name    string
		members []GroupMember[float32]
		train   Data
		want    string
	}{
		{"batch size", mod(func(ms []GroupMember[float32]) { ms[1].Config.BatchSize = 25 }), train, "member 1 has batch size 25"},
		{"epochs", mod(func(ms []GroupMember[float32]) { ms[1].Config.Epochs = 6 }), train, "member 1 trains for 6 epochs"},
		{"iterations", mod(func(ms []GroupMember[float32]) { ms[0].Config.Epochs, ms[0].Config.Iterations = 0, 100 }), train, "member 1 trains for 5 epochs"},
		{"config", mod(func(ms []GroupMember[float32]) { ms[1].Config.LearningRate = -1 }), train, "member 1: "},
		{"left config", mod(func(ms []GroupMember[float32]) { ms[0].Config.Hidden, ms[0].Left = []int{0}, 3 }), train, "member 0: "},
		{"left too late", mod(func(ms []GroupMember[float32]) { ms[0].Left = 101 }), train, "member 0 left after 101 steps"},
		{"left batch size", mod(func(ms []GroupMember[float32]) { ms[0].Config.BatchSize, ms[0].Left = 10, 3 }), train, "member 1 has batch size 50"},
		{"data", membersOf[float32](cfgs[0]), Data{X: train.X, Y: train.Y[:10]}, "member 0: "},
		{"mixed resume", mod(func(ms []GroupMember[float32]) { ms[0].Resume = snaps[0] }), train, "member 1 does not resume and member 0 does"},
		{"mixed resume 2", mod(func(ms []GroupMember[float32]) { ms[1].Resume = snaps[1] }), train, "member 1 resumes and member 0 does not"},
		{"iteration", resume(func(_, s1 *Snapshot[float32]) {
			s1.Iteration, s1.LossHistory = 19, s1.LossHistory[:19]
		}), train, "member 1 resumes from iteration 19, member 0 from 20"},
		{"stream", resume(func(_, s1 *Snapshot[float32]) { s1.BatchRNG = slices.Clone(snaps[0].BatchRNG[:4]) }), train, "another minibatch stream"},
		{"bad stream", resume(func(s0, s1 *Snapshot[float32]) { s0.BatchRNG, s1.BatchRNG = []byte("x"), []byte("x") }), train, "minibatch stream"},
		{"train snapshot", resume(func(s0, s1 *Snapshot[float32]) { *s1 = *alone; s0.BatchRNG = nil; s0.Iteration = 20 }), train, "not one of TrainGroup"},
		{"params", resume(func(s0, _ *Snapshot[float32]) { s0.Params = s0.Params[:3] }), train, "member 0: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			res, err := TrainGroup(t.Context(), tc.members, tc.train, val, GroupOptions[float32]{})
			if !errors.Is(err, ErrConfig) || res != nil {
				t.Fatalf("err = %v (results %v), want ErrConfig", err, res)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to say %q", err, tc.want)
			}
		})
	}
	// No member to train: nothing to do.
	res, err := TrainGroup(t.Context(), mod(func(ms []GroupMember[float32]) { ms[0].Left, ms[1].Left = 4, -1 }), train, val, GroupOptions[float32]{})
	if err != nil || len(res) != 2 || res[0] != nil || res[1] != nil {
		t.Errorf("a group of members that left: %v, %v", res, err)
	}
	// The hook's error ends the training.
	boom := errors.New("disk full")
	_, err = TrainGroup(t.Context(), membersOf[float32](cfgs[0]), train, val, GroupOptions[float32]{
		Hook: func(context.Context, []*Snapshot[float32]) error { return boom }})
	if !errors.Is(err, boom) {
		t.Errorf("err = %v, want the hook's", err)
	}
}
