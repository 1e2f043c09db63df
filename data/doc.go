// Package data loads the data sets that sweeps train on (CIFAR-10, MNIST and
// Fashion-MNIST, an embedded default, synthetic data), splits them and applies
// the coursework's preprocessing.
package data
