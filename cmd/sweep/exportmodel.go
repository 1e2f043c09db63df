package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/nn"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

func init() {
	commands["export-model"] = command{summary: "the kept weights of a trial as a numpy .npz file", run: runExportModel}
}

func runExportModel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("export-model", "export-model NAME [TRIAL] -o FILE.npz [--db DB]", stderr)
	out := fs.String("o", "", "write the .npz to `FILE` (required)")
	pos, code, ok := parseArgs(fs, args, 1, 2)
	if !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "sweep export-model: -o FILE.npz is required")
		fs.Usage()
		return exitUsage
	}
	name, n := pos[0], 0
	if len(pos) == 2 {
		var err error
		if n, err = trialNumber(pos[1], name); err != nil {
			return fail(stderr, "export-model", err)
		}
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	defer st.Close()
	if n == 0 {
		if n, err = defaultModelTrial(ctx, st, name, stderr); err != nil {
			return fail(stderr, "export-model", err)
		}
	}
	t, _, err := st.Trial(ctx, name, n)
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	m, err := st.Model(ctx, name, n)
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	in, err := sweepInput(ctx, sw)
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	arrays, err := modelArrays(t, m, in)
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	if err := writeOutput(*out, stdout, func(w io.Writer) error { return writeNPZ(w, arrays, t.Finished) }); err != nil {
		return fail(stderr, "export-model", err)
	}
	fmt.Fprintf(stderr, "wrote trial %d's weights (", n)
	for i, tn := range m.Tensors {
		if i > 0 {
			fmt.Fprint(stderr, ", ")
		}
		fmt.Fprintf(stderr, "%s %v", tn.Name, tn.Shape)
	}
	fmt.Fprintf(stderr, ") and preprocessing to %s\n", *out)
	return exitOK
}

// modelArrays is what an exported .npz holds: everything needed to use the
// net on raw pixels and reproduce its recorded accuracies (README: "Using
// an exported net"):
//
//	W1, b1, gamma1, beta1, ..., Wn, bn
//	                      weights (in, out), biases and, after each hidden affine layer
//	                      of a normalised net, its scale and shift, in the net's dtype
//	running_mean1, running_var1, ...
//	                      batchnorm only: each hidden layer's test-time statistics
//	mean_image, std_image float32 (D,): X = (raw_pixels.astype(float32) - mean_image) / std_image
//	                      is the net's input, whatever the preprocessing: mean_image is
//	                      (mean, ones), standardize (mean, std with zeros replaced by 1),
//	                      none (zeros, ones)
//	input_shape           int64: the shape of one image, e.g. (1, 28, 28) or (3, 32, 32);
//	                      a row of X is the image flattened in C order (CIFAR's channel-major rows)
//	class_names           the names of the classes, indexed by label
//	hidden                int64: hidden layer sizes
//	activation, dtype     0-d strings: "relu" | "swish" | "tanh"; "float32" | "float64"
//	normalization         0-d string: "none" | "batchnorm" | "layernorm", after each hidden
//	                      affine layer, before its activation
//	norm_eps              0-d float64: added to the variance by the normalisation
//	preprocess            0-d string: "mean_image" | "standardize" | "none"
//	trial                 int64 (1,): the trial's number
//	val_acc, test_acc     0-d float64: as recorded (test_acc NaN when not measured)
func modelArrays(t *results.Trial, m *results.Model, in *results.Input) ([]npyArray, error) {
	var cfg search.Config
	if err := json.Unmarshal(t.Config, &cfg); err != nil {
		return nil, fmt.Errorf("trial %d: decode config: %w", t.Number, err)
	}
	if len(m.Tensors) > 0 && m.Tensors[0].Shape[0] != len(in.Mean) {
		return nil, fmt.Errorf("trial %d: weights take %d features, the data has %d", t.Number, m.Tensors[0].Shape[0], len(in.Mean))
	}
	norm, err := nn.ParseNormalization(cfg.Normalization)
	if err != nil {
		return nil, fmt.Errorf("trial %d: %w", t.Number, err)
	}
	preprocess, mean, std, err := inputTransform(cfg.Preprocess, in)
	if err != nil {
		return nil, fmt.Errorf("trial %d: %w", t.Number, err)
	}
	arrays := make([]npyArray, 0, len(m.Tensors)+13)
	for _, tn := range m.Tensors {
		a, err := tensorArray(tn)
		if err != nil {
			return nil, err
		}
		arrays = append(arrays, a)
	}
	testAcc := math.NaN()
	if t.TestAcc != nil {
		testAcc = *t.TestAcc
	}
	return append(arrays,
		float32Array("mean_image", mean),
		float32Array("std_image", std),
		intArray("input_shape", in.Shape),
		stringArray("class_names", []int{len(in.Classes)}, in.Classes...),
		intArray("hidden", cfg.Hidden),
		stringArray("activation", nil, cfg.Activation),
		stringArray("dtype", nil, cfg.DType),
		stringArray("normalization", nil, norm.String()),
		float64Scalar("norm_eps", nn.NormEpsilon),
		stringArray("preprocess", nil, preprocess),
		intArray("trial", []int{t.Number}),
		float64Scalar("val_acc", t.ValAcc),
		float64Scalar("test_acc", testAcc),
	), nil
}

// inputTransform returns the name of a trial's input preprocessing
// (search.Config.Preprocess, "" meaning mean_image) and the mean and
// divisor images that make a net's input from raw pixels, (raw − mean) /
// std, for each: mean_image (in.Mean, ones), standardize (in.Mean, in.Std
// with zeros replaced by 1, data.StdOrOne), none (zeros, ones).
func inputTransform(preprocess string, in *results.Input) (name string, mean, std []float32, err error) {
	d := len(in.Mean)
	ones := make([]float32, d)
	for j := range ones {
		ones[j] = 1
	}
	switch preprocess {
	case "", "mean_image":
		return "mean_image", in.Mean, ones, nil
	case "standardize":
		if len(in.Std) != d {
			return "", nil, nil, fmt.Errorf("preprocess standardize, but the sweep's recorded input has %d standard deviations for %d features (it was recorded before they were: resume it to record them)", len(in.Std), d)
		}
		return "standardize", in.Mean, data.StdOrOne(in.Std), nil
	case "none":
		return "none", make([]float32, d), ones, nil
	}
	return "", nil, nil, fmt.Errorf("preprocess %q (want mean_image, standardize or none)", preprocess)
}

// sweepInput is what sw's nets take, as recorded when it ran; a sweep
// recorded before that has it derived from its data set, which must then be
// where it was recorded, with the same contents (dataRef checks).
func sweepInput(ctx context.Context, sw *results.Sweep) (*results.Input, error) {
	if sw.Input != nil {
		return sw.Input, nil
	}
	spec, err := storedSpec(sw)
	if err != nil {
		return nil, err
	}
	ds, err := func() (*data.Dataset, error) {
		if _, err := dataRef(ctx, spec, sw); err != nil {
			return nil, err
		}
		return loadData(ctx, spec)
	}()
	if err != nil {
		return nil, fmt.Errorf("sweep %q was recorded without its input's description, and its data set (for the mean and standard deviation images) cannot be read: %w", sw.Name, err)
	}
	return &results.Input{Shape: ds.Shape, Classes: ds.Classes, Mean: ds.Mean, Std: ds.Std}, nil
}

// defaultModelTrial is the trial whose weights export-model writes when
// none is named: the selected best, else the leader by the sweep's metric
// (said on stderr: it may change while the sweep runs).
func defaultModelTrial(ctx context.Context, st results.Store, name string, stderr io.Writer) (int, error) {
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		return 0, err
	}
	trials, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return 0, err
	}
	results.Rank(trials, sw.Maximize())
	if sel := sw.Selected(trials); sel != nil {
		return sel.Trial, nil
	}
	if len(trials) == 0 || trials[0].Status != results.Done {
		return 0, fmt.Errorf("no trial of sweep %q has finished training, so none has weights", name)
	}
	lead := trials[0].Number
	if slices.ContainsFunc(trials, func(t results.Trial) bool { return !t.Status.Finished() }) {
		fmt.Fprintf(stderr, "sweep export-model: sweep %q is not finished; writing its current leader by %s, trial %d (not final)\n", name, sw.Metric, lead)
	} else {
		fmt.Fprintf(stderr, "sweep export-model: writing trial %d, the best by %s (its test accuracy is not measured yet: sweep best %s)\n", lead, sw.Metric, shellQuote(name))
	}
	return lead, nil
}
