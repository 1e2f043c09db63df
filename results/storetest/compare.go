package storetest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// leaseSlack is how far apart two readings of one lease time may be: a
// store that rebases lease times to the caller's clock (PostgreSQL) moves
// them, from one call to the next, by the jitter between its reading of
// the caller's clock and of its own.
const leaseSlack = 5 * time.Second

// maxDiffs bounds the differences diff reports.
const maxDiffs = 12

var (
	timeType  = reflect.TypeFor[time.Time]()
	rawType   = reflect.TypeFor[json.RawMessage]()
	leaseType = reflect.TypeFor[results.Lease]()
)

// diff returns the differences between want and got (values of the same
// type), each as "path: got ..., want ...", at most maxDiffs of them. It
// compares as stores are required to keep values, not as reflect.DeepEqual
// does:
//
//   - times as instants (time.Time.Equal: monotonic readings and locations
//     do not count); a Lease's within leaseSlack;
//   - floats by value, NaN equal to NaN;
//   - json.RawMessage as JSON values (`{"a": 1}` is `{"a":1}`);
//   - a nil slice as an empty one.
//
// Only exported fields are compared.
func diff(want, got any) []string {
	d := &differ{}
	d.walk("", reflect.ValueOf(want), reflect.ValueOf(got), false)
	return d.out
}

type differ struct{ out []string }

func (d *differ) add(path, format string, args ...any) {
	if len(d.out) == maxDiffs {
		d.out = append(d.out, "...")
	}
	if len(d.out) > maxDiffs {
		return
	}
	if path == "" {
		path = "value"
	}
	d.out = append(d.out, path+": "+fmt.Sprintf(format, args...))
}

// walk compares a (wanted) and b (got) at path; lease is set within a Lease.
func (d *differ) walk(path string, a, b reflect.Value, lease bool) {
	if !a.IsValid() || !b.IsValid() {
		if a.IsValid() != b.IsValid() {
			d.add(path, "got %v, want %v", show(b), show(a))
		}
		return
	}
	if a.Type() != b.Type() {
		d.add(path, "got a %v, want a %v", b.Type(), a.Type())
		return
	}
	switch a.Type() {
	case timeType:
		ta, tb := a.Interface().(time.Time), b.Interface().(time.Time)
		switch {
		case ta.IsZero() != tb.IsZero():
			d.add(path, "got %v, want %v", tb, ta)
		case lease && (tb.Sub(ta) > leaseSlack || ta.Sub(tb) > leaseSlack):
			d.add(path, "got %v, want %v (within %v)", tb, ta, leaseSlack)
		case !lease && !ta.Equal(tb):
			d.add(path, "got %v, want %v", tb.Format(time.RFC3339Nano), ta.Format(time.RFC3339Nano))
		}
		return
	case rawType:
		if !jsonEqual(a.Bytes(), b.Bytes()) {
			d.add(path, "got %s, want %s", b.Bytes(), a.Bytes())
		}
		return
	}
	switch a.Kind() {
	case reflect.Pointer, reflect.Interface:
		if a.IsNil() || b.IsNil() {
			if a.IsNil() != b.IsNil() {
				d.add(path, "got %v, want %v", show(b), show(a))
			}
			return
		}
		d.walk(path, a.Elem(), b.Elem(), lease)
	case reflect.Struct:
		lease = lease || a.Type() == leaseType
		for i := range a.NumField() {
			if f := a.Type().Field(i); f.IsExported() {
				d.walk(path+"."+f.Name, a.Field(i), b.Field(i), lease)
			}
		}
	case reflect.Slice, reflect.Array:
		if a.Kind() == reflect.Slice && a.Type().Elem().Kind() == reflect.Uint8 {
			if x, y := a.Bytes(), b.Bytes(); !bytes.Equal(x, y) {
				d.add(path, "got %d bytes, want %d, different from byte %d", len(y), len(x), firstDifference(x, y))
			}
			return
		}
		if a.Len() != b.Len() {
			d.add(path, "got %d elements, want %d: got %v, want %v", b.Len(), a.Len(), show(b), show(a))
			return
		}
		for i := range a.Len() {
			d.walk(fmt.Sprintf("%s[%d]", path, i), a.Index(i), b.Index(i), lease)
		}
	case reflect.Map:
		if a.Len() != b.Len() {
			d.add(path, "got %d keys, want %d", b.Len(), a.Len())
			return
		}
		for _, k := range a.MapKeys() {
			d.walk(fmt.Sprintf("%s[%v]", path, k), a.MapIndex(k), b.MapIndex(k), lease)
		}
	case reflect.Float32, reflect.Float64:
		if x, y := a.Float(), b.Float(); x != y && !(math.IsNaN(x) && math.IsNaN(y)) {
			d.add(path, "got %v, want %v", y, x)
		}
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		if a.Int() != b.Int() {
			d.add(path, "got %d, want %d", b.Int(), a.Int())
		}
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64, reflect.Uintptr:
		if a.Uint() != b.Uint() {
			d.add(path, "got %d, want %d", b.Uint(), a.Uint())
		}
	case reflect.String:
		if a.String() != b.String() {
			d.add(path, "got %q, want %q", b.String(), a.String())
		}
	case reflect.Bool:
		if a.Bool() != b.Bool() {
			d.add(path, "got %v, want %v", b.Bool(), a.Bool())
		}
	default:
		if a.CanInterface() && b.CanInterface() && !reflect.DeepEqual(a.Interface(), b.Interface()) {
			d.add(path, "got %v, want %v", show(b), show(a))
		}
	}
}

// show formats v for a message.
func show(v reflect.Value) string {
	if !v.IsValid() {
		return "nothing"
	}
	if (v.Kind() == reflect.Pointer || v.Kind() == reflect.Interface || v.Kind() == reflect.Slice) && v.IsNil() {
		return "nil"
	}
	if !v.CanInterface() {
		return v.Type().String()
	}
	s := fmt.Sprintf("%+v", v.Interface())
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// jsonEqual reports whether a and b are the same JSON value, or the same
// bytes when either is not JSON.
func jsonEqual(a, b []byte) bool {
	if bytes.Equal(a, b) {
		return true
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// firstDifference is the index of the first byte where a and b differ.
func firstDifference(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

// sameOwner reports whether a lease's owner is o, in every stored field
// (Attempt is not stored).
func sameOwner(got, o results.Owner) bool {
	got.Attempt, o.Attempt = 0, 0
	return got == o
}

// checkDiff fails the test with the differences between want and got, if any.
func checkDiff(t *testing.T, what string, want, got any) bool {
	t.Helper()
	ds := diff(want, got)
	if len(ds) > 0 {
		t.Errorf("%s differs:\n\t%s", what, strings.Join(ds, "\n\t"))
		return false
	}
	return true
}
