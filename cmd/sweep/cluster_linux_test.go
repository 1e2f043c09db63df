package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/sweep-dev/sweep/internal/pgtest"
	"github.com/sweep-dev/sweep/results"
	"github.com/sweep-dev/sweep/trial"
)

// A child process (see TestMain) can pose as a process of another host,
// SWEEP_TEST_HOST, so that the others cannot see whether it is alive and
// must wait for its lease to expire, as across machines; and can run with
// a short lease, SWEEP_TEST_LEASE_TTL.
func init() {
	childSetups = append(childSetups, func() {
		if host := os.Getenv("SWEEP_TEST_HOST"); host != "" {
			self = sync.OnceValue(func() results.Owner {
				o := trial.Self()
				o.Host = host
				return o
			})
		}
		if v := os.Getenv("SWEEP_TEST_LEASE_TTL"); v != "" {
			d, err := time.ParseDuration(v)
			if err != nil {
				panic(err)
			}
			leaseTTL = d
		}
	})
}

// TestPostgresClusterOfProcesses runs one sweep on PostgreSQL with four
// `sweep run` processes posing as four hosts, with 4-second leases. One is
// killed (-9) holding a checkpointed trial, another stopped (SIGSTOP) past
// its lease, and the server restarted, mid-sweep. The killed and stopped
// processes' trials are reclaimed once their leases expire and resume from
// their checkpoints; the stopped process, continued, writes nothing more
// of its old trial (its lease was lost); the restart costs nothing but
// retries. Every trial is done, exactly once more for the two taken away,
// with results bitwise equal to the same sweep run by one worker on a file.
func TestPostgresClusterOfProcesses(t *testing.T) {
	srv := pgtest.Start(t)
	dsn := srv.NewDatabase(t)
	// Three fused groups of two trials: host-a and host-b take one each.
	spec := writeSpec(t, strings.Replace(longKillSpec("cluster"), "[search]\n", "[search]\ngroup_size = 2\n", 1))

	type proc struct {
		host string
		cmd  *exec.Cmd
		out  *bytes.Buffer
	}
	start := func(host string) *proc {
		cmd := sweepCmd([]string{"SWEEP_TEST_HOST=" + host, "SWEEP_TEST_LEASE_TTL=4s"}, "run", spec, "--db", dsn, "--workers", "1")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		p := &proc{host: host, cmd: cmd, out: &out}
		t.Cleanup(func() {
			if t.Failed() {
				t.Logf("%s's output:\n%s", host, out.String())
			}
			if p.cmd.ProcessState == nil {
				_ = p.cmd.Process.Signal(syscall.SIGCONT)
				_ = p.cmd.Process.Kill()
				_ = p.cmd.Wait()
			}
		})
		return p
	}
	// trials reads the sweep's trials: none while it is not created yet.
	trials := func() []results.Trial {
		st, err := openExisting(context.Background(), dsn)
		if err != nil {
			return nil
		}
		defer st.Close()
		ts, _ := st.Trials(context.Background(), "cluster", results.Filter{})
		return ts
	}
	// running returns the trial host runs (0 if none) and the iteration
	// of its checkpoint.
	running := func(host string) (n, iter int) {
		for _, tr := range trials() {
			if tr.Status == results.Running && tr.Lease.Owner.Host == host {
				return tr.Number, tr.Iteration
			}
		}
		return 0, 0
	}
	checkpointed := func(host string) func() bool {
		return func() bool { _, it := running(host); return it > 0 }
	}

	// host-a and host-b start first, so that each holds a trial with a
	// checkpoint when host-c and host-d join.
	a, b := start("host-a"), start("host-b")
	waitFor(t, "a checkpoint of host-a", checkpointed("host-a"))
	waitFor(t, "a checkpoint of host-b", checkpointed("host-b"))
	c, d := start("host-c"), start("host-d")
	if err := a.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = a.cmd.Wait()
	if err := b.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	// What they held when they went (read after the signals: a trial may
	// have ended, and another begun, in between).
	killed, killedAt := running("host-a")
	stopped, stoppedAt := running("host-b")
	if killed == 0 || stopped == 0 {
		t.Fatalf("host-a holds trial %d, host-b trial %d, after the signals", killed, stopped)
	}
	srv.Restart(t)

	// Reclaimed by host-c or host-d once their leases expire.
	reclaimed := func(n int) func() bool {
		return func() bool {
			for _, tr := range trials() {
				if tr.Number == n && tr.Attempts >= 2 {
					return true
				}
			}
			return false
		}
	}
	waitFor(t, fmt.Sprintf("trial %d (host-a's) reclaimed", killed), reclaimed(killed))
	waitFor(t, fmt.Sprintf("trial %d (host-b's) reclaimed", stopped), reclaimed(stopped))
	if err := b.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	for _, p := range []*proc{b, c, d} {
		if err := p.cmd.Wait(); err != nil {
			t.Errorf("%s: %v\n%s", p.host, err, p.out)
		}
	}
	// The sweep's trials train in fused groups: a group is taken away, and
	// resumes, as one.
	got := trials()
	group := groupsOf(got)
	if !strings.Contains(b.out.String(), fmt.Sprintf("group %d (2 trials) was reclaimed by another process", group[stopped])) {
		t.Errorf("host-b does not say its trial %d's group was reclaimed:\n%s", stopped, b.out)
	}
	cd := c.out.String() + d.out.String()
	for n, at := range map[int]int{killed: killedAt, stopped: stoppedAt} {
		line := fmt.Sprintf("trial %d resumes from its checkpoint at iteration", n)
		if group[n] != 0 {
			line = fmt.Sprintf("group %d resumes from its checkpoint at iteration", group[n])
		}
		if at > 0 && !strings.Contains(cd, line) {
			t.Errorf("trial %d did not resume from its checkpoint:\nhost-c:\n%s\nhost-d:\n%s", n, c.out, d.out)
		}
	}

	for _, tr := range got {
		want := 1
		if tr.Number == killed || tr.Number == stopped || tr.Group != 0 && (tr.Group == group[killed] || tr.Group == group[stopped]) {
			want = 2
		}
		if tr.Status != results.Done || tr.Attempts != want {
			t.Errorf("trial %d: %s in %d attempts, want done in %d", tr.Number, tr.Status, tr.Attempts, want)
		}
	}
	if len(got) != 6 {
		t.Fatalf("%d trials, want 6", len(got))
	}

	// Bitwise what one worker computes on a file.
	sameAsOneWorker(t, spec, "cluster", got, "on PostgreSQL with 4 processes")
}

// smallSpec is a quick sweep of 4 trials on synthetic data.
const smallSpec = `
name = "pg-small"
seed = 5

[data]
source = "synthetic"
train = 400
val = 100
test = 100

[model]
hidden = [20]

[train]
epochs = 3
batch_size = 50

[search]
method = "grid"
keep = 2

[search.params]
learning_rate = [1e-3, 3e-3]
reg = [0.0, 0.01]
`

// TestCommandsOnPostgres runs every command on a PostgreSQL database whose
// connection string carries a password, and on a file copied from it: the
// outputs agree, the copy goes both ways, and the password appears in no
// output or error of any command.
func TestCommandsOnPostgres(t *testing.T) {
	srv := pgtest.Start(t)
	const secret = "s3cret-pw"
	dsn := withPassword(t, srv.NewDatabase(t), secret)
	spec := writeSpec(t, smallSpec)
	dir := t.TempDir()
	var all strings.Builder
	cli := func(want int, args ...string) string {
		t.Helper()
		code, stdout, stderr := runCLI(t, args...)
		all.WriteString(stdout + stderr)
		if code != want {
			t.Fatalf("sweep %s: exit %d, want %d\n%s\n%s", strings.Join(args, " "), code, want, stdout, stderr)
		}
		return stdout
	}

	cli(exitOK, "run", spec, "--db", dsn)
	cli(exitOK, "resume", "pg-small", "--db", dsn) // nothing left: ends at once
	file := filepath.Join(dir, "copy.db")
	cli(exitOK, "copy", "--from", dsn, "--to", file)
	// The same answers from both databases.
	for _, args := range [][]string{
		{"leaderboard", "pg-small"},
		{"leaderboard", "pg-small", "--format", "json"},
		{"best", "pg-small", "--format", "json"},
		{"show", "pg-small", "2", "--epochs"},
		{"export", "pg-small", "--format", "json", "--history"},
		{"export", "pg-small", "--format", "csv"},
	} {
		pg := cli(exitOK, append(args, "--db", dsn)...)
		f := cli(exitOK, append(args, "--db", file)...)
		if pg != f {
			t.Errorf("sweep %s differs:\nPostgreSQL:\n%s\nfile:\n%s", strings.Join(args, " "), pg, f)
		}
	}
	ls := cli(exitOK, "ls", "--db", dsn)
	if !strings.Contains(ls, "pg-small") || !strings.Contains(ls, "finished") {
		t.Errorf("ls:\n%s", ls)
	}
	cli(exitOK, "check", "--db", dsn)
	cli(exitOK, "export-model", "pg-small", "-o", filepath.Join(dir, "best.npz"), "--db", dsn)
	cli(exitOK, "report", "pg-small", "-o", filepath.Join(dir, "r.html"), "--db", dsn)
	cli(exitOK, "plot", "history", "pg-small", "-o", filepath.Join(dir, "h.svg"), "--db", dsn)
	// Errors name the database without its password.
	cli(exitUsage, "show", "nosuch", "1", "--db", dsn)
	cli(exitUsage, "show", "pg-small", "99", "--db", dsn)
	cli(exitUsage, "copy", "--from", file, "--to", dsn) // exists: --replace
	cli(exitOK, "copy", "--from", file, "--to", dsn, "--replace")

	// --replace refuses, unless --force, a sweep with finished trials the
	// copy has not finished, and, even forced, one live processes run.
	ctx := context.Background()
	pg, err := openExisting(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pg.Close()
	d, err := pg.Dump(ctx, "pg-small")
	if err != nil {
		t.Fatal(err)
	}
	// As if the copy had not finished a trial (not the selected best one).
	k := slices.IndexFunc(d.Trials, func(td results.TrialDump) bool {
		return d.Sweep.Best == nil || td.Trial.Number != d.Sweep.Best.Trial
	})
	d.Trials[k].Trial.Status = results.Interrupted
	d.Trials[k].Model = nil
	older := filepath.Join(dir, "older.db")
	fst, err := openDB(ctx, older)
	if err != nil {
		t.Fatal(err)
	}
	if err := fst.Load(ctx, d, false); err != nil {
		t.Fatal(err)
	}
	if out := cli(exitUsage, "copy", "--from", older, "--to", dsn, "--replace"); out != "" {
		t.Errorf("refused copy printed %q", out)
	}
	if want := fmt.Sprintf("has finished trials (%d) that the copy has not", k+1); !strings.Contains(all.String(), want) {
		t.Errorf("the refusal does not say %q:\n%s", want, all.String())
	}
	// A side left out is $SWEEP_DB.
	t.Setenv("SWEEP_DB", dsn)
	cli(exitUsage, "copy", "--from", older) // to $SWEEP_DB: exists, no --replace
	cli(exitOK, "copy", "--from", older, "--replace", "--force")
	if ts := trialsOf(t, dsn, "pg-small"); ts[k].Status != results.Interrupted {
		t.Errorf("trial %d after the forced replace: %s", k+1, ts[k].Status)
	}
	// A live process (this one: its own leases are never stale to it)
	// runs the sweep in the target: no replace, even forced.
	now := time.Now()
	tr, _, err := pg.Claim(ctx, "pg-small", self(), now, trial.Staleness(self(), now, leaseTTL))
	if err != nil {
		t.Fatal(err)
	}
	cli(exitRuntime, "copy", "--from", older, "--replace", "--force")
	if want := fmt.Sprintf("trial %d (%s) is held by live processes", tr.Number, self()); !strings.Contains(all.String(), want) {
		t.Errorf("the refusal does not say %q:\n%s", want, all.String())
	}
	if err := pg.Release(ctx, "pg-small", tr.Number, self(), time.Now(), nil, nil, 0); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SWEEP_DB", "")
	// A server that refuses the connection: an error naming it, masked.
	bad := withPassword(t, "postgres://nobody@/nodb?host="+filepath.Join(dir, "nosocket")+"&connect_timeout=1", secret)
	code, stdout, stderr := runCLI(t, "ls", "--db", bad)
	all.WriteString(stdout + stderr)
	if code == exitOK || !strings.Contains(stderr, "xxxxx") {
		t.Errorf("ls on a missing server: exit %d\n%s", code, stderr)
	}
	// And usage text never shows $SWEEP_DB.
	t.Setenv("SWEEP_DB", dsn)
	cli(exitOK, "help", "run")
	cli(exitOK, "ls")

	if strings.Contains(all.String(), secret) {
		t.Errorf("the password appears in the output:\n%s", all.String())
	}
}

// withPassword returns the URL dsn with password pw in its user
// information (the throwaway server trusts every connection, so any
// password works).
func withPassword(t *testing.T, dsn, pw string) string {
	t.Helper()
	user, rest, ok := strings.Cut(strings.TrimPrefix(dsn, "postgres://"), "@")
	if !ok {
		t.Fatalf("DSN %q has no user", dsn)
	}
	return "postgres://" + user + ":" + pw + "@" + rest
}
