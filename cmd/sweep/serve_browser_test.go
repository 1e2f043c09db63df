package main

import (
	"net/url"
	"path/filepath"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/internal/browser"
)

// TestServeInBrowser serves the database of a real sweep and opens its
// pages in headless Chromium (see internal/browser): the index lists and
// links the sweep; the sweep's page is its report, whole and working
// under the server's Content-Security-Policy (its script sorts and
// filters, its styles and data: images load: the checks of
// TestReportInBrowser), with the live banner, which says the page is up
// to date after a poll; no page logs a problem (a blocked script or style
// would) or requests anything from another origin. A screenshot of the
// served page is written to the test's artifact directory.
func TestServeInBrowser(t *testing.T) {
	tab := browser.Start(t)
	spec, db := writeSpec(t, reportSpec), newDB(t)
	if code, out, errs := runCLI(t, "run", spec, "--db", db); code != exitOK && code != exitTrialFailed {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	r := readSweep(t, db, "report-e2e")
	base, _, stop := serveInProcess(t, "--db", db, "--addr", "127.0.0.1:0")
	defer stop()

	tab.Navigate(base)
	if got := browser.Eval[[]string](tab, `Array.from(document.querySelectorAll("#sweeps tbody a")).map(a => a.getAttribute("href"))`); len(got) != 1 || got[0] != "/sweep?name=report-e2e" {
		t.Errorf("the index links %q, want the sweep's page alone", got)
	}
	if got := browser.Eval[string](tab, `document.querySelector("#sweeps tbody tr").textContent`); !strings.Contains(got, "finished") {
		t.Errorf("the index row says %q, want the sweep finished", got)
	}

	page := base + "sweep?name=" + url.QueryEscape("report-e2e")
	tab.Navigate(page)
	shot := filepath.Join(t.ArtifactDir(), "served-report-e2e.png")
	tab.Screenshot(shot)
	t.Logf("screenshot: %s", shot)
	checkReportPage(t, tab, r, 8, []string{"learning_rate", "reg"})
	checkBoard(t, tab, r)
	if got := browser.Eval[string](tab, `document.querySelector("#live a").getAttribute("href")`); got != "/" {
		t.Errorf("the banner links %q, want the index", got)
	}
	for _, m := range tab.Messages() {
		if m.Problem() {
			t.Errorf("a page reported a problem: %v", m)
		}
	}
	if out := tab.RequestsOutside(base); len(out) > 0 {
		t.Errorf("the pages requested %q: nothing but the server's origin", out)
	}
}
