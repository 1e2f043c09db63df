package html

import (
	"strconv"
	"strings"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

// The size of an x-y chart and its plot area.
const (
	chartW  = 760.0
	chartH  = 380.0
	marginL = 70.0
	marginR = 170.0 // the legend's column
	marginT = 20.0
	marginB = 56.0
)

// mark draws trial t's point at (x, y): a circle of the status' colour,
// filled when the trial was trained to its end (done), hollow when it was
// stopped at a rung (pruned, paused), with a cross when it diverged. The
// best trial's circle is ringed and labelled with its number. off marks a
// value drawn at the edge of the plot, beyond its axis.
func (c *canvas) mark(x, y float64, t *results.Trial, best, off bool, title string) {
	col := statusColour[t.Status]
	class := "trial " + string(t.Status)
	if best {
		class += " best"
	}
	if off {
		class += " offscale"
	}
	c.printf(`<circle class="`, class, `" data-trial="`, strconv.Itoa(t.Number), `" cx="`, f(x), `" cy="`, f(y), `" r="3.5"`)
	if Filled(t.Status) {
		c.printf(` fill="`, col, `" stroke="`, col, `"`)
	} else {
		c.printf(` fill="white" stroke="`, col, `" stroke-width="1.6"`)
	}
	if title == "" {
		c.printf("/>")
	} else {
		c.printf("><title>", esc(title), "</title></circle>")
	}
	if t.Status == results.Diverged {
		c.printf(`<path d="M`, f(x-5), " ", f(y-5), "L", f(x+5), " ", f(y+5), "M", f(x-5), " ", f(y+5), "L", f(x+5), " ", f(y-5), `" class="xmark" stroke="`, col, `"/>`)
	}
	if best {
		c.printf(`<circle cx="`, f(x), `" cy="`, f(y), `" r="7" class="best-ring"/>`)
		c.text(x+9, y-8, "start", "best", strconv.Itoa(t.Number))
	}
}

// trialTitle is a point's tooltip: trial, status, metric and parameters.
func (s *study) trialTitle(i int) string {
	t := &s.ranked[i]
	var b strings.Builder
	b.WriteString("trial ")
	b.WriteString(strconv.Itoa(t.Number))
	b.WriteString(" · ")
	b.WriteString(string(t.Status))
	if report.HasMetrics(t) {
		b.WriteString(" · ")
		b.WriteString(s.metric)
		b.WriteByte(' ')
		b.WriteString(report.Metric(s.y[i]))
	}
	for _, p := range t.Params {
		b.WriteString(" · ")
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(report.HumanValue(p.Value))
	}
	return b.String()
}

// legendItem is a line of a chart's legend.
type legendItem struct {
	kind  string // "status", "line", "dash", "swatch", "ring"
	class string // the status, or the line's class
	col   string
	label string
}

// legend draws items down the right margin, from (x, y).
func (c *canvas) legend(x, y float64, items []legendItem) {
	for k, it := range items {
		yy := y + float64(k)*18
		switch it.kind {
		case "status":
			t := results.Trial{Status: results.Status(it.class)}
			c.printf(`<g class="legend-mark">`)
			col := statusColour[t.Status]
			if Filled(t.Status) {
				c.printf(`<circle cx="`, f(x+6), `" cy="`, f(yy-4), `" r="3.5" fill="`, col, `"/>`)
			} else {
				c.printf(`<circle cx="`, f(x+6), `" cy="`, f(yy-4), `" r="3.5" fill="white" stroke="`, col, `" stroke-width="1.6"/>`)
			}
			if t.Status == results.Diverged {
				c.printf(`<path d="M`, f(x+1), " ", f(yy-9), "l10 10m-10 0l10 -10", `" class="xmark" stroke="`, col, `"/>`)
			}
			c.printf("</g>")
		case "line":
			c.printf(`<line x1="`, f(x), `" y1="`, f(yy-4), `" x2="`, f(x+14), `" y2="`, f(yy-4), `" class="`, it.class, `" stroke="`, it.col, `"/>`)
		case "dash":
			c.printf(`<line x1="`, f(x), `" y1="`, f(yy-4), `" x2="`, f(x+14), `" y2="`, f(yy-4), `" class="`, it.class, `" stroke="`, it.col, `" stroke-dasharray="4 3"/>`)
		case "swatch":
			c.rect(x, yy-10, 14, 10, it.class, it.col, "")
		case "ring":
			c.printf(`<circle cx="`, f(x+6), `" cy="`, f(yy-4), `" r="6" class="best-ring"/>`)
		}
		c.text(x+20, yy, "start", "lg", it.label)
	}
}

// statusLegend is the legend of the statuses present among ranked[idx].
func (s *study) statusLegend(idx []int) []legendItem {
	present := map[results.Status]bool{}
	for _, i := range idx {
		present[s.ranked[i].Status] = true
	}
	var items []legendItem
	for _, st := range results.Statuses {
		if present[st] {
			items = append(items, legendItem{kind: "status", class: string(st), label: string(st)})
		}
	}
	if s.best >= 0 {
		label := "best (selected)"
		if !s.final {
			label = "leader (not final)"
		}
		items = append(items, legendItem{kind: "ring", label: label})
	}
	return items
}
