// Package search parses and validates sweep specs and generates their trials:
// parameter spaces, grid and random samplers.
package search
