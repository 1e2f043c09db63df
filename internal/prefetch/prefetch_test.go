package prefetch

import (
	"testing"
	"unsafe"
)

// Range must not change memory, nor fault on lengths that are not a multiple
// of a cache line, on zero or negative lengths, or past the end of a slice.
func TestRangeChangesNothing(t *testing.T) {
	b := make([]byte, 1000)
	for i := range b {
		b[i] = byte(i)
	}
	for _, n := range []int{-64, 0, 1, 63, 64, 65, 999, 1000, 4096} {
		Range(unsafe.Pointer(&b[0]), n)
	}
	for i := range b {
		if b[i] != byte(i) {
			t.Fatalf("b[%d] = %d after Range, want %d", i, b[i], byte(i))
		}
	}
}
