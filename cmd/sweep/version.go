package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/sweep-dev/sweep/nn"
)

// version is set at link time (-ldflags "-X main.version=...") for releases.
var version = ""

func init() {
	commands["version"] = command{summary: "version, Go version, BLAS backend in use", run: runVersion}
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("version", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: sweep version\n\nPrints sweep's version (release, module version or version-control revision),\nthe Go version and platform, and the BLAS backend the binary uses.")
	}
	if _, code, ok := parseArgs(fs, args, 0, 0); !ok {
		return code
	}
	fmt.Fprintf(stdout, "sweep %s\n", versionString())
	fmt.Fprintf(stdout, "go    %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "blas  %s\n", nn.BLASBackend())
	return exitOK
}

// versionString is the release version set at link time, else what the
// go command recorded in the binary (versionOf).
func versionString() string {
	if version != "" {
		return version
	}
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return "unknown (no build information)"
	}
	return versionOf(bi)
}

// versionOf is the module version the go command stamped (v1.2.3, or a
// pseudo-version of the commit), else the version-control revision it
// recorded ("devel, rev 183b81e0a1b2, modified, 2026-12-01T15:00:00Z").
func versionOf(bi *debug.BuildInfo) string {
	if v := bi.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	var rev, at string
	modified := false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.time":
			at = s.Value
		case "vcs.modified":
			modified = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel (built without version-control information)"
	}
	v := "devel, rev " + rev[:min(12, len(rev))]
	if modified {
		v += ", modified"
	}
	if at != "" {
		v += ", " + at
	}
	return v
}
