// Command sweep runs and queries hyperparameter sweeps of small neural networks.
// See README.md and `sweep help`.
package main

import (
	"os"
)

func main() {
	os.Exit(mainWithSignals(os.Args[1:], os.Stdout, os.Stderr))
}
