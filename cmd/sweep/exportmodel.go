package main

import (
	"context"
	"fmt"
	"io"
	"slices"

	"github.com/sweep-dev/sweep/results"
)

func init() {
	commands["export-model"] = command{summary: "the kept weights of a trial as a numpy .npz file", run: runExportModel}
}

func runExportModel(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("export-model", "export-model NAME [TRIAL] -o FILE.npz [--db PATH]", stderr)
	out := fs.String("o", "", "write the .npz to `FILE` (required)")
	pos, code, ok := parseArgs(fs, args, 1, 2)
	if !ok {
		return code
	}
	if *out == "" {
		fmt.Fprintln(stderr, "sweep export-model: -o FILE.npz is required")
		fs.Usage()
		return exitUsage
	}
	name, n := pos[0], 0
	if len(pos) == 2 {
		var err error
		if n, err = trialNumber(pos[1], name); err != nil {
			return fail(stderr, "export-model", err)
		}
	}
	st, err := results.OpenExisting(*db, results.Options{})
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	if n == 0 {
		if n, err = defaultModelTrial(ctx, st, name, stderr); err != nil {
			return fail(stderr, "export-model", err)
		}
	}
	t, _, err := st.Trial(ctx, name, n)
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	m, err := st.Model(ctx, name, n)
	if err != nil {
		return fail(stderr, "export-model", err)
	}
	if err := writeOutput(*out, stdout, func(w io.Writer) error { return writeNPZ(w, m, t.Finished) }); err != nil {
		return fail(stderr, "export-model", err)
	}
	fmt.Fprintf(stderr, "wrote trial %d's weights (", n)
	for i, tn := range m.Tensors {
		if i > 0 {
			fmt.Fprint(stderr, ", ")
		}
		fmt.Fprintf(stderr, "%s %v", tn.Name, tn.Shape)
	}
	fmt.Fprintf(stderr, ") to %s\n", *out)
	return exitOK
}

// defaultModelTrial is the trial whose weights export-model writes when
// none is named: the selected best, else the leader by the sweep's metric
// (said on stderr: it may change while the sweep runs).
func defaultModelTrial(ctx context.Context, st *results.Store, name string, stderr io.Writer) (int, error) {
	sw, err := st.Sweep(ctx, name)
	if err != nil {
		return 0, err
	}
	trials, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return 0, err
	}
	results.Rank(trials, sw.Maximize())
	if sw.Best != nil && len(trials) > 0 && trials[0].Number == sw.Best.Trial {
		return sw.Best.Trial, nil
	}
	if len(trials) == 0 || trials[0].Status != results.Done {
		return 0, fmt.Errorf("no trial of sweep %q has finished training, so none has weights", name)
	}
	lead := trials[0].Number
	if slices.ContainsFunc(trials, func(t results.Trial) bool { return !t.Status.Finished() }) {
		fmt.Fprintf(stderr, "sweep export-model: sweep %q is not finished; writing its current leader by %s, trial %d (not final)\n", name, sw.Metric, lead)
	} else {
		fmt.Fprintf(stderr, "sweep export-model: writing trial %d, the best by %s (its test accuracy is not measured yet: sweep best %s)\n", lead, sw.Metric, shellQuote(name))
	}
	return lead, nil
}
