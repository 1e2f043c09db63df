package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// reportSpec is a small real sweep on the embedded data: 6 trials of a
// two-layer net with 8 hidden units, two of them diverging.
const reportSpec = `
name = "report-e2e"
seed = 4
workers = 2

[data]
source = "embedded"
train = 300
val = 100
test = 100

[model]
hidden = [8]
weight_scale = 1e-3

[train]
epochs = 2
batch_size = 50

[search]
method = "grid"

[search.params]
learning_rate = [1e-3, 3e-3, 1e2]
reg = [0.0, 0.1]
`

// TestReport runs a real sweep, then `sweep report`, and checks the file:
// its sections, a point per trial in the history, the best trial marked,
// a weight tile per hidden unit of 28×28 input, and nothing fetched.
func TestReport(t *testing.T) {
	spec, db := writeSpec(t, reportSpec), newDB(t)
	if code, out, errs := runCLI(t, "run", spec, "--db", db); code != exitOK && code != exitTrialFailed {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	out := filepath.Join(t.TempDir(), "r.html")
	code, stdout, stderr := runCLI(t, "report", "report-e2e", "--db", db, "-o", out)
	if code != exitOK {
		t.Fatalf("report: exit %d\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "wrote the report of sweep \"report-e2e\" (6 trials) to "+out) {
		t.Errorf("stderr %q does not say where the report is", stderr)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	page := string(b)
	for _, id := range []string{"summary", "leaderboard", "history", "slices", "contours", "parallel", "curves", "importance", "net", "timeline"} {
		if !strings.Contains(page, `<section id="`+id+`"`) {
			t.Errorf("no section %s", id)
		}
	}
	history := regexp.MustCompile(`(?s)<svg [^>]*id="history".*?</svg>`).FindString(page)
	if n := strings.Count(history, `<circle class="trial `); n != 6 {
		t.Errorf("%d trial points in the history, want 6", n)
	}
	if !regexp.MustCompile(`<circle class="trial done best" data-trial="\d+"`).MatchString(history) {
		t.Error("the best trial is not marked in the history")
	}
	if n := strings.Count(page, `<img class="tile"`); n != 8 {
		t.Errorf("%d weight tiles, want 8 (one per hidden unit)", n)
	}
	for _, s := range []string{"main-effect ANOVA of an incomplete grid (4 of 6 cells", `data-status="diverged"`, "test_acc", "used once for this sweep", `id="fig-confusion"`} {
		if !strings.Contains(page, s) {
			t.Errorf("the report lacks %q", s)
		}
	}
	// The confusion matrix counts every validation image once; a few
	// misclassified ones are shown.
	if strings.Contains(page, "Missing:") {
		t.Error("the report says something is missing")
	}
	if n := strings.Count(page, `<figure class="example"`); n < 1 || n > misclassifiedShown {
		t.Errorf("%d misclassified examples, want 1 to %d", n, misclassifiedShown)
	}
	if strings.Contains(strings.ReplaceAll(page, `xmlns="http://www.w3.org/2000/svg"`, ""), "http") {
		t.Error("the report refers to a network address")
	}
}

// TestReportErrors: usage and a missing sweep.
func TestReportErrors(t *testing.T) {
	if code, _, _ := runCLI(t, "report"); code != exitUsage {
		t.Errorf("report without a name: exit %d, want %d", code, exitUsage)
	}
	db := newDB(t)
	if code, _, errs := runCLI(t, "report", "nope", "--db", db); code == exitOK || !strings.Contains(errs, "sweep report:") {
		t.Errorf("report of a missing database: exit %d, %q", code, errs)
	}
}

func TestReportFile(t *testing.T) {
	for name, want := range map[string]string{"quickstart": "quickstart.html", "a/b c": "a_b_c.html", "../x": "_x.html"} {
		if got := reportFile(name); got != want {
			t.Errorf("reportFile(%q) = %q, want %q", name, got, want)
		}
	}
}

// BenchmarkReport is `sweep report` in-process (open, read the sweep, its
// trials and the histories the learning curves draw, render, write) on a
// sweep of n done trials with 20-epoch histories.
func BenchmarkReport(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprintf("trials=%d", n), func(b *testing.B) {
			db := bigSweep(b, n, 20)
			out := filepath.Join(b.TempDir(), "r.html")
			args := []string{"report", "big", "--db", db, "-o", out}
			b.ReportAllocs()
			for b.Loop() {
				if code := run(b.Context(), args, io.Discard, io.Discard); code != exitOK {
					b.Fatalf("exit %d", code)
				}
			}
			fi, err := os.Stat(out)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(fi.Size())/1e6, "MB")
		})
	}
}
