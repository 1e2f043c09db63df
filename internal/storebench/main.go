// Command storebench measures a results store under the load of many
// worker processes: each claims a tiny trial, finishes it at once (with a
// one-epoch history and, as a real trial does, its weights), and claims the
// next, until none is left. It reports trials per second, claim and finish
// latencies (p50, p99), the throughput in windows of completions as the
// sweep grows, and what was written (a file's size and the processes'
// write_bytes; PostgreSQL's WAL bytes), then checks that every trial was
// done exactly once.
//
//	go run ./internal/storebench --db bench.db --procs 8 --trials 10000
//	go run ./internal/storebench --db postgres://... --procs 8 --trials 10000
//
// The database must not hold a sweep named by --sweep (default
// "storebench"); a file is created if need be.
package main

import (
	"bufio"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/storage"
	"github.com/sweep-dev/sweep/trial"
)

func main() {
	db := flag.String("db", "", "results database: a file or a PostgreSQL URL")
	procs := flag.Int("procs", 8, "worker processes")
	trials := flag.Int("trials", 10000, "trials in the sweep")
	window := flag.Int("window", 2000, "completions per throughput window")
	name := flag.String("sweep", "storebench", "sweep name")
	child := flag.Int("child", -1, "internal: run as worker process N")
	flag.Parse()
	if *db == "" {
		fmt.Fprintln(os.Stderr, "storebench: --db is required")
		os.Exit(2)
	}
	var err error
	if *child >= 0 {
		err = work(*db, *name, *child)
	} else {
		err = lead(*db, *name, *procs, *trials, *window)
	}
	if err != nil {
		fmt.Fprintf(os.Stderr, "storebench: %v\n", err)
		os.Exit(1)
	}
}

// sample is one trial a worker claimed and finished.
type sample struct {
	Claim, Finish time.Duration // latencies
	Done          int64         // unix nanoseconds when the finish returned
}

// report is what a worker process prints, as JSON, when it ends.
type report struct {
	Samples    []sample
	WriteBytes int64 // /proc/self/io write_bytes
}

func lead(db, name string, procs, n, window int) error {
	ctx := context.Background()
	st, err := storage.Open(ctx, db, storage.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	recs := make([]results.Trial, n)
	for i := range recs {
		recs[i] = results.Trial{Key: "t" + strconv.Itoa(i+1), Seed: uint64(i + 1),
			Params: results.Params{{Name: "learning_rate", Value: 1e-3 * float64(i%10+1)}}}
	}
	if _, err := st.EnsureSweep(ctx, results.Sweep{Name: name, Spec: []byte("# storebench"), Keep: 3}, recs); err != nil {
		return err
	}
	wal0, _ := walBytes(ctx, db)
	size0 := fileSize(db)

	self, err := os.Executable()
	if err != nil {
		return err
	}
	start := time.Now()
	var (
		mu  sync.Mutex
		all []sample
		wb  int64
		wg  sync.WaitGroup
		bad []error
	)
	for i := range procs {
		wg.Go(func() {
			cmd := exec.Command(self, "--db", db, "--sweep", name, "--child", strconv.Itoa(i))
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			var r report
			if err == nil {
				err = json.Unmarshal(out, &r)
			}
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				bad = append(bad, fmt.Errorf("worker %d: %w", i, err))
				return
			}
			all = append(all, r.Samples...)
			wb += r.WriteBytes
		})
	}
	wg.Wait()
	wall := time.Since(start)
	if err := errors.Join(bad...); err != nil {
		return err
	}
	wal1, walErr := walBytes(ctx, db)

	// Exactly once: every trial done, in one attempt.
	ts, err := st.Trials(ctx, name, results.Filter{})
	if err != nil {
		return err
	}
	done, once := 0, 0
	for _, t := range ts {
		if t.Status == results.Done {
			done++
		}
		if t.Attempts == 1 {
			once++
		}
	}
	if done != n || once != n || len(all) != n {
		return fmt.Errorf("%d trials: %d done, %d in one attempt, %d finishes reported", n, done, once, len(all))
	}

	fmt.Printf("store      %s\n", st.Location())
	fmt.Printf("workers    %d processes, %d trials, every one done exactly once\n", procs, n)
	fmt.Printf("wall       %.2f s: %.0f trials/s\n", wall.Seconds(), float64(n)/wall.Seconds())
	claims := make([]time.Duration, len(all))
	finishes := make([]time.Duration, len(all))
	for i, s := range all {
		claims[i], finishes[i] = s.Claim, s.Finish
	}
	fmt.Printf("claim      p50 %v  p99 %v\n", pct(claims, 0.50), pct(claims, 0.99))
	fmt.Printf("finish     p50 %v  p99 %v\n", pct(finishes, 0.50), pct(finishes, 0.99))
	slices.SortFunc(all, func(a, b sample) int { return int(a.Done - b.Done) })
	fmt.Printf("windows    trials/s by %d completions:", window)
	prev := start.UnixNano()
	for i := window - 1; i < len(all); i += window {
		d := float64(all[i].Done-prev) / 1e9
		fmt.Printf(" %.0f", float64(window)/d)
		prev = all[i].Done
	}
	fmt.Println()
	if size0 >= 0 {
		fmt.Printf("file       %.1f MB (from %.1f MB); processes wrote %.1f MB\n", float64(fileSize(db))/1e6, float64(size0)/1e6, float64(wb)/1e6)
	} else if walErr == nil {
		fmt.Printf("WAL        %.1f MB written by the server; the workers wrote %.1f MB locally\n", float64(wal1-wal0)/1e6, float64(wb)/1e6)
	}
	return nil
}

// work is one worker process: claim and finish until nothing is left, then
// print its report.
func work(db, name string, i int) error {
	ctx := context.Background()
	st, err := storage.Open(ctx, db, storage.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	owner := trial.Self()
	owner.ID = fmt.Sprintf("%s-%d", owner.ID, i)
	model := tinyModel()
	var r report
	for {
		t0 := time.Now()
		t, _, err := st.Claim(ctx, name, owner, t0, trial.Staleness(owner, t0, trial.DefaultLeaseTTL))
		if errors.Is(err, results.ErrNoWork) {
			break
		}
		if err != nil {
			return err
		}
		t1 := time.Now()
		acc := 0.5 + float64(t.Number%1000)/10000
		o := results.Outcome{Status: results.Done, Duration: 0.001, Model: model,
			Metrics: results.Metrics{ValAcc: acc, ValLoss: 1 - acc, TrainAcc: acc, FinalValAcc: acc, Iterations: 10, Epochs: 1, BestEpoch: 1},
			History: []results.Epoch{{Epoch: 1, Iteration: 10, LearningRate: 1e-3, Loss: 1, TrainAcc: acc, ValAcc: acc, ValLoss: 1 - acc}}}
		ow := owner
		ow.Attempt = t.Attempts
		if err := st.Finish(ctx, name, t.Number, ow, t1, o); err != nil {
			return err
		}
		t2 := time.Now()
		r.Samples = append(r.Samples, sample{Claim: t1.Sub(t0), Finish: t2.Sub(t1), Done: t2.UnixNano()})
	}
	r.WriteBytes = writeBytes()
	return json.NewEncoder(os.Stdout).Encode(&r)
}

// tinyModel is a 4-3-2 net's weights: what Finish keeps for the best trials.
func tinyModel() *results.Model {
	tensor := func(name string, shape ...int) results.Tensor {
		n := 1
		for _, d := range shape {
			n *= d
		}
		b := make([]byte, 4*n)
		for i := range n {
			binary.LittleEndian.PutUint32(b[4*i:], math.Float32bits(float32(i)))
		}
		return results.Tensor{Name: name, Shape: shape, DType: "float32", Data: b}
	}
	return &results.Model{Tensors: []results.Tensor{tensor("W1", 4, 3), tensor("b1", 3), tensor("W2", 3, 2), tensor("b2", 2)}}
}

func pct(ds []time.Duration, q float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[min(int(q*float64(len(s))), len(s)-1)].Round(10 * time.Microsecond)
}

// fileSize is the size of a database file, -1 for PostgreSQL.
func fileSize(db string) int64 {
	if storage.IsPostgres(db) {
		return -1
	}
	fi, err := os.Stat(db)
	if err != nil {
		return 0
	}
	return fi.Size()
}

// walBytes is the server's WAL position in bytes (PostgreSQL only).
func walBytes(ctx context.Context, db string) (int64, error) {
	if !storage.IsPostgres(db) {
		return 0, errors.New("not PostgreSQL")
	}
	c, err := pgx.Connect(ctx, db)
	if err != nil {
		return 0, err
	}
	defer c.Close(ctx)
	var n int64
	err = c.QueryRow(ctx, "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn").Scan(&n)
	return n, err
}

// writeBytes is this process's write_bytes from /proc/self/io: what it
// caused to be written to storage (0 where /proc is not).
func writeBytes() int64 {
	f, err := os.Open("/proc/self/io")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "write_bytes: "); ok {
			n, _ := strconv.ParseInt(v, 10, 64)
			return n
		}
	}
	return 0
}
