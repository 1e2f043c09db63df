package main

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"runtime/debug"

	"github.com/sweep-dev/sweep/nn"
)

// version is set at link time (-ldflags "-X main.version=...") for releases.
var version = "dev"

func init() {
	commands["version"] = command{summary: "version, Go version, BLAS backend in use", run: runVersion}
}

func runVersion(_ context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) > 0 {
		fmt.Fprintf(stderr, "sweep version: unexpected argument %q\n", args[0])
		return exitUsage
	}
	v := version
	if bi, ok := debug.ReadBuildInfo(); ok && v == "dev" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		v = bi.Main.Version
	}
	fmt.Fprintf(stdout, "sweep %s\n", v)
	fmt.Fprintf(stdout, "go    %s %s/%s\n", runtime.Version(), runtime.GOOS, runtime.GOARCH)
	fmt.Fprintf(stdout, "blas  %s\n", nn.BLASBackend())
	return exitOK
}
