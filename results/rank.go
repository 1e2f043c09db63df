package results

import (
	"math"
	"slices"
)

// Less is the order of leaderboards, selection and kept models: done trials
// first, best first by the metric (val_acc descending, or val_loss ascending
// when !maximize; NaN last), ties broken by lower ValLoss, then lower Number;
// then the paused and pruned trials, ordered alike by their metrics (the
// best so far at the rung they reached); then every other trial by number.
//
// Done trials come first whatever the metrics of the others, so the first
// of a ranking is the best done trial when there is one: selection (the
// best trial, its test evaluation, the kept models) takes done trials
// only, and a trial stopped at a rung ranks below every done trial, even
// one with a worse metric.
func Less(a, b *Trial, maximize bool) bool {
	at, bt := rankTier(a.Status), rankTier(b.Status)
	if at != bt {
		return at < bt
	}
	if at == tierOther {
		return a.Number < b.Number
	}
	return LessMetrics(a.ValAcc, a.ValLoss, a.Number, b.ValAcc, b.ValLoss, b.Number, maximize)
}

// The tiers of a ranking, in order.
const (
	tierDone    = iota // ranked by metrics
	tierStopped        // paused or pruned: ranked by metrics
	tierOther          // by number
)

func rankTier(s Status) int {
	switch s {
	case Done:
		return tierDone
	case Paused, Pruned:
		return tierStopped
	}
	return tierOther
}

// LessMetrics is Less for two done trials.
func LessMetrics(aAcc, aLoss float64, an int, bAcc, bLoss float64, bn int, maximize bool) bool {
	am, bm := aLoss, bLoss
	if maximize {
		am, bm = aAcc, bAcc
	}
	if c := cmpMetric(am, bm, maximize); c != 0 {
		return c < 0
	}
	if c := cmpMetric(aLoss, bLoss, false); c != 0 {
		return c < 0
	}
	return an < bn
}

// cmpMetric is -1 when a is better than b, 1 when worse; NaN is worst.
func cmpMetric(a, b float64, maximize bool) int {
	an, bn := math.IsNaN(a), math.IsNaN(b)
	switch {
	case an && bn:
		return 0
	case an:
		return 1
	case bn:
		return -1
	case a == b:
		return 0
	case (a > b) == maximize:
		return -1
	}
	return 1
}

// Rank sorts ts in place, best first, by Less. The sort is stable.
func Rank(ts []Trial, maximize bool) {
	// Sort indexes, not Trials: a comparison of two Trial values would copy
	// both (hundreds of bytes) each time.
	idx := make([]int32, len(ts))
	for i := range idx {
		idx[i] = int32(i)
	}
	slices.SortStableFunc(idx, func(i, j int32) int {
		switch {
		case Less(&ts[i], &ts[j], maximize):
			return -1
		case Less(&ts[j], &ts[i], maximize):
			return 1
		}
		return 0
	})
	sorted := make([]Trial, len(ts))
	for i, j := range idx {
		sorted[i] = ts[j]
	}
	copy(ts, sorted)
}

// Selected is the one notion of a sweep's selected best trial: its
// recorded selection (Best) while it stands, that is while no trial of the
// sweep is unfinished and the selected trial still leads on the validation
// metric. ranked is every trial of the sweep, ranked by Rank. An extended
// sweep's earlier selection does not stand until the sweep has finished
// again and its leader is that trial (otherwise the new leader is selected,
// and the test set used again: Evaluations).
func (sw *Sweep) Selected(ranked []Trial) *Best {
	if sw.Best == nil || len(ranked) == 0 || ranked[0].Number != sw.Best.Trial {
		return nil
	}
	for _, t := range ranked {
		if !t.Status.Finished() {
			return nil
		}
	}
	return sw.Best
}
