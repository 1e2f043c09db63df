// Package results is the store of sweeps, trials, checkpoints and kept models.
package results
