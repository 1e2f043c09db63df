# sweep — build, test, benchmark. See README.md.
GO      ?= go
BIN     ?= bin/sweep
# Packages that run goroutines concurrently: tested with -race as well.
RACE_PKGS = ./trial/... ./results/... ./data/... ./cmd/...

.PHONY: build test bench lint clean demo

build:
	$(GO) build -o $(BIN) ./cmd/sweep

test:
	$(GO) vet ./...
	$(GO) test ./...
	$(GO) test -race $(RACE_PKGS)

# The main job: the quickstart sweep on the data embedded in the binary,
# from scratch, ending with the leaderboard and the best net's test accuracy.
DEMO_DB ?= bin/demo.db
demo: build
	rm -f $(DEMO_DB)
	$(BIN) run sweeps/quickstart.toml --db $(DEMO_DB)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./nn/... ./data/... ./results/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed: go install honnef.co/go/tools/cmd/staticcheck@latest"; fi

clean:
	rm -rf bin
