package results

import (
	"encoding/json"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParams(t *testing.T) {
	for _, tc := range []struct {
		v    any
		want string
	}{
		{1e-3, "0.001"}, {5e-4, "0.0005"}, {1e-5, "1e-5"}, {2.5e-7, "2.5e-7"}, {50.0, "50"}, {0.25, "0.25"},
		{1e20, "1e+20"}, {-3.0, "-3"}, {"relu", "relu"}, {[]any{50.0, 50.0}, "[50,50]"}, {[]any{}, "[]"},
		{100, "100"}, {true, "true"}, {nil, ""},
	} {
		if got := (Param{Name: "p", Value: tc.v}).String(); got != tc.want {
			t.Errorf("Param{%#v}.String() = %q, want %q", tc.v, got, tc.want)
		}
	}
	ps := Params{{"reg", 0.25}, {"learning_rate", 1e-3}, {"hidden", []any{100.0, 50.0}}, {"activation", "swish"}}
	b, err := json.Marshal(Trial{Params: ps})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"params":{"reg":0.25,"learning_rate":0.001,"hidden":[100,50],"activation":"swish"}`) {
		t.Errorf("marshalled %s", b)
	}
	var tr Trial
	if err := json.Unmarshal(b, &tr); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(tr.Params, ps) {
		t.Errorf("round trip: %#v", tr.Params)
	}
	if v, ok := tr.Params.Get("hidden"); !ok || formatValue(v) != "[100,50]" {
		t.Errorf("Get(hidden) = %v, %v", v, ok)
	}
}

func TestRank(t *testing.T) {
	tr := func(n int, s Status, acc, loss float64) Trial {
		return Trial{Number: n, Status: s, Metrics: Metrics{ValAcc: acc, ValLoss: loss}}
	}
	nan := func() float64 { var z float64; return z / z }()
	ts := []Trial{
		tr(1, Failed, 0.9, 0.1), tr(2, Done, 0.5, 1.2), tr(3, Done, 0.5, 1.1), tr(4, Pending, 0, 0),
		tr(5, Done, 0.6, 1.3), tr(6, Done, 0.5, 1.1), tr(7, Done, nan, nan), tr(8, Running, 0, 0),
		// Stopped at a rung: below every done trial, even better ones,
		// and ranked among themselves by their metrics.
		tr(9, Paused, 0.9, 0.2), tr(10, Pruned, 0.55, 0.05), tr(11, Pruned, 0.9, 0.1), tr(12, Interrupted, 0.95, 0.01),
	}
	for _, tc := range []struct {
		maximize bool
		want     []int
	}{
		{true, []int{5, 3, 6, 2, 7, 11, 9, 10, 1, 4, 8, 12}},
		{false, []int{3, 6, 2, 5, 7, 10, 11, 9, 1, 4, 8, 12}},
	} {
		c := slices.Clone(ts)
		Rank(c, tc.maximize)
		var got []int
		for _, t := range c {
			got = append(got, t.Number)
		}
		if !slices.Equal(got, tc.want) {
			t.Errorf("Rank(maximize=%v) = %v, want %v", tc.maximize, got, tc.want)
		}
	}
	if !Done.Finished() || !Pruned.Finished() || Interrupted.Finished() || Running.Finished() || Paused.Finished() || !Paused.Valid() {
		t.Error("Finished")
	}
	if (&Sweep{Metric: "val_loss"}).Maximize() || !(&Sweep{Metric: "val_acc"}).Maximize() {
		t.Error("Maximize")
	}
}
