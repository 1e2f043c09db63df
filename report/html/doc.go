// Package html writes a sweep's report: one self-contained HTML file that
// opens offline in any browser. Its figures are inline SVG (and inline PNG
// data: URIs for weight and image tiles), its style inline CSS, and its one
// script a few lines of vanilla JavaScript that sorts and filters the
// leaderboard; it requests nothing from any network, fonts included.
//
// The package knows nothing of storage: the caller fills an Input with what
// it read (cmd/sweep's report command reads a results.Store), and Write
// renders it. Input is read, never modified or retained.
//
// # Escaping
//
// Sweep names, parameter names and values, class names and errors are
// outside text. The page is executed by html/template, which escapes them
// in its HTML; the figures are built as SVG text in Go, where every string
// that is not a number goes through one escaping function (esc) before it
// reaches the page.
//
// # Thinning
//
// A report of 10,000 trials stays below 10 MB and builds in well under 2 s
// because its figures thin what they draw, never the leaderboard: every
// trial has a row in the table; the optimization history draws every trial;
// the slice plots draw every trial up to MaxPoints, then a binned density;
// the parallel coordinates draw every trial up to MaxPoints, then the best
// ones and an even sample of the rest (said in the caption); the learning
// curves draw the TopK trials in full and the other histories the caller
// gives (HistoryWanted picks them) faintly.
//
// # Figure data
//
// Figures (data.go) exports what each figure shows, in data units and
// free of drawing: the history with its best-so-far line, slice points on
// log, linear or categorical axes, the parallel coordinates' axes and
// lines, the top trials' curves and rungs, the importance estimate, the
// timeline's lanes, the weight tiles and the confusion matrix. The report
// draws from the same functions; report/plot draws them as PNG, SVG or
// PDF. A Figures keeps its Input: the Input must not change while it is
// used.
//
// Write is safe for concurrent use with distinct or shared Inputs, and so
// are the methods of a Figures.
package html
