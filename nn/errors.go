package nn

import "errors"

// ErrConfig reports a training configuration that cannot be run: a
// non-positive size, an unknown optimizer or activation, a snapshot that does
// not fit the net. Test with errors.Is.
var ErrConfig = errors.New("invalid training config")
