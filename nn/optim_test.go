package nn

import (
	"errors"
	"math"
	"testing"
)

func TestUpdateRulesHandComputed(t *testing.T) {
	// One parameter w = 1 with gradient dw = 0.5 at learning rate 0.1, the
	// expected values worked out by hand from the coursework's formulas.
	tests := []struct {
		name  string
		cfg   Config
		init  func(UpdateRule[float64]) // state before the step
		steps int
		want  float64
	}{
		{"sgd", Config{Optimizer: "sgd"}, nil, 1, 1 - 0.1*0.5},
		// v = 0.9·0.2 − 0.1·0.5 = 0.13; w = 1.13
		{"momentum", Config{Optimizer: "momentum"}, func(r UpdateRule[float64]) { r.(*Momentum[float64]).V[0] = 0.2 }, 1, 1.13},
		// cache = 0.99·0.04 + 0.01·0.25 = 0.0421; w = 1 − 0.05/(√0.0421 + 1e-8)
		{"rmsprop", Config{Optimizer: "rmsprop"}, func(r UpdateRule[float64]) { r.(*RMSProp[float64]).Cache[0] = 0.04 }, 1, 1 - 0.05/(0.20518284528683192+1e-8)},
		// Adam's first step from zero moments is lr·sign(dw): m̂ = 0.5, v̂ = 0.25.
		{"adam 1", Config{Optimizer: "adam"}, nil, 1, 1 - 0.1*0.5/(0.5+1e-8)},
		// Second step, same gradient: m = 0.095, v = 0.00049975; m̂ = 0.095/0.19 = 0.5,
		// v̂ = 0.00049975/0.001999 = 0.25: again lr·0.5/0.5.
		{"adam 2", Config{Optimizer: "adam"}, nil, 2, 1 - 2*0.1*0.5/(0.5+1e-8)},
		{"momentum custom mu", Config{Optimizer: "momentum", Momentum: 0.5}, func(r UpdateRule[float64]) { r.(*Momentum[float64]).V[0] = 0.2 }, 1, 1 + 0.5*0.2 - 0.05},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r, err := NewUpdateRule[float64](tt.cfg, 1)
			if err != nil {
				t.Fatal(err)
			}
			if tt.init != nil {
				tt.init(r)
			}
			w := []float64{1}
			for range tt.steps {
				r.Update(w, []float64{0.5}, 0.1)
			}
			if math.Abs(w[0]-tt.want) > 1e-12 {
				t.Errorf("w = %.15f, want %.15f", w[0], tt.want)
			}
			if st := r.State(); st.Step != tt.steps {
				t.Errorf("state step %d, want %d", st.Step, tt.steps)
			}
		})
	}
}

func TestAdamMoments(t *testing.T) {
	r, _ := NewUpdateRule[float64](Config{Optimizer: "adam"}, 1)
	w := []float64{1}
	r.Update(w, []float64{0.5}, 0.1)
	r.Update(w, []float64{0.5}, 0.1)
	st := r.State()
	if math.Abs(st.Slots[0][0]-0.095) > 1e-15 || math.Abs(st.Slots[1][0]-0.00049975) > 1e-15 {
		t.Errorf("adam m, v = %g, %g; want 0.095, 0.00049975", st.Slots[0][0], st.Slots[1][0])
	}
}

func TestUpdateRuleStateRoundTrip(t *testing.T) {
	for _, name := range []string{"sgd", "momentum", "rmsprop", "adam"} {
		t.Run(name, func(t *testing.T) {
			a, _ := NewUpdateRule[float32](Config{Optimizer: name}, 3)
			b, _ := NewUpdateRule[float32](Config{Optimizer: name}, 3)
			wa := []float32{1, -2, 3}
			grads := [][]float32{{0.1, 0.2, -0.3}, {0.3, -0.1, 0.2}, {-0.2, 0.4, 0.1}}
			a.Update(wa, grads[0], 0.01)
			if err := b.SetState(a.State()); err != nil {
				t.Fatal(err)
			}
			wb := append([]float32(nil), wa...)
			for _, g := range grads[1:] {
				a.Update(wa, g, 0.01)
				b.Update(wb, g, 0.01)
			}
			for i := range wa {
				if wa[i] != wb[i] {
					t.Fatalf("restored rule diverges: %v vs %v", wa, wb)
				}
			}
		})
	}
}

func TestUpdateRuleErrors(t *testing.T) {
	if _, err := NewUpdateRule[float64](Config{Optimizer: "adagrad"}, 1); !errors.Is(err, ErrConfig) {
		t.Errorf("unknown optimizer: err = %v", err)
	}
	adam, _ := NewUpdateRule[float64](Config{Optimizer: "adam"}, 2)
	mom, _ := NewUpdateRule[float64](Config{Optimizer: "momentum"}, 2)
	sgd, _ := NewUpdateRule[float64](Config{Optimizer: "sgd"}, 2)
	rms, _ := NewUpdateRule[float64](Config{Optimizer: "rmsprop"}, 2)
	bad := []struct {
		name string
		r    UpdateRule[float64]
		st   OptimizerState[float64]
	}{
		{"wrong rule", adam, mom.State()},
		{"wrong slots", adam, OptimizerState[float64]{Rule: "adam", Slots: [][]float64{{0, 0}}}},
		{"wrong size", mom, OptimizerState[float64]{Rule: "momentum", Slots: [][]float64{{0}}}},
		{"negative step", sgd, OptimizerState[float64]{Rule: "sgd", Step: -1}},
		{"rmsprop rule", rms, sgd.State()},
	}
	for _, tt := range bad {
		if err := tt.r.SetState(tt.st); !errors.Is(err, ErrConfig) {
			t.Errorf("%s: err = %v, want ErrConfig", tt.name, err)
		}
	}
}
