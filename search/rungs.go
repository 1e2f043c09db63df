package search

import (
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Defaults of adaptive search.
const (
	DefaultEta       = 3 // ASHA and Hyperband keep the best 1/eta of each rung
	DefaultMinEpochs = 1 // the first rung, when a spec trains by epochs
)

// Rungs returns where ASHA ranks trials, in epochs or iterations: min·eta^k
// for k = 0, 1, ... while below max, then max itself, the last rung, where
// trials finish. Rungs(1, 10, 3) is [1 3 9 10], Rungs(1, 9, 3) is [1 3 9],
// Rungs(4, 4, 2) is [4].
//
// It returns an error wrapping ErrInvalid when eta < 2, min < 1 or min >
// max.
func Rungs(min, max, eta int) ([]int, error) {
	if err := checkLadder(min, max, eta); err != nil {
		return nil, err
	}
	var rungs []int
	for r := min; ; r *= eta {
		if r >= max {
			return append(rungs, max), nil
		}
		rungs = append(rungs, r)
		if r > (max-1)/eta { // r*eta >= max, without overflow
			return append(rungs, max), nil
		}
	}
}

// Brackets returns the number of Hyperband brackets for rungs from min to
// max: the k >= 0 with min·eta^k <= max, floor(log_eta(max/min)) + 1 (as
// Optuna's HyperbandPruner). Bracket b has Rungs(min·eta^b, max, eta).
// Brackets(1, 10, 3) is 3; Brackets(1, 9, 3) is 3; Brackets(2, 2, 3) is 1.
//
// It returns an error wrapping ErrInvalid when eta < 2, min < 1 or min >
// max.
func Brackets(min, max, eta int) (int, error) {
	if err := checkLadder(min, max, eta); err != nil {
		return 0, err
	}
	n := 1
	for r := min; r <= max/eta; r *= eta { // r*eta <= max, without overflow
		n++
	}
	return n, nil
}

func checkLadder(min, max, eta int) error {
	switch {
	case eta < 2:
		return fmt.Errorf("%w: eta = %d: want eta >= 2 (each rung promotes its best 1/eta)", ErrInvalid, eta)
	case min < 1:
		return fmt.Errorf("%w: minimum resource %d: want at least 1", ErrInvalid, min)
	case min > max:
		return fmt.Errorf("%w: minimum resource %d is above the maximum %d", ErrInvalid, min, max)
	}
	return nil
}

// ParseBudget parses a wall-clock budget such as "90s", "10m" or "1h30m"
// (time.ParseDuration's syntax). It returns an error wrapping ErrInvalid
// when s is not a duration or not positive.
func ParseBudget(s string) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		hint := ""
		if _, nerr := strconv.ParseFloat(strings.TrimSpace(s), 64); nerr == nil {
			hint = " with a unit"
		}
		return 0, fmt.Errorf("%w: %s is not a duration: give a number%s, e.g. \"90s\", \"10m\" or \"1h30m\"", ErrInvalid, quote(s), hint)
	}
	if d <= 0 {
		return 0, fmt.Errorf("%w: %s: a budget must be positive", ErrInvalid, quote(s))
	}
	return d, nil
}
