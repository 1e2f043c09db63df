package main

import (
	"bytes"
	"os"
	"os/signal"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/sweep-dev/sweep/results"
)

func init() {
	childSetups = append(childSetups, func() {
		if n := os.Getenv("SWEEP_TEST_FSIZE"); n != "" {
			limitFileSize(n)
		}
	})
}

// limitFileSize makes this (child) process unable to grow a file past n
// bytes, as a full disk would: writes past it fail with EFBIG instead of
// raising SIGXFSZ.
func limitFileSize(n string) {
	limit, err := strconv.ParseUint(n, 10, 64)
	if err != nil {
		panic(err)
	}
	signal.Ignore(syscall.SIGXFSZ)
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &syscall.Rlimit{Cur: limit, Max: limit}); err != nil {
		panic(err)
	}
}

// TestDiskFull runs a sweep whose database cannot grow past a limit: the
// run ends with a disk-full error (exit 1), and what it says of each trial
// is what the database holds; once there is room, the next run finishes
// the sweep.
func TestDiskFull(t *testing.T) {
	for _, mode := range []string{"fused", "unfused"} {
		t.Run(mode, func(t *testing.T) {
			src := killSpec
			if mode == "unfused" {
				src = unfused(src)
			}
			diskFull(t, src)
		})
	}
}

func diskFull(t *testing.T, src string) {
	spec := writeSpec(t, src)
	db := newDB(t)
	cmd := sweepCmd([]string{"SWEEP_TEST_FSIZE=200000"}, "run", spec, "--db", db)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	_ = cmd.Run()
	if code := cmd.ProcessState.ExitCode(); code != exitRuntime || !strings.Contains(out.String(), "disk full") {
		t.Fatalf("exit %d, want 1 and a disk-full error:\n%s", code, out.String())
	}
	byNumber := map[int]results.Trial{}
	for _, tr := range trialsOf(t, db, "kill-test") {
		byNumber[tr.Number] = tr
	}
	// Every claim about a checkpoint is true of the database: a trial's,
	// or a fused group's (of each of its members).
	members := func(kind, num string) []int {
		n, _ := strconv.Atoi(num)
		if kind == "trial" {
			return []int{n}
		}
		var ns []int
		for _, tr := range byNumber {
			if tr.Group == n && !tr.Status.Finished() {
				ns = append(ns, tr.Number)
			}
		}
		return ns
	}
	resumes := regexp.MustCompile(`(trial|group) (\d+)(?: \(\d+ trials?\))? interrupted: it resumes from its checkpoint at epoch \S+ \(iteration (\d+)\)`)
	scratch := regexp.MustCompile(`(trial|group) (\d+)(?: \(\d+ trials?\))? interrupted before its first checkpoint`)
	reported := map[int]bool{}
	for _, m := range resumes.FindAllStringSubmatch(out.String(), -1) {
		it, _ := strconv.Atoi(m[3])
		for _, n := range members(m[1], m[2]) {
			reported[n] = true
			if tr := byNumber[n]; tr.Iteration != it {
				t.Errorf("the run said trial %d resumes from iteration %d (%s); the database has iteration %d (%s)", n, it, m[0], tr.Iteration, tr.Status)
			}
		}
	}
	for _, m := range scratch.FindAllStringSubmatch(out.String(), -1) {
		for _, n := range members(m[1], m[2]) {
			reported[n] = true
			if tr := byNumber[n]; tr.Iteration != 0 {
				t.Errorf("the run said trial %d has no checkpoint (%s); the database has one at iteration %d", n, m[0], tr.Iteration)
			}
		}
	}
	// Every trial the run stopped is reported as one or the other.
	if len(reported) == 0 {
		t.Errorf("the run reported no interrupted trial with what the database holds, in:\n%s", out.String())
	}
	for n, tr := range byNumber {
		if (tr.Status == results.Running || tr.Status == results.Interrupted) && !reported[n] {
			t.Errorf("trial %d is %s and the run did not say where it resumes from:\n%s", n, tr.Status, out.String())
		}
	}
	// With room again, the sweep finishes.
	if code, stdout, stderr := runCLI(t, "run", spec, "--db", db); code != exitOK {
		t.Fatalf("run with room again: exit %d\n%s%s", code, stdout, stderr)
	}
}
