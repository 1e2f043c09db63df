package tpe

import (
	"cmp"
	"math"
	"math/rand/v2"
	"slices"
	"sort"

	"github.com/sweep-dev/sweep/search"
)

// priorWeight is the prior kernel's weight, before normalising (Optuna's
// prior_weight).
const priorWeight = 1.0

// Kinds of parameter space.
const (
	continuous  = iota // uniform or log_uniform without steps
	discrete           // int_uniform, or a range with steps: indices 0 .. Len-1
	categorical        // a list of values
)

// space is a parameter's space as its estimators see it: the real line
// between low and high (in log space for log_uniform, in index space
// widened by 1/2 for discrete ones), or a set of choices.
type space struct {
	kind      int
	log       bool
	low, high float64
	choices   int // categorical
}

func newSpace(p search.Param) space {
	switch {
	case p.Dist == "":
		return space{kind: categorical, choices: p.Len()}
	case p.Len() > 0:
		return space{kind: discrete, low: -0.5, high: float64(p.Len()) - 0.5}
	case p.Dist == "log_uniform":
		return space{kind: continuous, log: true, low: math.Log(p.Min), high: math.Log(p.Max)}
	}
	return space{kind: continuous, low: p.Min, high: p.Max}
}

// observe returns the trials' values of p in the estimator's space, in the
// trials' order, leaving out trials whose value is missing or outside the
// space (the spec's space may have changed since they ran).
func (sp space) observe(p search.Param, trials []*search.TrialRecord) []float64 {
	obs := make([]float64, 0, len(trials))
	for _, t := range trials {
		for _, pv := range t.Params {
			if pv.Name != p.Name {
				continue
			}
			if sp.kind != continuous {
				if k, ok := p.Index(pv.Value); ok {
					obs = append(obs, float64(k))
				}
				break
			}
			x, ok := pv.Value.(float64)
			if !ok || !(x >= p.Min && x <= p.Max) {
				break
			}
			if sp.log {
				x = math.Log(x)
			}
			obs = append(obs, x)
			break
		}
	}
	return obs
}

// round returns the point of the space that x, drawn from an estimator,
// stands for: a float rounded as search rounds drawn values, or an index.
func (sp space) round(p search.Param, x float64) float64 {
	switch {
	case sp.kind == discrete:
		return min(max(math.RoundToEven(x), 0), float64(p.Len()-1))
	case sp.kind == categorical:
		return x
	case sp.log:
		return math.Log(p.Round(math.Exp(x)))
	}
	return p.Round(x)
}

// value returns the parameter value at x, a point that round returned.
func (sp space) value(p search.Param, x float64) any {
	switch {
	case sp.kind != continuous:
		return p.At(int(x))
	case sp.log:
		return p.Round(math.Exp(x))
	}
	return x
}

// estimator is a Parzen estimator of one parameter.
type estimator interface {
	sample(rng *rand.Rand) float64
	logPDF(x float64) float64
}

func (sp space) estimator(obs []float64) estimator {
	w := mixtureWeights(len(obs))
	if sp.kind == categorical {
		return newCategorical(obs, w, sp.choices)
	}
	return newNumeric(obs, w, sp.low, sp.high, sp.kind == discrete)
}

// mixtureWeights returns the weights of n observations' kernels and the
// prior's, last, summing to 1: Optuna's default_weights (1 each, the
// oldest ramped down linearly from 1/n when n > 25) and prior_weight.
func mixtureWeights(n int) []float64 {
	w := make([]float64, n+1)
	ramp := max(n-25, 0)
	for i := range w {
		w[i] = 1
	}
	// np.linspace(1/n, 1, ramp)
	switch {
	case ramp == 1:
		w[0] = 1 / float64(n)
	case ramp > 1:
		start := 1 / float64(n)
		step := (1 - start) / float64(ramp-1)
		for i := range ramp - 1 {
			w[i] = float64(i)*step + start
		}
		w[ramp-1] = 1
	}
	w[n] = priorWeight
	sum := 0.0
	for _, x := range w {
		sum += x
	}
	for i := range w {
		w[i] /= sum
	}
	return w
}

// cumulative returns the running sums of w.
func cumulative(w []float64) []float64 {
	cum := make([]float64, len(w))
	sum := 0.0
	for i, x := range w {
		sum += x
		cum[i] = sum
	}
	return cum
}

// pick returns the index that u in [0, 1) selects from running sums: the
// first whose sum exceeds u·total.
func pick(cum []float64, u float64) int {
	u *= cum[len(cum)-1]
	return min(sort.Search(len(cum), func(i int) bool { return cum[i] > u }), len(cum)-1)
}

// numeric is a mixture of truncated normal kernels on [low, high]; a
// discrete one gives integer k the mass of [k-1/2, k+1/2].
type numeric struct {
	low, high    float64
	discrete     bool
	mu, sigma    []float64
	cum          []float64 // running sums of the weights
	coef         []float64 // weight / (sigma · Z · sqrt(2π)); discrete: weight / Z
	massLo, mass []float64 // Φ((low-mu)/sigma) and Z = Φ((high-mu)/sigma) - massLo
}

func newNumeric(obs, w []float64, low, high float64, discrete bool) *numeric {
	n := len(obs)
	mu := append(append(make([]float64, 0, n+1), obs...), (low+high)/2)
	sigma := make([]float64, n+1)
	// Each kernel's width is the distance to its farther neighbour, the
	// space's ends counting as neighbours, but the outermost kernels take
	// their inner neighbour (Optuna 3.1: the prior's mean counts as a
	// neighbour, consider_endpoints=False).
	order := make([]int, n+1)
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Or(cmp.Compare(mu[a], mu[b]), cmp.Compare(a, b)) })
	at := func(i int) float64 { // sorted means with the ends, at 0 and n+2
		switch {
		case i == 0:
			return low
		case i == n+2:
			return high
		}
		return mu[order[i-1]]
	}
	for i, o := range order {
		sigma[o] = max(at(i+1)-at(i), at(i+2)-at(i+1))
	}
	if n+1 >= 2 {
		sigma[order[0]] = at(2) - at(1)
		sigma[order[n]] = at(n+1) - at(n)
	}
	lo, hi := (high-low)/min(100, 1+float64(n+1)), high-low
	for i := range sigma {
		sigma[i] = min(max(sigma[i], lo), hi)
	}
	sigma[n] = high - low // the prior
	if discrete {
		mu, sigma, w = merge(mu, sigma, w)
	}
	e := &numeric{low: low, high: high, discrete: discrete, mu: mu, sigma: sigma, cum: cumulative(w),
		coef: make([]float64, n+1), massLo: make([]float64, n+1), mass: make([]float64, n+1)}
	for i := range mu {
		a, b := (low-mu[i])/sigma[i], (high-mu[i])/sigma[i]
		e.massLo[i] = phi(a)
		e.mass[i] = gaussMass(a, b)
		e.coef[i] = w[i] / e.mass[i]
		if !discrete {
			e.coef[i] /= sigma[i] * math.Sqrt(2*math.Pi)
		}
	}
	return e
}

func (e *numeric) sample(rng *rand.Rand) float64 {
	i := pick(e.cum, rng.Float64())
	p := e.massLo[i] + rng.Float64()*e.mass[i]
	return min(max(e.mu[i]+e.sigma[i]*phiInv(p), e.low), e.high)
}

func (e *numeric) logPDF(x float64) float64 {
	sum := 0.0
	if e.discrete {
		lo, hi := max(x-0.5, e.low), min(x+0.5, e.high)
		for i, m := range e.mu {
			sum += e.coef[i] * gaussMass((lo-m)/e.sigma[i], (hi-m)/e.sigma[i])
		}
		return math.Log(sum)
	}
	for i, m := range e.mu {
		z := (x - m) / e.sigma[i]
		sum += e.coef[i] * math.Exp(-0.5*z*z)
	}
	return math.Log(sum)
}

// phi is the standard normal CDF.
func phi(z float64) float64 { return 0.5 * math.Erfc(-z/math.Sqrt2) }

// phiInv is the standard normal quantile function.
func phiInv(p float64) float64 { return -math.Sqrt2 * math.Erfcinv(2*p) }

// gaussMass is Φ(b) - Φ(a) for a <= b, accurate in either tail.
func gaussMass(a, b float64) float64 {
	switch {
	case a >= 0:
		return 0.5 * (math.Erfc(a/math.Sqrt2) - math.Erfc(b/math.Sqrt2))
	case b <= 0:
		return 0.5 * (math.Erfc(-b/math.Sqrt2) - math.Erfc(-a/math.Sqrt2))
	}
	return 1 - 0.5*(math.Erfc(-a/math.Sqrt2)+math.Erfc(b/math.Sqrt2))
}

// categoricalEst is a mixture over choices: each observation's kernel puts
// 1 on its choice plus prior/(n+1) on every choice, normalised; the prior's
// is uniform (Optuna 3.1). As only the mixture matters, it keeps the
// mixture's probabilities.
type categoricalEst struct {
	logP []float64
	cum  []float64
}

func newCategorical(obs, w []float64, choices int) *categoricalEst {
	n := len(obs)
	fill := priorWeight / float64(n+1)
	norm := fill*float64(choices) + 1
	// p(c) = sum_i w_i (fill + [obs_i = c]) / norm + w_prior / choices
	sum := 0.0
	for i := range obs {
		sum += w[i]
	}
	at := make([]float64, choices) // the weight of the observations of each choice
	for i, o := range obs {
		at[int(o)] += w[i]
	}
	p := make([]float64, choices)
	for c := range p {
		p[c] = (fill*sum+at[c])/norm + w[n]/float64(choices)
	}
	e := &categoricalEst{logP: make([]float64, choices), cum: cumulative(p)}
	for c := range p {
		e.logP[c] = math.Log(p[c])
	}
	return e
}

func (e *categoricalEst) sample(rng *rand.Rand) float64 { return float64(pick(e.cum, rng.Float64())) }

func (e *categoricalEst) logPDF(x float64) float64 { return e.logP[int(x)] }

// merge returns the kernels with one per distinct (mu, sigma), carrying the
// sum of their weights: the same mixture. Observations of a discrete space
// share few means (a parameter with 7 steps has at most 7), so thousands of
// kernels become a few dozen.
func merge(mu, sigma, w []float64) (mus, sigmas, ws []float64) {
	order := make([]int, len(mu))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int {
		return cmp.Or(cmp.Compare(mu[a], mu[b]), cmp.Compare(sigma[a], sigma[b]), cmp.Compare(a, b))
	})
	for _, i := range order {
		if k := len(mus) - 1; k >= 0 && mus[k] == mu[i] && sigmas[k] == sigma[i] {
			ws[k] += w[i]
			continue
		}
		mus, sigmas, ws = append(mus, mu[i]), append(sigmas, sigma[i]), append(ws, w[i])
	}
	return mus, sigmas, ws
}
