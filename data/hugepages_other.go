//go:build !linux

package data

// adviseHugePages is a no-op outside Linux.
func adviseHugePages([]float32) {}
