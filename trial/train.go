package trial

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"runtime/debug"
	"time"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/nn"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// NNConfig maps a trial's resolved settings to the trainer's config.
func NNConfig(c search.Config, seed uint64, classes int) nn.Config {
	return nn.Config{
		Hidden: c.Hidden, Activation: c.Activation, WeightScale: c.WeightScale, WeightInit: c.WeightInit,
		Normalization: c.Normalization, Dropout: c.Dropout,
		Optimizer: c.Optimizer, LearningRate: c.LearningRate, LRDecay: c.LRDecay, Reg: c.Reg,
		LRSchedule: c.LRSchedule, WarmupEpochs: c.WarmupEpochs,
		Momentum: c.Momentum, DecayRate: c.DecayRate, Beta1: c.Beta1, Beta2: c.Beta2, Epsilon: c.Epsilon,
		BatchSize: c.BatchSize, Iterations: c.Iterations, Epochs: c.Epochs, Patience: c.Patience,
		Seed: seed, Classes: classes,
	}
}

// nnData views a split as the trainer's data, without copying, with the
// transform that inputTransform made for the trial's preprocessing.
func nnData(s data.Split, scale, shift []float32) nn.Data {
	return nn.Data{X: nn.Mat[float32]{Rows: s.N, Cols: s.D, Data: s.X}, Y: s.Y, Scale: scale, Shift: shift}
}

// inputTransform is the per-feature transform of a trial's input
// preprocessing, the same for every split. The data set holds its pixels
// with the training mean image subtracted (the coursework's preprocessing,
// "mean_image": no transform); "standardize" divides that by the training
// split's per-feature standard deviation (1 where it is 0), "none" adds the
// mean back.
func inputTransform(ds *data.Dataset, preprocess string) (scale, shift []float32, err error) {
	d := len(ds.Mean)
	switch preprocess {
	case "", "mean_image":
	case "standardize":
		if len(ds.Std) != d {
			return nil, nil, fmt.Errorf("preprocess %q: the data set has no per-feature standard deviation", preprocess)
		}
		scale = data.StdOrOne(ds.Std)
		for i, v := range scale {
			scale[i] = 1 / v
		}
	case "none":
		shift = ds.Mean
	default:
		return nil, nil, fmt.Errorf("unknown preprocess %q (want mean_image, standardize or none)", preprocess)
	}
	return scale, shift, nil
}

// Job is one claimed trial to train.
type Job struct {
	Trial      *results.Trial
	Checkpoint *results.Checkpoint // resume from it when not nil
	Data       *data.Dataset
	// Save records a per-epoch checkpoint and the history so far; an error
	// stops the training (the trial is then released, not finished).
	Save func(ctx context.Context, ck results.Checkpoint, hist []results.Epoch) error
	// Progress, when set, is told of every finished epoch.
	Progress func(h results.Epoch, total int)

	// Adaptive jobs (Metric set) are evaluated for their scheduler: the
	// value of Metric ("val_acc" or "val_loss") at the last epoch is the
	// Eval of a pause and of the outcome.
	Metric string
	// Target, when positive and short of the trial's length, pauses it at
	// the first epoch end where it has trained that far: epochs when its
	// config trains by epochs, iterations otherwise.
	Target int
	// PauseBy, when not zero, pauses the trial at the first epoch end after
	// it (an adaptive sweep's budget ran out).
	PauseBy time.Time
}

// Result is how a job ended: Outcome for a trial that finished (done,
// diverged, failed), or, when Interrupted, the checkpoint to release it with,
// or, when Paused, the checkpoint, history, metrics (Outcome.Metrics, the
// best so far) and evaluation (Eval) to pause it with.
type Result struct {
	Outcome     results.Outcome
	Interrupted bool
	Paused      bool
	Eval        results.Eval
	Checkpoint  *results.Checkpoint
	History     []results.Epoch
	Err         error // why an interrupted job stopped (ctx, a failed save)
}

// testHookTrain, when set by a test, is called as a trial starts training:
// it lets tests make a trial panic inside the pool.
var testHookTrain func(*results.Trial)

// Train trains one trial to its end, recovering a panic as a failed trial.
// It returns Interrupted with a checkpoint when ctx is cancelled or a
// checkpoint cannot be saved.
func Train(ctx context.Context, j Job) (res Result) {
	defer func() {
		if p := recover(); p != nil {
			res = Result{Outcome: results.Outcome{
				Status: results.Failed,
				Error:  fmt.Sprintf("panic: %v", p),
				Stack:  string(debug.Stack()),
			}}
		}
	}()
	if testHookTrain != nil {
		testHookTrain(j.Trial)
	}
	var cfg search.Config
	if err := json.Unmarshal(j.Trial.Config, &cfg); err != nil {
		return failed(fmt.Errorf("trial %d: decode config: %w", j.Trial.Number, err))
	}
	if cfg.DType == "float64" {
		return train[float64](ctx, j, cfg)
	}
	return train[float32](ctx, j, cfg)
}

func failed(err error) Result {
	return Result{Outcome: results.Outcome{Status: results.Failed, Error: err.Error()}}
}

func train[T nn.Float](ctx context.Context, j Job, cfg search.Config) Result {
	ncfg := NNConfig(cfg, j.Trial.Seed, len(j.Data.Classes))
	opt := nn.TrainOptions[T]{}
	if j.Checkpoint != nil {
		snap, err := DecodeSnapshot[T](j.Checkpoint.Data)
		if err != nil {
			return failed(fmt.Errorf("trial %d: resume: %w", j.Trial.Number, err))
		}
		opt.Resume = snap
	}
	perEpoch := max(j.Data.Train.N/max(cfg.BatchSize, 1), 1)
	total := totalIterations(cfg, j.Data.Train.N)
	reported := 0
	if opt.Resume != nil {
		reported = len(opt.Resume.History)
	}
	var pause *results.Checkpoint // where the trial paused
	opt.Hook = func(ctx context.Context, s *nn.Snapshot[T]) (bool, error) {
		hist := history(s.History)
		if j.Progress != nil {
			for _, h := range hist[reported:] {
				j.Progress(h, total)
			}
			reported = len(hist)
		}
		done := s.Iteration
		if cfg.Epochs > 0 {
			done = s.Epoch
		}
		if s.Iteration < total && (j.Target > 0 && done >= j.Target || !j.PauseBy.IsZero() && !time.Now().Before(j.PauseBy)) {
			// The pause stores this checkpoint: no save of its own.
			pause = &results.Checkpoint{Epoch: float64(s.Epoch), Iteration: s.Iteration, Data: EncodeSnapshot(s)}
			return true, nil
		}
		if j.Save == nil {
			return false, nil
		}
		ck := results.Checkpoint{Epoch: float64(s.Epoch), Iteration: s.Iteration, Data: EncodeSnapshot(s)}
		return false, j.Save(ctx, ck, hist)
	}
	scale, shift, err := inputTransform(j.Data, cfg.Preprocess)
	if err != nil {
		return failed(fmt.Errorf("trial %d: %w", j.Trial.Number, err))
	}
	trainData, valData := nnData(j.Data.Train, scale, shift), nnData(j.Data.Val, scale, shift)
	r, err := nn.Train[T](ctx, ncfg, trainData, valData, opt)
	switch {
	case r != nil && r.Outcome == nn.Cancelled:
		ck := results.Checkpoint{Epoch: float64(r.Snapshot.Iteration) / float64(perEpoch), Iteration: r.Snapshot.Iteration,
			Data: EncodeSnapshot(r.Snapshot)}
		return Result{Interrupted: true, Checkpoint: &ck, History: history(r.History), Err: err}
	case err != nil && r == nil && !errors.Is(err, nn.ErrConfig):
		// The hook failed (the checkpoint could not be saved): stop here; the
		// last saved checkpoint stands.
		return Result{Interrupted: true, Err: err}
	case err != nil:
		return failed(fmt.Errorf("trial %d: %w", j.Trial.Number, err))
	}
	if j.Progress != nil && len(r.History) > reported {
		for _, h := range history(r.History)[reported:] {
			j.Progress(h, total)
		}
	}
	out, eval := outcomeOf(r, cfg, perEpoch, j.Metric)
	if r.Outcome == nn.Stopped && pause != nil {
		return Result{Paused: true, Eval: eval, Checkpoint: pause, History: out.History, Outcome: out}
	}
	return Result{Outcome: out}
}

// outcomeOf is what a training that ended (not cancelled) records: its
// status, metrics, history and weights, and, for an adaptive sweep (metric
// set), its evaluation, also returned for a pause.
func outcomeOf[T nn.Float](r *nn.Result[T], cfg search.Config, perEpoch int, metric string) (results.Outcome, results.Eval) {
	out := results.Outcome{
		Metrics: results.Metrics{
			ValAcc: r.BestValAcc, ValLoss: r.BestValLoss, TrainAcc: r.FinalTrainAcc, FinalValAcc: r.FinalValAcc,
			Iterations: r.Iterations, Epochs: float64(r.Iterations) / float64(perEpoch),
			BestEpoch: r.BestEpoch, EarlyStopped: r.Outcome == nn.EarlyStopped,
		},
		History: history(r.History),
	}
	done := r.Iterations
	if cfg.Epochs > 0 {
		done = r.Iterations / perEpoch
	}
	eval := results.Eval{Resource: done, Value: lastValue(out.History, metric)}
	if metric != "" && r.Outcome != nn.Diverged && r.Outcome != nn.Stopped {
		out.Eval = &eval
	}
	switch r.Outcome {
	case nn.Diverged:
		out.Status = results.Diverged
		out.Metrics.DivergedAt = r.DivergedAt
		out.Error = fmt.Sprintf("loss became NaN or Inf at iteration %d", r.DivergedAt)
		if r.BestValAcc < 0 {
			// Never evaluated: no metric has a value (NaN, which the store
			// keeps and the CLI shows as missing), rather than a false 0.
			nan := math.NaN()
			out.Metrics.ValAcc, out.Metrics.ValLoss, out.Metrics.TrainAcc, out.Metrics.FinalValAcc = nan, nan, nan, nan
		}
	case nn.Stopped:
		// Paused at a rung: the pause records the metrics.
	default:
		out.Status = results.Done
		out.Model = model(r.Net, r.BestParams)
	}
	return out, eval
}

// lastValue is metric ("val_acc" or "val_loss") at the last epoch of hist:
// the value a scheduler ranks a trial by at a rung.
func lastValue(hist []results.Epoch, metric string) float64 {
	if len(hist) == 0 {
		return math.NaN()
	}
	if metric == "val_loss" {
		return hist[len(hist)-1].ValLoss
	}
	return hist[len(hist)-1].ValAcc
}

// totalIterations is the length of a training of cfg on n samples: its
// iterations, or its epochs of max(n / batch size, 1) iterations each.
func totalIterations(cfg search.Config, n int) int {
	if cfg.Epochs > 0 {
		return cfg.Epochs * max(n/max(cfg.BatchSize, 1), 1)
	}
	return cfg.Iterations
}

// history converts the trainer's history to the store's.
func history(h []nn.EpochStats) []results.Epoch {
	out := make([]results.Epoch, len(h))
	for i, e := range h {
		out[i] = results.Epoch{Epoch: e.Epoch, Iteration: e.Iteration, LearningRate: e.LearningRate,
			Loss: e.Loss, TrainAcc: e.TrainAcc, ValAcc: e.ValAcc, ValLoss: e.ValLoss}
	}
	return out
}

// model returns params, laid out as net's, as named tensors (W1, b1, ...;
// weights (in, out)) of little-endian floats.
func model[T nn.Float](net *nn.FullyConnectedNet[T], params []T) *results.Model {
	dtype := "float64"
	if elemSize[T]() == 4 {
		dtype = "float32"
	}
	m := &results.Model{}
	for _, p := range net.Layout() {
		vals := params[p.Offset : p.Offset+p.Rows*p.Cols]
		shape := []int{p.Cols} // biases, gammas, betas, running statistics
		if p.Name[0] == 'W' {
			shape = []int{p.Rows, p.Cols}
		}
		m.Tensors = append(m.Tensors, results.Tensor{Name: p.Name, Shape: shape, DType: dtype, Data: tensorBytes(vals)})
	}
	return m
}

func tensorBytes[T nn.Float](v []T) []byte {
	b := make([]byte, 0, len(v)*int(elemSize[T]()))
	for _, x := range v {
		switch x := any(x).(type) {
		case float32:
			b = binary.LittleEndian.AppendUint32(b, math.Float32bits(x))
		case float64:
			b = binary.LittleEndian.AppendUint64(b, math.Float64bits(x))
		}
	}
	return b
}

// modelParams decodes a kept model's tensors into one flat parameter slice,
// checking each against the layout of net.
func modelParams[T nn.Float](net *nn.FullyConnectedNet[T], m *results.Model) ([]T, error) {
	layout := net.Layout()
	if len(m.Tensors) != len(layout) {
		return nil, fmt.Errorf("model has %d tensors, net has %d parameters", len(m.Tensors), len(layout))
	}
	size := int(elemSize[T]())
	out := make([]T, 0, len(net.Params()))
	for i, p := range layout {
		t := m.Tensors[i]
		n := p.Rows * p.Cols
		if t.Name != p.Name || len(t.Data) != n*size {
			return nil, fmt.Errorf("model tensor %q (%d bytes) does not fit %s (%d values)", t.Name, len(t.Data), p.Name, n)
		}
		for k := 0; k < n; k++ {
			if size == 4 {
				out = append(out, T(math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*k:]))))
			} else {
				out = append(out, T(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*k:]))))
			}
		}
	}
	return out, nil
}
