package report

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/results"
)

// objectKeys returns the keys of the JSON object b, in order.
func objectKeys(t *testing.T, b []byte) []string {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(b))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("not an object: %s", b)
	}
	var keys []string
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatal(err)
		}
		keys = append(keys, k.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			t.Fatal(err)
		}
	}
	return keys
}

var t0 = time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)

// TestTrialRecordJSON pins the JSON field names and order of a trial (the
// CLI contract): every field of a trial that has them all, and the fields
// always present, null when unknown, for one that has none.
func TestTrialRecordJSON(t *testing.T) {
	test := 0.45
	full := results.Trial{Number: 3, Key: "k", Status: results.Done, Seed: 9, Attempts: 2, Duration: 1.5, TestAcc: &test,
		Params:  results.Params{{Name: "reg", Value: 0.1}},
		Metrics: results.Metrics{ValAcc: 0.5, ValLoss: 1, TrainAcc: 0.6, FinalValAcc: 0.4, Iterations: 8, Epochs: 2, DivergedAt: 0, BestEpoch: 1, EarlyStopped: true},
		Rung:    2, Started: t0.In(time.FixedZone("X", 3600)), Finished: t0.Add(time.Minute), Error: "e"}
	b, err := json.Marshal(NewTrialRecord(&full, 1))
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"rank", "trial", "key", "status", "params", "val_acc", "val_loss", "train_acc", "final_val_acc", "test_acc",
		"iterations", "epochs", "rung", "best_epoch", "early_stopped", "duration_s", "seed", "attempts", "started", "finished", "error"}
	if got := objectKeys(t, b); !slices.Equal(got, want) {
		t.Errorf("keys of a full record:\n%q\nwant\n%q", got, want)
	}
	if !strings.Contains(string(b), `"started":"2026-11-26T12:00:00Z"`) {
		t.Errorf("started not in UTC: %s", b)
	}

	pending := results.Trial{Number: 4, Key: "p", Status: results.Pending, Metrics: results.Metrics{ValAcc: 0.3}}
	b, err = json.Marshal(NewTrialRecord(&pending, 0))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := string(b), `{"trial":4,"key":"p","status":"pending","params":{},"val_acc":null,"val_loss":null,"train_acc":null,"final_val_acc":null,`+
		`"iterations":0,"epochs":0,"duration_s":0,"seed":0,"attempts":0,"started":null,"finished":null,"error":""}`; got != want {
		t.Errorf("pending record:\n%s\nwant\n%s", got, want)
	}
}

// TestTrialRecordValues: NaN and infinite metrics are null; an unfinished
// trial reports the progress of its checkpoint.
func TestTrialRecordValues(t *testing.T) {
	inf := math.Inf(1)
	tr := results.Trial{Status: results.Diverged, TestAcc: &inf,
		Metrics: results.Metrics{ValAcc: 0.1, ValLoss: math.NaN(), TrainAcc: math.Inf(-1), Iterations: 7, Epochs: 1.75, DivergedAt: 7}}
	r := NewTrialRecord(&tr, 0)
	if r.ValAcc == nil || *r.ValAcc != 0.1 || r.ValLoss != nil || r.TrainAcc != nil || r.TestAcc != nil || r.DivergedAt != 7 {
		t.Errorf("diverged record: %+v", r)
	}
	running := results.Trial{Status: results.Running, Iteration: 4, Epoch: 1, Metrics: results.Metrics{Iterations: 8, Epochs: 2}}
	if r := NewTrialRecord(&running, 0); r.Iterations != 4 || r.Epochs != 1 {
		t.Errorf("running record: iterations %d, epochs %v; want its checkpoint's 4 and 1", r.Iterations, r.Epochs)
	}
}

func TestRecordsJSONKeys(t *testing.T) {
	tr := results.Trial{Number: 1, Status: results.Done}
	tests := []struct {
		name string
		v    any
		want []string
	}{
		{"epoch", NewEpochRecord(results.Epoch{Loss: math.NaN()}),
			[]string{"epoch", "iteration", "learning_rate", "loss", "train_acc", "val_acc", "val_loss"}},
		{"history row", HistoryRows(&tr, []results.Epoch{{Epoch: 1}})[0],
			[]string{"trial", "status", "params", "epoch", "iteration", "learning_rate", "loss", "train_acc", "val_acc", "val_loss"}},
		{"sweep", SweepRecord{Processes: []string{}},
			[]string{"name", "total", "done", "running", "paused", "pending", "failed", "diverged", "pruned", "interrupted", "best_val_acc", "active", "created", "stale", "processes"}},
		{"best", BestRecord{TrialRecord: &TrialRecord{}},
			[]string{"final", "metric", "unfinished", "test_uses", "trial", "key", "status", "params", "val_acc", "val_loss", "train_acc", "final_val_acc",
				"iterations", "epochs", "duration_s", "seed", "attempts", "started", "finished", "error"}},
		{"best of none", BestRecord{}, []string{"final", "metric", "unfinished", "test_uses"}},
		{"show", ShowRecord{Lease: &LeaseRecord{}},
			[]string{"trial", "key", "status", "params", "val_acc", "val_loss", "train_acc", "final_val_acc",
				"iterations", "epochs", "duration_s", "seed", "attempts", "started", "finished", "error", "lease", "history"}},
		{"lease", LeaseRecord{}, []string{"owner", "claimed", "heartbeat", "live", "process"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b, err := json.Marshal(tt.v)
			if err != nil {
				t.Fatal(err)
			}
			if got := objectKeys(t, b); !slices.Equal(got, tt.want) {
				t.Errorf("keys:\n%q\nwant\n%q", got, tt.want)
			}
		})
	}
}

func TestWriteTrialsJSON(t *testing.T) {
	ts := []results.Trial{{Number: 2, Status: results.Done}, {Number: 1, Status: results.Failed}}
	for _, ranked := range []bool{false, true} {
		var b bytes.Buffer
		if err := WriteTrialsJSON(&b, ts, ranked); err != nil {
			t.Fatal(err)
		}
		var recs []map[string]any
		if err := json.Unmarshal(b.Bytes(), &recs); err != nil || len(recs) != 2 {
			t.Fatalf("%v: %s", err, b.String())
		}
		rank, has := recs[1]["rank"]
		if has != ranked || (ranked && rank != 2.0) {
			t.Errorf("ranked %v: second record's rank %v (present %v)", ranked, rank, has)
		}
		if !strings.HasPrefix(b.String(), "[\n  {\n    \"") || !strings.HasSuffix(b.String(), "}\n]\n") {
			t.Errorf("not indented by two spaces, with a final newline:\n%s", b.String())
		}
	}
	var b bytes.Buffer
	if err := WriteTrialsJSON(&b, nil, false); err != nil || b.String() != "[]\n" {
		t.Errorf("no trials: %q, %v; want []", b.String(), err)
	}
}

// readCSV parses CSV, failing the test on a malformed one.
func readCSV(t *testing.T, s string) [][]string {
	t.Helper()
	rows, err := csv.NewReader(strings.NewReader(s)).ReadAll()
	if err != nil {
		t.Fatalf("%v:\n%s", err, s)
	}
	return rows
}

// TestWriteTrialsCSV: parameters named like a fixed column get a param_
// prefix (rank too, ranked or not, so that columns do not depend on it);
// cells are escaped; non-finite metrics of a trained trial are NaN, inf,
// -inf and those of an untrained one empty; a fused trial's group is last,
// empty for one that trained on its own.
func TestWriteTrialsCSV(t *testing.T) {
	ps := func(seed, lr float64) results.Params {
		return results.Params{{Name: "seed", Value: seed}, {Name: "rank", Value: []any{50.0, 50.0}}, {Name: "status", Value: "he"}, {Name: "lr", Value: lr}}
	}
	ts := []results.Trial{
		{Number: 1, Key: "a,b", Status: results.Diverged, Params: ps(1, 1e-5), Seed: 7, Duration: 0.25,
			Metrics: results.Metrics{ValAcc: math.Inf(1), ValLoss: math.NaN(), TrainAcc: math.Inf(-1), FinalValAcc: 0.1, Iterations: 3, Epochs: 0.75, DivergedAt: 3},
			Started: t0, Finished: t0.Add(time.Second), Group: 4},
		{Number: 2, Key: "k", Status: results.Failed, Params: results.Params{{Name: "lr", Value: 0.5}},
			Metrics: results.Metrics{ValAcc: math.NaN()}, Error: "boom, \"bad\"\nline 2"},
	}
	var b bytes.Buffer
	if err := WriteTrialsCSV(&b, ts, false); err != nil {
		t.Fatal(err)
	}
	rows := readCSV(t, b.String())
	wantHead := []string{"trial", "key", "status", "param_seed", "param_rank", "param_status", "lr",
		"val_acc", "val_loss", "train_acc", "final_val_acc", "test_acc", "iterations", "epochs", "best_epoch", "early_stopped",
		"rung", "diverged_at", "duration_s", "seed", "attempts", "started", "finished", "error", "group"}
	if !slices.Equal(rows[0], wantHead) {
		t.Errorf("header:\n%q\nwant\n%q", rows[0], wantHead)
	}
	want := [][]string{
		{"1", "a,b", "diverged", "1", "[50,50]", "he", "1e-5", "inf", "NaN", "-inf", "0.1", "", "3", "0.75", "0", "false", "0", "3", "0.25", "7", "0",
			"2026-11-26T12:00:00Z", "2026-11-26T12:00:01Z", "", "4"},
		{"2", "k", "failed", "", "", "", "0.5", "", "", "", "", "", "0", "0", "0", "false", "0", "", "0", "0", "0", "", "", "boom, \"bad\"\nline 2", ""},
	}
	for i, w := range want {
		if !slices.Equal(rows[i+1], w) {
			t.Errorf("row %d:\n%q\nwant\n%q", i+1, rows[i+1], w)
		}
	}
	if !strings.Contains(b.String(), "\n1,\"a,b\",diverged,") || !strings.HasSuffix(b.String(), ",\"boom, \"\"bad\"\"\nline 2\",\n") {
		t.Errorf("cells not quoted as RFC 4180 wants:\n%s", b.String())
	}

	b.Reset()
	if err := WriteTrialsCSV(&b, ts, true); err != nil {
		t.Fatal(err)
	}
	rows = readCSV(t, b.String())
	if !slices.Equal(rows[0], append([]string{"rank"}, wantHead...)) || rows[2][0] != "2" || rows[2][1] != "2" {
		t.Errorf("ranked: header %q, second row %q", rows[0], rows[2])
	}
}

func TestWriteHistoryCSV(t *testing.T) {
	tr := results.Trial{Number: 3, Status: results.Diverged,
		Params: results.Params{{Name: "learning_rate", Value: 1e-3}, {Name: "epoch", Value: 2.0}, {Name: "reg", Value: 0.25}}}
	rows := HistoryRows(&tr, []results.Epoch{
		{Epoch: 1, Iteration: 4, LearningRate: 1e-3, Loss: 2.1, TrainAcc: 0.2, ValAcc: 0.25, ValLoss: 2},
		{Epoch: 1.5, Iteration: 6, LearningRate: 9.5e-4, Loss: math.NaN(), TrainAcc: 0.1, ValAcc: 0.1, ValLoss: math.Inf(1)},
	})
	var b bytes.Buffer
	if err := WriteHistoryCSV(&b, rows, []string{"learning_rate", "epoch", "reg", "hidden"}); err != nil {
		t.Fatal(err)
	}
	want := "trial,status,param_learning_rate,param_epoch,reg,hidden,epoch,iteration,loss,train_acc,val_acc,val_loss,learning_rate\n" +
		"3,diverged,0.001,2,0.25,,1,4,2.1,0.2,0.25,2,0.001\n" +
		"3,diverged,0.001,2,0.25,,1.5,6,NaN,0.1,0.1,NaN,0.00095\n"
	if b.String() != want {
		t.Errorf("history:\n%s\nwant\n%s", b.String(), want)
	}
}

func TestWriteSweeps(t *testing.T) {
	best := 0.47
	cet := time.FixedZone("CET", 3600)
	recs := []SweepRecord{
		{Summary: results.Summary{Name: "a,b", Total: 6, Done: 2, Running: 1, Pending: 1, Failed: 1, Diverged: 1, BestValAcc: &best, Active: true, Created: t0.In(cet)},
			Processes: []string{"node7:1", "node8:2"}},
		{Summary: results.Summary{Name: "new", Total: 1, Pending: 1, Created: t0.In(cet)}, Processes: []string{}},
	}
	var b bytes.Buffer
	if err := WriteSweepsJSON(&b, recs); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"created": "2026-11-26T12:00:00Z"`) || recs[0].Created.Location() != cet {
		t.Errorf("JSON not in UTC, or its argument changed:\n%s", b.String())
	}
	b.Reset()
	if err := WriteSweepsCSV(&b, recs); err != nil {
		t.Fatal(err)
	}
	want := "name,total,done,running,stale,paused,pending,interrupted,diverged,failed,pruned,best_val_acc,active,processes,created\n" +
		"\"a,b\",6,2,1,0,0,1,0,1,1,0,0.47,true,node7:1 node8:2,2026-11-26T12:00:00Z\n" +
		"new,1,0,0,0,0,1,0,0,0,0,,false,,2026-11-26T12:00:00Z\n"
	if b.String() != want {
		t.Errorf("CSV:\n%s\nwant\n%s", b.String(), want)
	}
	b.Reset()
	if err := WriteSweepsTable(&b, recs); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(b.String(), "\n")
	if len(lines) != 4 || !strings.HasSuffix(lines[1], "0.470  running on node7:1, node8:2") || !strings.HasSuffix(lines[2], "-  stopped") {
		t.Errorf("table:\n%s", b.String())
	}
}

func TestHistoryTable(t *testing.T) {
	var b bytes.Buffer
	err := HistoryTable([]results.Epoch{{Epoch: 88.88888888888889, Iteration: 800, LearningRate: 1e-3, Loss: 5508347170094318, TrainAcc: 0.5, ValAcc: 0.1, ValLoss: math.NaN()}}).Render(&b, "")
	if err != nil {
		t.Fatal(err)
	}
	want := "epoch  iteration      loss  train_acc  val_acc  val_loss  learning_rate\n" +
		" 88.9        800  5.51e+15      0.500    0.100       NaN        1.0e-03\n"
	if b.String() != want {
		t.Errorf("history table:\n%s\nwant\n%s", b.String(), want)
	}
}
