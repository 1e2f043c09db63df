package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"gonum.org/v1/plot/vg"

	htmlreport "github.com/sweep-dev/sweep/report/html"
	"github.com/sweep-dev/sweep/report/plot"
	"github.com/sweep-dev/sweep/results"
)

func init() {
	commands["plot"] = command{summary: "one figure of a sweep's report as a PNG, SVG or PDF file", run: runPlot}
}

// lengthFlag is a figure's width or height: 6in, 15cm, 150mm, 432pt.
type lengthFlag struct{ v vg.Length }

func (l *lengthFlag) String() string {
	if l == nil || l.v == 0 {
		return ""
	}
	return fmt.Sprintf("%gin", float64(l.v/vg.Inch))
}

func (l *lengthFlag) Set(s string) error {
	v, err := plot.ParseLength(s)
	if err != nil {
		return err
	}
	l.v = v
	return nil
}

func plotUsage() string {
	var b strings.Builder
	b.WriteString("plot KIND NAME -o FILE.{png,svg,pdf} [--param P] [--top K] [--width W] [--height H] [--db DB]\n\nkinds:\n")
	for _, k := range plot.Kinds {
		fmt.Fprintf(&b, "  %-11s %s\n", k, plot.Summary(k))
	}
	return strings.TrimSuffix(b.String(), "\n")
}

func runPlot(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("plot", plotUsage(), stderr)
	out := fs.String("o", "", "write the figure to `FILE`, its format by its extension: .png, .svg or .pdf (required)")
	param := fs.String("param", "", "slice: the searched `PARAMETER` to plot (required when the sweep searches more than one)")
	top := fs.Int("top", htmlreport.DefaultTopK, "curves: draw the `K` best trials in colour")
	var width, height lengthFlag
	fs.Var(&width, "width", fmt.Sprintf("the figure's `WIDTH`, in in, cm, mm or pt (default %gin)", float64(plot.DefaultWidth/vg.Inch)))
	fs.Var(&height, "height", fmt.Sprintf("the figure's `HEIGHT` (default %gin; %gin for curves, two panels)", float64(plot.DefaultHeight/vg.Inch), float64(plot.DefaultCurvesHeight/vg.Inch)))
	dpi := fs.Int("dpi", plot.DefaultDPI, "a PNG's resolution in `DOTS` per inch")
	pos, code, ok := parseArgs(fs, args, 2, 2)
	if !ok {
		return code
	}
	kind, name := pos[0], pos[1]
	if !slices.Contains(plot.Kinds, kind) {
		return fail(stderr, "plot", usagef("unknown kind of plot %q: want one of %s", kind, strings.Join(plot.Kinds, ", ")))
	}
	if *out == "" {
		return fail(stderr, "plot", usagef("say where to write the figure: -o FILE.png, .svg or .pdf"))
	}
	format, err := plot.Format(*out)
	if err != nil {
		return fail(stderr, "plot", usageError{err.Error()})
	}
	if *top < 1 || *dpi < 10 || *dpi > 2400 {
		return fail(stderr, "plot", usagef("--top must be at least 1, --dpi within [10, 2400]"))
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "plot", err)
	}
	defer st.Close()
	in, err := reportInput(ctx, st, name)
	if err == nil && kind == "curves" {
		err = moreHistories(ctx, st, in, *top)
	}
	if err != nil {
		return fail(stderr, "plot", err)
	}
	in.TopK = *top
	figs, err := htmlreport.NewFigures(in)
	if err != nil {
		return fail(stderr, "plot", err)
	}
	// Drawn in memory first: a figure that cannot be drawn leaves no file.
	var fig bytes.Buffer
	note, err := plot.Write(&fig, figs, kind, format, plot.Options{Param: *param, Width: width.v, Height: height.v, DPI: *dpi})
	switch {
	case errors.Is(err, plot.ErrParam), errors.Is(err, plot.ErrFormat), errors.Is(err, plot.ErrKind):
		return fail(stderr, "plot", usageError{err.Error()})
	case err != nil:
		return fail(stderr, "plot", fmt.Errorf("%s of sweep %q: %w", kind, name, err))
	}
	if err := writeOutput(*out, stdout, func(w io.Writer) error { _, err := fig.WriteTo(w); return err }); err != nil {
		return fail(stderr, "plot", err)
	}
	fmt.Fprintf(stderr, "wrote the %s plot of sweep %q to %s\n  %s\n", kind, name, *out, note)
	return exitOK
}

// moreHistories reads the histories of the topK best trials that in
// lacks: reportInput reads those of the report's default top
// (HistoryWanted).
func moreHistories(ctx context.Context, st results.Store, in *htmlreport.Input, topK int) error {
	for _, n := range htmlreport.HistoryWanted(in.Trials, in.Sweep.Maximize(), topK) {
		if _, ok := in.Histories[n]; ok {
			continue
		}
		_, hist, err := st.Trial(ctx, in.Sweep.Name, n)
		if err != nil {
			return err
		}
		if len(hist) > 0 {
			in.Histories[n] = hist
		}
	}
	return nil
}
