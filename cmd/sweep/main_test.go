package main

import (
	"os"
	"testing"
)

// TestMain lets the test binary act as the sweep command, so tests can start
// real `sweep` processes (and signal or kill them) without building a
// separate binary: with SWEEP_TEST_MAIN=1 in its environment it runs the CLI
// on its arguments, signal handling included.
func TestMain(m *testing.M) {
	if os.Getenv("SWEEP_TEST_MAIN") == "1" {
		os.Exit(mainWithSignals(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}
