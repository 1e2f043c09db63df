package search

import (
	"errors"
	"fmt"
	"strings"
)

// Sentinel errors. Every Problem wraps exactly one of them, so callers
// inspect a spec's errors with errors.Is.
var (
	ErrSyntax        = errors.New("TOML syntax error")
	ErrUnknownKey    = errors.New("unknown key")
	ErrUnknownParam  = errors.New("unknown parameter")
	ErrType          = errors.New("wrong type")
	ErrInvalid       = errors.New("invalid value")
	ErrMissing       = errors.New("missing setting")
	ErrConflict      = errors.New("conflicting settings")
	ErrTooManyTrials = errors.New("too many trials")
	ErrChanged       = errors.New("fixed settings changed")
)

// Problem is one mistake in a spec, located by file, line and key.
type Problem struct {
	File string // as given to Parse
	Line int    // 1-based; 0 when the problem has no line (a missing key)
	Key  string // dotted TOML key, e.g. "search.params.learning_rate"; may be empty
	Msg  string // what is wrong, for a human
	Err  error  // one of the sentinel errors
}

// Error formats the problem as "file:line: key: msg".
func (p *Problem) Error() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	b.WriteString(": ")
	if p.Key != "" {
		b.WriteString(p.Key)
		b.WriteString(": ")
	}
	b.WriteString(p.Msg)
	return b.String()
}

// Unwrap returns the sentinel error.
func (p *Problem) Unwrap() error { return p.Err }

// SpecError is every problem of a spec, in line order. Parse returns it, so
// that a user fixes all mistakes in one go.
type SpecError struct {
	Problems []*Problem
}

// Error is one problem per line.
func (e *SpecError) Error() string {
	lines := make([]string, len(e.Problems))
	for i, p := range e.Problems {
		lines[i] = p.Error()
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns the problems, for errors.Is and errors.As.
func (e *SpecError) Unwrap() []error {
	errs := make([]error, len(e.Problems))
	for i, p := range e.Problems {
		errs[i] = p
	}
	return errs
}
