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
	spec := writeSpec(t, killSpec)
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
	// Every claim about a checkpoint is true of the database.
	resumes := regexp.MustCompile(`trial (\d+) interrupted: it resumes from its checkpoint at epoch \S+ \(iteration (\d+)\)`)
	for _, m := range resumes.FindAllStringSubmatch(out.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		it, _ := strconv.Atoi(m[2])
		if tr := byNumber[n]; tr.Iteration != it {
			t.Errorf("the run said trial %d resumes from iteration %d; the database has iteration %d (%s)", n, it, tr.Iteration, tr.Status)
		}
	}
	scratch := regexp.MustCompile(`trial (\d+) interrupted before its first checkpoint`)
	for _, m := range scratch.FindAllStringSubmatch(out.String(), -1) {
		n, _ := strconv.Atoi(m[1])
		if tr := byNumber[n]; tr.Iteration != 0 {
			t.Errorf("the run said trial %d has no checkpoint; the database has one at iteration %d", n, tr.Iteration)
		}
	}
	// Every trial the run stopped is reported as one or the other.
	reported := map[int]bool{}
	for _, re := range []*regexp.Regexp{resumes, scratch} {
		for _, m := range re.FindAllStringSubmatch(out.String(), -1) {
			n, _ := strconv.Atoi(m[1])
			reported[n] = true
		}
	}
	if len(reported) == 0 || len(reported) != len(regexp.MustCompile(`trial \d+ interrupted`).FindAllString(out.String(), -1)) {
		t.Errorf("the run reported %d interrupted trials with what the database holds, in:\n%s", len(reported), out.String())
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
