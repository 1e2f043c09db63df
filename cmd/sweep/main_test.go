package main

import (
	"os"
	"sync"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/trial"
)

// TestMain lets the test binary act as the sweep command, so tests can start
// real `sweep` processes (and signal or kill them) without building a
// separate binary: with SWEEP_TEST_MAIN=1 in its environment it runs the CLI
// on its arguments, signal handling included.
func TestMain(m *testing.M) {
	if os.Getenv("SWEEP_TEST_MAIN") == "1" {
		if gate := os.Getenv("SWEEP_TEST_GATE"); gate != "" {
			holdFirstEpoch(gate)
		}
		for _, setup := range childSetups {
			setup()
		}
		os.Exit(mainWithSignals(os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// childSetups run in a child process before the CLI: platform-specific
// test files add theirs.
var childSetups []func()

// holdFirstEpoch makes the child process hold the first trial that
// finishes an epoch (with SWEEP_TEST_GATE_WHEN=promoted, the first trial
// promoted from a rung that does), inside its worker, until the test lets
// it go: it
// creates GATE.held, then waits for GATE.go to exist. Meanwhile the trial
// is running, its lease held and heartbeats sent, at a point the test knows.
func holdFirstEpoch(gate string) {
	var once sync.Once
	promoted := os.Getenv("SWEEP_TEST_GATE_WHEN") == "promoted"
	testHookEvent = func(e trial.Event) {
		if e.Kind != trial.EpochDone || promoted && e.Trial.Rung == 0 {
			return
		}
		once.Do(func() {
			if err := os.WriteFile(gate+".held", nil, 0o644); err != nil {
				panic(err)
			}
			for {
				if _, err := os.Stat(gate + ".go"); err == nil {
					return
				}
				time.Sleep(5 * time.Millisecond)
			}
		})
	}
}
