package boltstore

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

func init() { testHelpers["RESULTS_TEST_DISKFULL"] = diskFullProcess }

// diskFullResult is what diskFullProcess reports of its write.
type diskFullResult struct {
	DiskFull, EFBIG bool
	Msg             string
}

// diskFullProcess checkpoints trial 1 of sweep "g" (held by owner "w")
// with size bytes, under a file size limit (RLIMIT_FSIZE) of limit bytes,
// which makes writing past it fail with EFBIG, as a full disk fails with
// ENOSPC; arg is "path|limit|size". It prints what the error was.
func diskFullProcess(arg string) int {
	f := strings.Split(arg, "|")
	limit, _ := strconv.ParseUint(f[1], 10, 64)
	size, _ := strconv.Atoi(f[2])
	signal.Ignore(syscall.SIGXFSZ) // else exceeding the limit kills the process
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_FSIZE, &rl); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	rl.Cur = limit
	if err := syscall.Setrlimit(syscall.RLIMIT_FSIZE, &rl); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	s := &Store{path: f[0], timeout: 10 * time.Second}
	err := s.SaveCheckpoint(contextBackground(), "g", 1, owner("w"), t0, Checkpoint{Epoch: 5, Data: make([]byte, size)}, history(5))
	if err == nil {
		fmt.Fprintln(os.Stderr, "the write succeeded")
		return 1
	}
	json.NewEncoder(os.Stdout).Encode(diskFullResult{errors.Is(err, ErrDiskFull), errors.Is(err, syscall.EFBIG), err.Error()})
	return 0
}

// TestDiskFull makes writes fail for lack of room, in another process
// (this binary, re-executed) under a file size limit: writing a page past
// the limit, and growing the file past it. The error wraps ErrDiskFull and
// EFBIG, says "disk full" and names the file; the file is as it was, passes
// Check, and takes the same write once there is room.
func TestDiskFull(t *testing.T) {
	for _, tc := range []struct {
		name  string
		limit func(size int64) int64 // the limit, given the file's size
		data  int                    // checkpoint bytes
	}{
		// Pages past the limit (the two meta pages lie below it): the
		// write of the transaction's pages fails.
		{"write past the limit", func(int64) int64 { return 8192 }, 1000},
		// The file must grow past its size, its limit: bbolt's growing
		// (truncate) fails.
		{"grow past the limit", func(size int64) int64 { return size }, 4 << 20},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := newTestStore(t)
			mustSweep(t, s, "g", 3, 3)
			if _, _, err := s.Claim(ctx, "g", owner("w"), t0, nil); err != nil {
				t.Fatal(err)
			}
			before, err := os.ReadFile(s.Path())
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), fmt.Sprintf("RESULTS_TEST_DISKFULL=%s|%d|%d", s.Path(), tc.limit(int64(len(before))), tc.data))
			cmd.Stderr = os.Stderr
			out, err := cmd.Output()
			if err != nil {
				t.Fatalf("helper process: %v", err)
			}
			var r diskFullResult
			if err := json.Unmarshal(out, &r); err != nil {
				t.Fatalf("helper process said %q: %v", out, err)
			}
			t.Log(r.Msg)
			if !r.DiskFull || !r.EFBIG || !strings.Contains(r.Msg, "disk full") || !strings.Contains(r.Msg, s.Path()) {
				t.Errorf("error %q: ErrDiskFull %v, EFBIG %v; want both, saying disk full and naming the file", r.Msg, r.DiskFull, r.EFBIG)
			}
			if after, _ := os.ReadFile(s.Path()); !bytes.Equal(before, after) {
				t.Errorf("the failed write changed the file")
			}
			if err := s.Check(ctx); err != nil {
				t.Errorf("Check after the failed write: %v", err)
			}
			if tr, _, err := s.Trial(ctx, "g", 1); err != nil || tr.Epoch != 0 {
				t.Errorf("trial 1 after the failed write: %+v, %v", tr, err)
			}
			ck := Checkpoint{Epoch: 5, Data: make([]byte, tc.data)}
			if err := s.SaveCheckpoint(ctx, "g", 1, owner("w"), t0, ck, history(5)); err != nil {
				t.Errorf("the same write with room: %v", err)
			}
		})
	}
}
