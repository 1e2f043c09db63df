//go:build !amd64

package prefetch

import "unsafe"

// Range does nothing on this architecture (see prefetch_amd64.go).
func Range(p unsafe.Pointer, n int) {}
