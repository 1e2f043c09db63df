package main

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
	"github.com/sweep-dev/sweep/search"
	"github.com/sweep-dev/sweep/trial"
)

// TestExtendedSweepSelection: leaderboard and best share one notion of the
// selected best. An extended sweep with unfinished trials has none (both
// say so), and when it finishes with a new leader, that one is selected and
// the test set counts as used twice.
func TestExtendedSweepSelection(t *testing.T) {
	const src = "name = \"ext\"\n[data]\nsource = \"synthetic\"\ntrain = 300\nval = 100\ntest = 100\n[model]\nweight_scale = 1e-2\n[train]\niterations = 60\nbatch_size = 50\n[search.params]\nlearning_rate = %s\n"
	db := newDB(t)
	first := writeSpec(t, strings.Replace(src, "%s", "[1e-7, 2e-7]", 1))
	if code, stdout, stderr := runCLI(t, "run", first, "--db", db); code != exitOK {
		t.Fatalf("run: exit %d\n%s%s", code, stdout, stderr)
	}
	type bestJSONRecord struct {
		Final      bool `json:"final"`
		Unfinished int  `json:"unfinished"`
		TestUses   int  `json:"test_uses"`
		Trial      int  `json:"trial"`
	}
	bestJSON := func() bestJSONRecord {
		t.Helper()
		code, stdout, stderr := runCLI(t, "best", "ext", "--format", "json", "--db", db)
		var rec bestJSONRecord
		if err := json.Unmarshal([]byte(stdout), &rec); code != exitOK || err != nil {
			t.Fatalf("best: exit %d, %v\n%s%s", code, err, stdout, stderr)
		}
		return rec
	}
	if rec := bestJSON(); !rec.Final || rec.TestUses != 1 {
		t.Fatalf("after the first run: final %v, test_uses %d; want a final selection, the test set used once", rec.Final, rec.TestUses)
	}

	// Extend the sweep with a trial that is recorded but not trained.
	extended := strings.Replace(src, "%s", "[1e-7, 2e-7, 1e-1]", 1)
	spec, err := search.Parse("ext.toml", []byte(extended))
	if err != nil {
		t.Fatal(err)
	}
	recs, err := trial.Records(spec)
	if err != nil {
		t.Fatal(err)
	}
	st := openStore(t, db)
	sw, err := st.Sweep(t.Context(), "ext")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.EnsureSweep(t.Context(), *sw, recs); err != nil {
		t.Fatal(err)
	}
	code, board, stderr := runCLI(t, "leaderboard", "ext", "--db", db)
	if code != exitOK || strings.Contains(board, "*") || !strings.Contains(board, "no trial is selected now") {
		t.Errorf("leaderboard of the unfinished extended sweep: exit %d, want no trial marked selected:\n%s%s", code, board, stderr)
	}
	if rec := bestJSON(); rec.Final || rec.Unfinished != 1 {
		t.Errorf("best of the unfinished extended sweep: final %v, unfinished %d; want no selection", rec.Final, rec.Unfinished)
	}

	// Finish it: the new trial leads, is selected, and the test set has
	// been used twice.
	if code, stdout, stderr := runCLI(t, "run", writeSpec(t, extended), "--db", db); code != exitOK {
		t.Fatalf("run extended: exit %d\n%s%s", code, stdout, stderr)
	}
	rec := bestJSON()
	if !rec.Final || rec.Trial != 3 || rec.TestUses != 2 {
		t.Errorf("best after the extension: final %v, trial %d, test_uses %d; want trial 3 selected, test set used twice", rec.Final, rec.Trial, rec.TestUses)
	}
	code, board, _ = runCLI(t, "leaderboard", "ext", "--db", db)
	if code != exitOK || !strings.Contains(board, "*3 ") || !strings.Contains(board, "test set used twice") {
		t.Errorf("leaderboard after the extension:\n%s", board)
	}
	if _, table, _ := runCLI(t, "best", "ext", "--db", db); !strings.Contains(table, "used twice for this sweep") || strings.Contains(table, "measured once") {
		t.Errorf("best does not say the test set was used twice (and only that):\n%s", table)
	}
	// The earlier selection's test accuracy stays, said for what it is.
	earlier := 0
	for _, line := range strings.Split(board, "\n") {
		if f := strings.Fields(line); len(f) > 5 && f[2] == "done" && f[6] != "-" && !strings.HasPrefix(f[1], "*") {
			earlier, _ = strconv.Atoi(f[1])
		}
	}
	if earlier == 0 {
		t.Fatalf("the leaderboard shows no earlier selection's test_acc:\n%s", board)
	}
	if _, shown, _ := runCLI(t, "show", "ext", strconv.Itoa(earlier), "--db", db); !strings.Contains(shown, "evaluated when it was selected; trial 3 is selected now") {
		t.Errorf("show of the earlier selection:\n%s", shown)
	}
}

func openStore(t *testing.T, db string) results.Store {
	t.Helper()
	st, err := boltstore.OpenExisting(db, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return st
}
