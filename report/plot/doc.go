// Package plot draws the figures of a sweep's report one at a time, as
// PNG, SVG or PDF files for papers and notebooks, with gonum.org/v1/plot.
//
// The figures' data are report/html's Figures: the trials, axes (log for
// log-uniform ranges, categorical for lists), best-so-far line, sampled
// lines, importance estimate and timeline lanes of the HTML report,
// computed once, by the same code. This package only draws them: with
// the report's colours (Okabe–Ito for series and statuses, viridis for
// scales), its marks (filled: trained to the end; hollow: stopped at a
// rung; crossed: diverged; the best trial ringed and labelled with its
// number), axis titles with their units or scales, and a legend column on
// the right when a figure has more than one series.
//
// Write is safe for concurrent use: it keeps no state, and reads the
// Figures it is given.
package plot
