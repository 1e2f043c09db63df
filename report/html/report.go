package html

import (
	"bufio"
	_ "embed"
	"errors"
	"fmt"
	"html/template"
	"io"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

//go:embed page.tmpl
var pageText string

var pageTmpl = template.Must(template.New("page").Parse(pageText))

// page is what the template renders.
type page struct {
	Name         string
	Generated    string
	Nav          []navItem
	Summary      []kv
	SummaryNotes []string
	Spec         string
	BoardNote    string
	StatusCounts []statusCount
	Board        table
	Sections     []section
	Net          *netSection
	NoNet        string
	Timeline     *figure
}

type navItem struct{ ID, Title string }

type kv struct{ Key, Value string }

type statusCount struct {
	Status results.Status
	N      int
}

type table struct {
	Head []column
	Rows []row
}

type column struct {
	Name string
	Text bool // left-aligned
}

type row struct {
	Status results.Status
	Trial  int
	Best   bool
	Cells  []cell
}

type cell struct {
	V     string
	T     bool   // text: left-aligned
	Badge string // a mark after the value
}

// section is a report section of figures.
type section struct {
	ID, Title string
	Intro     string
	Notes     []string
	Figures   []figure
	Table     *table
}

// Write renders the report of in to w.
func Write(w io.Writer, in *Input) error {
	if in == nil || in.Sweep == nil {
		return errors.New("report: no sweep")
	}
	s := newStudy(in)
	p := &page{Name: in.Sweep.Name, Generated: report.Stamp(in.Generated)}
	s.summary(p)
	s.board(p)
	hist := section{ID: "history", Title: "Optimization history", Figures: []figure{s.history()}}
	slicesSec := section{ID: "slices", Title: "Slice plots", Figures: s.slices()}
	if len(s.params) == 0 {
		slicesSec.Notes = append(slicesSec.Notes, "The sweep searches no parameter.")
	}
	imp := s.importance()
	contours := section{ID: "contours", Title: "Heat maps of the top parameters"}
	if len(s.params) < 2 {
		contours.Notes = append(contours.Notes, "A heat map needs two searched parameters.")
	} else {
		contours.Figures = s.contours(imp)
		contours.Intro = "Pairs of the three most important parameters (by the estimate below)."
		if imp.share == nil {
			contours.Intro = "Pairs of the first three parameters (no importance estimate: see below)."
		}
	}
	par := section{ID: "parallel", Title: "Parallel coordinates", Figures: []figure{s.parallel()}}
	curves := section{ID: "curves", Title: "Learning curves"}
	var note string
	if curves.Figures, note = s.curves(); note != "" {
		curves.Notes = append(curves.Notes, note)
	}
	impSec := section{ID: "importance", Title: "Parameter importance"}
	switch {
	case imp.share == nil:
		impSec.Notes = append(impSec.Notes, "No estimate: "+imp.note+".")
		if imp.method != "" {
			impSec.Intro = "Method: " + imp.method + "."
		}
	default:
		impSec.Figures = []figure{s.importanceChart(imp)}
		if imp.note != "" {
			impSec.Notes = append(impSec.Notes, imp.note+".")
		}
		if imp.table != nil {
			impSec.Table = anovaTable(imp)
		}
	}
	p.Sections = []section{hist, slicesSec, contours, par, curves, impSec}
	p.Net = s.netSection()
	if p.Net == nil {
		p.NoNet = "No net to show: no trial has finished training with its weights kept."
	}
	if tl, ok := s.timeline(); ok {
		p.Timeline = &tl
	}
	p.Nav = []navItem{{"summary", "Summary"}, {"leaderboard", "Leaderboard"}}
	for _, sec := range p.Sections {
		p.Nav = append(p.Nav, navItem{sec.ID, sec.Title})
	}
	p.Nav = append(p.Nav, navItem{"net", "Best net"}, navItem{"timeline", "Timeline"})
	// The template writes in many small pieces: buffer them, so that a
	// file is written in a few large writes.
	bw := bufio.NewWriterSize(w, 256<<10)
	if err := pageTmpl.Execute(bw, p); err != nil {
		return err
	}
	return bw.Flush()
}

// summary fills the page's summary table.
func (s *study) summary(p *page) {
	sw, spec := s.in.Sweep, s.in.Spec
	add := func(k, v string) { p.Summary = append(p.Summary, kv{k, v}) }
	add("sweep", sw.Name)
	if !sw.Created.IsZero() {
		add("created", report.Stamp(sw.Created))
	}
	dir := "maximised"
	if !s.maximize {
		dir = "minimised"
	}
	if spec != nil {
		m := spec.Search.Method
		if spec.Search.Sampler != "" {
			m += ", sampler " + spec.Search.Sampler
		}
		if spec.Search.Eta > 0 {
			m += fmt.Sprintf(", rungs from %s, eta %d", report.Count(spec.Search.Min, strings.TrimSuffix(spec.Search.MinUnit, "s")), spec.Search.Eta)
		}
		if spec.Search.Budget > 0 {
			m += ", budget " + spec.Search.Budget.String()
		}
		add("search", m)
	}
	add("metric", s.metric+" ("+dir+"; selection uses the validation set only)")
	add("data", s.dataText())
	counts := s.counts()
	var parts []string
	for _, st := range results.Statuses {
		if n := counts[st]; n > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", n, st))
			p.StatusCounts = append(p.StatusCounts, statusCount{st, n})
		}
	}
	add("trials", fmt.Sprintf("%d: %s", len(s.ranked), strings.Join(parts, ", ")))
	if sw.Elapsed > 0 {
		add("wall time", report.Seconds(sw.Elapsed)+" over all runs of the sweep")
	} else if first, last := s.span(); !first.IsZero() {
		add("wall time", report.Seconds(last.Sub(first).Seconds())+" from the first trial's start to the last one's end (not recorded as such)")
	}
	var trained float64
	for _, t := range s.ranked {
		trained += t.Duration
	}
	add("training time", report.Seconds(trained)+" summed over trials")
	if spec != nil {
		wk := strconv.Itoa(spec.Workers) + " per process"
		if spec.Workers == 0 {
			wk = "the number of CPUs, per process (workers = 0)"
		}
		add("workers", wk)
	}
	var owners []string
	for _, t := range s.ranked {
		if t.Status == results.Running && t.Lease != nil && !slices.Contains(owners, t.Lease.Owner.String()) {
			owners = append(owners, t.Lease.Owner.String())
		}
	}
	if len(owners) > 0 {
		add("running in", strings.Join(owners, ", "))
	}
	add("best trial", s.bestText())
	if n := sw.TestSetUses(); n > 0 {
		why := ""
		if n > 1 {
			why = " (an extended sweep selected a new best: each selection was evaluated on the test set)"
		}
		add("test set", "used "+report.Times(n)+" for this sweep"+why)
	} else {
		add("test set", "not used yet")
	}
	p.SummaryNotes = append(p.SummaryNotes, s.in.Notes...)
	if len(sw.Canonical) > 0 {
		p.Spec = string(sw.Canonical)
	} else {
		p.Spec = string(sw.Spec)
	}
}

func (s *study) dataText() string {
	var parts []string
	if spec := s.in.Spec; spec != nil {
		d := spec.Data
		parts = append(parts, d.Source)
		if d.Path != "" {
			parts = append(parts, d.Path)
		}
		var split []string
		for _, x := range []struct {
			n    int
			name string
		}{{d.Train, "train"}, {d.Val, "val"}, {d.Test, "test"}} {
			if x.n > 0 {
				split = append(split, fmt.Sprintf("%d %s", x.n, x.name))
			}
		}
		if len(split) > 0 {
			parts = append(parts, strings.Join(split, " / "))
		}
	}
	if in := s.in.Sweep.Input; in != nil {
		parts = append(parts, fmt.Sprintf("input %s, %d classes", shapeText(in.Shape), len(in.Classes)))
	}
	if ref := s.in.Sweep.Data; ref != nil && ref.Fingerprint != "" {
		parts = append(parts, "fingerprint "+ref.Fingerprint)
	}
	if len(parts) == 0 {
		return "not recorded"
	}
	return strings.Join(parts, "; ")
}

func shapeText(shape []int) string {
	s := make([]string, len(shape))
	for i, v := range shape {
		s[i] = strconv.Itoa(v)
	}
	return strings.Join(s, "×")
}

func (s *study) bestText() string {
	if s.best < 0 {
		return "none yet: no trial has finished training"
	}
	t := &s.ranked[s.best]
	txt := fmt.Sprintf("trial %d: val_acc %s, val_loss %s", t.Number, report.Metric(t.ValAcc), report.Metric(t.ValLoss))
	if s.final {
		b := s.in.Best
		return txt + fmt.Sprintf("; test_acc %s (test_loss %s), evaluated once for this selection", report.Metric(b.TestAcc), report.Metric(b.TestLoss))
	}
	unfinished := 0
	for _, t := range s.ranked {
		if !t.Status.Finished() {
			unfinished++
		}
	}
	if unfinished > 0 {
		return txt + fmt.Sprintf(" — the current leader, NOT FINAL: %d trial%s not finished; no test accuracy until the sweep ends", unfinished, plural(unfinished))
	}
	return txt + fmt.Sprintf(" — the leader; its test accuracy is not measured yet (sweep best %s measures it, once)", s.in.Sweep.Name)
}

// board fills the leaderboard: every trial, best first.
func (s *study) board(p *page) {
	head := []column{{"rank", false}, {"trial", false}, {"status", true}, {"val_acc", false}, {"val_loss", false}, {"train_acc", false}}
	withTest, withRung := false, false
	for _, t := range s.ranked {
		withTest = withTest || t.TestAcc != nil
		withRung = withRung || t.Rung > 0
	}
	if withTest {
		head = append(head, column{"test_acc", false})
	}
	for _, prm := range s.params {
		head = append(head, column{prm.name, prm.kind == categorical})
	}
	head = append(head, column{"epochs", false})
	if withRung {
		head = append(head, column{"rung", false})
	}
	head = append(head, column{"time (s)", false})
	p.Board.Head = head
	p.Board.Rows = make([]row, len(s.ranked))
	cells := make([]cell, 0, len(s.ranked)*len(head))
	for i := range s.ranked {
		t := &s.ranked[i]
		start := len(cells)
		badge := ""
		if i == s.best {
			badge = "best"
			if !s.final {
				badge = "leader"
			}
		}
		cells = append(cells, cell{V: strconv.Itoa(i + 1)}, cell{V: strconv.Itoa(t.Number), Badge: badge}, cell{V: string(t.Status), T: true})
		if report.HasMetrics(t) {
			cells = append(cells, cell{V: report.Metric(t.ValAcc)}, cell{V: report.Metric(t.ValLoss)}, cell{V: report.Metric(t.TrainAcc)})
		} else {
			cells = append(cells, cell{V: "-"}, cell{V: "-"}, cell{V: "-"})
		}
		if withTest {
			v := "-"
			if t.TestAcc != nil {
				v = report.Metric(*t.TestAcc)
			}
			cells = append(cells, cell{V: v})
		}
		for _, prm := range s.params {
			v, ok := t.Params.Get(prm.name)
			if !ok {
				cells = append(cells, cell{V: "-", T: prm.kind == categorical})
				continue
			}
			cells = append(cells, cell{V: report.HumanValue(v), T: prm.kind == categorical})
		}
		ep := t.Epoch
		if t.Status.Finished() {
			ep = t.Epochs
		}
		if t.Status == results.Pending {
			cells = append(cells, cell{V: "-"})
		} else {
			cells = append(cells, cell{V: report.Human(math.Round(ep*100) / 100)})
		}
		if withRung {
			cells = append(cells, cell{V: strconv.Itoa(t.Rung)})
		}
		cells = append(cells, cell{V: strconv.FormatFloat(t.Duration, 'f', 1, 64)})
		p.Board.Rows[i] = row{Status: t.Status, Trial: t.Number, Best: i == s.best, Cells: cells[start:len(cells):len(cells)]}
	}
	p.BoardNote = fmt.Sprintf("All %d trials, best first by %s (done trials first, then those stopped at a rung, then the others).", len(s.ranked), s.metric)
}

// anovaTable is a grid ANOVA's table.
func anovaTable(imp importance) *table {
	t := &table{Head: []column{{"parameter", true}, {"levels", false}, {"sum of squares", false}, {"share of variance", false}}}
	for _, r := range imp.table {
		t.Rows = append(t.Rows, row{Cells: []cell{{V: r.name, T: true}, {V: strconv.Itoa(r.levels)}, {V: strconv.FormatFloat(r.ss, 'g', 4, 64)}, {V: fmt.Sprintf("%.1f%%", 100*r.share)}}})
	}
	if imp.rest > 0 {
		t.Rows = append(t.Rows, row{Cells: []cell{{V: "interactions (rest)", T: true}, {V: ""}, {V: ""}, {V: fmt.Sprintf("%.1f%%", 100*imp.rest)}}})
	}
	return t
}

// span is the time from the first trial's start to the last trial's
// finish (zero times if none started).
func (s *study) span() (first, last time.Time) {
	for _, t := range s.ranked {
		if !t.Started.IsZero() && (first.IsZero() || t.Started.Before(first)) {
			first = t.Started
		}
		if t.Finished.After(last) {
			last = t.Finished
		}
	}
	if last.Before(first) {
		last = first
	}
	return first, last
}
