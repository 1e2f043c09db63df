package html

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/sweep-dev/sweep/report"
	"github.com/sweep-dev/sweep/results"
)

// span is a trial's time on the timeline.
type span struct {
	i          int // ranked index
	start, end time.Time
	known      bool // end is known: finished, or running (its last heartbeat or now)
	waited     bool // trained for less than 90% of its span: paused at a rung or interrupted in between
	lane       int
}

// spans lays the trials that started on lanes: each trial goes on the
// first lane free at its start (interval partitioning), so overlapping
// trials never share a lane. The store records which process runs a trial
// only while it runs (its lease), so lanes are not workers.
func (s *study) spans() ([]span, int) {
	var out []span
	for _, i := range s.startOrder() {
		t := &s.ranked[i]
		sp := span{i: i, start: t.Started}
		switch {
		case !t.Finished.IsZero():
			sp.end, sp.known = t.Finished, true
		case t.Status == results.Running && t.Lease != nil:
			sp.end, sp.known = t.Lease.Heartbeat, true
			if !s.in.Generated.IsZero() && s.in.Generated.After(sp.end) {
				sp.end = s.in.Generated
			}
		default: // paused, interrupted: trained Duration; when it stopped is not recorded
			sp.end = t.Started.Add(time.Duration(t.Duration * float64(time.Second)))
		}
		if sp.end.Before(sp.start) {
			sp.end = sp.start
		}
		if sp.known {
			wall := sp.end.Sub(sp.start).Seconds()
			sp.waited = wall > 1 && t.Duration < 0.9*wall
		}
		out = append(out, sp)
	}
	var free []time.Time // each lane's end
	for k := range out {
		lane := slices.IndexFunc(free, func(end time.Time) bool { return !end.After(out[k].start) })
		if lane < 0 {
			lane = len(free)
			free = append(free, time.Time{})
		}
		free[lane] = out[k].end
		out[k].lane = lane
	}
	return out, len(free)
}

// timelineData is the timeline in data units: the spans on their lanes,
// the time they take from the first start (total seconds), and the unit
// to show it in (div seconds each).
type timelineData struct {
	spans []span
	lanes int
	t0    time.Time
	total float64
	unit  string
	div   float64
}

// timelineData lays out the trials that started; ok is false if none did.
func (s *study) timelineData() (td timelineData, ok bool) {
	sps, lanes := s.spans()
	if len(sps) == 0 {
		return td, false
	}
	t0, t1 := sps[0].start, sps[0].end
	for _, sp := range sps {
		if sp.end.After(t1) {
			t1 = sp.end
		}
	}
	total := t1.Sub(t0).Seconds()
	unit, div := "s", 1.0
	switch {
	case total > 3*3600:
		unit, div = "h", 3600
	case total > 120:
		unit, div = "min", 60
	}
	return timelineData{spans: sps, lanes: lanes, t0: t0, total: total, unit: unit, div: div}, true
}

// xTitle is the title of the timeline's time axis.
func (td timelineData) xTitle() string {
	return fmt.Sprintf("time since the first trial started (%s), %s", td.unit, report.Stamp(td.t0))
}

// axis is the timeline's time axis, unplaced.
func (td timelineData) axis() axis {
	return newNumAxis(linear, 0, math.Max(td.total/td.div, 1e-3), 0.01)
}

// laneTitle is the title of the timeline's lanes.
func laneTitle(lanes int) string { return fmt.Sprintf("lane (%d)", lanes) }

// timeline draws each trial that started as a bar from its first claim
// to its end, one lane per concurrent trial.
func (s *study) timeline() (figure, bool) {
	td, ok := s.timelineData()
	if !ok {
		return figure{}, false
	}
	sps, lanes, t0, div := td.spans, td.lanes, td.t0, td.div
	laneH := math.Min(math.Max(320/float64(lanes), 2), 22)
	present := map[results.Status]bool{}
	for _, sp := range sps {
		present[s.ranked[sp.i].Status] = true
	}
	var items []legendItem
	for _, st := range results.Statuses {
		if present[st] {
			items = append(items, legendItem{kind: "swatch", class: "span", col: statusColour[st], label: string(st)})
		}
	}
	// The plot, or the legend and its notes below the statuses, whichever
	// is taller.
	h := math.Max(marginT+laneH*float64(lanes)+marginB+10, marginT+12+18*float64(len(items))+76)
	c := newCanvas("timeline", chartW, h, "timeline of trials")
	x0, x1 := marginL, chartW-marginR
	yt, yb := marginT, marginT+laneH*float64(lanes)
	xa := td.axis().at(x0, x1)
	c.rect(x0, yt, x1-x0, yb-yt, "plot", "", "")
	for _, t := range xa.ticks() {
		c.line(t.pos, yt, t.pos, yb, "grid")
		c.line(t.pos, yb, t.pos, yb+4, "tick")
		c.text(t.pos, yb+16, "middle", "tl", t.label)
	}
	c.text((x0+x1)/2, yb+34, "middle", "at", td.xTitle())
	c.vtext(x0-30, (yt+yb)/2, "at", laneTitle(lanes))
	titles := len(sps) <= MaxPoints
	resumed := 0
	for _, sp := range sps {
		t := &s.ranked[sp.i]
		xa0 := xa.pos(sp.start.Sub(t0).Seconds() / div)
		xa1 := math.Max(xa.pos(sp.end.Sub(t0).Seconds()/div), xa0+1.5)
		y := yt + float64(sp.lane)*laneH
		class := "span " + string(t.Status)
		opacity := ""
		switch {
		case !sp.known:
			class += " open"
			opacity = ` fill-opacity="0.35" stroke-dasharray="3 2"`
		case sp.waited:
			class += " waited"
			opacity = ` fill-opacity="0.45"`
		}
		col := statusColour[t.Status]
		c.printf(`<rect class="`, class, `" data-trial="`, strconv.Itoa(t.Number), `" x="`, f(xa0), `" y="`, f(y+0.5), `" width="`, f(xa1-xa0), `" height="`, f(math.Max(laneH-1, 1)), `" fill="`, col, `" stroke="`, col, `"`, opacity)
		if titles {
			c.printf("><title>", esc(s.spanTitle(sp)), "</title></rect>")
		} else {
			c.printf("/>")
		}
		if t.Attempts > 1 {
			resumed++
			c.printf(`<path class="resumed" d="M`, f(xa0), " ", f(y), "l4 ", f(laneH/2), "l-4 ", f(laneH/2), `z"/>`)
		}
	}
	c.legend(x1+16, yt+12, items)
	ly := yt + 12 + 18*float64(len(items)) + 8
	c.rect(x1+16, ly-10, 14, 10, "span", "#0072B2", "")
	c.printf(`<rect x="`, f(x1+16), `" y="`, f(ly-10), `" width="14" height="10" fill="white" fill-opacity="0.55"/>`)
	c.text(x1+36, ly, "start", "lg", "pale: waited between")
	c.text(x1+36, ly+14, "start", "lg", "attempts or at a rung")
	c.rect(x1+16, ly+22, 14, 10, "span", "#0072B2", "")
	c.printf(`<rect x="`, f(x1+16), `" y="`, f(ly+22), `" width="14" height="10" fill="white" fill-opacity="0.65" stroke="#0072B2" stroke-dasharray="3 2"/>`)
	c.text(x1+36, ly+32, "start", "lg", "dashed: end unknown")
	c.printf(`<path class="resumed" d="M`, f(x1+18), " ", f(ly+40), `l5 5l-5 5z"/>`)
	c.text(x1+36, ly+50, "start", "lg", "claimed again")
	cap := fmt.Sprintf("Each started trial as a bar from its first claim to its end, coloured by status; trials that overlap in time are on different lanes (%d lanes at most ran at once). The results store records which process (host:pid) holds a trial only while it runs, so lanes are not workers; a running trial's bar names its process. A pale bar trained for less than 90%% of its span: it paused at a rung or was interrupted and resumed in between (when is not recorded); a dashed one is paused or interrupted now, drawn for the time it trained. %d trial%s were claimed more than once (after an interruption, a crash, or a promotion).", lanes, resumed, plural(resumed))
	return figure{ID: "timeline", SVG: c.done(), Caption: cap}, true
}

func (s *study) spanTitle(sp span) string {
	t := &s.ranked[sp.i]
	txt := fmt.Sprintf("trial %d · %s · started %s", t.Number, t.Status, report.Stamp(t.Started))
	if !t.Finished.IsZero() {
		txt += " · finished " + report.Stamp(t.Finished)
	}
	txt += fmt.Sprintf(" · trained %s · claimed %s", report.Seconds(t.Duration), report.Times(max(t.Attempts, 1)))
	if t.Lease != nil {
		txt += " · held by " + t.Lease.Owner.String() + ", heartbeat " + report.Stamp(t.Lease.Heartbeat)
	}
	return txt
}
