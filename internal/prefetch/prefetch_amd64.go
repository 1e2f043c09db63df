package prefetch

import "unsafe"

// Range asks the CPU to bring the n bytes at p into its caches, one
// PREFETCHT0 per 64-byte line, without waiting for them. Prefetching never
// faults, so p may be any address.
//
//go:noescape
func Range(p unsafe.Pointer, n int)
