package main

import (
	"context"
	"fmt"
	"io"

	"github.com/sweep-dev/sweep/report"
)

func init() {
	commands["check"] = command{summary: "check a results database for corruption", run: runCheck}
}

// runCheck runs the store's full consistency check: bbolt's page-level
// check and the schema's own invariants. Exit 0 when the database is
// sound, 1 with every problem listed when it is not.
func runCheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs, db := newFlags("check", "check [--db DB]", stderr)
	if _, code, ok := parseArgs(fs, args, 0, 0); !ok {
		return code
	}
	st, err := openExisting(ctx, *db)
	if err != nil {
		return fail(stderr, "check", err)
	}
	defer st.Close()
	if err := st.Check(ctx); err != nil {
		return fail(stderr, "check", err)
	}
	sums, err := st.Sweeps(ctx, clock(), 0)
	if err != nil {
		return fail(stderr, "check", err)
	}
	n := 0
	for _, s := range sums {
		n += s.Total
	}
	fmt.Fprintf(stdout, "%s: ok: %s, %s\n", st.Location(), report.Count(len(sums), "sweep"), report.Count(n, "trial"))
	return exitOK
}
