package data

import (
	"errors"
	"fmt"
)

// Sentinel errors. Every error about the data or the options wraps exactly
// one of ErrNotFound, ErrBadData and ErrBadOptions; inspect with
// errors.Is. The CLI maps all three to exit code 2 (bad data). Context and
// operating-system errors are passed on wrapped.
var (
	// ErrNotFound: a data set directory, one of its files or a member of
	// an archive does not exist.
	ErrNotFound = errors.New("data set file not found")
	// ErrBadData: a path exists but is the wrong kind of thing (a file
	// where a directory is wanted, a zip, ...), or its bytes are not what
	// its format promises (wrong magic number or dimension, truncated or
	// oversized, a pickle that is not a CIFAR-10 batch, a label out of
	// range, a broken archive, ...).
	ErrBadData = errors.New("bad data")
	// ErrBadOptions: the Options are invalid (unknown source, negative
	// counts, missing path) or ask for more images than the files hold.
	ErrBadOptions = errors.New("bad data options")
	// ErrMismatch: the files are not those a fingerprint was made of
	// (CheckFingerprint). It wraps ErrBadData, so that errors.Is(err,
	// ErrBadData) holds for it too.
	ErrMismatch = fmt.Errorf("data set differs from the one recorded: %w", ErrBadData)
)

// isDataErr reports whether err wraps one of the sentinel errors.
func isDataErr(err error) bool {
	return errors.Is(err, ErrBadData) || errors.Is(err, ErrNotFound) || errors.Is(err, ErrBadOptions)
}

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
