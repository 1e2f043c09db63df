package report

import (
	"math"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// formatCase is a value and its expected form.
type formatCase[T any] struct {
	v    T
	want string
}

// checkFormat checks that format, named name, formats each case's value
// as it wants.
func checkFormat[T any](t *testing.T, name string, format func(T) string, cases []formatCase[T]) {
	t.Helper()
	for _, c := range cases {
		if got := format(c.v); got != c.want {
			t.Errorf("%s(%#v) = %q, want %q", name, c.v, got, c.want)
		}
	}
}

func TestHuman(t *testing.T) {
	checkFormat(t, "Human", Human, []formatCase[float64]{
		{1e-3, "1.0e-03"}, {5e-4, "5.0e-04"}, {3.17e-5, "3.2e-05"}, {0.01, "0.01"}, {0.25, "0.25"},
		{0.5134, "0.513"}, {0.95, "0.95"}, {50, "50"}, {0, "0"}, {-0.5, "-0.5"}, {123.4, "123"},
		{12.345, "12.3"}, {99999, "99999"}, {1e5, "1.0e+05"}, {2.5e5, "2.5e+05"}, {-1e-3, "-1.0e-03"},
		{math.NaN(), "NaN"}, {math.Inf(1), "inf"}, {math.Inf(-1), "-inf"},
	})
}

func TestMetric(t *testing.T) {
	tests := []struct {
		v    float64
		prec int
		want string
	}{
		{0.5134, 3, "0.513"},
		{2.302585, 3, "2.303"},
		{99999.4, 3, "99999.400"},
		{5508347170094318, 3, "5.51e+15"}, // a diverging loss: not 5508347170094318.000
		{-123456, 3, "-1.23e+05"},
		{0.513, 4, "0.5130"},
		{0, 4, "0.0000"},
		{math.NaN(), 3, "NaN"},
		{math.Inf(1), 4, "inf"},
		{math.Inf(-1), 3, "-inf"},
	}
	for _, tt := range tests {
		if got := MetricPrec(tt.v, tt.prec); got != tt.want {
			t.Errorf("MetricPrec(%g, %d) = %q, want %q", tt.v, tt.prec, got, tt.want)
		}
		if tt.prec == 3 && Metric(tt.v) != MetricPrec(tt.v, 3) {
			t.Errorf("Metric(%g) = %q, want MetricPrec(v, 3)", tt.v, Metric(tt.v))
		}
	}
}

func TestEpoch(t *testing.T) {
	checkFormat(t, "Epoch", Epoch, []formatCase[float64]{
		{88.88888888888889, "88.9"}, // two decimals, then Human's three digits
		{1.75, "1.75"}, {2, "2"}, {0.004, "0"}, {0.3333, "0.33"}, {math.NaN(), "NaN"},
	})
}

func TestSeconds(t *testing.T) {
	checkFormat(t, "Seconds", Seconds, []formatCase[float64]{
		{0, "0.0s"}, {0.4, "0.4s"}, {41.25, "41.2s"}, {60, "1m00s"}, {185, "3m05s"}, {3599.9, "59m59s"}, {3600, "1h00m"}, {7650, "2h07m"},
	})
}

func TestStamp(t *testing.T) {
	paris := time.FixedZone("CET", 3600)
	if got, want := Stamp(time.Date(2026, 11, 26, 13, 0, 5, 999, paris)), "2026-11-26 12:00:05 UTC"; got != want {
		t.Errorf("Stamp = %q, want %q (in UTC, whole seconds)", got, want)
	}
	if got := Stamp(time.Time{}); got != "-" {
		t.Errorf("Stamp(zero) = %q, want -", got)
	}
}

func TestCountTimes(t *testing.T) {
	for _, tt := range []struct {
		n            int
		count, times string
	}{
		{0, "0 trials", "0 times"}, {1, "1 trial", "once"}, {2, "2 trials", "twice"}, {24, "24 trials", "24 times"},
	} {
		if got := Count(tt.n, "trial"); got != tt.count {
			t.Errorf("Count(%d) = %q, want %q", tt.n, got, tt.count)
		}
		if got := Times(tt.n); got != tt.times {
			t.Errorf("Times(%d) = %q, want %q", tt.n, got, tt.times)
		}
	}
}

// TestFormatValue: every type a parameter value has, before a store (as
// search makes them) and after (JSON: float64, []any), in the exact form
// of exports; weight_scale is a number or a name.
func TestFormatValue(t *testing.T) {
	tests := []struct {
		name string
		v    any
		want string
	}{
		{"float", 1e-3, "0.001"},
		{"small float", 1e-5, "1e-5"}, // not 1e-05
		{"float with digits", 3.17e-5, "3.17e-5"},
		{"integral float", 50.0, "50"}, // a hidden size read back from JSON
		{"big float", 1e20, "1e+20"},
		{"integral below 1e15", 123456789012345.0, "123456789012345"},
		{"huge float", 1e300, "1e+300"},
		{"negative", -0.25, "-0.25"},
		{"int", 50, "50"},
		{"weight_scale name", "he", "he"}, // not quoted, unlike a spec
		{"weight_scale number", 1e-2, "0.01"},
		{"bool", false, "false"},
		{"ints", []int{100, 50}, "[100,50]"},
		{"floats", []float64{0.5, 1e-5}, "[0.5,1e-5]"},
		{"stored list", []any{100.0, 50.0}, "[100,50]"},
		{"nested", []any{[]any{0.5, 0.2}}, "[[0.5,0.2]]"},
		{"empty", []any{}, "[]"},
		{"nil", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := FormatValue(tt.v); got != tt.want {
				t.Errorf("FormatValue(%#v) = %q, want %q", tt.v, got, tt.want)
			}
			if got := (results.Param{Value: tt.v}).String(); got != tt.want {
				t.Errorf("results.Param.String = %q, want FormatValue's %q", got, tt.want)
			}
		})
	}
}

func TestHumanValue(t *testing.T) {
	checkFormat(t, "HumanValue", HumanValue, []formatCase[any]{
		{1e-3, "1.0e-03"}, {0.25, "0.25"}, {50, "50"}, {"xavier", "xavier"}, {true, "true"},
		{[]any{100.0, 100.0}, "[100,100]"}, {[]float64{0.5, 1e-3}, "[0.5,1.0e-03]"}, {[]int{100, 50}, "[100,50]"},
	})
}

func TestParamsText(t *testing.T) {
	ps := results.Params{{Name: "learning_rate", Value: 1e-3}, {Name: "hidden", Value: []any{100.0, 50.0}}, {Name: "weight_scale", Value: "he"}}
	if got, want := ParamsText(ps), "learning_rate=0.001 hidden=[100,50] weight_scale=he"; got != want {
		t.Errorf("ParamsText = %q, want %q", got, want)
	}
	if got, want := HumanParams(ps), "learning_rate=1.0e-03  hidden=[100,50]  weight_scale=he"; got != want {
		t.Errorf("HumanParams = %q, want %q", got, want)
	}
	if got := ParamsText(nil); got != "" {
		t.Errorf("ParamsText(nil) = %q, want empty", got)
	}
}
