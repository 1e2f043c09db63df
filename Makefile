# sweep — build, test, benchmark. See README.md.
GO      ?= go
BIN     ?= bin/sweep
# OpenBLAS (Debian: libopenblas-dev) when it links: build with it through cgo.
CC      ?= cc
OPENBLAS := $(shell printf 'int main(void){return 0;}' | $(CC) -x c - -lopenblas -o /dev/null 2>/dev/null && echo yes)
TAGS    ?= $(if $(OPENBLAS),openblas,)
# Packages that run goroutines concurrently: tested with -race as well.
RACE_PKGS = ./trial/... ./results/... ./data/... ./cmd/...

.PHONY: build test bench lint clean demo

build:
	$(GO) build -tags '$(TAGS)' -o $(BIN) ./cmd/sweep

# Tests run on the pure-Go backend, then the numerics and the pool again on
# OpenBLAS when it is there.
test:
	$(GO) vet ./...
	$(GO) test ./...
	$(GO) test -race $(RACE_PKGS)
	$(if $(OPENBLAS),$(GO) vet -tags openblas ./... && $(GO) test -tags openblas ./nn/... ./trial/...)

# The main job: the quickstart sweep on the data embedded in the binary,
# from scratch, ending with the leaderboard and the best net's test accuracy.
DEMO_DB ?= bin/demo.db
demo: build
	rm -f $(DEMO_DB)
	$(BIN) run sweeps/quickstart.toml --db $(DEMO_DB)

# Benchmarks beside the numpy yardstick, with ratios: see scripts/bench.sh.
bench:
	TAGS='$(TAGS)' scripts/bench.sh

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed: go install honnef.co/go/tools/cmd/staticcheck@latest"; fi

clean:
	rm -rf bin
