package results

import (
	"math"
	"slices"
)

// Less is the order of leaderboards, selection and kept models: done trials
// first, best first by the metric (val_acc descending, or val_loss ascending
// when !maximize; NaN last), ties broken by lower ValLoss, then lower Number;
// then every other trial by number.
func Less(a, b *Trial, maximize bool) bool {
	ad, bd := a.Status == Done, b.Status == Done
	if ad != bd {
		return ad
	}
	if !ad {
		return a.Number < b.Number
	}
	return lessMetrics(a.ValAcc, a.ValLoss, a.Number, b.ValAcc, b.ValLoss, b.Number, maximize)
}

// lessMetrics is Less for two done trials.
func lessMetrics(aAcc, aLoss float64, an int, bAcc, bLoss float64, bn int, maximize bool) bool {
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
