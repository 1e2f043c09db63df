package main

import (
	"bytes"
	"encoding/xml"
	"image/png"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/report/plot"
)

// plotDB runs reportSpec's sweep (6 trials, two diverging) and returns
// its database.
func plotDB(t *testing.T) string {
	t.Helper()
	spec, db := writeSpec(t, reportSpec), newDB(t)
	if code, out, errs := runCLI(t, "run", spec, "--db", db); code != exitOK && code != exitTrialFailed {
		t.Fatalf("run: exit %d\n%s%s", code, out, errs)
	}
	return db
}

// TestPlot draws every kind of plot of a real sweep in every format, and
// checks each file is what its extension says; the history's SVG has a
// mark per trial and the best one labelled.
func TestPlot(t *testing.T) {
	db := plotDB(t)
	dir := t.TempDir()
	for _, kind := range plot.Kinds {
		for _, format := range plot.Formats {
			t.Run(kind+"."+format, func(t *testing.T) {
				out := filepath.Join(dir, kind+"."+format)
				code, stdout, stderr := runCLI(t, "plot", kind, "report-e2e", "--db", db, "-o", out, "--param", "reg")
				if code != exitOK {
					t.Fatalf("exit %d\n%s%s", code, stdout, stderr)
				}
				if !strings.HasPrefix(stderr, "wrote the "+kind+" plot of sweep \"report-e2e\" to "+out+"\n") {
					t.Errorf("stderr %q does not say where the plot is", stderr)
				}
				b, err := os.ReadFile(out)
				if err != nil {
					t.Fatal(err)
				}
				switch format {
				case "png":
					if _, err := png.Decode(bytes.NewReader(b)); err != nil {
						t.Errorf("not a PNG: %v", err)
					}
				case "svg":
					var root struct{ XMLName xml.Name }
					if err := xml.Unmarshal(b, &root); err != nil || root.XMLName.Local != "svg" {
						t.Errorf("not an SVG: root %v, %v", root.XMLName, err)
					}
				case "pdf":
					if !bytes.HasPrefix(b, []byte("%PDF-")) {
						t.Errorf("not a PDF: starts %q", b[:min(len(b), 16)])
					}
				}
			})
		}
	}
	b, err := os.ReadFile(filepath.Join(dir, "history.svg"))
	if err != nil {
		t.Fatal(err)
	}
	svg := string(b)
	// A trial's mark is a circle of radius 3pt (two arcs), the best
	// one's ring one of 6pt; the legend's marks are larger (3.5pt).
	if n := strings.Count(svg, "A3,3 ") / 2; n != 6 {
		t.Errorf("%d trial marks in the history, want 6", n)
	}
	if n := strings.Count(svg, "A6,6 ") / 2; n != 1 {
		t.Errorf("%d rings in the history, want 1 (the best trial)", n)
	}
	code, out, _ := runCLI(t, "best", "report-e2e", "--db", db, "--format", "json")
	best := regexp.MustCompile(`"trial": ?(\d+)`).FindStringSubmatch(out)
	if code != exitOK || best == nil {
		t.Fatalf("best: exit %d\n%s", code, out)
	}
	if !regexp.MustCompile(`>` + best[1] + `</text>`).MatchString(svg) {
		t.Errorf("the best trial %s is not labelled in the history", best[1])
	}
	// The weights: a tile per hidden unit.
	b, err = os.ReadFile(filepath.Join(dir, "weights.svg"))
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(b), "<image "); n != 8 {
		t.Errorf("%d weight tiles, want 8 (one per hidden unit)", n)
	}
}

// TestPlotOptions: the size, the resolution and --top.
func TestPlotOptions(t *testing.T) {
	db := plotDB(t)
	out := filepath.Join(t.TempDir(), "c.png")
	if code, _, errs := runCLI(t, "plot", "curves", "report-e2e", "--db", db, "-o", out, "--width", "10cm", "--height", "2in", "--dpi", "127", "--top", "2"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Width != 500 || cfg.Height != 254 { // 10cm and 2in at 127 dpi
		t.Errorf("PNG %d×%d, want 500×254", cfg.Width, cfg.Height)
	}
	svg := filepath.Join(t.TempDir(), "c.svg")
	if code, _, errs := runCLI(t, "plot", "curves", "report-e2e", "--db", db, "-o", svg, "--top", "2"); code != exitOK {
		t.Fatalf("exit %d: %s", code, errs)
	}
	b, _ := os.ReadFile(svg)
	if n := len(regexp.MustCompile(`>trial \d+ \((best|#\d)\)</text>`).FindAllString(string(b), -1)); n != 2 {
		t.Errorf("%d top trials in the legend, want 2 (--top 2)", n)
	}
}

// TestPlotErrors: usage mistakes exit 2 saying what is accepted; a
// missing sweep too.
func TestPlotErrors(t *testing.T) {
	db := plotDB(t)
	out := filepath.Join(t.TempDir(), "p.png")
	for _, c := range []struct {
		args []string
		code int
		says string
	}{
		{[]string{"plot", "histogram", "report-e2e", "-o", out}, exitUsage, "unknown kind of plot \"histogram\": want one of history, slice, parallel, curves, weights, confusion, importance, timeline"},
		{[]string{"plot", "history", "report-e2e", "-o", "p.jpg"}, exitUsage, ".png, .svg, .pdf"},
		{[]string{"plot", "history", "report-e2e"}, exitUsage, "-o FILE.png"},
		{[]string{"plot", "history"}, exitUsage, "usage: sweep plot KIND NAME"},
		{[]string{"plot", "slice", "report-e2e", "-o", out}, exitUsage, "say which one with --param: learning_rate, reg"},
		{[]string{"plot", "slice", "report-e2e", "-o", out, "--param", "momentum"}, exitUsage, `"momentum": the sweep searches learning_rate, reg`},
		{[]string{"plot", "history", "nope", "-o", out}, exitUsage, "nope"},
		{[]string{"plot", "history", "report-e2e", "-o", out, "--width", "6ft"}, exitUsage, "bad length"},
	} {
		code, _, stderr := runCLI(t, append(c.args, "--db", db)...)
		if code != c.code || !strings.Contains(stderr, c.says) {
			t.Errorf("%q: exit %d, %q; want exit %d saying %q", c.args, code, stderr, c.code, c.says)
		}
	}
	if _, err := os.Stat(out); err == nil {
		t.Error("a failed plot left a file")
	}
}

// TestPlotHelp lists every kind with what it shows.
func TestPlotHelp(t *testing.T) {
	code, stdout, _ := runCLI(t, "help", "plot")
	if code != exitOK {
		t.Fatalf("exit %d", code)
	}
	for _, k := range plot.Kinds {
		if !regexp.MustCompile(`(?m)^  ` + k + ` +\S`).MatchString(stdout) {
			t.Errorf("help plot does not list %s:\n%s", k, stdout)
		}
	}
}
