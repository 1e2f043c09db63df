package tpe

import (
	"cmp"
	"crypto/sha256"
	"encoding/binary"
	"math"
	"math/rand/v2"
	"slices"

	"github.com/sweep-dev/sweep/search"
)

// Optuna 3.1's defaults.
const (
	DefaultStartup    = 10 // random trials before TPE
	DefaultCandidates = 24 // candidates drawn from l per parameter
)

// Options configure a Sampler; the zero value is Optuna's defaults.
type Options struct {
	Startup    int // trials with results before TPE takes over; 0 means DefaultStartup
	Candidates int // candidates per parameter; 0 means DefaultCandidates
}

// Sampler is the TPE sampler of a spec: a search.Sampler.
type Sampler struct {
	seed       uint64
	search     search.Search
	random     *search.RandomSampler
	startup    int
	candidates int
	liar       bool // the constant liar; off only in tests that show what it does
}

var _ search.Sampler = (*Sampler)(nil)

// New returns the TPE sampler of spec.
func New(spec *search.Spec, o Options) *Sampler {
	return &Sampler{
		seed:       spec.Seed,
		search:     spec.Search,
		random:     search.NewRandomSampler(spec),
		startup:    cmp.Or(o.Startup, DefaultStartup),
		candidates: cmp.Or(o.Candidates, DefaultCandidates),
		liar:       true,
	}
}

// Gamma is how many of n trials with results are "below" (the good ones):
// min(ceil(0.1·n), 25), Optuna's default_gamma.
func Gamma(n int) int { return min((n+9)/10, 25) }

// Sample draws the values of trial number's attempt: random search's while
// fewer than Startup trials of h have results, TPE's after.
func (s *Sampler) Sample(h []search.TrialRecord, number, attempt int) ([]any, error) {
	below, above, n := s.split(h)
	if n < s.startup {
		return s.random.Sample(h, number, attempt)
	}
	values := make([]any, len(s.search.Params))
	for j, p := range s.search.Params {
		rng := rand.New(rand.NewChaCha8(seed(s.seed, number, attempt, p.Name)))
		values[j] = s.sample(p, below, above, rng)
	}
	return values, nil
}

// Ranking classes of trials, best first.
const (
	classDone   = iota // done: by final value
	classPaused        // paused or pruned: by resource reached, then value
	classWorst         // diverged, or no evaluation
	classLiar          // in flight: no result yet
)

type ranked struct {
	t        *search.TrialRecord
	class    int
	resource int
	value    float64
}

// split ranks h and returns the below and above trials, each by trial
// number, and n, the number of trials with results (all but the in-flight
// and the failed).
func (s *Sampler) split(h []search.TrialRecord) (below, above []*search.TrialRecord, n int) {
	rs := make([]ranked, 0, len(h))
	for i := range h {
		t := &h[i]
		r := ranked{t: t, class: classWorst}
		last, ok := t.Last()
		switch {
		case t.Status == search.StatusFailed:
			continue
		case t.Status.InFlight():
			if !s.liar {
				continue
			}
			r.class = classLiar
		case !ok || t.Status == search.StatusDiverged:
		case t.Status == search.StatusDone:
			r.class, r.value = classDone, last.Value
		case t.Status == search.StatusPaused || t.Status == search.StatusPruned:
			r.class, r.resource, r.value = classPaused, last.Resource, last.Value
		}
		if r.class != classLiar {
			n++
		}
		rs = append(rs, r)
	}
	slices.SortFunc(rs, func(a, b ranked) int {
		c := cmp.Compare(a.class, b.class)
		switch {
		case c != 0:
		case a.class == classPaused:
			c = cmp.Or(cmp.Compare(b.resource, a.resource), s.search.Compare(a.value, b.value))
		case a.class == classDone:
			c = s.search.Compare(a.value, b.value)
		}
		return cmp.Or(c, cmp.Compare(a.t.Number, b.t.Number))
	})
	k := Gamma(n)
	for i, r := range rs {
		if i < k {
			below = append(below, r.t)
		} else {
			above = append(above, r.t)
		}
	}
	byNumber := func(a, b *search.TrialRecord) int { return cmp.Compare(a.Number, b.Number) }
	slices.SortFunc(below, byNumber)
	slices.SortFunc(above, byNumber)
	return below, above, n
}

// sample draws one parameter's value.
func (s *Sampler) sample(p search.Param, below, above []*search.TrialRecord, rng *rand.Rand) any {
	sp := newSpace(p)
	l := sp.estimator(sp.observe(p, below))
	g := sp.estimator(sp.observe(p, above))
	best, bestScore := 0.0, math.Inf(-1)
	for range s.candidates {
		x := sp.round(p, l.sample(rng))
		if score := l.logPDF(x) - g.logPDF(x); score > bestScore {
			best, bestScore = x, score
		}
	}
	return sp.value(p, best)
}

// seed returns the ChaCha8 seed of one parameter's draws for trial
// number's attempt.
func seed(sweepSeed uint64, number, attempt int, name string) [32]byte {
	h := sha256.New()
	var buf [8]byte
	h.Write([]byte("sweep-tpe/v1"))
	for _, u := range []uint64{sweepSeed, uint64(number), uint64(attempt), uint64(len(name))} {
		binary.BigEndian.PutUint64(buf[:], u)
		h.Write(buf[:])
	}
	h.Write([]byte(name))
	var out [32]byte
	h.Sum(out[:0])
	return out
}
