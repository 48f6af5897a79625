# sztp — see README.md.
GO        ?= go
BIN       ?= bin/sztp
VERSION   ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS   := -s -w -X main.version=$(VERSION)
GOFLAGS_STATIC := CGO_ENABLED=0
PREFIX    ?= /usr/local
DESTDIR   ?=

.PHONY: all build test test-arm64 unit deps demo bench fuzz vet fmt-check clean docs fleet

all: build

## build: the static agent binary (CGO_ENABLED=0, stripped) at bin/sztp, and the
##   other architecture's beside it (bin/sztp-linux-ARCH), to print both sizes
##   (with xz sizes) against the budgets: 8.75 MiB amd64, 8.25 MiB arm64
HOSTARCH  := $(shell $(GO) env GOARCH)
OTHERARCH := $(if $(filter arm64,$(HOSTARCH)),amd64,arm64)
build:
	$(GOFLAGS_STATIC) $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(BIN) ./cmd/sztp
	$(GOFLAGS_STATIC) GOOS=linux GOARCH=$(OTHERARCH) $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $(dir $(BIN))sztp-linux-$(OTHERARCH) ./cmd/sztp
	@scripts/check-size $(BIN) $(HOSTARCH)
	@scripts/check-size $(dir $(BIN))sztp-linux-$(OTHERARCH) $(OTHERARCH)

## docs: regenerate the man pages (docs/man) and Markdown reference (docs/cli)
##   from the command tree (internal/tools/gendocs; a test fails when stale)
docs:
	$(GO) run ./internal/tools/gendocs -out docs

## deps: install the Debian packages the tests need (as root), or fail naming them
deps:
	@scripts/install-deps

vet:
	$(GOFLAGS_STATIC) $(GO) vet ./...

fmt-check:
	@out=$$(gofmt -l $$(git ls-files '*.go' 2>/dev/null || find . -name '*.go')); \
	  [ -z "$$out" ] || { echo "gofmt needed: $$out" >&2; exit 1; }

## unit: go test -short: no root, network namespaces, dnsmasq or QEMU
unit:
	$(GOFLAGS_STATIC) $(GO) test -short ./...

## test: everything: vet, unit, integration (swtpm, dnsmasq, openssl, QEMU)
test: deps fmt-check vet build
	e2e/fetch-kernel >/dev/null
	e2e/fetch-kernel arm64 >/dev/null
	$(GOFLAGS_STATIC) $(GO) test -count=1 -timeout 60m ./...
	@# sztp demo (built only with -tags sztp_demo) and the CLI around it
	$(GOFLAGS_STATIC) $(GO) test -count=1 -tags sztp_demo ./cmd/sztp/
	@# the TPM reference simulator (cgo; never linked into the static agent)
	CGO_ENABLED=1 $(GO) test -count=1 -run Simulator ./tpm/
	@# httpx against net/http on generated messages (issue 10 item 10)
	$(GO) test -run '^$$' -fuzz '^FuzzDifferential$$' -fuzztime 15s ./internal/httpx
	@# the same tests built for linux/arm64, run under qemu-user (issue 15)
	$(MAKE) test-arm64

## test-arm64: every package's tests for linux/arm64 under qemu-aarch64 (binfmt).
##   -short: tests that need root (namespaces, dnsmasq, loop devices, mounts)
##   or QEMU skip in short mode; they run on amd64 above. e2e/ boots guests.
test-arm64:
	GO=$(GO) scripts/test-arm64

## demo: a full bootstrap against the embedded server, in a temporary directory.
##   The embedded servers are built only with -tags sztp_demo (bin/sztp-demo):
##   the agent a device runs (bin/sztp, make dist, make deb) leaves them out.
DEMO_BIN ?= bin/sztp-demo
demo:
	$(GOFLAGS_STATIC) $(GO) build -tags sztp_demo -trimpath -ldflags='$(LDFLAGS)' -o $(DEMO_BIN) ./cmd/sztp
	$(DEMO_BIN) demo

## bench: benchmarks with ratios against baselines measured in the same run
bench: build
	$(GO) test -run '^$$' -bench . -benchtime 3x ./...
	GO=$(GO) scripts/bench-image $(BIN)

## fleet: 10,000 agents (real client, real TLS on loopback) against one
##   bootstrap server of fixed capacity; the agent's retry policy, then a
##   naive fixed-interval one; figures on stdout, rate plot in bin/fleet.svg
FLEET_FLAGS ?=
fleet:
	@mkdir -p bin
	$(GO) run ./cmd/sztp-fleet $(FLEET_FLAGS)

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

# ---- images, end-to-end test, release binaries, installation (issue 7) ----

.PHONY: initramfs e2e e2e-timeline dist deb install

## initramfs: u-root initramfs with `sztp run` as uinit, at INITRAMFS.
##   Bake trust anchors and a config file in with SERVER_TRUST_ANCHOR=F,
##   VOUCHER_TRUST_ANCHOR=F, SZTP_CONFIG=F (-> /etc/sztp/config.yaml);
##   the kernel command line (sztp.url=, sztp.<flag>=; not trust inputs) does the rest.
INITRAMFS ?= bin/initramfs.cpio
INITRAMFS_ARCH ?= amd64
initramfs:
	e2e/build-initramfs -o $(INITRAMFS) --arch $(INITRAMFS_ARCH) \
	  $(if $(SERVER_TRUST_ANCHOR),--server-trust-anchor $(SERVER_TRUST_ANCHOR)) \
	  $(if $(VOUCHER_TRUST_ANCHOR),--voucher-trust-anchor $(VOUCHER_TRUST_ANCHOR)) \
	  $(if $(SZTP_CONFIG),--file $(SZTP_CONFIG):etc/sztp/config.yaml)

## e2e: the QEMU end-to-end tests (root; DHCP option 143, vTPM, kexec), verbose:
##   amd64 (qemu-system-x86_64) and arm64 (qemu-system-aarch64 -M virt, TCG;
##   TestQEMUEndToEndArm64SingleBoot prints "timeline arm64-single-boot: ...")
e2e: deps
	$(GO) test -count=1 -v -timeout 40m ./e2e/...

## e2e-timeline: the boot timelines (seconds since QEMU started) of the
##   single-boot and two-boot (kexec) scenarios
e2e-timeline: deps
	@mkdir -p bin
	@$(GO) test -count=1 -v -timeout 20m -run 'TestQEMUSingleBootTimeline|TestQEMUEndToEnd' ./e2e/ > bin/e2e-timeline.log 2>&1; rc=$$?; \
	  grep -E 'timeline (single|two)-boot:|^(--- |ok|FAIL)' bin/e2e-timeline.log; \
	  echo "(full log: bin/e2e-timeline.log)"; exit $$rc

## dist: static linux/amd64 and linux/arm64 binaries, sizes (and xz sizes)
##   against the budgets (scripts/check-size), SHA256SUMS in DIST
DIST ?= dist
dist:
	@mkdir -p $(DIST)
	@set -e; for arch in amd64 arm64; do \
	  out=$(DIST)/sztp-linux-$$arch; \
	  CGO_ENABLED=0 GOOS=linux GOARCH=$$arch $(GO) build -trimpath -ldflags='$(LDFLAGS)' -o $$out ./cmd/sztp; \
	  scripts/check-size $$out $$arch; \
	done
	cd $(DIST) && sha256sum sztp-linux-amd64 sztp-linux-arm64 > SHA256SUMS && cat SHA256SUMS

## deb: DIST/sztp_VERSION_amd64.deb and _arm64.deb (scripts/build-deb: binary,
##   systemd unit, man pages, bash completion, /etc/sztp/config.yaml conffile);
##   VERSION is git describe mapped to a Debian version (scripts/deb-version)
DEB_VERSION ?= $(shell scripts/deb-version $(VERSION))
deb: dist build
	@set -e; for arch in amd64 arm64; do \
	  scripts/build-deb $$arch '$(DEB_VERSION)' $(DIST)/sztp-linux-$$arch $(DIST) $(BIN); \
	done

## install: the binary and the systemd unit under DESTDIR/PREFIX
BINDIR ?= $(PREFIX)/bin
SYSTEMDUNITDIR ?= $(PREFIX)/lib/systemd/system
install: build
	install -D -m 0755 $(BIN) $(DESTDIR)$(BINDIR)/sztp
	@mkdir -p $(DESTDIR)$(SYSTEMDUNITDIR)
	sed 's|@BINDIR@|$(BINDIR)|g' packaging/systemd/sztp.service.in > $(DESTDIR)$(SYSTEMDUNITDIR)/sztp.service
	chmod 0644 $(DESTDIR)$(SYSTEMDUNITDIR)/sztp.service
