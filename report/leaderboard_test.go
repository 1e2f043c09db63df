package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

func TestWriteLeaderboard(t *testing.T) {
	t0 := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	test := 0.45
	ts := []results.Trial{
		{Number: 2, Status: results.Done, Duration: 41.25, TestAcc: &test,
			Metrics: results.Metrics{ValAcc: 0.5, ValLoss: 1.2, TrainAcc: 0.6, Epochs: 2},
			Params:  results.Params{{Name: "learning_rate", Value: 1e-3}, {Name: "hidden", Value: []any{100.0}}}},
		{Number: 7, Status: results.Running, Duration: 10, Epoch: 0.5, Rung: 1, Lease: &results.Lease{Claimed: t0},
			Metrics: results.Metrics{ValAcc: 0.9}, // stale metrics of an unfinished attempt: not shown
			Params:  results.Params{{Name: "learning_rate", Value: 0.01}}},
		{Number: 9, Status: results.Pending,
			Params: results.Params{{Name: "learning_rate", Value: 5e-4}, {Name: "hidden", Value: []any{50.0}}}},
	}
	var b bytes.Buffer
	if err := WriteLeaderboard(&b, ts, &results.Best{Trial: 2}, t0.Add(5*time.Second)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	want := [][]string{
		{"rank", "trial", "status", "val_acc", "val_loss", "train_acc", "test_acc", "learning_rate", "hidden", "epochs", "rung", "time"},
		{"1", "*2", "done", "0.500", "1.200", "0.600", "0.450", "1.0e-03", "[100]", "2", "0", "41.2s"},
		{"2", "7", "running", "-", "-", "-", "-", "0.01", "-", "0.5", "1", "15.0s"},
		{"3", "9", "pending", "-", "-", "-", "-", "5.0e-04", "[50]", "-", "0", "-"},
	}
	if len(lines) != len(want) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(want), b.String())
	}
	for i, l := range lines {
		if got := strings.Fields(l); !slices.Equal(got, want[i]) {
			t.Errorf("line %d: %q, want %q", i, got, want[i])
		}
		if len(l) != len(lines[0]) { // the last column is aligned right
			t.Errorf("line %d is %d bytes wide, the header %d:\n%s", i, len(l), len(lines[0]), b.String())
		}
	}

	// No test accuracy, no rung: no such columns; no selection: no mark.
	b.Reset()
	if err := WriteLeaderboard(&b, ts[2:], nil, t0); err != nil {
		t.Fatal(err)
	}
	if got, want := b.String(), "rank  trial  status   val_acc  val_loss  train_acc  learning_rate  hidden  epochs  time\n"+
		"   1      9  pending        -         -          -        5.0e-04    [50]       -     -\n"; got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestBoardWriteTable(t *testing.T) {
	sw, ts := sweepFixture()
	b, err := NewBoard(sw, ts, Options{Top: 1})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := b.WriteTable(&out, time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		`sweep "g": 4 trials: 2 done, 1 diverged, 1 failed` + "\n",
		"\n   1     *2  done",
		"\n* selected best: trial 2, val_acc 0.500, test_acc 0.450; test set used once for this sweep\n",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("leaderboard does not contain %q:\n%s", want, got)
		}
	}
	if strings.Count(got, "\n") != 4 { // counts, header, one trial, selection
		t.Errorf("--top 1 shows more than one trial:\n%s", got)
	}

	// Extended since its selection: none stands now.
	sw, ts = sweepFixture()
	ts = append(ts, results.Trial{Number: 5, Status: results.Pending})
	sw.Evaluations = append(sw.Evaluations, *sw.Best)
	b, err = NewBoard(sw, ts, Options{Status: []results.Status{results.Pruned}})
	if err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if err := b.WriteTable(&out, time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	if got, want := out.String(), `sweep "g": 5 trials: 2 done, 1 diverged, 1 failed, 1 pending`+"\nno trial matches\n"; got != want {
		t.Errorf("no trial shown:\n%s\nwant\n%s", got, want)
	}
	b.Shown = b.All
	out.Reset()
	if err := b.WriteTable(&out, time.Time{}, nil); err != nil {
		t.Fatal(err)
	}
	if want := "no trial is selected now: the sweep changed since trial 2 was (test_acc 0.450); test set used twice for this sweep\n"; !strings.HasSuffix(out.String(), want) {
		t.Errorf("leaderboard of a changed sweep does not end with %q:\n%s", want, out.String())
	}
}
