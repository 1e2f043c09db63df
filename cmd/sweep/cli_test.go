package main

import (
	"bytes"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/sweep-dev/sweep/nn"
)

func TestRun(t *testing.T) {
	const empty = "\x00empty" // the stream must be empty
	tests := []struct {
		name   string
		args   []string
		code   int
		stdout string // substring expected on stdout, or empty
		stderr string // substring expected on stderr, or empty
	}{
		{"no args", nil, exitUsage, empty, "usage: sweep"},
		{"help", []string{"help"}, exitOK, "exit codes", empty},
		{"help run", []string{"help", "run"}, exitOK, "usage: sweep run SPEC", empty},
		{"help of an unknown command", []string{"help", "frobnicate"}, exitUsage, empty, `unknown command "frobnicate"`},
		{"unknown", []string{"frobnicate"}, exitUsage, empty, `unknown command "frobnicate"`},
		{"version", []string{"version"}, exitOK, "blas  " + nn.BLASBackend(), empty},
		{"--version", []string{"--version"}, exitOK, "blas  " + nn.BLASBackend(), empty},
		{"version --help", []string{"version", "--help"}, exitOK, empty, "usage: sweep version"},
		{"version extra arg", []string{"version", "x"}, exitUsage, empty, "usage: sweep version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out, errb bytes.Buffer
			code := run(t.Context(), tt.args, &out, &errb)
			if code != tt.code {
				t.Errorf("exit code = %d, want %d (stderr %q)", code, tt.code, errb.String())
			}
			for _, s := range []struct {
				name, got, want string
			}{{"stdout", out.String(), tt.stdout}, {"stderr", errb.String(), tt.stderr}} {
				if s.want == empty && s.got != "" {
					t.Errorf("%s = %q, want it empty", s.name, s.got)
				}
				if s.want != empty && !strings.Contains(s.got, s.want) {
					t.Errorf("%s = %q, want it to contain %q", s.name, s.got, s.want)
				}
			}
		})
	}
}

func TestVersionString(t *testing.T) {
	defer func(v string) { version = v }(version)
	version = "v1.2.3"
	if v := versionString(); v != "v1.2.3" {
		t.Errorf("with a release version set: %q", v)
	}
	vcs := func(kv ...string) []debug.BuildSetting {
		var s []debug.BuildSetting
		for i := 0; i < len(kv); i += 2 {
			s = append(s, debug.BuildSetting{Key: kv[i], Value: kv[i+1]})
		}
		return s
	}
	for _, tt := range []struct {
		name string
		bi   debug.BuildInfo
		want string
	}{
		{"module version", debug.BuildInfo{Main: debug.Module{Version: "v0.0.0-20261201162942-fb8eb68848d8"}}, "v0.0.0-20261201162942-fb8eb68848d8"},
		{"revision", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}, Settings: vcs("vcs.revision", "183b81e0a1b2c3d4e5f6", "vcs.time", "2026-12-01T15:00:00Z", "vcs.modified", "false")},
			"devel, rev 183b81e0a1b2, 2026-12-01T15:00:00Z"},
		{"modified", debug.BuildInfo{Settings: vcs("vcs.revision", "183b81e", "vcs.modified", "true")}, "devel, rev 183b81e, modified"},
		{"nothing", debug.BuildInfo{Main: debug.Module{Version: "(devel)"}}, "devel (built without version-control information)"},
	} {
		if got := versionOf(&tt.bi); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
