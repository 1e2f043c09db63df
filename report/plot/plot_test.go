package plot

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	stdhtml "html"
	"image/png"
	"io"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"gonum.org/v1/plot/vg"

	"github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// gridSpec is a 3×2 grid.
const gridSpec = `
name = "grid3x2"
workers = 2

[data]
source = "synthetic"
train = 200
val = 50
test = 50

[train]
epochs = 4

[search]
method = "grid"

[search.params]
learning_rate = [1e-3, 1e-2, 1e2]
reg = [0.1, 0.25]
`

// epochs returns a plausible n-epoch history ending at acc.
func epochs(n int, acc float64) []results.Epoch {
	h := make([]results.Epoch, n)
	for e := range h {
		frac := float64(e+1) / float64(n)
		h[e] = results.Epoch{Epoch: float64(e + 1), Iteration: 10 * (e + 1), Loss: 2.3 - 1.5*acc*frac, TrainAcc: acc*frac + 0.02, ValAcc: acc * frac, ValLoss: 2.3 - acc*frac}
	}
	return h
}

// gridInput is a finished 3×2 grid, two of its trials diverged, with its
// best net: 8 hidden units of 28×28 grey input, a 3-class confusion
// matrix.
func gridInput(t testing.TB) *html.Input {
	spec, err := search.Parse("grid.toml", []byte(gridSpec))
	if err != nil {
		t.Fatal(err)
	}
	in := &html.Input{Spec: spec, Histories: map[int][]results.Epoch{}, Generated: t0.Add(time.Hour)}
	accs := [3][2]float64{{0.40, 0.50}, {0.62, 0.55}, {0.1, 0.1}}
	n := 0
	for i, lr := range []float64{1e-3, 1e-2, 1e2} {
		for j, reg := range []float64{0.1, 0.25} {
			n++
			acc := accs[i][j]
			start := t0.Add(time.Duration(n-1) / 2 * time.Minute)
			tr := results.Trial{Number: n, Key: fmt.Sprint(n), Seed: uint64(n), Attempts: 1 + n%2,
				Params: results.Params{{Name: "learning_rate", Value: lr}, {Name: "reg", Value: reg}}, Status: results.Done,
				Metrics: results.Metrics{ValAcc: acc, ValLoss: 2.3 - acc, TrainAcc: acc + 0.02, Iterations: 40, Epochs: 4},
				Created: t0, Started: start, Finished: start.Add(50 * time.Second), Duration: 40}
			if lr > 1 {
				tr.Status, tr.ValLoss = results.Diverged, math.NaN()
			}
			in.Trials = append(in.Trials, tr)
			in.Histories[n] = epochs(4, acc)
		}
	}
	in.Best = &results.Best{Trial: 3, ValAcc: 0.62, ValLoss: 1.68, TestAcc: 0.6, TestLoss: 1.7}
	in.Sweep = &results.Sweep{Name: "grid3x2", Metric: "val_acc", Best: in.Best, Evaluations: []results.Best{*in.Best}}
	const d, h = 784, 8
	nv := &html.NetView{Trial: 3, Shape: []int{1, 28, 28}, Classes: []string{"T-shirt/top", "Trouser", "Pullover"}, D: d, H: h, W1: make([]float32, d*h)}
	for i := range d {
		for j := range h {
			nv.W1[i*h+j] = float32(math.Sin(float64(i*(j+1)) / 97))
		}
	}
	nv.Confusion = [][]int{{40, 3, 7}, {1, 48, 1}, {9, 2, 39}}
	in.Net = nv
	return in
}

func figures(t testing.TB, in *html.Input) *html.Figures {
	t.Helper()
	f, err := html.NewFigures(in)
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// checkFile checks that b is a valid file of format.
func checkFile(t *testing.T, format string, b []byte) {
	t.Helper()
	switch format {
	case "png":
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("not a PNG: %v", err)
		}
		if w := img.Bounds().Dx(); w != 6*DefaultDPI {
			t.Errorf("PNG %d pixels wide, want %d (6in at %d dpi)", w, 6*DefaultDPI, DefaultDPI)
		}
	case "svg":
		var root struct{ XMLName xml.Name }
		if err := xml.Unmarshal(b, &root); err != nil || root.XMLName.Local != "svg" {
			t.Fatalf("not an SVG: root <%s>, %v", root.XMLName.Local, err)
		}
	case "pdf":
		if !bytes.HasPrefix(b, []byte("%PDF-")) || !bytes.Contains(b[max(0, len(b)-1024):], []byte("%%EOF")) {
			t.Fatalf("not a PDF: starts %q", b[:min(len(b), 16)])
		}
	}
}

// TestEveryKindAndFormat draws every kind in every format.
func TestEveryKindAndFormat(t *testing.T) {
	f := figures(t, gridInput(t))
	dir := os.Getenv("SWEEP_PLOT_OUT") // to look at them
	for _, kind := range Kinds {
		for _, format := range Formats {
			t.Run(kind+"."+format, func(t *testing.T) {
				var b bytes.Buffer
				note, err := Write(&b, f, kind, format, Options{Param: "learning_rate"})
				if err != nil {
					t.Fatal(err)
				}
				if note == "" {
					t.Error("no note")
				}
				checkFile(t, format, b.Bytes())
				if dir != "" {
					if err := os.WriteFile(filepath.Join(dir, kind+"."+format), b.Bytes(), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			})
		}
	}
}

// svgOf draws kind as SVG, checks it is XML with an <svg> root, and
// returns it.
func svgOf(t *testing.T, f *html.Figures, kind string, o Options) string {
	t.Helper()
	var b bytes.Buffer
	if _, err := Write(&b, f, kind, "svg", o); err != nil {
		t.Fatal(err)
	}
	checkFile(t, "svg", b.Bytes())
	return b.String()
}

// circles counts the circles of radius r (points) among the paths of an
// SVG: vgsvg draws a circle as two arcs.
func circles(svg, r string) int {
	return len(regexp.MustCompile(`A`+regexp.QuoteMeta(r)+`,`+regexp.QuoteMeta(r)+` `).FindAllString(svg, -1)) / 2
}

var textRE = regexp.MustCompile(`<text[^>]*>([^<]*)</text>`)

// texts are an SVG's texts, unescaped.
func texts(svg string) []string {
	var out []string
	for _, m := range textRE.FindAllStringSubmatch(svg, -1) {
		out = append(out, stdhtml.UnescapeString(strings.TrimSpace(m[1])))
	}
	return out
}

// hasTexts reports the texts of wants an SVG lacks.
func hasTexts(t *testing.T, what, svg string, wants ...string) {
	t.Helper()
	txt := texts(svg)
	for _, want := range wants {
		if !slices.Contains(txt, want) {
			t.Errorf("%s: no text %q in %q", what, want, txt)
		}
	}
}

// TestHistorySVG: the history has a mark per trial, the best one ringed
// and labelled with its number, axis titles with units, and a legend of
// the statuses.
func TestHistorySVG(t *testing.T) {
	in := gridInput(t)
	svg := svgOf(t, figures(t, in), "history", Options{})
	if n := circles(svg, "3"); n != len(in.Trials) {
		t.Errorf("%d trial marks, want %d (one per trial)", n, len(in.Trials))
	}
	if n := circles(svg, "6"); n != 1 {
		t.Errorf("%d rings, want 1 (the best trial)", n)
	}
	hasTexts(t, "history", svg, "3", "val_acc (fraction of the validation set)", "trials in the order they started (n-th started)",
		"done", "diverged", "best (selected)", "best so far (done)", "Optimization history of grid3x2")
}

// TestSliceSVG: a categorical axis of a grid's list, a mark per trial.
func TestSliceSVG(t *testing.T) {
	in := gridInput(t)
	svg := svgOf(t, figures(t, in), "slice", Options{Param: "reg"})
	if n := circles(svg, "3"); n != len(in.Trials) {
		t.Errorf("%d trial marks, want %d", n, len(in.Trials))
	}
	hasTexts(t, "slice", svg, "reg (categories)", "0.1", "0.25")
}

// TestNetSVG: the weights have one image per hidden unit, numbered; the
// confusion matrix a count in each cell and the class names on both axes.
func TestNetSVG(t *testing.T) {
	in := gridInput(t)
	f := figures(t, in)
	svg := svgOf(t, f, "weights", Options{})
	if n := strings.Count(svg, "<image "); n != in.Net.H {
		t.Errorf("%d tiles, want %d (one per hidden unit)", n, in.Net.H)
	}
	hasTexts(t, "weights", svg, "1", "8")
	hasTexts(t, "confusion", svgOf(t, f, "confusion", Options{}), "40", "48", "39", "9", "Pullover", "predicted label", "true label", "fraction of the row")
}

// TestErrors: unknown kinds and formats, a missing or unknown slice
// parameter, and figures without data.
func TestErrors(t *testing.T) {
	in := gridInput(t)
	f := figures(t, in)
	for _, c := range []struct {
		kind, format string
		o            Options
		is           error
		says         string
	}{
		{"histogram", "png", Options{}, ErrKind, "history, slice, parallel, curves, weights, confusion, importance, timeline"},
		{"history", "jpg", Options{}, ErrFormat, "png, svg, pdf"},
		{"slice", "png", Options{}, ErrParam, "--param: learning_rate, reg"},
		{"slice", "png", Options{Param: "momentum"}, ErrParam, `"momentum": the sweep searches learning_rate, reg`},
	} {
		_, err := Write(io.Discard, f, c.kind, c.format, c.o)
		if !errors.Is(err, c.is) || !strings.Contains(fmt.Sprint(err), c.says) {
			t.Errorf("%s %s %+v: %v, want %v saying %q", c.kind, c.format, c.o, err, c.is, c.says)
		}
	}
	bare := &html.Input{Sweep: &results.Sweep{Name: "empty"}}
	fb := figures(t, bare)
	for kind, says := range map[string]string{"slice": "searches no parameter", "curves": "no trial has a recorded history", "weights": "no net", "confusion": "no net", "importance": "nothing was searched", "timeline": "no trial has started"} {
		if _, err := Write(io.Discard, fb, kind, "svg", Options{}); err == nil || !strings.Contains(err.Error(), says) {
			t.Errorf("%s of an empty sweep: %v, want an error saying %q", kind, err, says)
		}
	}
	for _, kind := range []string{"history", "parallel"} {
		if _, err := Write(io.Discard, fb, kind, "svg", Options{}); err != nil {
			t.Errorf("%s of an empty sweep: %v, want empty axes", kind, err)
		}
	}
	in.Net.W1, in.Net.Confusion, in.Net.Note = nil, nil, "Its weights were not kept."
	f = figures(t, in)
	for _, kind := range []string{"weights", "confusion"} {
		if _, err := Write(io.Discard, f, kind, "svg", Options{}); err == nil || !strings.Contains(err.Error(), "trial 3's") || !strings.Contains(err.Error(), "(Its weights were not kept)") {
			t.Errorf("%s without it: %v", kind, err)
		}
	}
}

func TestFormat(t *testing.T) {
	for path, want := range map[string]string{"a.png": "png", "b/c.SVG": "svg", "x.y.pdf": "pdf"} {
		if got, err := Format(path); got != want || err != nil {
			t.Errorf("Format(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	for _, path := range []string{"a.jpg", "noext", "-", "a.png.txt"} {
		if _, err := Format(path); !errors.Is(err, ErrFormat) || !strings.Contains(err.Error(), ".png, .svg, .pdf") {
			t.Errorf("Format(%q): %v, want ErrFormat naming the extensions", path, err)
		}
	}
}

func TestParseLength(t *testing.T) {
	for s, want := range map[string]vg.Length{"6in": 6 * vg.Inch, "6": 6 * vg.Inch, "15cm": 15 * vg.Centimeter, "150 mm": 150 * vg.Millimeter, "432pt": 432, "2.5in": 2.5 * vg.Inch} {
		if got, err := ParseLength(s); err != nil || math.Abs(float64(got-want)) > 1e-9 {
			t.Errorf("ParseLength(%q) = %v, %v; want %v", s, got, err, want)
		}
	}
	for _, s := range []string{"", "0", "-3in", "abc", "6ft", "101in", "NaN", "Inf"} {
		if _, err := ParseLength(s); err == nil {
			t.Errorf("ParseLength(%q) succeeded", s)
		}
	}
}

// TestSize: the width, height and resolution are the options'.
func TestSize(t *testing.T) {
	f := figures(t, gridInput(t))
	var b bytes.Buffer
	if _, err := Write(&b, f, "history", "png", Options{Width: 3 * vg.Inch, Height: 2 * vg.Inch, DPI: 100}); err != nil {
		t.Fatal(err)
	}
	img, err := png.Decode(&b)
	if err != nil {
		t.Fatal(err)
	}
	if got := img.Bounds().Size(); got.X != 300 || got.Y != 200 {
		t.Errorf("PNG %v, want 300×200", got)
	}
	if svg := svgOf(t, f, "curves", Options{}); !strings.Contains(svg, `<svg width="432pt" height="432pt"`) {
		t.Errorf("curves SVG %.120q, want 432pt×432pt (6×6 in)", svg[strings.Index(svg, "<svg"):])
	}
}

// randomInput is a finished random search of n trials over a log-uniform
// learning rate and a list of hidden sizes, each with a 12-epoch
// history: the size of big sweeps.
func randomInput(t testing.TB, n int) *html.Input {
	spec, err := search.Parse("random.toml", []byte(`
name = "big"
[data]
source = "synthetic"
[train]
epochs = 12
[search]
method = "random"
trials = 10000
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-1] }
hidden = [[20], [50], [100, 50]]
`))
	if err != nil {
		t.Fatal(err)
	}
	in := &html.Input{Spec: spec, Histories: map[int][]results.Epoch{}, Generated: t0.Add(10 * time.Hour)}
	hiddens := []any{[]any{20.0}, []any{50.0}, []any{100.0, 50.0}}
	for k := range n {
		lr := math.Pow(10, -5+4*float64((k*7919)%n)/float64(n))
		acc := math.Max(0.1, 0.8-0.1*math.Abs(math.Log10(lr)+2.5))
		start := t0.Add(time.Duration(k) * 3 * time.Second)
		in.Trials = append(in.Trials, results.Trial{Number: k + 1, Key: fmt.Sprint(k + 1), Status: results.Done, Attempts: 1,
			Params:  results.Params{{Name: "learning_rate", Value: lr}, {Name: "hidden", Value: hiddens[k%3]}},
			Metrics: results.Metrics{ValAcc: acc, ValLoss: 2.3 - acc, TrainAcc: acc, Iterations: 120, Epochs: 12},
			Created: t0, Started: start, Finished: start.Add(6 * time.Second), Duration: 6})
		in.Histories[k+1] = epochs(12, acc)
	}
	in.Sweep = &results.Sweep{Name: "big", Metric: "val_acc"}
	return in
}

// BenchmarkWrite draws the figures of a sweep of 10,000 trials.
func BenchmarkWrite(b *testing.B) {
	f := figures(b, randomInput(b, 10000))
	for _, kind := range []string{"history", "slice", "parallel", "curves", "importance", "timeline"} {
		for _, format := range Formats {
			b.Run("trials=10000/kind="+kind+"/format="+format, func(b *testing.B) {
				b.ReportAllocs()
				var size int
				for b.Loop() {
					var buf bytes.Buffer
					if _, err := Write(&buf, f, kind, format, Options{Param: "hidden"}); err != nil {
						b.Fatal(err)
					}
					size = buf.Len()
				}
				b.ReportMetric(float64(size)/1e6, "MB")
			})
		}
	}
}
