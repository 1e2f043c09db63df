# sweep — build, test, benchmark. See README.md.
GO      ?= go
BIN     ?= bin/sweep
# Packages that run goroutines concurrently: tested with -race as well.
RACE_PKGS = ./trial/... ./results/... ./cmd/...

.PHONY: build test bench lint clean

build:
	$(GO) build -o $(BIN) ./cmd/sweep

test:
	$(GO) vet ./...
	$(GO) test ./...
	$(GO) test -race $(RACE_PKGS)

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./nn/...

lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt: $$out"; exit 1; fi
	$(GO) vet ./...
	@if command -v staticcheck >/dev/null; then staticcheck ./...; else echo "staticcheck not installed: go install honnef.co/go/tools/cmd/staticcheck@latest"; fi

clean:
	rm -rf bin
