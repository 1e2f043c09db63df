package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/internal/browser"
)

// reportASHASpec is reportSpec's data and net searched by ASHA with one
// worker: 9 trials, rungs at 1, 3 and 9 epochs, so that its report has
// pruned trials drawn hollow and rungs marked; a log-uniform and a
// categorical parameter.
var reportASHASpec = strings.NewReplacer(`name = "report-e2e"`, `name = "report-asha"`, "workers = 2", "workers = 1", "epochs = 2", "epochs = 9").
	Replace(reportSpec[:strings.Index(reportSpec, "[search]")]) + `[search]
method = "asha"
trials = 9

[search.asha]
min_epochs = 1
eta = 3

[search.params]
learning_rate = { log_uniform = [1e-4, 1e-1] }
activation = ["relu", "swish"]
`

// TestReportInBrowser opens the report of a real sweep in headless
// Chromium (see internal/browser) and checks what a reader sees: a grid
// sweep with diverged trials, and an adaptive one with pruned trials and
// rungs. A screenshot of each page, as opened, is written to the test's
// artifact directory (a temporary directory, kept with go test -artifacts)
// and its path logged.
func TestReportInBrowser(t *testing.T) {
	for _, tc := range []struct {
		name, spec string
		hidden     int
		params     []string
		adaptive   bool
	}{
		{"report-e2e", reportSpec, 8, []string{"learning_rate", "reg"}, false},
		{"report-asha", reportASHASpec, 8, []string{"learning_rate", "activation"}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel() // two browsers at once: their start-up is most of the time
			tab := browser.Start(t)
			spec, db := writeSpec(t, tc.spec), newDB(t)
			if code, out, errs := runCLI(t, "run", spec, "--db", db); code != exitOK && code != exitTrialFailed {
				t.Fatalf("run: exit %d\n%s%s", code, out, errs)
			}
			file := filepath.Join(t.TempDir(), "report.html")
			if code, out, errs := runCLI(t, "report", tc.name, "--db", db, "-o", file); code != exitOK {
				t.Fatalf("report: exit %d\n%s%s", code, out, errs)
			}
			r := readSweep(t, db, tc.name)
			if tc.adaptive && (r.count("pruned") == 0 || r.rungs < 2) {
				t.Fatalf("the adaptive sweep has %d pruned trials and %d rungs: it should have some of both", r.count("pruned"), r.rungs)
			}
			url := "file://" + filepath.ToSlash(file)
			tab.Navigate(url)
			shot := filepath.Join(t.ArtifactDir(), tc.name+".png")
			tab.Screenshot(shot)
			t.Logf("screenshot: %s", shot)
			checkReportPage(t, tab, r, tc.hidden, tc.params)
			checkBoard(t, tab, r)
			if tc.adaptive {
				checkRungs(t, tab, r)
			}
			for _, m := range tab.Messages() {
				if m.Problem() {
					t.Errorf("the page reported a problem: %v", m)
				} else {
					t.Logf("the page said: %v", m)
				}
			}
			if out := tab.RequestsOutside(url); len(out) > 0 {
				t.Errorf("the report requested %q: it must request nothing but itself", out)
			}
		})
	}
}

// sweepTruth is what the CLI says of a sweep, to check the page against.
type sweepTruth struct {
	trials []exportRow
	best   int // the selected best trial
	rungs  int // the highest rung a trial reached (adaptive search), else 0
}

type exportRow struct {
	Trial  int      `json:"trial"`
	Status string   `json:"status"`
	ValAcc *float64 `json:"val_acc"`
	Rung   int      `json:"rung"`
}

func readSweep(t *testing.T, db, name string) sweepTruth {
	t.Helper()
	var r sweepTruth
	code, out, errs := runCLI(t, "export", name, "--format", "json", "--db", db)
	if code != exitOK {
		t.Fatalf("export: exit %d: %s", code, errs)
	}
	if err := json.Unmarshal([]byte(out), &r.trials); err != nil {
		t.Fatalf("export: %v", err)
	}
	code, out, errs = runCLI(t, "best", name, "--format", "json", "--db", db)
	if code != exitOK {
		t.Fatalf("best: exit %d: %s", code, errs)
	}
	var best struct{ Trial int }
	if err := json.Unmarshal([]byte(out), &best); err != nil || best.Trial == 0 {
		t.Fatalf("best: %v (%q)", err, out)
	}
	r.best = best.Trial
	for _, tr := range r.trials {
		r.rungs = max(r.rungs, tr.Rung)
	}
	return r
}

func (r sweepTruth) count(status string) int {
	n := 0
	for _, tr := range r.trials {
		if tr.Status == status {
			n++
		}
	}
	return n
}

// checkReportPage: the figures are laid out, one point per trial in the
// history and each slice plot, the best trial marked with its number, a
// decoded weight tile per hidden unit, a timeline bar per trial.
func checkReportPage(t *testing.T, tab *browser.Tab, r sweepTruth, hidden int, params []string) {
	t.Helper()
	n := len(r.trials)
	if narrow := browser.Eval[[]string](tab, `Array.from(document.querySelectorAll("svg.chart")).
		filter(s => s.getBoundingClientRect().width < 300 || s.getBoundingClientRect().height < 100).map(s => s.id)`); len(narrow) > 0 {
		t.Errorf("charts not laid out (under 300×100 px): %q", narrow)
	}
	best := strconv.Itoa(r.best)
	charts := []string{"history"}
	for _, p := range params {
		charts = append(charts, "slice-"+p)
	}
	for _, id := range charts {
		svg := "svg#" + id
		if got := tab.Count(svg + " circle.trial"); got != n {
			t.Errorf("%s: %d trial points, want %d (one per trial)", id, got, n)
		}
		marked := browser.Eval[[]string](tab, `Array.from(document.querySelectorAll("`+svg+` circle.trial.best")).map(c => c.dataset.trial)`)
		if len(marked) != 1 || marked[0] != best {
			t.Errorf("%s: best-marked points of trials %q, want trial %s alone", id, marked, best)
		}
		if got := browser.Eval[[]string](tab, `Array.from(document.querySelectorAll("`+svg+` text.best")).map(x => x.textContent)`); !slices.Equal(got, []string{best}) {
			t.Errorf("%s: the best mark's label is %q, want the trial's number %s", id, got, best)
		}
	}
	if got := tab.Count("svg.chart[id^=slice-]"); got != len(params) {
		t.Errorf("%d slice plots, want %d (one per searched parameter)", got, len(params))
	}
	// Pruned and paused trials are drawn hollow, diverged ones crossed.
	for _, st := range []string{"pruned", "paused"} {
		if got := tab.Count(`svg#history circle.trial.` + st + `[fill="white"]`); got != r.count(st) {
			t.Errorf("history: %d hollow %s points, want %d", got, st, r.count(st))
		}
	}
	if got := tab.Count("svg#history circle.trial.diverged"); got != r.count("diverged") {
		t.Errorf("history: %d diverged points, want %d", got, r.count("diverged"))
	}
	if got := tab.Count("svg#history path.xmark:not(.legend-mark *)"); got != r.count("diverged") {
		t.Errorf("history: %d crossed points, want %d diverged", got, r.count("diverged"))
	}
	if got := tab.Count("#weights img.tile"); got != hidden {
		t.Errorf("%d weight tiles, want %d (one per hidden unit)", got, hidden)
	}
	if bad := browser.Eval[[]string](tab, `Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.alt)`); len(bad) > 0 {
		t.Errorf("images the browser could not decode: %q", bad)
	}
	if got := browser.Eval[[]int](tab, `Array.from(document.querySelectorAll("#weights img.tile")).map(i => i.naturalWidth)`); len(got) > 0 && got[0] != 28 {
		t.Errorf("weight tiles %d px wide, want 28 (the embedded data's 28×28 images)", got[0])
	}
	if got := tab.Count("svg#timeline rect.span[data-trial]"); got != n {
		t.Errorf("timeline: %d bars, want %d (one per trial)", got, n)
	}
	if got := browser.Eval[string](tab, `document.querySelector("#board tr.best").dataset.trial + " " + document.querySelector("#board tr.best .badge").textContent`); got != best+" best" {
		t.Errorf("leaderboard: the best row is %q, want trial %s with the badge best", got, best)
	}
}

// checkBoard clicks the leaderboard's headers and status boxes, as a reader
// does, and checks the rows.
func checkBoard(t *testing.T, tab *browser.Tab, r sweepTruth) {
	t.Helper()
	heads := browser.Eval[[]string](tab, `Array.from(document.querySelectorAll("#board thead th")).map(h => h.textContent)`)
	header := func(name string) string {
		i := slices.Index(heads, name)
		if i < 0 {
			t.Fatalf("the leaderboard has no column %s: %q", name, heads)
		}
		return fmt.Sprintf("#board thead th:nth-child(%d)", i+1)
	}
	rows := func() []int { // the trials of the shown rows, top to bottom
		return browser.Eval[[]int](tab, `Array.from(document.querySelectorAll("#board tbody tr:not([hidden])")).map(r => +r.dataset.trial)`)
	}
	var all []int
	byTrial := map[int]exportRow{}
	for _, tr := range r.trials {
		all = append(all, tr.Trial)
		byTrial[tr.Trial] = tr
	}
	slices.Sort(all)
	if got := rows(); got[0] != r.best {
		t.Errorf("the leaderboard starts with trial %d, want the best, %d", got[0], r.best)
	}

	// trial: ascending, then descending.
	tab.Click(header("trial"))
	if got := rows(); !slices.Equal(got, all) {
		t.Errorf("sorted by trial: %v, want %v", got, all)
	}
	if got := browser.Eval[string](tab, `document.querySelector("#board th[aria-sort]").textContent + " " + document.querySelector("#board th[aria-sort]").getAttribute("aria-sort")`); got != "trial ascending" {
		t.Errorf("the sorted header says %q, want trial ascending", got)
	}
	tab.Click(header("trial"))
	desc := slices.Clone(all)
	slices.Reverse(desc)
	if got := rows(); !slices.Equal(got, desc) {
		t.Errorf("sorted by trial again: %v, want %v (descending)", got, desc)
	}

	// val_acc ascending: the worst first, trials without one last.
	tab.Click(header("val_acc"))
	got := rows()
	lo := 2.0
	for _, tr := range r.trials {
		if tr.ValAcc != nil {
			lo = min(lo, *tr.ValAcc)
		}
	}
	if first := byTrial[got[0]]; first.ValAcc == nil || *first.ValAcc != lo {
		t.Errorf("sorted by val_acc: trial %d first, want one with the lowest val_acc %v", got[0], lo)
	}
	seenNone := false
	for _, tr := range got {
		if byTrial[tr].ValAcc == nil {
			seenNone = true
		} else if seenNone {
			t.Errorf("sorted by val_acc: %v puts a trial without val_acc before trial %d", got, tr)
		}
	}

	// status: a text column, alphabetical.
	tab.Click(header("status"))
	var statuses []string
	for _, tr := range r.trials {
		statuses = append(statuses, tr.Status)
	}
	if first := byTrial[rows()[0]].Status; first != slices.Min(statuses) {
		t.Errorf("sorted by status: the first row is %s, want %s", first, slices.Min(statuses))
	}

	// Filter: untick a status other than the best's: its rows hide.
	hide := ""
	for _, tr := range r.trials {
		if tr.Status != byTrial[r.best].Status {
			hide = tr.Status
			break
		}
	}
	if hide == "" {
		t.Fatal("the sweep has one status: nothing to filter")
	}
	box := `#status-filter input[value="` + hide + `"]`
	tab.Click(box)
	shown := rows()
	for _, tr := range shown {
		if byTrial[tr].Status == hide {
			t.Errorf("unticked %s: trial %d, %s, is still shown", hide, tr, hide)
		}
	}
	if want := len(r.trials) - r.count(hide); len(shown) != want {
		t.Errorf("unticked %s: %d rows shown, want %d", hide, len(shown), want)
	}
	if got, want := browser.Eval[string](tab, `document.getElementById("shown").textContent`), fmt.Sprintf("%d of %d trials shown", len(shown), len(r.trials)); got != want {
		t.Errorf("the filter says %q, want %q", got, want)
	}
	tab.Click(box)
	if got := rows(); len(got) != len(r.trials) {
		t.Errorf("ticked %s again: %d rows shown, want all %d", hide, len(got), len(r.trials))
	}
}

// checkRungs: an adaptive sweep's learning curves mark each rung and how
// many trials reached it.
func checkRungs(t *testing.T, tab *browser.Tab, r sweepTruth) {
	t.Helper()
	var want []string
	for k := 1; k <= r.rungs; k++ {
		n := 0
		for _, tr := range r.trials {
			if tr.Rung >= k {
				n++
			}
		}
		want = append(want, fmt.Sprintf("rung %d: %d", k, n))
	}
	for _, id := range []string{"curves-loss", "curves-acc"} {
		if got := tab.Count("svg#" + id + " line.rung"); got != r.rungs {
			t.Errorf("%s: %d rung lines, want %d", id, got, r.rungs)
		}
		if got := browser.Eval[[]string](tab, `Array.from(document.querySelectorAll("svg#`+id+` text.rung-label")).map(x => x.textContent)`); !slices.Equal(got, want) {
			t.Errorf("%s: rung labels %q, want %q", id, got, want)
		}
	}
	if got := browser.Eval[[]string](tab, `Array.from(document.querySelectorAll("#board thead th")).map(h => h.textContent)`); !slices.Contains(got, "rung") {
		t.Errorf("the leaderboard has no rung column: %q", got)
	}
	if !strings.Contains(browser.Eval[string](tab, `document.getElementById("fig-curves-acc").textContent`), "rungs of the adaptive search") {
		t.Error("the accuracy curves' caption does not explain the rungs")
	}
}
