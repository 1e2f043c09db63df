package nn

import (
	"fmt"
	"math"
)

// An UpdateRule changes parameters in place from their gradient: the
// coursework's optim.py. It works on the flat parameter slice of a net and
// owns whatever state it keeps between steps (velocity, moments), one element
// per parameter. Its State can be saved in a checkpoint and restored with
// SetState, after which the rule continues exactly as it would have.
type UpdateRule[T Float] interface {
	// Update applies one step: w is changed in place using dw at learning rate lr.
	Update(w, dw []T, lr float64)
	// State returns a copy of the rule's state.
	State() OptimizerState[T]
	// SetState restores a state returned by State of the same rule and size.
	SetState(OptimizerState[T]) error
}

// splitRule is what a fused group (TrainGroup) needs of an update rule:
// one step over parameters held in two places, the first layer's weights
// in the group's buffer and the rest in the net, as if they were one
// slice (state elements 0..len(w1) for w1, then w2's); and the rule's
// per-parameter state, to reorder the first layer's part.
type splitRule[T Float] interface {
	updateSplit(w1, dw1, w2, dw2 []T, lr float64)
	slots() [][]T
}

var (
	_ splitRule[float32] = (*SGD[float32])(nil)
	_ splitRule[float32] = (*Momentum[float32])(nil)
	_ splitRule[float32] = (*Nesterov[float32])(nil)
	_ splitRule[float32] = (*RMSProp[float32])(nil)
	_ splitRule[float32] = (*Adam[float32])(nil)
)

// OptimizerState is the saved state of an update rule.
type OptimizerState[T Float] struct {
	Rule  string // sgd, momentum, nesterov, rmsprop, adam
	Step  int    // updates applied so far (Adam's t)
	Slots [][]T  // per-parameter state: momentum and nesterov [v], rmsprop [cache], adam [m, v]
}

// Optimizer names and their defaults, as in the coursework.
const (
	DefaultMomentum  = 0.9
	DefaultDecayRate = 0.99 // rmsprop
	DefaultBeta1     = 0.9
	DefaultBeta2     = 0.999
	DefaultEpsilon   = 1e-8
)

// NewUpdateRule returns the update rule named by cfg.Optimizer for n
// parameters, with cfg's hyperparameters (zero ones take the defaults).
func NewUpdateRule[T Float](cfg Config, n int) (UpdateRule[T], error) {
	or := func(v, def float64) float64 {
		if v == 0 {
			return def
		}
		return v
	}
	switch cfg.Optimizer {
	case "sgd", "":
		return &SGD[T]{}, nil
	case "momentum":
		return &Momentum[T]{Mu: or(cfg.Momentum, DefaultMomentum), V: make([]T, n)}, nil
	case "nesterov":
		return &Nesterov[T]{Mu: or(cfg.Momentum, DefaultMomentum), V: make([]T, n)}, nil
	case "rmsprop":
		return &RMSProp[T]{DecayRate: or(cfg.DecayRate, DefaultDecayRate), Epsilon: or(cfg.Epsilon, DefaultEpsilon), Cache: make([]T, n)}, nil
	case "adam":
		return &Adam[T]{Beta1: or(cfg.Beta1, DefaultBeta1), Beta2: or(cfg.Beta2, DefaultBeta2), Epsilon: or(cfg.Epsilon, DefaultEpsilon),
			M: make([]T, n), V: make([]T, n)}, nil
	}
	return nil, fmt.Errorf("%w: optimizer %q (want sgd, momentum, nesterov, rmsprop or adam)", ErrConfig, cfg.Optimizer)
}

// SGD is vanilla stochastic gradient descent: w -= lr·dw.
type SGD[T Float] struct{ steps int }

func (s *SGD[T]) Update(w, dw []T, lr float64) {
	axpy(-T(lr), dw[:len(w)], w)
	s.steps++
}

func (s *SGD[T]) updateSplit(w1, dw1, w2, dw2 []T, lr float64) {
	axpy(-T(lr), dw1[:len(w1)], w1)
	axpy(-T(lr), dw2[:len(w2)], w2)
	s.steps++
}

func (s *SGD[T]) slots() [][]T { return nil }

func (s *SGD[T]) State() OptimizerState[T] { return OptimizerState[T]{Rule: "sgd", Step: s.steps} }

func (s *SGD[T]) SetState(st OptimizerState[T]) error {
	if err := checkState(st, "sgd", 0, 0); err != nil {
		return err
	}
	s.steps = st.Step
	return nil
}

// Momentum is SGD with momentum: v = mu·v − lr·dw; w += v.
type Momentum[T Float] struct {
	Mu    float64
	V     []T
	steps int
}

func (m *Momentum[T]) Update(w, dw []T, lr float64) {
	m.apply(0, w, dw, lr)
	m.steps++
}

func (m *Momentum[T]) updateSplit(w1, dw1, w2, dw2 []T, lr float64) {
	m.apply(0, w1, dw1, lr)
	m.apply(len(w1), w2, dw2, lr)
	m.steps++
}

func (m *Momentum[T]) slots() [][]T { return [][]T{m.V} }

// apply updates w, the parameters from off on, with its state from off.
func (m *Momentum[T]) apply(off int, w, dw []T, lr float64) {
	mu, l := T(m.Mu), T(lr)
	v := m.V[off : off+len(w)]
	dw = dw[:len(w)]
	for i := range w {
		v[i] = mu*v[i] - l*dw[i]
		w[i] += v[i]
	}
}

func (m *Momentum[T]) State() OptimizerState[T] {
	return OptimizerState[T]{Rule: "momentum", Step: m.steps, Slots: [][]T{clone(m.V)}}
}

func (m *Momentum[T]) SetState(st OptimizerState[T]) error {
	if err := checkState(st, "momentum", 1, len(m.V)); err != nil {
		return err
	}
	copy(m.V, st.Slots[0])
	m.steps = st.Step
	return nil
}

// Nesterov is SGD with Nesterov momentum, in the form of the CS231n notes:
// v' = mu·v − lr·dw; w += −mu·v + (1+mu)·v'.
type Nesterov[T Float] struct {
	Mu    float64
	V     []T
	steps int
}

func (m *Nesterov[T]) Update(w, dw []T, lr float64) {
	m.apply(0, w, dw, lr)
	m.steps++
}

func (m *Nesterov[T]) updateSplit(w1, dw1, w2, dw2 []T, lr float64) {
	m.apply(0, w1, dw1, lr)
	m.apply(len(w1), w2, dw2, lr)
	m.steps++
}

func (m *Nesterov[T]) slots() [][]T { return [][]T{m.V} }

func (m *Nesterov[T]) apply(off int, w, dw []T, lr float64) {
	mu, l := T(m.Mu), T(lr)
	v := m.V[off : off+len(w)]
	dw = dw[:len(w)]
	for i := range w {
		prev := v[i]
		v[i] = mu*prev - l*dw[i]
		w[i] += -mu*prev + (1+mu)*v[i]
	}
}

func (m *Nesterov[T]) State() OptimizerState[T] {
	return OptimizerState[T]{Rule: "nesterov", Step: m.steps, Slots: [][]T{clone(m.V)}}
}

func (m *Nesterov[T]) SetState(st OptimizerState[T]) error {
	if err := checkState(st, "nesterov", 1, len(m.V)); err != nil {
		return err
	}
	copy(m.V, st.Slots[0])
	m.steps = st.Step
	return nil
}

// RMSProp keeps a moving average of squared gradients:
// cache = d·cache + (1−d)·dw²; w −= lr·dw / (√cache + eps).
type RMSProp[T Float] struct {
	DecayRate, Epsilon float64
	Cache              []T
	steps              int
}

func (r *RMSProp[T]) Update(w, dw []T, lr float64) {
	r.apply(0, w, dw, lr)
	r.steps++
}

func (r *RMSProp[T]) updateSplit(w1, dw1, w2, dw2 []T, lr float64) {
	r.apply(0, w1, dw1, lr)
	r.apply(len(w1), w2, dw2, lr)
	r.steps++
}

func (r *RMSProp[T]) slots() [][]T { return [][]T{r.Cache} }

func (r *RMSProp[T]) apply(off int, w, dw []T, lr float64) {
	d := T(r.DecayRate)
	c := r.Cache[off : off+len(w)]
	dw = dw[:len(w)]
	for i := range w {
		g := dw[i]
		c[i] = d*c[i] + (1-d)*g*g
		w[i] -= T(lr * float64(g) / (math.Sqrt(float64(c[i])) + r.Epsilon))
	}
}

func (r *RMSProp[T]) State() OptimizerState[T] {
	return OptimizerState[T]{Rule: "rmsprop", Step: r.steps, Slots: [][]T{clone(r.Cache)}}
}

func (r *RMSProp[T]) SetState(st OptimizerState[T]) error {
	if err := checkState(st, "rmsprop", 1, len(r.Cache)); err != nil {
		return err
	}
	copy(r.Cache, st.Slots[0])
	r.steps = st.Step
	return nil
}

// Adam with bias correction, as in the coursework: t += 1;
// m = b1·m + (1−b1)·dw; v = b2·v + (1−b2)·dw²;
// w −= lr·(m/(1−b1^t)) / (√(v/(1−b2^t)) + eps).
type Adam[T Float] struct {
	Beta1, Beta2, Epsilon float64
	M, V                  []T
	t                     int
}

func (a *Adam[T]) Update(w, dw []T, lr float64) {
	a.t++
	a.apply(0, w, dw, lr)
}

func (a *Adam[T]) updateSplit(w1, dw1, w2, dw2 []T, lr float64) {
	a.t++
	a.apply(0, w1, dw1, lr)
	a.apply(len(w1), w2, dw2, lr)
}

func (a *Adam[T]) slots() [][]T { return [][]T{a.M, a.V} }

func (a *Adam[T]) apply(off int, w, dw []T, lr float64) {
	b1, b2 := T(a.Beta1), T(a.Beta2)
	c1 := 1 - math.Pow(a.Beta1, float64(a.t))
	c2 := 1 - math.Pow(a.Beta2, float64(a.t))
	m, v := a.M[off:off+len(w)], a.V[off:off+len(w)]
	dw = dw[:len(w)]
	// lr·(m/c1)/(√(v/c2) + eps) with the divisions by c1 and c2 folded
	// into per-step constants: one division and one square root per
	// element, which bound the loop.
	step, inv2 := lr/c1, 1/c2
	for i := range w {
		g := dw[i]
		m[i] = b1*m[i] + (1-b1)*g
		v[i] = b2*v[i] + (1-b2)*g*g
		w[i] -= T(step * float64(m[i]) / (math.Sqrt(float64(v[i])*inv2) + a.Epsilon))
	}
}

func (a *Adam[T]) State() OptimizerState[T] {
	return OptimizerState[T]{Rule: "adam", Step: a.t, Slots: [][]T{clone(a.M), clone(a.V)}}
}

func (a *Adam[T]) SetState(st OptimizerState[T]) error {
	if err := checkState(st, "adam", 2, len(a.M)); err != nil {
		return err
	}
	copy(a.M, st.Slots[0])
	copy(a.V, st.Slots[1])
	a.t = st.Step
	return nil
}

func checkState[T Float](st OptimizerState[T], rule string, slots, n int) error {
	if st.Rule != rule {
		return fmt.Errorf("%w: optimizer state is %q, rule is %q", ErrConfig, st.Rule, rule)
	}
	if len(st.Slots) != slots {
		return fmt.Errorf("%w: %s state has %d slots, want %d", ErrConfig, rule, len(st.Slots), slots)
	}
	for i, s := range st.Slots {
		if len(s) != n {
			return fmt.Errorf("%w: %s state slot %d has %d elements, want %d", ErrConfig, rule, i, len(s), n)
		}
	}
	if st.Step < 0 {
		return fmt.Errorf("%w: %s state step %d is negative", ErrConfig, rule, st.Step)
	}
	return nil
}

func clone[T Float](s []T) []T { return append([]T(nil), s...) }
