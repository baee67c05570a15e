# pact build, test and lint targets. `make help` lists them.
#
# `make` builds bin/<goos>-<goarch>/pact for this machine. Setting GOARCH
# means cross-building for a device, so GOOS then defaults to linux:
#
#   GOARCH=arm64 make            -> bin/linux-arm64/pact  (Pi 3/4/5, 64-bit OS)
#   GOARCH=arm GOARM=7 make      -> bin/linux-armv7/pact  (Pi 2/3/4, 32-bit OS)
#   GOARCH=arm GOARM=6 make      -> bin/linux-armv6/pact  (Pi Zero W, Pi 1)
#
# Binaries are static (CGO_ENABLED=0), stripped and built with -trimpath.

GO ?= go

# Queried with 2>/dev/null so that a missing go reaches need-go's message
# instead of a screen of "go: not found".
HOST_GOOS   := $(shell $(GO) env GOHOSTOS 2>/dev/null)
HOST_GOARCH := $(shell $(GO) env GOHOSTARCH 2>/dev/null)

ifneq ($(origin GOARCH),undefined)
GOOS ?= linux
endif
GOOS   ?= $(HOST_GOOS)
GOARCH ?= $(HOST_GOARCH)
ifeq ($(GOARCH),arm)
GOARM ?= $(shell GOARCH=arm $(GO) env GOARM 2>/dev/null)
endif

comma := ,
# archdir(goarch, goarm): arm binaries are told apart by their ARM version
# ("6,softfloat" counts as 6); every other architecture by its name.
archdir = $(if $(filter arm,$(1)),armv$(firstword $(subst $(comma), ,$(2))),$(1))

BIN      := bin/$(GOOS)-$(call archdir,$(GOARCH),$(GOARM))/pact
HOST_BIN := bin/$(HOST_GOOS)-$(call archdir,$(HOST_GOARCH),$(shell $(GO) env GOARM 2>/dev/null))/pact

MODULE  := github.com/seed44533760/pact
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
COMMIT  ?= $(shell git rev-parse --short -q --verify HEAD 2>/dev/null || echo unknown)
LDFLAGS := -s -w -X $(MODULE)/internal/version.Version=$(VERSION) -X $(MODULE)/internal/version.Commit=$(COMMIT)

# Commands that run on this machine pin GOOS/GOARCH to the host, so that a
# GOARCH=arm64 left in the environment cannot turn them into cross builds.
HOSTENV := GOOS=$(HOST_GOOS) GOARCH=$(HOST_GOARCH)

# Flags for the two test runs. qemu-user is slow, so the arm64 run skips the
# heavy sweeps (tests check testing.Short()); `make test ARM_TESTFLAGS=` runs all.
TESTFLAGS     ?=
ARM_TESTFLAGS ?= -short
# On a 64-bit Linux Pi the arm64 tests run natively; elsewhere under qemu-user.
ifeq ($(HOST_GOOS)-$(HOST_GOARCH),linux-arm64)
ARM64_EXEC :=
ARM64_NEEDS :=
else
ARM64_EXEC := -exec qemu-aarch64-static
ARM64_NEEDS := need-qemu
endif

# make bench runs the comparative benchmarks of ./bench/ (pact against
# hashicorp/raft and against the floor, crash detection and bytes on the wire
# against bare memberlist, scale; docs/BENCHMARKS.md) in about 10 minutes,
# and scripts/footprint.sh for FOOTPRINT_SECS more, then prints the table of
# ratios (bench/cmd/benchtable). BENCHPKG=./...
# runs every benchmark of the module too: the agents' take far longer at
# the default BENCHTIME, see docs/BENCHMARKS.md for the counts they want.
# The raw output is kept in BENCHOUT.
BENCH        ?= .
BENCHTIME    ?= 1s
BENCHPKG     ?= ./bench/
BENCHTIMEOUT ?= 60m
BENCHOUT     ?= bin/bench.out
# make bench also runs scripts/footprint.sh for this long (10 requests/s);
# 0 skips it.
FOOTPRINT_SECS ?= 600
DEMOFLAGS ?=

# staticcheck is pinned: 2026.2.2 (module v0.8.2) is the first release checked
# to understand Go 1.26. It installs into bin/tools, never into GOPATH/bin.
STATICCHECK_VERSION ?= v0.8.2
STATICCHECK := bin/tools/staticcheck-$(STATICCHECK_VERSION)/staticcheck

# nfpm packs the .deb (make deb). Pinned like staticcheck, into bin/tools,
# and not a module dependency.
NFPM_VERSION ?= v2.45.2
NFPM := bin/tools/nfpm-$(NFPM_VERSION)/nfpm
DIST ?= dist

.PHONY: build cross test test-race test-cross test-arm64 test-armv6 test-faults bench fuzz lint demo deb deb-check clean help need-go need-cc need-qemu need-mosquitto need-netns

build: need-go
	CGO_ENABLED=0 GOOS=$(GOOS) GOARCH=$(GOARCH) $(if $(filter arm,$(GOARCH)),GOARM=$(GOARM)) \
		$(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/pact
	@echo "built $(BIN) ($(VERSION), commit $(COMMIT))"

cross: need-go
	$(MAKE) --no-print-directory build GOOS=linux GOARCH=arm64
	$(MAKE) --no-print-directory build GOOS=linux GOARCH=arm GOARM=7
	$(MAKE) --no-print-directory build GOOS=linux GOARCH=arm GOARM=6
	$(MAKE) --no-print-directory build GOOS=$(HOST_GOOS) GOARCH=$(HOST_GOARCH)

test: test-race test-cross

# The test binaries of the Pis' architectures, under qemu-user (natively on a
# 64-bit Pi): every package on arm64, the hardware layer on armv6.
test-cross: test-arm64 test-armv6

test-race: need-go need-cc need-mosquitto
	CGO_ENABLED=1 $(HOSTENV) $(GO) test -race $(TESTFLAGS) ./...

test-arm64: need-go $(ARM64_NEEDS)
	CGO_ENABLED=0 GOOS=linux GOARCH=arm64 $(GO) test $(ARM64_EXEC) $(ARM_TESTFLAGS) ./...

# The oldest Pis (Zero W, 1) run 32-bit ARMv6: the hardware layer's tests run
# there too, under qemu-user, since a struct laid out differently on 32 bits
# is exactly what an ioctl would trip over.
test-armv6: need-go need-qemu
	@command -v qemu-arm-static >/dev/null 2>&1 || { echo "make: qemu-arm-static not found: install qemu-user-static" >&2; exit 1; }
	CGO_ENABLED=0 GOOS=linux GOARCH=arm GOARM=6 $(GO) test -exec qemu-arm-static $(ARM_TESTFLAGS) ./hw/... ./agent/hwspec/

# The fault-injection suite (faults/README.md): real agents in network
# namespaces that it partitions, kills, freezes and cuts off from a broker it
# restarts. It needs root and `ip netns` (its tests skip without them) and
# takes about 5 minutes on two cores; FAULTSFLAGS passes go test flags, e.g.
# FAULTSFLAGS='-run Partitions'.
FAULTS_TIMEOUT ?= 12m
FAULTSFLAGS    ?=
test-faults: need-go need-mosquitto need-netns
	$(MAKE) --no-print-directory build GOOS=$(HOST_GOOS) GOARCH=$(HOST_GOARCH)
	$(HOSTENV) $(GO) vet -tags faults ./faults/
	PACT_BIN=$(CURDIR)/$(HOST_BIN) $(HOSTENV) $(GO) test -tags faults -count=1 -v -timeout $(FAULTS_TIMEOUT) $(FAULTSFLAGS) ./faults/

bench: need-go
	@mkdir -p $(dir $(BENCHOUT))
	@{ $(HOSTENV) $(GO) test -run '^$$' -bench '$(BENCH)' -benchtime $(BENCHTIME) -benchmem -timeout $(BENCHTIMEOUT) $(BENCHPKG) 2>&1; \
		echo $$? > $(BENCHOUT).rc; } | tee $(BENCHOUT)
	@if [ "$(FOOTPRINT_SECS)" != 0 ]; then scripts/need-mosquitto.sh && scripts/footprint.sh $(FOOTPRINT_SECS) 10 | tee -a $(BENCHOUT); fi
	@$(HOSTENV) $(GO) run ./bench/cmd/benchtable < $(BENCHOUT)
	@rc=$$(cat $(BENCHOUT).rc); rm -f $(BENCHOUT).rc; exit $$rc

# make fuzz: every native fuzz target, FUZZTIME each, FUZZJOBS packages at
# a time (go test -fuzz takes one target per package per run; each run uses
# one fuzz worker). Plain go test replays every target's committed corpus
# (testdata/fuzz/<target>), so this only looks further. A crasher is saved
# there too: commit it with the fix, and go test replays it from then on.
# Each package's targets run one after another in one job; a job prints a
# target's output only when it fails, prefixed with the target. New inputs
# are minimized for at most 1s, not the default 60s, which would spend the
# whole budget of the targets whose seeds are kilobytes of YAML or JSON on
# their first find. Go 1.26's
# coordinator can report its own -fuzztime deadline as a failure under load
# (golang/go#75804, fixed in 1.27): a "context deadline exceeded" that wrote
# no failing input is reported and passes.
FUZZTIME ?= 10s
FUZZJOBS ?= 4
FUZZ_TARGETS := \
	./consensus/:FuzzUnmarshal ./consensus/:FuzzUnmarshalEvidence ./consensus/:FuzzVerifyCommit \
	./agent/:FuzzDecodeNodeMeta ./agent/:FuzzVetters \
	./agent/agreed/:FuzzDecode ./agent/agreed/:FuzzRestore \
	./agent/capability/:FuzzUnmarshal \
	./agent/config/:FuzzParse \
	./agent/identity/:FuzzParse \
	./agent/membership/:FuzzDecodeMeta \
	./agent/store/:FuzzDecodeGuard ./agent/store/:FuzzDecodeRecords ./agent/store/:FuzzOpen \
	./agent/transport/:FuzzReceive \
	./agent/wire/:FuzzDecodeRequest ./agent/wire/:FuzzDecodePayload ./agent/wire/:FuzzParseTopic

fuzz: need-go
	@echo "fuzz: $(words $(FUZZ_TARGETS)) targets, $(FUZZTIME) each, $(FUZZJOBS) packages at a time"
	@start=$$(date +%s); \
	printf '%s\n' $(foreach t,$(FUZZ_TARGETS),$(firstword $(subst :, ,$(t)))) | uniq | \
	FUZZ_TARGETS='$(FUZZ_TARGETS)' FUZZTIME='$(FUZZTIME)' $(HOSTENV) xargs -P '$(FUZZJOBS)' -I{} sh -c '\
		rc=0; \
		for pt in $$FUZZ_TARGETS; do \
			[ "$${pt%%:*}" = "$$1" ] || continue; t=$${pt#*:}; \
			if out=$$($(GO) test -run "^$$" -fuzz "^$$t\$$" -fuzztime "$$FUZZTIME" -fuzzminimizetime 1s -parallel 1 "$$1" 2>&1); then \
				echo "fuzz: ok   $$1 $$t ($$(echo "$$out" | grep -o "execs: [0-9]*" | tail -n 1))"; \
			elif echo "$$out" | grep -q "context deadline exceeded" && ! echo "$$out" | grep -q "Failing input written"; then \
				echo "fuzz: ok   $$1 $$t ($$(echo "$$out" | grep -o "execs: [0-9]*" | tail -n 1); Go 1.26 reported its own deadline as a failure, golang/go#75804)"; \
			else \
				rc=1; echo "$$out" | sed "s|^|$$t: |"; \
				echo "fuzz: FAIL $$1 $$t: the input is saved under $${1}testdata/fuzz/$$t/ (go test -run $$t $$1 replays it)"; \
			fi; \
		done; exit $$rc' sh {}; \
	rc=$$?; echo "fuzz: took $$(( $$(date +%s) - start ))s"; exit $$rc

lint: need-go $(STATICCHECK)
	$(HOSTENV) $(GO) vet ./...
	$(HOSTENV) $(STATICCHECK) ./...

$(STATICCHECK):
	@$(MAKE) --no-print-directory need-go
	$(HOSTENV) GOBIN=$(CURDIR)/$(dir $(STATICCHECK)) $(GO) install honnef.co/go/tools/cmd/staticcheck@$(STATICCHECK_VERSION)

# The demo needs nothing but the binary: its MQTT broker is built in, its
# agents run in the one process on loopback. DEMOFLAGS passes flags through,
# e.g. make demo DEMOFLAGS='--mqtt-port 0 --nodes 7 --byzantine 2'.
demo:
	$(MAKE) --no-print-directory build GOOS=$(HOST_GOOS) GOARCH=$(HOST_GOARCH)
	$(HOST_BIN) demo $(DEMOFLAGS)

# The Debian package of the binary `make build` makes for GOARCH/GOARM:
# $(DIST)/pact_<version>_<debarch>.deb (packaging/README.md).
deb: build $(NFPM)
	scripts/build-deb.sh $(NFPM) $(BIN) $(GOOS) $(GOARCH) '$(GOARM)' '$(VERSION)' '$(COMMIT)' $(DIST)

$(NFPM):
	@$(MAKE) --no-print-directory need-go
	$(HOSTENV) GOBIN=$(CURDIR)/$(dir $(NFPM)) $(GO) install github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION)

# Builds the arm64 and host packages and checks them: contents, unit,
# maintainer scripts (scripts/check-deb.sh). Installs nothing on this machine.
deb-check: need-go $(NFPM)
	GO=$(GO) NFPM=$(NFPM) scripts/check-deb.sh

clean:
	rm -rf bin/ dist/ coverage.out *.test *.prof

need-go:
	@command -v $(GO) >/dev/null 2>&1 || { echo "make: '$(GO)' not found on PATH: install Go 1.26 or newer (https://go.dev/dl) and add its bin directory to PATH" >&2; exit 1; }

need-cc:
	@cc="$$($(GO) env CC)"; command -v "$$cc" >/dev/null 2>&1 || { echo "make: go test -race needs cgo, but the C compiler '$$cc' is missing: install gcc (apt-get install -y gcc) or set CC" >&2; exit 1; }

need-qemu:
	@scripts/need-qemu.sh

need-mosquitto:
	@scripts/need-mosquitto.sh

need-netns:
	@scripts/need-netns.sh

help:
	@echo "make [build]     build bin/<goos>-<goarch>/pact (GOARCH=arm64 | GOARCH=arm GOARM=7|6 for Pis)"
	@echo "make cross       build linux arm64, armv7, armv6 and the host"
	@echo "make test        go test -race, then the linux/arm64 tests and the armv6 hardware tests under qemu-user (ARM_TESTFLAGS=$(ARM_TESTFLAGS))"
	@echo "make test-cross  only the linux/arm64 tests and the armv6 hardware tests under qemu-user"
	@echo "make test-faults the fault-injection suite as root: agents in network namespaces, partitions, kill -9, SIGSTOP, broker restarts (faults/README.md)"
	@echo "make bench       pact against raft, the floor and memberlist, scale, footprint; then the table (BENCH=regex BENCHTIME=1s FOOTPRINT_SECS=600; 0 skips it)"
	@echo "make fuzz        run every fuzz target for FUZZTIME=$(FUZZTIME), FUZZJOBS=$(FUZZJOBS) packages at a time"
	@echo "make lint        go vet and staticcheck $(STATICCHECK_VERSION)"
	@echo "make demo        build, then run pact demo: 5 agents (1 equivocating) and an MQTT broker in one process, narrated (DEMOFLAGS=...)"
	@echo "make deb         build $(DIST)/pact_<version>_<debarch>.deb for GOARCH/GOARM (arm64, armhf, host) with nfpm $(NFPM_VERSION)"
	@echo "make deb-check   build the arm64 and host packages and check their contents, systemd unit and maintainer scripts"
	@echo "make clean       remove bin/ and dist/"
