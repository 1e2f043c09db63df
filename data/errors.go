package data

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error about the data or the options wraps exactly
// one of them; inspect with errors.Is. The CLI maps all three to exit code 2
// (bad data). Context and operating-system errors are passed on wrapped.
var (
	// ErrNotFound: a data set directory or one of its files does not exist.
	ErrNotFound = errors.New("data set file not found")
	// ErrBadData: a file exists but its bytes are not what its format
	// promises (wrong magic number or dimension, truncated or oversized,
	// a pickle that is not a CIFAR-10 batch, a label out of range, ...).
	ErrBadData = errors.New("bad data")
	// ErrBadOptions: the Options are invalid (unknown source, negative
	// counts, missing path) or ask for more images than the files hold.
	ErrBadOptions = errors.New("bad data options")
)

// badData returns an ErrBadData error naming the file and, when off >= 0,
// the byte offset where the problem was found.
func badData(file string, off int64, format string, args ...any) error {
	msg := fmt.Sprintf(format, args...)
	if off >= 0 {
		return fmt.Errorf("data: %q: offset %d: %s: %w", file, off, msg, ErrBadData)
	}
	return fmt.Errorf("data: %q: %s: %w", file, msg, ErrBadData)
}

// badOptions returns an ErrBadOptions error.
func badOptions(format string, args ...any) error {
	return fmt.Errorf("data: %s: %w", fmt.Sprintf(format, args...), ErrBadOptions)
}
