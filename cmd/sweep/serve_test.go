package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/report/serve"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/results/boltstore"
)

// serveSpec is liveSpec under its own name: 6 trials of about 2 s each on
// 2 CPUs, 2 workers.
var serveSpec = strings.Replace(liveSpec, `name = "live-test"`, `name = "serve-test"`, 1)

// urlLine is serve's line on stdout that says where it listens.
var urlLine = regexp.MustCompile(`serving the sweeps of .* at (http://\S+/) \(read-only`)

// startServe starts `sweep serve` as a separate process with args and
// returns it, with the URL it printed, and its stderr.
func startServe(t *testing.T, args ...string) (cmd *exec.Cmd, url string, stderr *lockedBuffer) {
	t.Helper()
	cmd = sweepCmd(nil, append([]string{"serve"}, args...)...)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr = &lockedBuffer{}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			cmd.Wait()
		}
	})
	return cmd, readURL(t, stdout, stderr), stderr
}

// readURL reads serve's stdout until the line with its URL, then drains it
// in the background.
func readURL(t *testing.T, stdout io.Reader, stderr fmt.Stringer) string {
	t.Helper()
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if m := urlLine.FindStringSubmatch(sc.Text()); m != nil {
			go io.Copy(io.Discard, stdout)
			return m[1]
		}
	}
	t.Fatalf("serve ended without saying where it listens: %v\n%s", sc.Err(), stderr)
	return ""
}

// lockedBuffer is a bytes.Buffer for concurrent writes and reads.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// httpGet gets url, with Host host when not "".
func httpGet(c *http.Client, url, host string) (code int, body []byte, header http.Header, err error) {
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		return 0, nil, nil, err
	}
	if host != "" {
		req.Host = host
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0, nil, nil, err
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	return resp.StatusCode, body, resp.Header, err
}

// comparable is a leaderboard in JSON without what depends on the
// machine and the moment (durations, times).
func comparableBoard(t *testing.T, db string) []map[string]any {
	t.Helper()
	code, out, errs := runCLI(t, "leaderboard", "serve-test", "--format", "json", "--db", db)
	var recs []map[string]any
	if code != exitOK || json.Unmarshal([]byte(out), &recs) != nil {
		t.Fatalf("leaderboard of %s: exit %d: %s%s", db, code, out, errs)
	}
	for _, r := range recs {
		delete(r, "duration_s")
		delete(r, "started")
		delete(r, "finished")
	}
	return recs
}

// TestServeWhileRunning runs a sweep in one process and serves its
// database from another, while clients read every route from several
// goroutines: every read answers 200, the pages follow the run (the
// sweep's version and its page change, its last status is finished), and
// the run ends as it does unserved, with the same leaderboard and the same
// selected trial and test accuracy; the finished sweep's page has its
// best net's confusion matrix (left out while it ran). It logs each route's latency, p50
// and p99, under the run, and the run's time with and without the server.
func TestServeWhileRunning(t *testing.T) {
	spec := writeSpec(t, serveSpec)
	dir := t.TempDir()
	refDB, db := filepath.Join(dir, "ref.db"), filepath.Join(dir, "served.db")

	start := time.Now()
	if out, err := sweepCmd(nil, "run", spec, "--db", refDB).CombinedOutput(); err != nil {
		t.Fatalf("reference run: %v\n%s", err, out)
	}
	refTime := time.Since(start)

	start = time.Now()
	run, runOut := sweepProcess(t, "run", spec, "--db", db)
	exited := make(chan error, 1)
	go func() { exited <- run.Wait() }()
	waitFor(t, "the sweep in the database", func() bool {
		st, err := boltstore.OpenExisting(db, boltstore.Options{Timeout: time.Second})
		if err != nil {
			return false
		}
		_, err = st.Sweep(context.Background(), "serve-test")
		return err == nil
	})
	srv, base, srvErr := startServe(t, "--db", db, "--addr", "127.0.0.1:0")

	routes := []string{"", "sweep?name=serve-test", "api/sweep?name=serve-test", "api/trials?name=serve-test&sort=-val_acc", "api/trial?name=serve-test&trial=1", "api/sweeps"}
	type sample struct {
		route   int
		latency time.Duration
	}
	var (
		mu       sync.Mutex
		samples  []sample
		failures []string
		versions = map[string]bool{}
		etags    = map[string]bool{}
		noted    int // pages whose best net waits for the end of the sweep
	)
	done := make(chan struct{})
	var runErr error
	go func() {
		runErr = <-exited
		close(done)
	}()
	client := &http.Client{Timeout: time.Minute}
	var wg sync.WaitGroup
	// clients read at once, each pausing between its requests: about
	// clients/pause requests a second, far more than browsers polling
	// every 2 s make, and yet not all of this test's CPUs, which the run
	// needs for its measured time to mean something.
	const clients, pause = 6, 10 * time.Millisecond
	for g := range clients {
		wg.Go(func() {
			for i := g; ; i++ {
				select {
				case <-done:
					return
				case <-time.After(pause):
				}
				r := i % len(routes)
				t0 := time.Now()
				code, body, h, err := httpGet(client, base+routes[r], "")
				lat := time.Since(t0)
				mu.Lock()
				samples = append(samples, sample{r, lat})
				switch {
				case err != nil || code != http.StatusOK:
					failures = append(failures, fmt.Sprintf("GET /%s: %d %v %.300s", routes[r], code, err, body))
				case r == 1:
					etags[h.Get("ETag")] = true
					if bytes.Contains(body, []byte(whileRunning)) {
						noted++
					}
				case r == 2:
					var st serve.Status
					if json.Unmarshal(body, &st) == nil {
						versions[st.Version] = true
					}
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	servedTime := time.Since(start)
	if len(failures) > 0 {
		t.Errorf("%d of %d reads failed during the run; the first: %s", len(failures), len(samples), failures[0])
	}
	if runErr != nil || strings.Contains(runOut.String(), "locked") {
		t.Fatalf("the served run failed: %v\n%s", runErr, runOut.String())
	}
	if len(versions) < 2 || len(etags) < 2 {
		t.Errorf("the pages did not follow the run: %d versions, %d pages", len(versions), len(etags))
	}

	// The served run's results are the reference run's.
	if ref, got := comparableBoard(t, refDB), comparableBoard(t, db); !reflect.DeepEqual(ref, got) {
		t.Errorf("served run's leaderboard differs from the reference:\n%v\n%v", got, ref)
	}
	ref, got := openStoreSweep(t, refDB, "serve-test").Best, openStoreSweep(t, db, "serve-test").Best
	if ref == nil || got == nil || ref.Trial != got.Trial || ref.TestAcc != got.TestAcc {
		t.Errorf("selected best: served %+v, reference %+v", got, ref)
	}

	// The server sees the end of the run (after its TTL).
	waitFor(t, "the finished sweep's status", func() bool {
		code, body, _, err := httpGet(client, base+"api/sweep?name=serve-test", "")
		var st serve.Status
		return err == nil && code == 200 && json.Unmarshal(body, &st) == nil && st.Finished && st.Counts[results.Done] == 6
	})

	// Now the best net's section has what needs the data set.
	code, body, _, err := httpGet(client, base+"sweep?name=serve-test", "")
	if err != nil || code != 200 || !bytes.Contains(body, []byte(`id="fig-confusion"`)) || bytes.Contains(body, []byte(whileRunning)) {
		t.Errorf("the finished sweep's page: %d %v, without its confusion matrix or with the note of a running sweep", code, err)
	}

	// Latency by route: p50 and p99.
	byRoute := make([][]time.Duration, len(routes))
	var all []time.Duration
	for _, s := range samples {
		byRoute[s.route] = append(byRoute[s.route], s.latency)
		all = append(all, s.latency)
	}
	pct := func(ds []time.Duration, p float64) time.Duration {
		slices.Sort(ds)
		return ds[min(len(ds)-1, int(p*float64(len(ds))))]
	}
	for r, ds := range byRoute {
		if len(ds) > 0 {
			t.Logf("GET /%-45s %5d requests  p50 %8v  p99 %8v", routes[r], len(ds), pct(ds, 0.5).Round(10*time.Microsecond), pct(ds, 0.99).Round(10*time.Microsecond))
		}
	}
	t.Logf("all routes, %d clients: %d requests  p50 %v  p99 %v; %d versions and %d pages of the sweep seen, %d pages with the best net's section of a running sweep", clients, len(all), pct(all, 0.5).Round(10*time.Microsecond), pct(all, 0.99).Round(10*time.Microsecond), len(versions), len(etags), noted)
	t.Logf("the run took %v served (the database read by %d clients), %v alone", servedTime.Round(10*time.Millisecond), clients, refTime.Round(10*time.Millisecond))

	// Ctrl-C stops the server gracefully: exit 130.
	if err := srv.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	srv.Wait()
	if code := srv.ProcessState.ExitCode(); code != exitInterrupted || !strings.Contains(srvErr.String(), "interrupted (Ctrl-C)") {
		t.Errorf("serve after Ctrl-C: exit %d, stderr %q", code, srvErr.String())
	}
}

// serveInProcess runs serve in-process with args until the test ends, and
// returns the URL it printed, its stderr and a function that stops it
// and returns its exit code.
func serveInProcess(t *testing.T, args ...string) (url string, stderr *lockedBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	pr, pw := io.Pipe()
	stderr = &lockedBuffer{}
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"serve"}, args...), pw, stderr)
		pw.Close()
	}()
	url = readURL(t, pr, stderr)
	stop = func() int {
		cancel()
		return <-code
	}
	t.Cleanup(func() { cancel() })
	return url, stderr, stop
}

// TestServeAddr: the default address is loopback and refuses other host
// names; a non-loopback address is served with a warning, to any host
// name; bad usage exits 2.
func TestServeAddr(t *testing.T) {
	db := fixtureDB(t)
	client := &http.Client{Timeout: time.Minute}

	url, stderr, stop := serveInProcess(t, "--db", db, "--addr", "127.0.0.1:0")
	if !strings.HasPrefix(url, "http://127.0.0.1:") || strings.Contains(url, ":0/") {
		t.Errorf("serve printed %q, want the port it listens on", url)
	}
	for host, want := range map[string]int{"": 200, "localhost": 200, "evil.example": http.StatusMisdirectedRequest} {
		if code, body, _, err := httpGet(client, url+"sweep?name=golden", host); err != nil || code != want {
			t.Errorf("Host %q: %d %v, want %d: %.300s", host, code, err, want, body)
		}
	}
	if code := stop(); code != exitInterrupted || strings.Contains(stderr.String(), "warning") {
		t.Errorf("loopback: exit %d, stderr %q", code, stderr.String())
	}

	url, stderr, stop = serveInProcess(t, "--db", db, "--addr", "0.0.0.0:0")
	if !strings.Contains(stderr.String(), "warning: listening on 0.0.0.0:") || !strings.Contains(stderr.String(), "not a loopback address") {
		t.Errorf("no warning for a non-loopback address: stderr %q", stderr.String())
	}
	local := strings.Replace(url, "0.0.0.0", "127.0.0.1", 1)
	if code, body, _, err := httpGet(client, local, "dashboard.example"); err != nil || code != 200 {
		t.Errorf("non-loopback, Host dashboard.example: %d %v: %.300s", code, err, body)
	}
	stop()

	for _, args := range [][]string{{"--addr", "8080"}, {"--addr", "localhost"}, {"extra"}} {
		if code, _, errs := runCLI(t, append([]string{"serve", "--db", db}, args...)...); code != exitUsage {
			t.Errorf("serve %v: exit %d, want %d: %s", args, code, exitUsage, errs)
		}
	}
	// A port in use is a runtime error.
	url, _, stop = serveInProcess(t, "--db", db, "--addr", "127.0.0.1:0")
	defer stop()
	busy := strings.TrimSuffix(strings.TrimPrefix(url, "http://"), "/")
	if code, _, errs := runCLI(t, "serve", "--db", db, "--addr", busy); code != exitRuntime || !strings.Contains(errs, "address already in use") {
		t.Errorf("serve on a port in use: exit %d, want %d: %s", code, exitRuntime, errs)
	}
}
