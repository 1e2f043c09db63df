package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"
	"golang.org/x/term"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
)

// display shows a running sweep: progress bars on a terminal (an overall
// bar, one line per worker), one plain line per finished trial otherwise.
// Its methods are safe for concurrent use by the pool's workers.
type display struct {
	out      io.Writer
	name     string
	total    int
	maximize bool

	mu        sync.Mutex
	finished  int
	lastRetry time.Time // when a Retrying event was last shown
	waiting   bool      // a Waiting event was shown
	unit      string    // adaptive sweeps: the rungs' unit, "epochs" or "iterations"
	deadline  time.Time // when the sweep's budget runs out; zero: no budget
	metric    string    // the sweep's metric
	best      *results.Trial
	bestLine  atomic.Pointer[string] // what the overall bar says of the best

	p       *mpb.Progress // nil when out is not a terminal
	overall *mpb.Bar
	workers []*workerLine
	// groups: the fused group each worker trains, and its members still
	// training (with or without bars).
	groups map[int]*workerGroup
	// fracs: how much of itself each running trial has trained (this
	// run), and their sum for eta, which reads it without d.mu.
	fracs       map[int]float64
	partialBits atomic.Uint64
}

// workerGroup is the fused group a worker trains.
type workerGroup struct {
	group   int
	members map[int]bool
	// reported: the group's interruption (or loss) was shown: one line
	// for the group, not one per member.
	reported bool
	// best: of the members' reports of the latest epoch (epoch), the best:
	// what the worker's line shows.
	epoch float64
	best  trial.Event
}

// workerLine is one worker's bar: its trial's iterations, and a text.
// Decorators read the texts from mpb's goroutines without taking d.mu: mpb
// calls may wait for a render, which must never wait for d.mu.
type workerLine struct {
	bar  *mpb.Bar
	text atomic.Pointer[string]
}

func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// total is how many trials the sweep trains: len(all) when they are all
// there from the start, an adaptive sweep's trials = N, 0 when only a
// budget bounds it.
func newDisplay(ctx context.Context, out io.Writer, name string, all []results.Trial, total, workers int, maximize bool) *display {
	d := &display{out: out, name: name, total: total, maximize: maximize, metric: "val_acc"}
	if !maximize {
		d.metric = "val_loss"
	}
	for i := range all {
		t := all[i]
		if t.Status.Finished() {
			d.finished++
			d.consider(&t)
		}
	}
	if !isTerminal(out) {
		return d
	}
	d.p = mpb.NewWithContext(ctx, mpb.WithOutput(out), mpb.WithWidth(30), mpb.WithRefreshRate(200*time.Millisecond))
	d.overall = d.p.AddBar(int64(max(d.total, d.finished+1)),
		mpb.PrependDecorators(decor.Name("trials "), decor.CountersNoUnit("%d/%d", decor.WCSyncWidth)),
		mpb.AppendDecorators(
			decor.Elapsed(decor.ET_STYLE_GO, decor.WC{W: 6}),
			decor.Any(eta(time.Now(), int64(d.finished), d.partial), decor.WC{W: 11}),
			decor.Any(func(decor.Statistics) string { return load(&d.bestLine) }),
			decor.Any(func(decor.Statistics) string { return budgetLeft(d.deadline, time.Now()) }),
		))
	d.overall.SetCurrent(int64(d.finished))
	d.workers = make([]*workerLine, workers)
	return d
}

// eta returns the overall bar's estimate of the time left: the average time
// per trial trained by this run (trials finished before it do not count),
// times the trials left; "-" until this run has trained a trial's worth.
// partial, when not nil, is how much of a trial the running trials have
// trained, summed (fused groups end their trials together, late: without
// it the estimate would wait for them).
func eta(start time.Time, before int64, partial func() float64) func(decor.Statistics) string {
	return func(s decor.Statistics) string {
		p := 0.0
		if partial != nil {
			p = partial()
		}
		n := float64(s.Current-before) + p
		if n < 1 {
			return "  ETA -"
		}
		left := time.Duration(float64(time.Since(start)) / n * max(float64(s.Total-s.Current)-p, 0))
		return "  ETA " + left.Round(time.Second).String()
	}
}

// partial is the running trials' progress for eta: the fractions of their
// training done, summed. d.mu is not taken (decorators must not): the sum
// is kept in d.partialBits.
func (d *display) partial() float64 { return math.Float64frombits(d.partialBits.Load()) }

// progress records that running trial n has trained frac of itself (0
// removes it); d.mu is held.
func (d *display) progress(n int, frac float64) {
	if d.fracs == nil {
		d.fracs = map[int]float64{}
	}
	if frac > 0 {
		d.fracs[n] = frac
	} else {
		delete(d.fracs, n)
	}
	sum := 0.0
	for _, f := range d.fracs {
		sum += f
	}
	d.partialBits.Store(math.Float64bits(sum))
}

// budgetLeft is the progress line's "  budget left 42s" (nothing without a
// budget).
func budgetLeft(deadline, now time.Time) string {
	if deadline.IsZero() {
		return ""
	}
	return "  budget left " + max(deadline.Sub(now), 0).Round(time.Second).String()
}

// log returns where to write lines that must not garble the bars.
func (d *display) log() io.Writer {
	if d.p != nil {
		return d.p
	}
	return d.out
}

// consider updates the best trial so far; d.mu is held (or d is not shared yet).
func (d *display) consider(t *results.Trial) {
	if t.Status != results.Done {
		return
	}
	if d.best == nil || results.Less(t, d.best, d.maximize) {
		d.best = t
		line := fmt.Sprintf("  best val_acc %s (trial %d)", report.MetricPrec(t.ValAcc, 4), t.Number)
		d.bestLine.Store(&line)
	}
}

func load(p *atomic.Pointer[string]) string {
	if s := p.Load(); s != nil {
		return *s
	}
	return ""
}

// event is the pool's callback.
func (d *display) event(e trial.Event) {
	d.mu.Lock()
	var line string
	switch e.Kind {
	case trial.Started:
		if g := e.Trial.Group; g != 0 {
			// A fused group's members start together on one worker: one
			// line for them all.
			if d.joinGroup(e) {
				break
			}
			if e.From > 0 {
				line = fmt.Sprintf("group %d resumes from its checkpoint at iteration %d\n", g, e.From)
			}
			break
		}
		d.startWorker(e.Worker, e.Total, fmt.Sprintf("trial %d  %s", e.Trial.Number, report.ParamsText(e.Trial.Params)))
		switch {
		case e.Trial.Promoted && d.atRung(e.Trial):
			line = fmt.Sprintf("      trial %d promoted from rung %d: trains on to %s\n", e.Trial.Number, e.Trial.Rung, d.resource(e.Trial.Target))
		case e.From > 0:
			line = fmt.Sprintf("trial %d resumes from its checkpoint at iteration %d\n", e.Trial.Number, e.From)
		}
	case trial.EpochDone:
		if e.Total > 0 {
			d.progress(e.Trial.Number, min(float64(e.Epoch.Iteration)/float64(e.Total), 1))
		}
		if wl := d.worker(e.Worker); wl != nil {
			text := epochText(e)
			if wg := d.groupOf(e); wg != nil {
				// The members report each epoch in turn: the line shows
				// the best of the latest epoch.
				if wg.best.Trial == nil || e.Epoch.Epoch > wg.epoch || e.Epoch.Epoch == wg.epoch && e.Epoch.ValAcc > wg.best.Epoch.ValAcc {
					wg.best, wg.epoch = e, e.Epoch.Epoch
				}
				text = fmt.Sprintf("group %d (%s)  best: %s", wg.group, report.Count(len(wg.members), "trial"), epochText(wg.best))
			}
			wl.text.Store(&text)
			wl.bar.SetCurrent(int64(e.Epoch.Iteration))
		}
	case trial.Finished:
		d.progress(e.Trial.Number, 0)
		d.finished++
		d.consider(e.Trial)
		line = trialLine(e.Trial, d.finished, d.total)
		d.leave(e)
		if d.overall != nil {
			if d.total == 0 { // unknown: a budget bounds the sweep
				d.overall.SetTotal(int64(d.finished+1), false)
			}
			d.overall.Increment()
		}
	case trial.LeaseLost:
		if errors.Is(e.Err, trial.ErrLeaseExpired) {
			why := "was locked by another process"
			if errors.Is(e.Err, results.ErrUnavailable) {
				why = "could not be reached"
			}
			line = fmt.Sprintf("trial %d: its lease expired while the database %s: left to the next run\n", e.Trial.Number, why)
		} else {
			line = fmt.Sprintf("trial %d was reclaimed by another process (this one missed its heartbeats): left to it\n", e.Trial.Number)
		}
		if wg := d.groupOf(e); wg != nil {
			line = d.groupLine(wg, line, e.Trial.Number)
		}
		d.progress(e.Trial.Number, 0)
		d.leave(e)
	case trial.Retrying:
		// Rate-limited: a lock held for a minute would print a line per
		// retry.
		if now := time.Now(); now.Sub(d.lastRetry) >= 10*time.Second {
			d.lastRetry = now
			what := "to claim a trial"
			if e.Trial != nil {
				what = fmt.Sprintf("trial %d's writes", e.Trial.Number)
			}
			why := "is locked by another process"
			if errors.Is(e.Err, results.ErrUnavailable) {
				why = "cannot be reached"
			}
			line = fmt.Sprintf("the database %s: retrying %s while training goes on\n", why, what)
		}
	case trial.Waiting:
		// Once a run: every idle worker polls.
		if !d.waiting {
			d.waiting = true
			line = "nothing left to claim: waiting for the trials other processes run, to take over any whose process dies\n"
		}
	case trial.Interrupted:
		line = interruptedLine(e)
		if wg := d.groupOf(e); wg != nil && e.Released {
			line = d.groupLine(wg, line, e.Trial.Number)
		}
		d.progress(e.Trial.Number, 0)
		d.leave(e)
	case trial.Paused:
		line = d.pausedLine(e.Trial)
		d.stopWorker(e.Worker)
	}
	if line != "" {
		// Under d.mu: workers report concurrently. mpb's Write may wait
		// for a render, which never takes d.mu.
		fmt.Fprint(d.log(), line)
	}
	d.mu.Unlock()
}

// worker returns worker w's line, nil when there are no bars; d.mu is held.
func (d *display) worker(w int) *workerLine {
	if d.p == nil || w >= len(d.workers) {
		return nil
	}
	return d.workers[w]
}

// startWorker gives worker w a new bar for a trial of total iterations.
func (d *display) startWorker(w, total int, text string) {
	if d.p == nil || w >= len(d.workers) {
		return
	}
	wl := &workerLine{}
	wl.text.Store(&text)
	wl.bar = d.p.AddBar(int64(max(total, 1)),
		mpb.BarPriority(w+1), mpb.BarRemoveOnComplete(),
		mpb.PrependDecorators(decor.Name(fmt.Sprintf("  worker %d ", w+1))),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return load(&wl.text) })))
	d.workers[w] = wl
}

// joinGroup adds a member of a fused group to its worker's line. It
// reports false for the group's first member, whose Started event made the
// line. d.mu is held.
func (d *display) joinGroup(e trial.Event) bool {
	if d.groups == nil {
		d.groups = map[int]*workerGroup{}
	}
	wg := d.groups[e.Worker]
	if wg != nil && wg.group == e.Trial.Group && len(wg.members) > 0 {
		wg.members[e.Trial.Number] = true
		if wl := d.worker(e.Worker); wl != nil {
			text := fmt.Sprintf("group %d (%s)", wg.group, report.Count(len(wg.members), "trial"))
			wl.text.Store(&text)
		}
		return true
	}
	wg = &workerGroup{group: e.Trial.Group, members: map[int]bool{e.Trial.Number: true}}
	if e.Restarted {
		fmt.Fprintf(d.log(), "group %d starts again from scratch: its trials' checkpoints are not of one moment (one is missing or damaged)\n", e.Trial.Group)
	}
	d.groups[e.Worker] = wg
	if d.p != nil && e.Worker < len(d.workers) {
		d.stopWorker(e.Worker)
		d.startWorker(e.Worker, e.Total, fmt.Sprintf("group %d (1 trial)", e.Trial.Group))
	}
	return false
}

// groupOf returns the fused group of e's worker when e.Trial is one of its
// members; d.mu is held.
func (d *display) groupOf(e trial.Event) *workerGroup {
	if wg := d.groups[e.Worker]; wg != nil && e.Trial.Group != 0 && wg.group == e.Trial.Group && wg.members[e.Trial.Number] {
		return wg
	}
	return nil
}

// groupLine turns the line of one member of group wg ("trial N ...") into
// the group's ("group G (K trials) ..."), said once for the group: "" for
// its other members. d.mu is held.
func (d *display) groupLine(wg *workerGroup, line string, n int) string {
	if wg.reported {
		return ""
	}
	wg.reported = true
	return strings.Replace(line, fmt.Sprintf("trial %d", n), fmt.Sprintf("group %d (%s)", wg.group, report.Count(len(wg.members), "trial")), 1)
}

// leave stops worker e.Worker's line for e.Trial: at once for a trial of
// its own, when its last member leaves for a group's. d.mu is held.
func (d *display) leave(e trial.Event) {
	if wg := d.groups[e.Worker]; wg != nil && e.Trial.Group == wg.group {
		delete(wg.members, e.Trial.Number)
		if len(wg.members) > 0 {
			return
		}
	}
	d.stopWorker(e.Worker)
}

// stopWorker removes worker w's bar.
func (d *display) stopWorker(w int) {
	if wl := d.worker(w); wl != nil {
		wl.bar.Abort(true)
		d.workers[w] = nil
	}
}

// close stops the bars and waits until they are drawn for the last time.
func (d *display) close() {
	if d.p == nil {
		return
	}
	d.mu.Lock()
	for w := range d.workers {
		d.stopWorker(w)
	}
	d.mu.Unlock()
	if !d.overall.Completed() {
		d.overall.Abort(false)
	}
	d.p.Wait()
}

// epochText is a worker's line after an epoch: "trial 3  epoch 2.5  loss
// 1.2345  val_acc 0.4120".
func epochText(e trial.Event) string {
	return fmt.Sprintf("trial %d  epoch %s  loss %s  val_acc %s", e.Trial.Number, report.Epoch(e.Epoch.Epoch), report.MetricPrec(e.Epoch.Loss, 4), report.MetricPrec(e.Epoch.ValAcc, 4))
}

// interruptedLine says what the store holds of an interrupted trial: where
// it resumes from, and whether it could be given back.
func interruptedLine(e trial.Event) string {
	n := e.Trial.Number
	var s string
	if e.Saved {
		s = fmt.Sprintf("trial %d interrupted: it resumes from its checkpoint at epoch %s (iteration %d)", n, report.Epoch(e.SavedEpoch), e.SavedIteration)
	} else {
		s = fmt.Sprintf("trial %d interrupted before its first checkpoint: it starts again from scratch", n)
	}
	if !e.Released {
		s += fmt.Sprintf("; it could not be marked interrupted (%s) and shows as running until the next run reclaims it", firstLine(errorText(e.Err)))
	}
	return s + "\n"
}

func errorText(err error) string {
	if err == nil {
		return "no error"
	}
	return err.Error()
}

// pausedLine is the line of an adaptive trial that paused at a rung.
func (d *display) pausedLine(t *results.Trial) string {
	at := ""
	if len(t.Evals) > 0 {
		e := t.Evals[len(t.Evals)-1]
		at = fmt.Sprintf(" (%s): %s %s", d.resource(e.Resource), d.metric, report.MetricPrec(e.Value, 4))
	}
	return fmt.Sprintf("      trial %d paused at rung %d%s  %s\n", t.Number, t.Rung, at, report.ParamsText(t.Params))
}

// atRung reports whether t's checkpoint is where it paused at its last
// rung: a promotion starts there; a promoted trial that was interrupted on
// its way resumes from further on.
func (d *display) atRung(t *results.Trial) bool {
	if len(t.Evals) == 0 {
		return false
	}
	done := float64(t.Iteration)
	if d.unit != "iterations" {
		done = t.Epoch
	}
	return done == float64(t.Evals[len(t.Evals)-1].Resource)
}

// resource says n of the sweep's rung unit: "3 epochs", "300 iterations".
func (d *display) resource(n int) string {
	unit := d.unit
	if unit == "" {
		unit = "epochs"
	}
	if n == 1 {
		unit = strings.TrimSuffix(unit, "s")
	}
	return strconv.Itoa(n) + " " + unit
}

// trialLine is the plain line of a finished trial.
func trialLine(t *results.Trial, n, total int) string {
	of := "?"
	if total > 0 {
		of = strconv.Itoa(total)
	}
	s := fmt.Sprintf("[%d/%s] trial %d %-8s", n, of, t.Number, t.Status)
	switch t.Status {
	case results.Done:
		s += fmt.Sprintf(" val_acc %s train_acc %s", report.MetricPrec(t.ValAcc, 4), report.MetricPrec(t.TrainAcc, 4))
		if t.EarlyStopped {
			s += fmt.Sprintf(" (stopped early at epoch %s)", report.Human(t.Epochs))
		}
	case results.Diverged:
		s += fmt.Sprintf(" at iteration %d", t.DivergedAt)
	case results.Failed:
		s += " " + firstLine(t.Error)
	}
	return s + fmt.Sprintf("  %s  %.1fs\n", report.ParamsText(t.Params), t.Duration)
}

// firstLine is s up to its first newline.
func firstLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
