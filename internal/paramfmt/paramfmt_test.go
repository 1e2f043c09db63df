package paramfmt

import (
	"encoding/json"
	"strconv"
	"testing"
)

func TestFormat(t *testing.T) {
	short := func(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }
	spec := Style{Float: short, Quote: strconv.Quote, Sep: ", "}
	bare := Style{Float: short, Sep: ","}
	tests := []struct {
		name      string
		v         any
		spec, raw string
	}{
		{"float", 1e-3, "0.001", "0.001"},
		{"int", 50, "50", "50"},
		{"string", "he", `"he"`, "he"},
		{"bool", true, "true", "true"},
		{"nil", nil, "", ""},
		{"ints", []int{100, 50}, "[100, 50]", "[100,50]"},
		{"floats", []float64{0.5, 0.25}, "[0.5, 0.25]", "[0.5,0.25]"},
		{"empty list", []float64{}, "[]", "[]"},
		{"stored list", []any{100.0, "x", []any{1.0}}, `[100, "x", [1]]`, "[100,x,[1]]"},
		{"json number", json.Number("1e-3"), "1e-3", "1e-3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := spec.Format(tt.v); got != tt.spec {
				t.Errorf("spec style: %q, want %q", got, tt.spec)
			}
			if got := bare.Format(tt.v); got != tt.raw {
				t.Errorf("bare style: %q, want %q", got, tt.raw)
			}
		})
	}
}
