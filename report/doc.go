// Package report is the presentation of sweeps: how trials are ranked and
// sorted for people, how numbers and parameter values are written, and the
// field contract of the CSV and JSON outputs. The CLI's tables and exports
// use it, and so do the HTML report (report/html), the plots and the
// read-only server (report/serve), so that a trial reads the same everywhere.
//
// It knows the domain types of package results and nothing of training or
// of how a store keeps them: every function takes trials, epochs and
// sweeps as values, and the caller reads them from a store. Anything that
// depends on the clock or on leases takes them as arguments (Trained's
// now, Counts' stale), so that output is a function of its inputs.
//
// # Ranking
//
// Rank orders a sweep's trials best first by its metric (results.Rank)
// and returns its selected best trial while the selection stands
// (results.Sweep.Selected). Sort reorders them by any metric or
// parameter (SortKeys); NewBoard does both and filters by status, as
// `sweep leaderboard` does.
//
// # Formatting
//
// Human, Metric, Epoch, Seconds and Stamp write numbers for people;
// FormatValue writes a parameter value exactly, as exports do, and
// HumanValue for tables. Parameter values are formatted by the walk of
// internal/paramfmt, which search (the spec form, input of trial keys) and
// results share too.
//
// # Field contract
//
// TrialRecord, EpochRecord, HistoryRow, SweepRecord, ShowRecord and
// BestRecord are the JSON objects of the CLI (DESIGN.md, "CLI contract"),
// and WriteTrialsCSV, WriteHistoryCSV and WriteSweepsCSV its CSV: field
// names and order are what scripts read, and the golden files of
// cmd/sweep/testdata pin them. Fields may be added; none is renamed,
// reordered or dropped.
//
// # Concurrency
//
// Functions are safe for concurrent use on distinct arguments. Rank, Sort
// and NewBoard reorder the slice they are given in place; nothing else
// modifies its arguments or keeps them. A Table is not safe for
// concurrent use.
package report
