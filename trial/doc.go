// Package trial trains one trial (config -> trained net and metrics) and runs
// the pool of workers that trains a sweep's trials concurrently.
package trial
