# sztp — see README.md.
GO        ?= go
BIN       ?= bin/sztp
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
GOFLAGS_STATIC := CGO_ENABLED=0
PREFIX    ?= /usr/local
DESTDIR   ?=

.PHONY: all build test unit deps demo bench fuzz vet fmt-check clean

all: build

## build: the static agent binary (CGO_ENABLED=0, stripped) at bin/sztp
build:
	$(GOFLAGS_STATIC) $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(BIN) ./cmd/sztp
	@file $(BIN) | grep -q 'statically linked' || { echo "$(BIN) is not statically linked" >&2; exit 1; }
	@size=$$(stat -c %s $(BIN)); echo "$(BIN): $$size bytes ($$(awk -v s=$$size 'BEGIN{printf "%.2f", s/1048576}') MiB)"; \
	  [ $$size -le 8388608 ] || { echo "$(BIN) is over the 8 MiB budget" >&2; exit 1; }

## deps: install the Debian packages the tests need (as root), or fail naming them
deps:
	@scripts/install-deps

vet:
	$(GOFLAGS_STATIC) $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  [ -z "$$out" ] || { echo "gofmt needed: $$out" >&2; exit 1; }

## unit: pure-Go tests only (no root, no outside programs)
unit:
	$(GOFLAGS_STATIC) $(GO) test -short ./...

## test: everything: vet, unit, integration (swtpm, dnsmasq, openssl, QEMU)
test: deps fmt-check vet build
	$(GOFLAGS_STATIC) $(GO) test -count=1 -timeout 40m ./...
	@# the TPM reference simulator (cgo; never linked into the static agent)
	CGO_ENABLED=1 $(GO) test -count=1 -run Simulator ./tpm/

## demo: a full bootstrap against the embedded server, in a temporary directory
demo: build
	$(BIN) demo

## bench: benchmarks with ratios against baselines measured in the same run
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./...
	GO=$(GO) scripts/bench-image $(BIN)

## fuzz: run every fuzz target for FUZZTIME each
FUZZTIME ?= 20s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "== $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
