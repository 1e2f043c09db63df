// Package nn holds the networks of the CS231n / UCLA C147/C247 coursework in Go:
// layers, fully connected nets, update rules, the trainer and gradient checks.
package nn
