// Package prefetch asks the CPU to bring memory into its caches ahead of use.
// It is a package of its own because a package using cgo (nn, with the
// openblas tag) cannot hold Go assembly.
package prefetch
