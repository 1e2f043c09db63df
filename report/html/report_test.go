package html

import (
	"bytes"
	"encoding/base64"
	"flag"
	stdhtml "html"
	"image"
	"image/png"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

var update = flag.Bool("update", false, "rewrite the golden files under testdata")

// TestGoldenStructure compares the structure of each figure of two small
// fixed sweeps (elements by class, trial marks, axis and legend texts)
// with testdata/*.golden; -update rewrites them.
func TestGoldenStructure(t *testing.T) {
	for name, in := range map[string]*Input{"grid2x2": gridInput(t), "asha6": ashaInput(t)} {
		t.Run(name, func(t *testing.T) {
			figs := svgs(t, render(t, in))
			ids := make([]string, 0, len(figs))
			for id := range figs {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			var b strings.Builder
			for _, id := range ids {
				b.WriteString(structure(figs[id]))
			}
			path := filepath.Join("testdata", name+".golden")
			if *update {
				if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run with -update to create it)", err)
			}
			if got := b.String(); got != string(want) {
				t.Errorf("structure of %s differs from %s (run with -update after checking):\n%s", name, path, got)
			}
		})
	}
}

// TestGridANOVA checks the main-effect ANOVA of the full 2×2 grid against
// the table computed by hand from gridAcc:
//
//	cells (lr, reg): (1e-3, .1) .40, (1e-3, .25) .50, (1e-2, .1) .20, (1e-2, .25) .60
//	grand mean .425; SS total = .025² + .075² + .225² + .175² = .0875
//	lr marginal means .45, .40:  SS = 2(.025²) + 2(.025²) = .0025  -> 1/35
//	reg marginal means .30, .55: SS = 2(.125²) + 2(.125²) = .0625  -> 25/35
//	interactions: 1 - 26/35 = 9/35
func TestGridANOVA(t *testing.T) {
	s := newStudy(gridInput(t))
	imp := s.importance()
	if !strings.Contains(imp.method, "exact main-effect ANOVA of the full grid (4 cells)") {
		t.Errorf("method %q, want the exact ANOVA of a full grid", imp.method)
	}
	want := []anovaRow{{"learning_rate", 2, 0.0025, 1.0 / 35}, {"reg", 2, 0.0625, 25.0 / 35}}
	if len(imp.table) != len(want) {
		t.Fatalf("table %v, want %v", imp.table, want)
	}
	const tol = 1e-12
	for i, w := range want {
		g := imp.table[i]
		if g.name != w.name || g.levels != w.levels || math.Abs(g.ss-w.ss) > tol || math.Abs(g.share-w.share) > tol {
			t.Errorf("row %d: %+v, want %+v", i, g, w)
		}
	}
	if math.Abs(imp.rest-9.0/35) > tol {
		t.Errorf("interactions %v, want 9/35 = %v", imp.rest, 9.0/35)
	}
	page := render(t, gridInput(t))
	for _, s := range []string{"<td>2.9%</td>", "<td>71.4%</td>", "<td>25.7%</td>", "interactions (rest)"} {
		if !strings.Contains(page, s) {
			t.Errorf("the report's ANOVA table lacks %q", s)
		}
	}
}

// TestIncompleteGrid: a grid with a failed cell is analysed, and said to
// be approximate.
func TestIncompleteGrid(t *testing.T) {
	in := gridInput(t)
	in.Trials[1].Status = results.Failed
	imp := newStudy(in).importance()
	if !strings.Contains(imp.method, "incomplete grid (3 of 4 cells") || imp.rest != 0 {
		t.Errorf("method %q rest %v, want an incomplete grid without interactions", imp.method, imp.rest)
	}
}

// TestPEDANOVA: on a random search whose metric depends on the learning
// rate alone, PED-ANOVA gives it nearly all the importance.
func TestPEDANOVA(t *testing.T) {
	in := synthetic(t, 400)
	for i := range in.Trials {
		tr := &in.Trials[i]
		lr, _ := tr.Params.Get("learning_rate")
		tr.Status = results.Done
		tr.ValAcc = 0.9 - 0.2*math.Abs(math.Log10(lr.(float64))+3)
	}
	s := newStudy(in)
	imp := s.importance()
	if !strings.HasPrefix(imp.method, "PED-ANOVA") {
		t.Fatalf("method %q, want PED-ANOVA", imp.method)
	}
	share := map[string]float64{}
	for j, n := range imp.names {
		share[n] = imp.share[j]
	}
	if share["learning_rate"] < 0.8 {
		t.Errorf("shares %v: want learning_rate > 0.8", share)
	}
	var sum float64
	for _, v := range imp.share {
		sum += v
	}
	if math.Abs(sum-1) > 1e-9 {
		t.Errorf("shares sum to %v", sum)
	}
}

// TestEscaping: a sweep name, parameter names and values, class names and
// errors are text, never markup.
func TestEscaping(t *testing.T) {
	const evil = `<script>alert(1)</script>`
	in := ashaInput(t)
	in.Sweep.Name = evil
	in.Spec = nil
	in.Trials[0].Params = append(in.Trials[0].Params, results.Param{Name: `act"iv'`, Value: `re"lu' <b>x</b> & "y"`})
	in.Trials[5].Error = evil
	in.Net = &NetView{Trial: 1, Classes: []string{evil}, Confusion: [][]int{{3}}, Note: evil}
	page := render(t, in)
	if n := strings.Count(page, "<script"); n != 1 {
		t.Errorf("%d <script elements, want 1 (the report's own)", n)
	}
	for _, bad := range []string{"alert(1)</script>", "<b>x</b>", `re"lu'`, `act"iv'`} {
		if strings.Contains(page, bad) {
			t.Errorf("the report holds %q unescaped", bad)
		}
	}
	if !strings.Contains(page, "&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Error("the sweep's name is not in the report, escaped")
	}
	if !strings.Contains(page, "re&#34;lu&#39; &lt;b&gt;x&lt;/b&gt; &amp; &#34;y&#34;") {
		t.Error("the parameter value is not in the report, escaped")
	}
	svgs(t, page) // every figure still parses
}

// TestSections: every section is there, in order, in both fixtures.
func TestSections(t *testing.T) {
	want := []string{"summary", "leaderboard", "history", "slices", "contours", "parallel", "curves", "importance", "net", "timeline"}
	for _, in := range []*Input{gridInput(t), ashaInput(t), {Sweep: &results.Sweep{Name: "empty"}}} {
		page := render(t, in)
		last := -1
		for _, id := range want {
			i := strings.Index(page, `<section id="`+id+`"`)
			if i < 0 || i < last {
				t.Errorf("%s: section %q missing or out of order", in.Sweep.Name, id)
			}
			last = i
		}
	}
}

// TestPointsPerTrial: the history and each slice plot have one point per
// trial with a metric, the best one marked with its number; the
// leaderboard a row per trial; the parallel plot a line per trial with a
// metric.
func TestPointsPerTrial(t *testing.T) {
	for _, in := range []*Input{gridInput(t), ashaInput(t), synthetic(t, 300)} {
		withMetric := 0
		for _, tr := range in.Trials {
			if tr.Status != results.Failed && tr.Status != results.Pending {
				withMetric++
			}
		}
		page := render(t, in)
		figs := svgs(t, page)
		for _, id := range []string{"history", "slice-learning_rate", "slice-reg", "parallel"} {
			fig := figs[id]
			if fig == nil {
				t.Fatalf("%s: no figure %s", in.Sweep.Name, id)
			}
			if n := len(fig.find("", "trial")); n != withMetric {
				t.Errorf("%s %s: %d trial marks, want %d", in.Sweep.Name, id, n, withMetric)
			}
			best := fig.find("", "trial", "best")
			if len(best) != 1 {
				t.Fatalf("%s %s: %d best marks, want 1", in.Sweep.Name, id, len(best))
			}
			if id != "parallel" {
				var label []*node
				fig.walk(func(k *node) {
					if k.name == "text" && k.hasClass("best") && strings.TrimSpace(k.text) == best[0].attr["data-trial"] {
						label = append(label, k)
					}
				})
				if len(label) != 1 {
					t.Errorf("%s %s: the best trial %s is not labelled with its number", in.Sweep.Name, id, best[0].attr["data-trial"])
				}
			}
		}
		if n := strings.Count(page, "<tr data-status="); n != len(in.Trials) {
			t.Errorf("%s: %d leaderboard rows, want %d", in.Sweep.Name, n, len(in.Trials))
		}
	}
}

// TestOffline: nothing in the report asks for a network resource.
func TestOffline(t *testing.T) {
	in := gridInput(t)
	in.Net = weightsNet(1, 28, 28, 6)
	page := render(t, in)
	page = strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, "")
	for _, re := range []string{`(?i)https?:`, `(?i)<link`, `(?i)<iframe`, `(?i)@import`, `(?i)url\(`, `(?i)src="(?:[^d]|d[^a])`, `(?i)//[a-z0-9.-]+\.[a-z]{2,}/`} {
		if m := regexp.MustCompile(re).FindString(page); m != "" {
			t.Errorf("the report holds %q (%s)", m, re)
		}
	}
}

// weightsNet is a net view of h units over c×hh×w images whose unit j's
// weights are a ramp scaled by j+1.
func weightsNet(c, hh, w, h int) *NetView {
	d := c * hh * w
	nv := &NetView{Trial: 4, Shape: []int{c, hh, w}, D: d, H: h, W1: make([]float32, d*h)}
	for i := range d {
		for j := range h {
			nv.W1[i*h+j] = float32(i) * float32(j+1) * 1e-3
		}
	}
	return nv
}

// TestWeightTiles: one tile per hidden unit, each the unit's weights
// reshaped to the input image (channel-major for colour) and normalised
// to the full grey or colour range.
func TestWeightTiles(t *testing.T) {
	for _, c := range []int{1, 3} {
		in := gridInput(t)
		in.Net = weightsNet(c, 32, 32, 5)
		page := render(t, in)
		tiles := regexp.MustCompile(`<img class="tile" data-unit="\d+" src="data:image/png;base64,([^"]+)"`).FindAllStringSubmatch(page, -1)
		if len(tiles) != 5 {
			t.Fatalf("c=%d: %d tiles, want 5", c, len(tiles))
		}
		raw, err := base64.StdEncoding.DecodeString(stdhtml.UnescapeString(tiles[2][1]))
		if err != nil {
			t.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(raw))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds() != image.Rect(0, 0, 32, 32) {
			t.Errorf("c=%d: tile %v, want 32×32", c, img.Bounds())
		}
		// Unit weights ramp along the flat index: channel 0's first pixel
		// is the minimum (0), the last channel's last pixel the maximum.
		r0, _, _, _ := img.At(0, 0).RGBA()
		r1, g1, b1, _ := img.At(31, 31).RGBA()
		last := b1
		if c == 1 {
			last = r1
		}
		if r0 != 0 || last>>8 != 255 {
			t.Errorf("c=%d: corner values %d, %d: want 0 and 255 (normalised per unit)", c, r0>>8, last>>8)
		}
		if c == 3 && !(r1 < g1 && g1 < b1) {
			t.Errorf("colour tile not channel-major: r %d g %d b %d at the last pixel", r1>>8, g1>>8, b1>>8)
		}
		if !strings.Contains(page, "Missing: the confusion matrix") {
			t.Error("the missing confusion matrix is not said")
		}
	}
}

// TestConfusionAndExamples: given predictions, the section draws them.
func TestConfusionAndExamples(t *testing.T) {
	in := gridInput(t)
	in.Net = weightsNet(1, 28, 28, 3)
	in.Net.Classes = []string{"T-shirt/top", "Trouser", "Pullover"}
	in.Net.Confusion = [][]int{{8, 1, 1}, {0, 10, 0}, {2, 0, 8}}
	px := make([]float32, 784)
	for i := range px {
		px[i] = float32(i % 28)
	}
	in.Net.Misclassified = []Example{{Index: 17, Pixels: px, True: 0, Predicted: 2}, {Index: 40, Pixels: px, True: 2, Predicted: 0}}
	page := render(t, in)
	fig := svgs(t, page)["confusion"]
	if fig == nil {
		t.Fatal("no confusion matrix")
	}
	if n := len(fig.find("rect", "cm")); n != 9 {
		t.Errorf("%d cells, want 9", n)
	}
	if n := strings.Count(page, `<figure class="example"`); n != 2 {
		t.Errorf("%d misclassified examples, want 2", n)
	}
	if !strings.Contains(page, "true: T-shirt/top<br>predicted: Pullover") {
		t.Error("an example's labels are missing")
	}
	if strings.Contains(page, "Missing:") {
		t.Error("a complete net section says something is missing")
	}
}

// TestSummary: the selected best with val and test accuracy and the test
// set's uses; an unselected leader is said not to be final.
func TestSummary(t *testing.T) {
	page := render(t, gridInput(t))
	for _, s := range []string{"trial 4: val_acc 0.600, val_loss 1.700; test_acc 0.580", "used once for this sweep", "grid", "2 per process", "1m40s"} {
		if !strings.Contains(page, s) {
			t.Errorf("summary lacks %q", s)
		}
	}
	page = render(t, ashaInput(t))
	for _, s := range []string{"trial 1: val_acc 0.710", "not measured yet", "not used yet", "<td>asha", "rungs from 1 epoch, eta 3"} {
		if !strings.Contains(page, s) {
			t.Errorf("summary lacks %q", s)
		}
	}
}

// TestRungs: the ASHA fixture's curves mark its rungs with their counts.
func TestRungs(t *testing.T) {
	page := render(t, ashaInput(t))
	if !strings.Contains(page, "rung 1 at 1 epochs: 4 trials; rung 2 at 3 epochs: 2 trials; rung 3 at 9 epochs: 2 trials") {
		t.Errorf("the rungs are not listed with their counts")
	}
	if n := len(svgs(t, page)["curves-acc"].find("line", "rung")); n != 3 {
		t.Errorf("%d rung lines, want 3", n)
	}
}

// TestHistoryWanted: the top trials, then a bounded even sample.
func TestHistoryWanted(t *testing.T) {
	in := synthetic(t, 1000)
	got := HistoryWanted(in.Trials, true, 3)
	if len(got) != 3+MaxFaintCurves {
		t.Errorf("%d histories wanted, want %d", len(got), 3+MaxFaintCurves)
	}
	ranked := slices.Clone(in.Trials)
	results.Rank(ranked, true)
	for i := range 3 {
		if got[i] != ranked[i].Number {
			t.Errorf("wanted[%d] = %d, want the #%d trial %d", i, got[i], i+1, ranked[i].Number)
		}
	}
}

// TestSize writes reports of 24, 1,000 and 10,000 trials and logs their
// size and build time; it asserts the size target (10 MB at 10,000
// trials), never the time. -short skips 10,000.
func TestSize(t *testing.T) {
	for _, n := range []int{24, 1000, 10000} {
		if testing.Short() && n > 1000 {
			continue
		}
		in := synthetic(t, n)
		start := time.Now()
		var b bytes.Buffer
		if err := Write(&b, in); err != nil {
			t.Fatal(err)
		}
		took := time.Since(start)
		t.Logf("%5d trials: %7.2f MB in %v", n, float64(b.Len())/1e6, took.Round(time.Millisecond))
		if b.Len() > 10e6 {
			t.Errorf("%d trials: %d bytes, over 10 MB", n, b.Len())
		}
		if n == 10000 && os.Getenv("SWEEP_REPORT_OUT") != "" {
			os.WriteFile(os.Getenv("SWEEP_REPORT_OUT"), b.Bytes(), 0o644)
		}
	}
}

// BenchmarkWrite builds reports of 24, 1,000 and 10,000 synthetic trials.
func BenchmarkWrite(b *testing.B) {
	for _, n := range []int{24, 1000, 10000} {
		in := synthetic(b, n)
		b.Run("trials="+strconv.Itoa(n), func(b *testing.B) {
			b.ReportAllocs()
			var size int
			for b.Loop() {
				var buf bytes.Buffer
				if err := Write(&buf, in); err != nil {
					b.Fatal(err)
				}
				size = buf.Len()
			}
			b.ReportMetric(float64(size)/1e6, "MB")
		})
	}
}
