# sweep — build, test, benchmark. See README.md.
GO      ?= go
BIN     ?= bin/sweep
# OpenBLAS (Debian: libopenblas-dev) when it links: build with it through cgo.
CC      ?= cc
OPENBLAS := $(shell printf 'int main(void){return 0;}' | $(CC) -x c - -lopenblas -o /dev/null 2>/dev/null && echo yes)
TAGS    ?= $(if $(OPENBLAS),openblas,)
# Packages that run goroutines concurrently: tested with -race as well.
RACE_PKGS = ./trial/... ./results/... ./data/... ./report/... ./cmd/...

# staticcheck's version, pinned: .ci/run installs it (go install ...@$(STATICCHECK)).
STATICCHECK ?= v0.8.2

.PHONY: build test bench lint cross tools clean demo screenshot test-slurm

build:
	$(GO) build -buildvcs=auto -tags '$(TAGS)' -o $(BIN) ./cmd/sweep

# Tests run on the pure-Go backend, then the numerics and the pool again on
# OpenBLAS when it is there.
test:
	$(GO) vet ./...
	$(GO) test ./...
	$(GO) test -race $(RACE_PKGS)
	$(if $(OPENBLAS),$(GO) vet -tags openblas ./... && $(GO) test -tags openblas ./nn/... ./trial/...)

# A real one-node Slurm cluster on this machine (munged, slurmctld and slurmd,
# with a configuration of their own in a temporary directory, on free ports)
# running examples/slurm/sweep.sbatch as job arrays against a throwaway
# PostgreSQL server (initdb/pg_ctl as nobody, a least-privileged role, the
# password in a PGPASSFILE): every task exits 0, every trial is trained
# exactly once, and tasks stopped by the time limit's USR1, scancel and a
# requeue checkpoint and come back. Needs root and
# apt-get install slurm-wlm munge postgresql (.ci/run installs them and runs
# it). About a minute. Without --postgres it uses a bbolt file; with
# SWEEP_DB=postgres://... (and no --postgres) an existing database.
test-slurm: build
	scripts/slurm-test/run.sh --postgres --bin $(BIN)

# The main job: the quickstart sweep on the data embedded in the binary,
# from scratch, ending with the leaderboard and the best net's test accuracy,
# then its HTML report (the path is printed).
DEMO_DB ?= bin/demo.db
DEMO_REPORT ?= bin/quickstart.html
demo: build
	rm -f $(DEMO_DB)
	$(BIN) run sweeps/quickstart.toml --db $(DEMO_DB)
	$(BIN) report quickstart --db $(DEMO_DB) -o $(DEMO_REPORT)

# The README's picture of a report: the quickstart's, from make demo, as
# headless Chromium draws it (the browser tests' browser and flags), from its
# leaderboard down to the optimization history.
SCREENSHOT ?= docs/report.png
screenshot: demo
	@mkdir -p $(dir $(SCREENSHOT))
	$(GO) run ./internal/browser/screenshot -width 960 -from '#leaderboard' -to '#history' -o $(SCREENSHOT) $(DEMO_REPORT)
	@echo "wrote $(SCREENSHOT)"

# Benchmarks beside the numpy yardstick, with ratios: see scripts/bench.sh.
bench:
	TAGS='$(TAGS)' scripts/bench.sh

# gofmt, go vet and staticcheck (which must be installed: go install
# honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK)); CI runs it.
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
	$(if $(OPENBLAS),$(GO) vet -tags openblas ./...)
	@command -v staticcheck >/dev/null || { echo "staticcheck is not installed: go install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK)"; exit 1; }
	staticcheck ./...

# The tools make lint needs (into $GOBIN, else $(go env GOPATH)/bin).
tools:
	$(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK)

# Students use Macs and Windows: every package builds there, and its tests
# compile (pure Go: cgo is off when cross-compiling, so the OpenBLAS build
# is Linux's alone).
cross:
	GOOS=darwin GOARCH=amd64 $(GO) build ./...
	GOOS=darwin GOARCH=arm64 $(GO) vet ./...
	GOOS=windows GOARCH=amd64 $(GO) vet ./...
	GOOS=windows GOARCH=arm64 $(GO) build ./...

clean:
	rm -rf bin
