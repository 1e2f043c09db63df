package main

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"

	"github.com/sweep-dev/sweep/report"
	htmlreport "github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/trial"
)

func init() {
	commands["report"] = command{summary: "a self-contained HTML report of a sweep, with plots", run: runReport}
}

func runReport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("report", "report NAME [-o FILE.html] [--db DB]", stderr)
	out := fs.String("o", "", "write the report to `FILE` (default: NAME.html in the working directory; - for stdout)")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	name := pos[0]
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "report", err)
	}
	defer st.Close()
	in, err := reportInput(ctx, st, name)
	if err != nil {
		return fail(stderr, "report", err)
	}
	path := *out
	if path == "" {
		path = reportFile(name)
	}
	if err := writeOutput(path, stdout, func(w io.Writer) error { return htmlreport.Write(w, in) }); err != nil {
		return fail(stderr, "report", err)
	}
	if path != "-" {
		fmt.Fprintf(stderr, "wrote the report of sweep %q (%s) to %s\n", name, report.Count(len(in.Trials), "trial"), path)
	}
	return exitOK
}

// reportFile is the default file of a sweep's report: its name, with
// anything but letters, digits, '-', '_' and '.' replaced by '_', and
// .html.
func reportFile(name string) string {
	safe := strings.Map(func(r rune) rune {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9', r == '-', r == '_', r == '.':
			return r
		}
		return '_'
	}, name)
	return strings.TrimLeft(safe, ".") + ".html"
}

// reportInput reads what the report of sweep name shows: the sweep, its
// stored spec, its trials, the histories the learning curves draw, and the
// best net's first-layer weights. It only reads: a sweep whose best trial
// has no test accuracy yet keeps it so (sweep best measures it).
func reportInput(ctx context.Context, st results.Store, name string) (*htmlreport.Input, error) {
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		return nil, err
	}
	trials, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return nil, err
	}
	return reportOf(ctx, st, sw, trials, netView)
}

// netViewFunc computes the best net's section of a report: netView, or a
// cache of it.
type netViewFunc func(ctx context.Context, st results.Store, sw *results.Sweep, spec *search.Spec, t *results.Trial) (*htmlreport.NetView, error)

// reportOf completes the report of sweep sw, whose trials are given as
// read, with what else it shows: the parsed spec, the histories the
// learning curves draw, and the best net's section (by net). It keeps
// trials as the report's and modifies none.
func reportOf(ctx context.Context, st results.Store, sw *results.Sweep, trials []results.Trial, net netViewFunc) (*htmlreport.Input, error) {
	name := sw.Name
	var err error
	in := &htmlreport.Input{Sweep: sw, Trials: trials, Generated: clock(), Histories: map[int][]results.Epoch{}}
	if in.Spec, err = storedSpec(sw); err != nil {
		in.Notes = append(in.Notes, fmt.Sprintf("%v: parameter axes are guessed from the values.", err))
	}
	ranked := append([]results.Trial(nil), trials...)
	in.Best = report.Rank(sw, ranked)
	for _, n := range htmlreport.HistoryWanted(trials, sw.Maximize(), 0) {
		_, hist, err := st.Trial(ctx, name, n)
		if err != nil {
			return nil, err
		}
		if len(hist) > 0 {
			in.Histories[n] = hist
		}
	}
	if len(ranked) > 0 && ranked[0].Status == results.Done {
		if in.Net, err = net(ctx, st, sw, in.Spec, &ranked[0]); err != nil {
			return nil, err
		}
	}
	return in, nil
}

// misclassifiedShown is how many misclassified validation images a report
// shows.
const misclassifiedShown = 16

// netView is the best net's section: trial t's first-layer weights, as
// kept (netWeights), and, when the sweep's data set can be read (where it
// was recorded, with the same contents), the confusion matrix of its
// predictions on the validation split and a few images it gets wrong. The
// test split is never touched.
func netView(ctx context.Context, st results.Store, sw *results.Sweep, spec *search.Spec, t *results.Trial) (*htmlreport.NetView, error) {
	nv, m, err := netWeights(ctx, st, sw, t)
	if err != nil || m == nil {
		return nv, err
	}
	if err := predictions(ctx, nv, sw, spec, t, m); err != nil {
		nv.Note = fmt.Sprintf("No confusion matrix or misclassified images: %v.", err)
	}
	return nv, nil
}

// netWeights is the best net's section without what needs the data set:
// trial t's first-layer weights, and its kept model; the model is nil,
// and the section says so, when its weights were not kept.
func netWeights(ctx context.Context, st results.Store, sw *results.Sweep, t *results.Trial) (*htmlreport.NetView, *results.Model, error) {
	n := t.Number
	nv := &htmlreport.NetView{Trial: n}
	if sw.Input != nil {
		nv.Shape, nv.Classes = sw.Input.Shape, sw.Input.Classes
	}
	m, err := st.Model(ctx, sw.Name, n)
	switch {
	case errors.Is(err, results.ErrNotFound):
		nv.Note = fmt.Sprintf("Its weights were not kept (%v).", err)
		return nv, nil, nil
	case err != nil:
		return nil, nil, err
	}
	for _, t := range m.Tensors {
		if t.Name != "W1" {
			continue
		}
		w, err := tensorFloats(t)
		if err != nil {
			return nil, nil, fmt.Errorf("trial %d: %w", n, err)
		}
		nv.W1, nv.D, nv.H = w, t.Shape[0], t.Shape[1]
	}
	return nv, m, nil
}

// tensorFloats decodes a kept 2-D tensor's little-endian values.
func tensorFloats(t results.Tensor) ([]float32, error) {
	if len(t.Shape) != 2 {
		return nil, fmt.Errorf("tensor %s has shape %v, want 2 dimensions", t.Name, t.Shape)
	}
	n := t.Shape[0] * t.Shape[1]
	out := make([]float32, n)
	switch {
	case t.DType == "float32" && len(t.Data) == 4*n:
		for k := range out {
			out[k] = math.Float32frombits(binary.LittleEndian.Uint32(t.Data[4*k:]))
		}
	case t.DType == "float64" && len(t.Data) == 8*n:
		for k := range out {
			out[k] = float32(math.Float64frombits(binary.LittleEndian.Uint64(t.Data[8*k:])))
		}
	default:
		return nil, fmt.Errorf("tensor %s: %d bytes of %s for shape %v", t.Name, len(t.Data), t.DType, t.Shape)
	}
	return out, nil
}

// predictions fills nv's confusion matrix and misclassified images from
// trial t's kept model m on the validation split of the sweep's data.
func predictions(ctx context.Context, nv *htmlreport.NetView, sw *results.Sweep, spec *search.Spec, t *results.Trial, m *results.Model) error {
	if spec == nil {
		return errors.New("the sweep's stored spec cannot be read")
	}
	if _, err := dataRef(ctx, spec, sw); err != nil {
		return fmt.Errorf("its data set cannot be read: %w", err)
	}
	ds, err := loadData(ctx, spec)
	if err != nil {
		return fmt.Errorf("its data set cannot be read: %w", err)
	}
	pred, err := trial.ValidationPredictions(t, m, ds)
	if err != nil {
		return err
	}
	if nv.Shape == nil {
		nv.Shape, nv.Classes = ds.Shape, ds.Classes
	}
	k := len(ds.Classes)
	nv.Confusion = make([][]int, k)
	for i := range nv.Confusion {
		nv.Confusion[i] = make([]int, k)
	}
	d := ds.Val.D
	for i, p := range pred {
		y := ds.Val.Y[i]
		nv.Confusion[y][p]++
		if p != y && len(nv.Misclassified) < misclassifiedShown {
			px := make([]float32, d)
			for j, v := range ds.Val.X[i*d : (i+1)*d] {
				px[j] = v + ds.Mean[j] // the raw image: the data set holds it mean-subtracted
			}
			nv.Misclassified = append(nv.Misclassified, htmlreport.Example{Index: i, Pixels: px, True: y, Predicted: p})
		}
	}
	return nil
}
