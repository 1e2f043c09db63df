package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

func init() {
	commands["export"] = command{summary: "every trial of a sweep as CSV or JSON", run: runExport}
}

func runExport(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("export", "export NAME --format csv|json [--history] [-o FILE] [--db DB]", stderr)
	format := fs.String("format", "csv", "output format: csv or json")
	out := fs.String("o", "", "write to `FILE` instead of standard output")
	history := fs.Bool("history", false, "per-epoch histories in long format: a row per trial and epoch (for pandas)")
	pos, code, ok := parseArgs(fs, args, 1, 1)
	if !ok {
		return code
	}
	if err := checkFormat(*format, "csv", "json"); err != nil {
		return fail(stderr, "export", err)
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "export", err)
	}
	defer st.Close()
	trials, err := st.Trials(ctx, pos[0], results.Filter{})
	if err != nil {
		return fail(stderr, "export", err)
	}
	if *history {
		rows, err := historyRows(ctx, st, pos[0], trials)
		if err != nil {
			return fail(stderr, "export", err)
		}
		err = writeOutput(*out, stdout, func(w io.Writer) error {
			if *format == "json" {
				return report.WriteJSON(w, rows)
			}
			return report.WriteHistoryCSV(w, rows, report.ParamNames(trials))
		})
		if err != nil {
			return fail(stderr, "export", err)
		}
		return exitOK
	}
	err = writeOutput(*out, stdout, func(w io.Writer) error {
		if *format == "json" {
			return report.WriteTrialsJSON(w, trials, false)
		}
		return report.WriteTrialsCSV(w, trials, false)
	})
	if err != nil {
		return fail(stderr, "export", err)
	}
	return exitOK
}

// checkFormat returns an error listing the valid formats unless format is one.
func checkFormat(format string, valid ...string) error {
	if slices.Contains(valid, format) {
		return nil
	}
	return usagef("unknown format %q (valid: %s)", format, strings.Join(valid, ", "))
}

// writeOutput calls write with stdout when path is "" or "-", else with a
// temporary file beside path that replaces path once complete: a failed
// export never leaves a half-written file.
func writeOutput(path string, stdout io.Writer, write func(io.Writer) error) error {
	if path == "" || path == "-" {
		return write(stdout)
	}
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(f.Name()) // fails harmlessly after the rename
	if err := write(f); err != nil {
		f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Chmod(0o644); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return os.Rename(f.Name(), path)
}

// historyRows reads every trial's per-epoch history.
func historyRows(ctx context.Context, st results.Store, sweep string, trials []results.Trial) ([]report.HistoryRow, error) {
	rows := []report.HistoryRow{}
	for i := range trials {
		t := &trials[i]
		if t.Status == results.Pending {
			continue
		}
		_, hist, err := st.Trial(ctx, sweep, t.Number)
		if err != nil {
			return nil, err
		}
		rows = append(rows, report.HistoryRows(t, hist)...)
	}
	return rows, nil
}
