package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/sweep-dev/sweep/data"
	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/trial"
)

func init() {
	commands["validate"] = command{summary: "check specs and list their trials, without training", run: runValidate}
}

// runValidate parses each spec and prints its resolved settings and its
// trials, or every problem of it. Exit 2 when any spec is bad.
func runValidate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("validate", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(stderr, "usage: sweep validate SPEC...")
		fmt.Fprintln(stderr, "\nChecks each spec and prints its settings (defaults filled in) and its trials;")
		fmt.Fprintln(stderr, "nothing is trained. Exit code 2 when a spec has mistakes, all of them listed.")
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitOK
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	code := exitOK
	for i, path := range fs.Args() {
		if i > 0 {
			fmt.Fprintln(stdout)
		}
		if err := validateSpec(ctx, stdout, path); err != nil {
			fmt.Fprintln(stderr, err)
			code = exitUsage
		}
	}
	return code
}

func validateSpec(ctx context.Context, w io.Writer, path string) error {
	spec, err := search.ParseFile(path)
	if err != nil {
		var se *search.SpecError
		if errors.As(err, &se) {
			return fmt.Errorf("%w\n%s: %s", err, path, report.Count(len(se.Problems), "problem"))
		}
		return fmt.Errorf("sweep validate: %w", err)
	}
	var trials []search.Trial
	if !spec.Search.Adaptive() {
		if trials, err = spec.Trials(); err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
	}
	// The data as run would load it, checked from the files' headers.
	info, err := data.Inspect(ctx, dataOptions(spec))
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	fmt.Fprintf(w, "%s: ok: %s\n", path, describeSearch(spec))
	fmt.Fprintf(w, "data: %s\n\n", describeData(info))
	fmt.Fprintln(w, "# settings, defaults filled in")
	fmt.Fprint(w, strings.TrimPrefix(string(spec.Canonical()), "\n"))
	fmt.Fprintln(w)
	if spec.Search.Adaptive() {
		fmt.Fprintln(w, "# trials: decided as the sweep runs, from its results")
		return nil
	}
	var groups []int
	if spec.Search.Fused() {
		// As a new sweep forms them (an existing one keeps its own).
		recs, err := trial.Records(spec)
		if err == nil {
			err = trial.Groups(spec, recs, nil)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		for _, r := range recs {
			groups = append(groups, r.Group)
		}
	}
	writeTrials(w, trials, groups)
	return nil
}

// describeData says what data a sweep trains on: "fashion-mnist
// (/usr/share/datasets/fashion-mnist): train 59000 and val 1000 of 60000
// training images, test 1000 of 10000; 10 classes of 1x28x28".
func describeData(in data.Info) string {
	where := ""
	if in.Path != "" {
		where = " (" + in.Path + ")"
	}
	shape := make([]string, len(in.Shape))
	for i, d := range in.Shape {
		shape[i] = strconv.Itoa(d)
	}
	o := in.Options
	return fmt.Sprintf("%s%s: train %d and val %d of %d training images, test %d of %d; %d classes of %s",
		in.Name, where, o.Train, o.Val, in.TrainImages, o.Test, in.TestImages, in.Classes, strings.Join(shape, "x"))
}

// describeSearch says what the sweep searches: "grid of 4 x 2 x 3 = 24
// trials", "asha with tpe sampling, 40 trials or 2m0s, rungs at 1, 3, 9
// epochs".
func describeSearch(s *search.Spec) string {
	n := s.Len()
	sr := s.Search
	switch {
	case sr.Method != "grid" && sr.Method != "random" || sr.Sampler == "tpe" || sr.Budget > 0:
		d := sr.Method
		if sr.Method == "random" {
			d = "random search"
		}
		if sr.Sampler == "tpe" {
			d += " with tpe sampling"
		}
		var bounds []string
		if n > 0 {
			bounds = append(bounds, report.Count(n, "trial"))
		}
		if sr.Budget > 0 {
			bounds = append(bounds, "a budget of "+sr.Budget.String())
		}
		d += ", " + strings.Join(bounds, " or ")
		if sr.Min > 0 {
			if rungs, err := search.Rungs(sr.Min, maxResource(s), sr.Eta); err == nil {
				r := make([]string, len(rungs))
				for i, v := range rungs {
					r[i] = strconv.Itoa(v)
				}
				d += fmt.Sprintf(", rungs at %s %s (eta %d)", strings.Join(r, ", "), sr.MinUnit, sr.Eta)
			}
		}
		return d
	case sr.Method == "random":
		return "random search, " + report.Count(n, "trial")
	case len(s.Search.Params) < 2:
		return "grid of " + report.Count(n, "trial")
	}
	sizes := make([]string, len(s.Search.Params))
	for i, p := range s.Search.Params {
		sizes[i] = fmt.Sprint(p.Len())
	}
	return fmt.Sprintf("grid of %s = %d trials", strings.Join(sizes, " x "), n)
}

// maxResource is a trial's full length in the unit of its rungs.
func maxResource(s *search.Spec) int {
	if s.Search.MinUnit == "iterations" {
		return s.Base.Iterations
	}
	return s.Base.Epochs
}

// writeTrials prints one row per trial: its number (1-based, as `sweep run`
// numbers the trials of a new sweep), key, seed, searched values.
// writeTrials lists trials; groups, when not nil, are their fused groups
// (0: on its own, shown as "-").
func writeTrials(w io.Writer, trials []search.Trial, groups []int) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprint(tw, "trial\tkey\tseed")
	if groups != nil {
		fmt.Fprint(tw, "\tgroup")
	}
	if len(trials) > 0 {
		for _, p := range trials[0].Params {
			fmt.Fprintf(tw, "\t%s", p.Name)
		}
	}
	fmt.Fprintln(tw)
	for i, t := range trials {
		fmt.Fprintf(tw, "%d\t%s\t%d", t.Index+1, t.Key, t.Seed)
		if groups != nil {
			g := "-"
			if i < len(groups) && groups[i] != 0 {
				g = strconv.Itoa(groups[i])
			}
			fmt.Fprintf(tw, "\t%s", g)
		}
		for _, p := range t.Params {
			fmt.Fprintf(tw, "\t%s", report.FormatValue(p.Value))
		}
		fmt.Fprintln(tw)
	}
	tw.Flush()
}
