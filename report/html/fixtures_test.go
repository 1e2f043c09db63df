package html

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/search"
)

// t0 is the fixtures' clock.
var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

func parseSpec(t testing.TB, src string) *search.Spec {
	t.Helper()
	spec, err := search.Parse("fixture.toml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return spec
}

// fixtureData is the fixtures' [data] table.
const fixtureData = `
[data]
source = "synthetic"
train = 200
val = 50
test = 50
`

// gridSpec is a 2×2 grid.
const gridSpec = `
name = "grid2x2"
workers = 2
` + fixtureData + `
[train]
epochs = 3

[search]
method = "grid"

[search.params]
learning_rate = [1e-3, 1e-2]
reg = [0.1, 0.25]
`

// gridAcc are the 2×2 grid's val_acc, by (learning_rate, reg): the hand
// computed ANOVA of TestGridANOVA is about them.
var gridAcc = [2][2]float64{{0.40, 0.50}, {0.20, 0.60}}

// history returns a plausible n-epoch history ending at acc.
func history(n int, acc float64) []results.Epoch {
	h := make([]results.Epoch, n)
	for e := range h {
		frac := float64(e+1) / float64(n)
		h[e] = results.Epoch{Epoch: float64(e + 1), Iteration: 10 * (e + 1), LearningRate: 1e-3,
			Loss: 2.3 - 1.5*acc*frac, TrainAcc: acc*frac + 0.02, ValAcc: acc * frac, ValLoss: 2.3 - acc*frac}
	}
	return h
}

// gridInput is a finished 2×2 grid with histories, its best selected.
func gridInput(t testing.TB) *Input {
	spec := parseSpec(t, gridSpec)
	in := &Input{Spec: spec, Histories: map[int][]results.Epoch{}, Generated: t0.Add(time.Hour)}
	n := 0
	for i, lr := range []float64{1e-3, 1e-2} {
		for j, reg := range []float64{0.1, 0.25} {
			n++
			acc := gridAcc[i][j]
			start := t0.Add(time.Duration(n-1) / 2 * time.Minute)
			in.Trials = append(in.Trials, results.Trial{Number: n, Key: fmt.Sprint(n),
				Params: results.Params{{Name: "learning_rate", Value: lr}, {Name: "reg", Value: reg}},
				Status: results.Done, Attempts: 1, Seed: uint64(n),
				Metrics: results.Metrics{ValAcc: acc, ValLoss: 2.3 - acc, TrainAcc: acc + 0.02, FinalValAcc: acc, Iterations: 30, Epochs: 3},
				Created: t0, Started: start, Finished: start.Add(50 * time.Second), Duration: 50})
			in.Histories[n] = history(3, acc)
		}
	}
	test := 0.58
	in.Trials[3].TestAcc = &test
	in.Best = &results.Best{Trial: 4, ValAcc: 0.60, ValLoss: 1.7, TestAcc: test, TestLoss: 1.75, Evaluated: t0.Add(2 * time.Minute)}
	in.Sweep = &results.Sweep{Name: "grid2x2", Metric: "val_acc", Canonical: []byte(strings.TrimSpace(gridSpec)), Created: t0,
		Elapsed: 100, Best: in.Best, Evaluations: []results.Best{*in.Best},
		Input: &results.Input{Shape: []int{30}, Classes: []string{"a", "b", "c"}}}
	return in
}

// ashaSpec is an adaptive search with ranges.
const ashaSpec = `
name = "asha6"
workers = 1
` + fixtureData + `
[train]
epochs = 9

[search]
method = "asha"
trials = 6

[search.asha]
min_epochs = 1
eta = 3

[search.params]
learning_rate = { log_uniform = [1e-4, 1e-1] }
reg = { uniform = [0.0, 1.0] }
`

// ashaInput is an ASHA sweep of 6 trials: 2 done (trained to 9 epochs
// through rungs 1 and 3), 2 pruned at rung 1, one diverged and one failed;
// no selection (the test set not used yet).
func ashaInput(t testing.TB) *Input {
	spec := parseSpec(t, ashaSpec)
	in := &Input{Spec: spec, Histories: map[int][]results.Epoch{}, Generated: t0.Add(time.Hour)}
	type fx struct {
		lr, reg float64
		status  results.Status
		acc     float64
		epochs  int
	}
	fixtures := []fx{
		{3e-3, 0.2, results.Done, 0.71, 9},
		{1e-4, 0.9, results.Pruned, 0.22, 1},
		{1e-3, 0.5, results.Done, 0.66, 9},
		{8e-2, 0.1, results.Diverged, 0.10, 1},
		{5e-4, 0.7, results.Pruned, 0.35, 1},
		{2e-2, 0.3, results.Failed, 0, 0},
	}
	for k, x := range fixtures {
		n := k + 1
		tr := results.Trial{Number: n, Key: fmt.Sprint(n), Seed: uint64(n),
			Params: results.Params{{Name: "learning_rate", Value: x.lr}, {Name: "reg", Value: x.reg}},
			Status: x.status, Attempts: 1, Created: t0, Started: t0.Add(time.Duration(k) * 20 * time.Second)}
		if x.status != results.Failed {
			tr.Metrics = results.Metrics{ValAcc: x.acc, ValLoss: 2.3 - x.acc, TrainAcc: x.acc, Iterations: 10 * x.epochs, Epochs: float64(x.epochs)}
			in.Histories[n] = history(x.epochs, x.acc)
			tr.Evals = []results.Eval{{Resource: 1, Value: x.acc / 2}}
			tr.Rung = 1
		} else {
			tr.Error = "boom"
		}
		if x.status == results.Diverged {
			tr.ValLoss = math.NaN()
			tr.Evals = nil
			tr.Rung = 0
		}
		if x.epochs == 9 {
			tr.Evals = append(tr.Evals, results.Eval{Resource: 3, Value: x.acc * 0.8}, results.Eval{Resource: 9, Value: x.acc})
			tr.Rung, tr.Attempts = 3, 3
		}
		tr.Duration = 5 * float64(max(x.epochs, 1))
		tr.Finished = tr.Started.Add(time.Duration(tr.Duration*1.5) * time.Second)
		in.Trials = append(in.Trials, tr)
	}
	in.Sweep = &results.Sweep{Name: "asha6", Metric: "val_acc", Canonical: []byte(strings.TrimSpace(ashaSpec)), Created: t0, Elapsed: 140}
	return in
}

// render writes in's report.
func render(t testing.TB, in *Input) string {
	t.Helper()
	var b bytes.Buffer
	if err := Write(&b, in); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

var svgRE = regexp.MustCompile(`(?s)<svg [^>]*?id="([^"]*)".*?</svg>`)

// svgs returns the report's SVG figures by id, parsed as XML (which also
// checks that each is well-formed).
func svgs(t testing.TB, page string) map[string]*node {
	t.Helper()
	out := map[string]*node{}
	for _, m := range svgRE.FindAllStringSubmatch(page, -1) {
		n, err := parseXML(m[0])
		if err != nil {
			t.Fatalf("svg %s is not well-formed XML: %v", m[1], err)
		}
		out[n.attr["id"]] = n
	}
	return out
}

// node is an XML element.
type node struct {
	name string
	attr map[string]string
	kids []*node
	text string
}

func parseXML(s string) (*node, error) {
	d := xml.NewDecoder(strings.NewReader(s))
	var stack []*node
	var root *node
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return root, nil
		}
		if err != nil {
			return nil, err
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			n := &node{name: tok.Name.Local, attr: map[string]string{}}
			for _, a := range tok.Attr {
				n.attr[a.Name.Local] = a.Value
			}
			if len(stack) > 0 {
				p := stack[len(stack)-1]
				p.kids = append(p.kids, n)
			} else {
				root = n
			}
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			if len(stack) > 0 {
				stack[len(stack)-1].text += string(tok)
			}
		}
	}
}

// walk calls fn on n and every element below it.
func (n *node) walk(fn func(*node)) {
	fn(n)
	for _, k := range n.kids {
		k.walk(fn)
	}
}

// hasClass reports whether n's class attribute has c.
func (n *node) hasClass(c string) bool { return slices.Contains(strings.Fields(n.attr["class"]), c) }

// find returns the elements named name (any, if "") with every class of
// classes.
func (n *node) find(name string, classes ...string) []*node {
	var out []*node
	n.walk(func(k *node) {
		if name != "" && k.name != name {
			return
		}
		for _, c := range classes {
			if !k.hasClass(c) {
				return
			}
		}
		out = append(out, k)
	})
	return out
}

// structure summarises an SVG for a golden file: each kind of element
// (name and classes) and how many there are, then the trial numbers of
// the trial marks, the best one, and the texts of the axes and legend.
func structure(n *node) string {
	counts := map[string]int{}
	var texts []string
	n.walk(func(k *node) {
		key := k.name
		if c := strings.Fields(k.attr["class"]); len(c) > 0 {
			slices.Sort(c)
			key += "." + strings.Join(c, ".")
		}
		counts[key]++
		if k.name == "text" && (k.hasClass("at") || k.hasClass("lg") || k.hasClass("best")) {
			texts = append(texts, strings.TrimSpace(k.text))
		}
	})
	var lines []string
	for k, v := range counts {
		lines = append(lines, fmt.Sprintf("  %s ×%d", k, v))
	}
	slices.Sort(lines)
	var trials []string
	for _, k := range n.find("", "trial") {
		trials = append(trials, k.attr["data-trial"])
		if k.hasClass("best") {
			trials[len(trials)-1] += "*"
		}
	}
	return fmt.Sprintf("svg %s\n%s\n  trials: %s\n  texts: %s\n", n.attr["id"], strings.Join(lines, "\n"), strings.Join(trials, " "), strings.Join(texts, " | "))
}

// synthetic returns an Input of n random-search trials over four
// parameters, with 12-epoch histories for the ones HistoryWanted picks:
// the size and speed of big reports.
func synthetic(t testing.TB, n int) *Input {
	spec := parseSpec(t, `
name = "big"
[data]
source = "synthetic"
[model]
hidden = [20]
[train]
epochs = 12
[search]
method = "random"
trials = 10000
[search.params]
learning_rate = { log_uniform = [1e-5, 1e-1] }
reg = { log_uniform = [1e-4, 1.0] }
lr_decay = { uniform = [0.5, 1.0] }
hidden = [[20], [50], [100, 50]]
`)
	rng := rand.New(rand.NewPCG(1, 2))
	in := &Input{Spec: spec, Histories: map[int][]results.Epoch{}, Generated: t0.Add(10 * time.Hour)}
	hiddens := []any{[]any{20.0}, []any{50.0}, []any{100.0, 50.0}}
	for k := range n {
		lr := math.Pow(10, -5+4*rng.Float64())
		reg := math.Pow(10, -4+4*rng.Float64())
		acc := math.Max(0.1, 0.8-0.1*math.Abs(math.Log10(lr)+2.5)-0.05*rng.Float64())
		st := results.Done
		switch {
		case lr > 5e-2:
			st, acc = results.Diverged, 0.1
		case k%50 == 7:
			st = results.Failed
		}
		start := t0.Add(time.Duration(k) * 3 * time.Second)
		in.Trials = append(in.Trials, results.Trial{Number: k + 1, Key: fmt.Sprint(k + 1), Seed: uint64(k),
			Params: results.Params{{Name: "learning_rate", Value: lr}, {Name: "reg", Value: reg},
				{Name: "lr_decay", Value: 0.5 + 0.5*rng.Float64()}, {Name: "hidden", Value: hiddens[k%3]}},
			Status: st, Attempts: 1, Metrics: results.Metrics{ValAcc: acc, ValLoss: 2.3 - acc, TrainAcc: acc, Iterations: 120, Epochs: 12},
			Created: t0, Started: start, Finished: start.Add(6 * time.Second), Duration: 6})
	}
	in.Sweep = &results.Sweep{Name: "big", Metric: "val_acc", Canonical: []byte("name = \"big\""), Created: t0}
	for _, num := range HistoryWanted(in.Trials, true, 0) {
		in.Histories[num] = history(12, in.Trials[num-1].ValAcc)
	}
	return in
}
