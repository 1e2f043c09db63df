package trial

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/nn"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// Selector is what selecting the best trial needs of a store.
type Selector interface {
	Sweep(ctx context.Context, name string) (*results.Sweep, error)
	Trials(ctx context.Context, sweep string, f results.Filter) ([]results.Trial, error)
	Model(ctx context.Context, sweep string, number int) (*results.Model, error)
	SetBest(ctx context.Context, sweep string, b results.Best) error
}

var _ Selector = results.Store(nil)

// ErrUnfinished reports a sweep some of whose trials have not finished yet:
// its best trial cannot be selected.
var ErrUnfinished = errors.New("sweep not finished")

// ErrNoDoneTrial reports a finished sweep none of whose trials is done.
var ErrNoDoneTrial = errors.New("no trial finished training")

// SelectBest picks the best trial of a finished sweep on the validation
// metric only (ties: lower validation loss, then lower trial number),
// evaluates its kept weights on the test set once and records the result.
// When the best trial is already recorded it returns it without evaluating
// again.
func SelectBest(ctx context.Context, st Selector, name string, ds *data.Dataset) (*results.Best, *results.Trial, error) {
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	trials, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return nil, nil, err
	}
	unfinished := 0
	for _, t := range trials {
		if !t.Status.Finished() {
			unfinished++
		}
	}
	if unfinished > 0 {
		return nil, nil, fmt.Errorf("%w: %d of %d trials of %q have not finished", ErrUnfinished, unfinished, len(trials), name)
	}
	results.Rank(trials, sw.Maximize())
	if len(trials) == 0 || trials[0].Status != results.Done {
		return nil, nil, fmt.Errorf("%w: sweep %q", ErrNoDoneTrial, name)
	}
	best := &trials[0]
	if sel := sw.Selected(trials); sel != nil {
		return sel, best, nil // already selected and evaluated: not again
	}
	m, err := st.Model(ctx, name, best.Number)
	if err != nil {
		return nil, nil, fmt.Errorf("weights of the best trial %d: %w", best.Number, err)
	}
	var cfg search.Config
	if err := json.Unmarshal(best.Config, &cfg); err != nil {
		return nil, nil, fmt.Errorf("trial %d: decode config: %w", best.Number, err)
	}
	var acc, loss float64
	if cfg.DType == "float64" {
		acc, loss, err = testAccuracy[float64](cfg, m, ds)
	} else {
		acc, loss, err = testAccuracy[float32](cfg, m, ds)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("test the best trial %d: %w", best.Number, err)
	}
	b := results.Best{Trial: best.Number, ValAcc: best.ValAcc, ValLoss: best.ValLoss, TestAcc: acc, TestLoss: loss, Evaluated: time.Now()}
	if err := st.SetBest(ctx, name, b); err != nil {
		return nil, nil, err
	}
	best.TestAcc = &acc
	return &b, best, nil
}

// testAccuracy rebuilds a kept model and evaluates it on the test split.
func testAccuracy[T nn.Float](cfg search.Config, m *results.Model, ds *data.Dataset) (acc, loss float64, err error) {
	net, test, err := keptNet[T](cfg, m, ds, ds.Test)
	if err != nil {
		return 0, 0, err
	}
	return nn.Evaluate(net, test)
}

// keptNet rebuilds a kept model and views split s of ds as its input,
// preprocessed as the trial's config says.
func keptNet[T nn.Float](cfg search.Config, m *results.Model, ds *data.Dataset, s data.Split) (*nn.FullyConnectedNet[T], nn.Data, error) {
	net, err := nn.NetFromConfig[T](s.D, len(ds.Classes), NNConfig(cfg, 0, len(ds.Classes)), nil)
	if err != nil {
		return nil, nn.Data{}, err
	}
	params, err := modelParams(net, m)
	if err != nil {
		return nil, nn.Data{}, err
	}
	copy(net.Params(), params)
	scale, shift, err := inputTransform(ds, cfg.Preprocess)
	return net, nnData(s, scale, shift), err
}

// ValidationPredictions returns the classes that trial t's kept model
// predicts for every image of ds's validation split: what a report's
// confusion matrix and misclassified examples show. It never touches the
// test split.
func ValidationPredictions(t *results.Trial, m *results.Model, ds *data.Dataset) ([]int, error) {
	var cfg search.Config
	if err := json.Unmarshal(t.Config, &cfg); err != nil {
		return nil, fmt.Errorf("trial %d: decode config: %w", t.Number, err)
	}
	if cfg.DType == "float64" {
		return predict[float64](cfg, m, ds)
	}
	return predict[float32](cfg, m, ds)
}

func predict[T nn.Float](cfg search.Config, m *results.Model, ds *data.Dataset) ([]int, error) {
	net, val, err := keptNet[T](cfg, m, ds, ds.Val)
	if err != nil {
		return nil, err
	}
	return nn.Predict(net, val)
}
