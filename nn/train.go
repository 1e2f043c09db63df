package nn

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"slices"
	"unsafe"

	"github.com/sweep-dev/sweep/internal/prefetch"
)

// Config is everything that decides how one net is built and trained. Zero
// values of optional fields take the coursework's defaults (see Defaults).
type Config struct {
	Hidden      []int   // hidden layer sizes; [50] is the coursework's TwoLayerNet
	Activation  string  // relu (default), swish or tanh
	WeightScale float64 // weights ~ N(0, WeightScale²) when WeightInit is ""
	// WeightInit, when set, replaces WeightScale by a per-layer scale:
	// "he" (std √(2/fan_in)) or "xavier" (std √(1/fan_in)).
	WeightInit string
	// Normalization after each hidden affine layer, before its activation:
	// "none" (or ""), "batchnorm" or "layernorm".
	Normalization string
	// Dropout is the drop probability after each hidden activation
	// (inverted dropout): nil for none, one value for every hidden layer,
	// or one per hidden layer.
	Dropout []float64

	Optimizer    string  // sgd (default), momentum, nesterov, rmsprop or adam
	LearningRate float64 // initial learning rate
	LRDecay      float64 // step schedule: multiplies the learning rate once per epoch; 0 means 1 (no decay)
	// LRSchedule is "step" (or "": LRDecay once per epoch) or "cosine":
	// after WarmupEpochs of linear warm-up, the learning rate follows half
	// a cosine from LearningRate to 0 over the remaining iterations.
	LRSchedule   string
	WarmupEpochs int
	Reg          float64 // L2 strength
	Momentum     float64 // momentum's mu (default 0.9)
	DecayRate    float64 // rmsprop's decay (default 0.99)
	Beta1, Beta2 float64 // adam (defaults 0.9, 0.999)
	Epsilon      float64 // rmsprop and adam (default 1e-8)

	BatchSize  int // minibatch size
	Iterations int // number of minibatch steps; exactly one of Iterations and Epochs
	Epochs     int // number of epochs of max(N/BatchSize, 1) steps each
	// Patience, when positive, ends training (outcome EarlyStopped) after
	// that many epochs without a better validation accuracy.
	Patience int

	// TrainAccSamples is the size of the fixed random subset of training
	// samples on which training accuracy is measured (default 1000).
	TrainAccSamples int
	Seed            uint64 // seeds the trial's random source: initial weights, subset, minibatches
	// Classes is the number of classes (outputs); 0 means 1 + the largest
	// label of the training and validation data.
	Classes int
}

// DefaultTrainAccSamples is the training-accuracy subset size of the coursework's Solver.
const DefaultTrainAccSamples = 1000

// Validate reports the first problem that makes cfg impossible to train.
func (c Config) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: "+format, append([]any{ErrConfig}, a...)...)
	}
	for i, h := range c.Hidden {
		if h <= 0 {
			return bad("hidden[%d] = %d must be positive", i, h)
		}
	}
	if _, err := ParseActivation(c.Activation); err != nil {
		return err
	}
	if _, err := ParseNormalization(c.Normalization); err != nil {
		return err
	}
	if _, err := dropouts(c.Dropout, len(c.Hidden)); err != nil {
		return err
	}
	if _, err := NewUpdateRule[float64](c, 0); err != nil {
		return err
	}
	switch c.WeightInit {
	case "", "he", "xavier":
	default:
		return bad("weight initialisation %q (want he or xavier, or a number)", c.WeightInit)
	}
	switch c.LRSchedule {
	case "", "step", "cosine":
	default:
		return bad("lr_schedule %q (want step or cosine)", c.LRSchedule)
	}
	switch {
	case c.WeightInit == "" && (!(c.WeightScale > 0) || math.IsInf(c.WeightScale, 0)):
		return bad("weight_scale %g must be positive", c.WeightScale)
	case !(c.LearningRate > 0) || math.IsInf(c.LearningRate, 0):
		return bad("learning_rate %g must be positive", c.LearningRate)
	case c.LRDecay < 0 || math.IsNaN(c.LRDecay) || math.IsInf(c.LRDecay, 0):
		return bad("lr_decay %g must be positive", c.LRDecay)
	case c.Reg < 0 || math.IsNaN(c.Reg) || math.IsInf(c.Reg, 0):
		return bad("reg %g must be non-negative", c.Reg)
	case c.BatchSize <= 0:
		return bad("batch_size %d must be positive", c.BatchSize)
	case c.Iterations < 0 || c.Epochs < 0:
		return bad("iterations %d and epochs %d must not be negative", c.Iterations, c.Epochs)
	case (c.Iterations > 0) == (c.Epochs > 0):
		return bad("exactly one of iterations (%d) and epochs (%d) must be set", c.Iterations, c.Epochs)
	case c.TrainAccSamples < 0:
		return bad("train accuracy samples %d must not be negative", c.TrainAccSamples)
	case c.Classes < 0:
		return bad("classes %d must not be negative", c.Classes)
	case c.WarmupEpochs < 0:
		return bad("warmup_epochs %d must not be negative", c.WarmupEpochs)
	case c.Epochs > 0 && c.WarmupEpochs >= c.Epochs:
		return bad("warmup_epochs %d must be less than epochs %d", c.WarmupEpochs, c.Epochs)
	case c.Patience < 0:
		return bad("patience %d must not be negative", c.Patience)
	}
	return nil
}

// Data is a labelled data set: the rows of X are samples, Y their classes.
// It is only read, so one Data can feed many concurrent trainings.
type Data struct {
	X Mat[float32]
	Y []int
	// Scale and Shift, when set (D values each), transform every row as it
	// is read: x·Scale + Shift, feature by feature. They let trials share
	// one copy of the data under different input preprocessing.
	Scale, Shift []float32
}

// Outcome says how a training ended.
type Outcome int

const (
	Completed    Outcome = iota // every iteration ran
	Stopped                     // the epoch hook asked to stop (early stopping)
	Diverged                    // the loss became NaN or Inf
	Cancelled                   // the context was cancelled
	EarlyStopped                // Config.Patience epochs passed without a better validation accuracy
)

func (o Outcome) String() string {
	switch o {
	case Completed:
		return "completed"
	case Stopped:
		return "stopped"
	case Diverged:
		return "diverged"
	case Cancelled:
		return "cancelled"
	case EarlyStopped:
		return "early stopped"
	}
	return fmt.Sprintf("Outcome(%d)", int(o))
}

// EpochStats is one entry of the training history, recorded at the end of
// each epoch and at the end of training.
type EpochStats struct {
	Epoch        float64 // epochs completed (fractional for a final partial epoch)
	Iteration    int     // iterations completed
	LearningRate float64 // the learning rate of the epoch's last iteration
	Loss         float64 // mean minibatch loss since the previous entry
	TrainAcc     float64 // accuracy on the fixed training subset
	ValAcc       float64 // validation accuracy
	ValLoss      float64 // mean validation cross-entropy (without the L2 term)
}

// Snapshot is the full state of a training between two iterations: resuming
// from it gives bitwise the result of an uninterrupted run. The slices are
// owned by the snapshot.
type Snapshot[T Float] struct {
	Iteration    int     // iterations completed
	Epoch        int     // epochs completed
	LearningRate float64 // step schedule: the learning rate of the next iteration
	Params       []T     // the net's flat parameters, running statistics included
	Optimizer    OptimizerState[T]
	RNG          []byte // the random source's state (PCG, MarshalBinary)
	// BatchRNG, for a member of a group (TrainGroup), is the state of the
	// group's minibatch stream (PCG, MarshalBinary), the same in the
	// snapshots of every member taken together; nil for a training of its
	// own (Train), which draws its minibatches from RNG.
	BatchRNG    []byte
	TrainSubset []int // indices of the training-accuracy subset

	LossHistory []float64 // loss of every iteration so far
	History     []EpochStats
	EpochLoss   float64 // sum of the losses since the last history entry
	EpochSteps  int     // and their number

	BestValAcc  float64 // best validation accuracy so far (-1 before the first evaluation)
	BestValLoss float64 // validation loss at that point
	BestEpoch   float64 // when it was reached
	BestParams  []T     // parameters at that point
}

// Result is what a training produced.
type Result[T Float] struct {
	Outcome    Outcome
	Iterations int // iterations completed
	DivergedAt int // for Diverged: the 1-based iteration whose loss (or evaluation) was not finite

	BestValAcc    float64 // the best validation accuracy seen (the Solver keeps these params)
	BestValLoss   float64
	BestEpoch     float64
	FinalValAcc   float64 // at the last evaluation
	FinalValLoss  float64
	FinalTrainAcc float64

	History     []EpochStats
	LossHistory []float64

	Net        *FullyConnectedNet[T] // the net with its final parameters
	BestParams []T                   // the parameters with the best validation accuracy

	// Snapshot is the state at which a cancelled training stopped; Train
	// resumes from it (TrainOptions.Resume). Nil for other outcomes.
	Snapshot *Snapshot[T]
}

// TrainOptions are the optional parts of a training.
type TrainOptions[T Float] struct {
	// Hook, when set, is called at the end of every epoch with a snapshot
	// that it owns. Returning stop = true ends training with outcome
	// Stopped; an error ends it with that error.
	Hook func(ctx context.Context, s *Snapshot[T]) (stop bool, err error)
	// Resume, when set, continues the training from this snapshot instead of
	// initialising a new net. cfg, train and val must be those it came from.
	Resume *Snapshot[T]
}

// trainer holds one training's state and buffers.
type trainer[T Float] struct {
	cfg        Config
	train, val Data
	net        *FullyConnectedNet[T]
	rule       UpdateRule[T]
	src        *rand.PCG
	rng        *rand.Rand

	total, perEpoch int
	it, epoch       int
	lr              float64 // the step schedule's current rate
	stepLR          float64 // the rate of the last iteration
	warmup          int     // cosine: iterations of linear warm-up
	subset          []int
	lossHist        []float64
	hist            []EpochStats
	epochLoss       float64
	epochSteps      int
	bestAcc         float64
	bestLoss        float64
	bestEpoch       float64
	bestParams      []T

	xb                                    []T   // minibatch rows (Train's; a group's members share the group's)
	yb                                    []int // minibatch labels
	idx                                   []int // minibatch row indices
	ev                                    *[]T  // evaluation chunk rows (a group's members share one)
	lastTrainAcc, lastValAcc, lastValLoss float64
}

// evalChunk is the number of rows evaluated at once.
const evalChunk = 500

// Train trains a FullyConnectedNet on train, evaluating on val, as the
// coursework's Solver does: minibatches of cfg.BatchSize drawn uniformly with
// replacement, the learning rate multiplied by cfg.LRDecay at the end of every
// epoch, training and validation accuracy recorded at each epoch end and at
// the end, and the parameters with the best validation accuracy kept.
//
// A NaN or Inf loss ends training with outcome Diverged. A cancelled ctx ends
// it within one iteration with outcome Cancelled, a Snapshot to resume from,
// and an error wrapping ctx.Err(). Other errors are ErrConfig (bad cfg, data
// or snapshot) or the hook's.
func Train[T Float](ctx context.Context, cfg Config, train, val Data, opt TrainOptions[T]) (*Result[T], error) {
	t, err := newTrainer[T](cfg, train, val, opt.Resume)
	if err != nil {
		return nil, err
	}
	return t.run(ctx, opt.Hook)
}

func checkData(name string, d Data, classes int) error {
	if d.X.Rows != len(d.Y) || len(d.X.Data) != d.X.Rows*d.X.Cols {
		return fmt.Errorf("%w: %s data has %d rows of %d and %d labels (%d values)", ErrConfig, name, d.X.Rows, d.X.Cols, len(d.Y), len(d.X.Data))
	}
	if d.X.Rows == 0 {
		return fmt.Errorf("%w: %s data is empty", ErrConfig, name)
	}
	if (d.Scale != nil && len(d.Scale) != d.X.Cols) || (d.Shift != nil && len(d.Shift) != d.X.Cols) {
		return fmt.Errorf("%w: %s data has %d columns, a transform of %d scales and %d shifts", ErrConfig, name, d.X.Cols, len(d.Scale), len(d.Shift))
	}
	for i, y := range d.Y {
		if y < 0 || y >= classes {
			return fmt.Errorf("%w: %s label %d is %d, outside [0, %d)", ErrConfig, name, i, y, classes)
		}
	}
	return nil
}

// Classes returns the number of classes in the labels: 1 + the largest.
func Classes(ys ...[]int) int {
	c := 0
	for _, y := range ys {
		for _, v := range y {
			c = max(c, v+1)
		}
	}
	return c
}

// newTrainer returns the trainer of Train, with its minibatch buffers.
func newTrainer[T Float](cfg Config, train, val Data, resume *Snapshot[T]) (*trainer[T], error) {
	t, err := initTrainer(cfg, train, val, resume)
	if err != nil {
		return nil, err
	}
	t.xb = make([]T, cfg.BatchSize*train.X.Cols)
	t.yb = make([]int, cfg.BatchSize)
	t.idx = make([]int, cfg.BatchSize)
	return t, nil
}

// initTrainer checks cfg and the data and returns a trainer with its net,
// update rule, random source and state (initial, or resume's), without the
// minibatch buffers that step uses: a group's members share the group's.
func initTrainer[T Float](cfg Config, train, val Data, resume *Snapshot[T]) (*trainer[T], error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	classes := cfg.Classes
	if classes == 0 {
		classes = Classes(train.Y, val.Y)
	}
	if err := checkData("training", train, classes); err != nil {
		return nil, err
	}
	if err := checkData("validation", val, classes); err != nil {
		return nil, err
	}
	if train.X.Cols != val.X.Cols {
		return nil, fmt.Errorf("%w: training data has %d columns, validation data %d", ErrConfig, train.X.Cols, val.X.Cols)
	}
	t := &trainer[T]{cfg: cfg, train: train, val: val}
	t.src = rand.NewPCG(cfg.Seed, 0x5eed5eed5eed5eed)
	t.rng = rand.New(t.src)
	var err error
	if resume == nil {
		t.net, err = NewNet[T](train.X.Cols, classes, cfg, t.rng)
	} else {
		t.net, err = NetFromConfig[T](train.X.Cols, classes, cfg, nil)
	}
	if err != nil {
		return nil, err
	}
	t.net.SetRand(t.rng)
	if t.rule, err = NewUpdateRule[T](cfg, t.net.NumTrainable()); err != nil {
		return nil, err
	}
	t.perEpoch = max(train.X.Rows/cfg.BatchSize, 1)
	t.total = cfg.Iterations
	if cfg.Epochs > 0 {
		t.total = cfg.Epochs * t.perEpoch
	}
	t.lr = cfg.LearningRate
	t.warmup = min(cfg.WarmupEpochs*t.perEpoch, t.total-1)
	t.bestAcc, t.bestLoss = -1, math.Inf(1)
	t.bestParams = make([]T, len(t.net.Params()))
	if resume != nil {
		if err := t.restore(resume); err != nil {
			return nil, err
		}
	} else {
		t.subset = trainSubset(t.rng, train.X.Rows, cfg.TrainAccSamples)
		t.lossHist = make([]float64, 0, t.total)
	}
	return t, nil
}

// trainSubset returns the indices of the fixed training-accuracy subset:
// every sample when there are at most k, otherwise k distinct ones at random.
func trainSubset(rng *rand.Rand, n, k int) []int {
	if k == 0 {
		k = DefaultTrainAccSamples
	}
	if n <= k {
		s := make([]int, n)
		for i := range s {
			s[i] = i
		}
		return s
	}
	return rng.Perm(n)[:k]
}

func (t *trainer[T]) restore(s *Snapshot[T]) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: snapshot: "+format, append([]any{ErrConfig}, a...)...)
	}
	n := len(t.net.Params())
	switch {
	case len(s.Params) != n:
		return bad("%d parameters, net has %d", len(s.Params), n)
	case len(s.BestParams) != n:
		return bad("%d best parameters, net has %d", len(s.BestParams), n)
	case s.Iteration < 0 || s.Iteration > t.total:
		return bad("iteration %d outside [0, %d]", s.Iteration, t.total)
	case len(s.LossHistory) != s.Iteration:
		return bad("%d losses for %d iterations", len(s.LossHistory), s.Iteration)
	}
	for _, i := range s.TrainSubset {
		if i < 0 || i >= t.train.X.Rows {
			return bad("training subset index %d outside [0, %d)", i, t.train.X.Rows)
		}
	}
	if err := t.src.UnmarshalBinary(s.RNG); err != nil {
		return bad("random state: %v", err)
	}
	if err := t.rule.SetState(s.Optimizer); err != nil {
		return err
	}
	copy(t.net.Params(), s.Params)
	copy(t.bestParams, s.BestParams)
	t.it, t.epoch, t.lr = s.Iteration, s.Epoch, s.LearningRate
	t.subset = slices.Clone(s.TrainSubset)
	t.lossHist = slices.Grow(slices.Clone(s.LossHistory), t.total-s.Iteration)
	t.hist = slices.Clone(s.History)
	t.epochLoss, t.epochSteps = s.EpochLoss, s.EpochSteps
	t.bestAcc, t.bestLoss, t.bestEpoch = s.BestValAcc, s.BestValLoss, s.BestEpoch
	if n := len(t.hist); n > 0 {
		last := t.hist[n-1]
		t.lastTrainAcc, t.lastValAcc, t.lastValLoss = last.TrainAcc, last.ValAcc, last.ValLoss
	}
	return nil
}

// snapshot returns a copy of the current state.
func (t *trainer[T]) snapshot() (*Snapshot[T], error) {
	rng, err := t.src.MarshalBinary()
	if err != nil {
		return nil, fmt.Errorf("save random state: %w", err)
	}
	return &Snapshot[T]{
		Iteration: t.it, Epoch: t.epoch, LearningRate: t.lr,
		Params:      slices.Clone(t.net.Params()),
		Optimizer:   t.rule.State(),
		RNG:         rng,
		TrainSubset: slices.Clone(t.subset),
		LossHistory: slices.Clone(t.lossHist),
		History:     slices.Clone(t.hist),
		EpochLoss:   t.epochLoss, EpochSteps: t.epochSteps,
		BestValAcc: t.bestAcc, BestValLoss: t.bestLoss, BestEpoch: t.bestEpoch,
		BestParams: slices.Clone(t.bestParams),
	}, nil
}

func (t *trainer[T]) result(o Outcome) *Result[T] {
	return &Result[T]{
		Outcome: o, Iterations: t.it,
		BestValAcc: t.bestAcc, BestValLoss: t.bestLoss, BestEpoch: t.bestEpoch,
		FinalValAcc: t.lastValAcc, FinalValLoss: t.lastValLoss, FinalTrainAcc: t.lastTrainAcc,
		History: t.hist, LossHistory: t.lossHist,
		Net: t.net, BestParams: t.bestParams,
	}
}

// step runs one iteration: a minibatch drawn with replacement, forward and
// backward, the update. It reports false, changing nothing, when the loss is
// not finite. It does not allocate (the loss history has its capacity).
func (t *trainer[T]) step() bool {
	for i := range t.idx {
		t.idx[i] = t.rng.IntN(t.train.X.Rows)
	}
	gather(t.train, t.idx, t.xb, t.yb)
	loss := t.net.Loss(Mat[T]{Rows: len(t.yb), Cols: t.train.X.Cols, Data: t.xb}, t.yb)
	if !isFinite(loss) {
		return false
	}
	t.update(loss)
	return true
}

func isFinite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// gather copies the rows idx of d, transformed, into xb and their labels
// into yb.
func gather[T Float](d Data, idx []int, xb []T, yb []int) {
	cols := d.X.Cols
	// The rows are scattered over the training set, which is far larger
	// than the caches: fetching each from memory is most of the gather's
	// time. Ask for the row gatherAhead places ahead while copying this one.
	for i, j := range idx {
		if k := i + gatherAhead; k < len(idx) {
			prefetch.Range(unsafe.Pointer(&d.X.Data[idx[k]*cols]), cols*int(unsafe.Sizeof(float32(0))))
		}
		readRow(xb[i*cols:(i+1)*cols], d.X.Row(j), d.Scale, d.Shift)
		yb[i] = d.Y[j]
	}
}

// update ends an iteration whose loss was finite and whose gradients are in
// the net's Grads: it records the loss and applies the update rule.
func (t *trainer[T]) update(loss float64) {
	t.lossHist = append(t.lossHist, loss)
	t.epochLoss += loss
	t.epochSteps++
	t.stepLR = t.rate()
	t.rule.Update(t.net.Params()[:t.net.NumTrainable()], t.net.Grads(), t.stepLR)
	t.it++
}

// updateSplit is update for a member of a fused group, whose first
// layer's weights w1 and their gradient dw1 live in the group's buffers
// (in the order of its rule's state, which the group arranged so).
func (t *trainer[T]) updateSplit(loss float64, w1, dw1 []T) {
	t.lossHist = append(t.lossHist, loss)
	t.epochLoss += loss
	t.epochSteps++
	t.stepLR = t.rate()
	k, nt := len(w1), t.net.NumTrainable()
	t.rule.(splitRule[T]).updateSplit(w1, dw1, t.net.Params()[k:nt], t.net.Grads()[k:nt], t.stepLR)
	t.it++
}

func (t *trainer[T]) run(ctx context.Context, hook func(context.Context, *Snapshot[T]) (bool, error)) (*Result[T], error) {
	for t.it < t.total {
		if err := ctx.Err(); err != nil {
			res := t.result(Cancelled)
			snap, serr := t.snapshot()
			if serr != nil {
				return nil, errors.Join(err, serr)
			}
			res.Snapshot = snap
			return res, fmt.Errorf("training stopped at iteration %d: %w", t.it, err)
		}
		if !t.step() {
			res := t.result(Diverged)
			res.DivergedAt = t.it + 1
			return res, nil
		}
		res, epochEnd := t.endStep()
		if res != nil {
			return res, nil
		}
		if epochEnd && hook != nil {
			snap, err := t.snapshot()
			if err != nil {
				return nil, err
			}
			stop, err := hook(ctx, snap)
			if err != nil {
				return nil, fmt.Errorf("epoch hook at iteration %d: %w", t.it, err)
			}
			if stop {
				return t.result(Stopped), nil
			}
		}
	}
	return t.result(Completed), nil
}

// endStep follows an iteration. At the end of an epoch, or of training, it
// records a history entry (evaluating the net), applies the step
// schedule's decay and checks Patience, in that order. It returns the
// result of a training that ends there (Diverged for a validation loss that
// is not finite, Completed after a final partial epoch, EarlyStopped),
// otherwise nil and whether an epoch ended (when the hook is due).
func (t *trainer[T]) endStep() (res *Result[T], epochEnd bool) {
	epochEnd = t.it%t.perEpoch == 0
	if !epochEnd && t.it < t.total {
		return nil, false
	}
	if epochEnd {
		t.epoch++
	}
	if !t.evaluate() {
		res := t.result(Diverged)
		res.DivergedAt = t.it
		return res, false
	}
	if !epochEnd {
		return t.result(Completed), false // the final, partial epoch
	}
	t.lr *= t.decay()
	if p := t.cfg.Patience; p > 0 && t.it < t.total && float64(t.epoch)-t.bestEpoch >= float64(p) {
		return t.result(EarlyStopped), false
	}
	return nil, true
}

func (t *trainer[T]) decay() float64 {
	if t.cfg.LRDecay == 0 || t.cfg.LRSchedule == "cosine" {
		return 1
	}
	return t.cfg.LRDecay
}

// rate returns the learning rate of iteration t.it (0-based): the step
// schedule's current rate, or the cosine schedule's, a function of the
// iteration alone (so resumes need no state for it): a linear warm-up to
// LearningRate over the first warmup iterations, then half a cosine down
// towards 0 at the end of training.
func (t *trainer[T]) rate() float64 {
	if t.cfg.LRSchedule != "cosine" {
		return t.lr
	}
	base := t.cfg.LearningRate
	if t.it < t.warmup {
		return base * float64(t.it+1) / float64(t.warmup)
	}
	p := float64(t.it-t.warmup) / float64(t.total-t.warmup)
	return base * 0.5 * (1 + math.Cos(math.Pi*p))
}

// evaluate records a history entry. It reports false when the validation loss
// is not finite (the parameters have diverged).
func (t *trainer[T]) evaluate() bool {
	trainAcc, _ := t.accuracy(t.train, t.subset)
	valAcc, valLoss := t.accuracy(t.val, nil)
	if !isFinite(valLoss) {
		return false
	}
	epoch := float64(t.it) / float64(t.perEpoch)
	t.hist = append(t.hist, EpochStats{
		Epoch: epoch, Iteration: t.it, LearningRate: t.stepLR,
		Loss:     t.epochLoss / float64(max(t.epochSteps, 1)),
		TrainAcc: trainAcc, ValAcc: valAcc, ValLoss: valLoss,
	})
	t.epochLoss, t.epochSteps = 0, 0
	t.lastTrainAcc, t.lastValAcc, t.lastValLoss = trainAcc, valAcc, valLoss
	if valAcc > t.bestAcc {
		t.bestAcc, t.bestLoss, t.bestEpoch = valAcc, valLoss, epoch
		copy(t.bestParams, t.net.Params())
	}
	return true
}

// accuracy returns the accuracy and mean cross-entropy of the net on the rows
// idx of d (every row when idx is nil), evaluated in chunks.
func (t *trainer[T]) accuracy(d Data, idx []int) (acc, loss float64) {
	if t.ev == nil {
		t.ev = new([]T)
	}
	return evaluate(t.net, d, idx, t.ev)
}

// Evaluate returns the accuracy and mean cross-entropy loss (without the L2
// term) of net on d: how the selected net is scored on the test set. It uses
// the net's scratch: not concurrently with other calls on the same net.
func Evaluate[T Float](net *FullyConnectedNet[T], d Data) (acc, loss float64, err error) {
	if d.X.Cols != net.Dims[0] {
		return 0, 0, fmt.Errorf("%w: data has %d columns, net expects %d", ErrConfig, d.X.Cols, net.Dims[0])
	}
	if err := checkData("evaluation", d, net.Dims[len(net.Dims)-1]); err != nil {
		return 0, 0, err
	}
	var buf []T
	acc, loss = evaluate(net, d, nil, &buf)
	return acc, loss, nil
}

// Predict returns the class the net predicts for every row of d (the
// first largest score, numpy's argmax), evaluated in chunks with d's
// transform. It uses the net's scratch: not concurrently with other calls on
// the same net.
func Predict[T Float](net *FullyConnectedNet[T], d Data) ([]int, error) {
	if d.X.Cols != net.Dims[0] {
		return nil, fmt.Errorf("%w: data has %d columns, net expects %d", ErrConfig, d.X.Cols, net.Dims[0])
	}
	if (d.Scale != nil && len(d.Scale) != d.X.Cols) || (d.Shift != nil && len(d.Shift) != d.X.Cols) {
		return nil, fmt.Errorf("%w: data has %d columns, a transform of %d scales and %d shifts", ErrConfig, d.X.Cols, len(d.Scale), len(d.Shift))
	}
	out := make([]int, d.X.Rows)
	var buf []T
	for start := 0; start < d.X.Rows; start += evalChunk {
		end := min(start+evalChunk, d.X.Rows)
		x := resize(&buf, end-start, d.X.Cols)
		for i := start; i < end; i++ {
			readRow(x.Row(i-start), d.X.Row(i), d.Scale, d.Shift)
		}
		scores := net.Scores(x)
		for i := 0; i < scores.Rows; i++ {
			out[start+i] = argmax(scores.Row(i))
		}
	}
	return out, nil
}

func evaluate[T Float](net *FullyConnectedNet[T], d Data, idx []int, buf *[]T) (acc, loss float64) {
	n := d.X.Rows
	if idx != nil {
		n = len(idx)
	}
	if n == 0 {
		return 0, 0
	}
	cols := d.X.Cols
	correct := 0
	var yb [evalChunk]int
	for start := 0; start < n; start += evalChunk {
		end := min(start+evalChunk, n)
		x := resize(buf, end-start, cols)
		for i := start; i < end; i++ {
			j := i
			if idx != nil {
				j = idx[i]
			}
			readRow(x.Row(i-start), d.X.Row(j), d.Scale, d.Shift)
			yb[i-start] = d.Y[j]
		}
		scores := net.Scores(x)
		for i := 0; i < scores.Rows; i++ {
			if argmax(scores.Row(i)) == yb[i] {
				correct++
			}
		}
		loss += SoftmaxLoss(Mat[T]{}, scores, yb[:end-start]) * float64(end-start)
	}
	return float64(correct) / float64(n), loss / float64(n)
}

// argmax returns the index of the first largest element (numpy's argmax); a
// NaN is never largest.
func argmax[T Float](row []T) int {
	best := 0
	for j, v := range row {
		if v > row[best] {
			best = j
		}
	}
	return best
}

// gatherAhead is how many rows ahead step prefetches while gathering a
// minibatch. In a gather micro-benchmark (200 rows of 784 from 59000) 1 to 4
// did as well: 51-54 µs, against 65 µs without prefetching; BenchmarkTrainStep
// at d=784 is about 10% faster with it.
const gatherAhead = 2

// readRow copies src into dst, converting float32 to T and applying the
// data's transform src·scale + shift when it has one (nil: none).
func readRow[T Float](dst []T, src, scale, shift []float32) {
	switch {
	case scale != nil && shift != nil:
		for i, v := range src {
			dst[i] = T(v*scale[i] + shift[i])
		}
	case scale != nil:
		for i, v := range src {
			dst[i] = T(v * scale[i])
		}
	case shift != nil:
		for i, v := range src {
			dst[i] = T(v + shift[i])
		}
	default:
		if d, ok := any(dst).([]float32); ok {
			copy(d, src)
			return
		}
		for i, v := range src {
			dst[i] = T(v)
		}
	}
}
