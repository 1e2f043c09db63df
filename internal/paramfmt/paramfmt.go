// Package paramfmt formats the values of searched parameters. It is the one
// walk over their types (float64, int, string, bool, and lists of them: []int
// and []float64 as search makes them, []any after a JSON round trip) that
// the three forms of a value share, each a Style:
//
//   - the spec form (search.FormatValue): floats in their shortest exact
//     form, strings quoted, "[100, 50]"; the input of trial keys, so it
//     never changes;
//   - the stored and exported form (results.Param.String, report.FormatValue):
//     "1e-5", strings bare, "[100,50]"; the cells of CSV exports;
//   - the human form of tables (report.HumanValue): "1.0e-05".
//
// It sits below search and results, which import neither each other nor
// report.
package paramfmt

import (
	"fmt"
	"strconv"
	"strings"
)

// Style says how Format writes the parts of a value.
type Style struct {
	Float func(float64) string // numbers that are not ints; required
	Quote func(string) string  // strings; nil writes them as they are
	Sep   string               // between the elements of a list
}

// Format formats v, a parameter value, in style s: nil as "", lists in
// brackets (element by element, nested lists too), a type it does not
// know by fmt.Sprint.
func (s Style) Format(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case float64:
		return s.Float(v)
	case float32:
		return s.Float(float64(v))
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case string:
		if s.Quote != nil {
			return s.Quote(v)
		}
		return v
	case bool:
		return strconv.FormatBool(v)
	case []any:
		return list(v, s.Format, s.Sep)
	case []int:
		return list(v, strconv.Itoa, s.Sep)
	case []float64:
		return list(v, s.Float, s.Sep)
	}
	return fmt.Sprint(v)
}

// list formats xs in brackets, each by format, sep apart.
func list[E any](xs []E, format func(E) string, sep string) string {
	parts := make([]string, len(xs))
	for i, x := range xs {
		parts[i] = format(x)
	}
	return "[" + strings.Join(parts, sep) + "]"
}
