# SPDX-License-Identifier: GPL-2.0
#
# Packet pipes: the patch series, its selftests, and the QEMU harness.
# "make help" lists the targets; README.md explains them.

KERNEL ?= series
S := scripts
# The kernel trees (scripts/trees/*.lock). TREE=T picks one for tree,
# export, update-tree, check-series, check-bisect and bench; the last
# three take every tree when none is given, the others default to 6.12.
TREES := $(sort $(basename $(notdir $(wildcard $(S)/trees/*.lock))))

.PHONY: all help build run shell check selftest-harness check-series \
	tree export update-tree check-patches check-debug check-arm64 check-mutants check-bisect check-kselftest host-test \
	bench bench-host headers \
	clean distclean

all: run

help:
	@echo "make                 build the series kernel, boot it, run the suite"
	@echo "make check           harness self-tests, series checks, suite on base, stock, series, up, smp4,"
	@echo "                     stock-7.3, mainline; PREBUILD=\"F...\" also builds flavour F's kernel"
	@echo "                     at the lowest priority beside it (CI: debug and arm64-64k)"
	@echo "make run KERNEL=F    boot flavour F and run the suite; the flavours (scripts/flavours/,"
	@echo "                     with what the suite must show):"
	@$(S)/list-flavours.sh
	@echo "make shell KERNEL=F  interactive shell in flavour F's guest"
	@echo "make build KERNEL=F  only build flavour F's kernel and initramfs"
	@echo "make tree            dev tree with the series as commits (build/dev; TREE=7.3:"
	@echo "                     build/dev-7.3 with patches/mainline/)"
	@echo "make export          regenerate the series and the top-level suite from the dev tree"
	@echo "                     (TREE=7.3: patches/mainline/ from build/dev-7.3)"
	@echo "make update-tree     move the pins (scripts/*.lock, scripts/trees/TREE.lock) to the"
	@echo "                     newest packages served; VERSION=V picks the kernel package's version"
	@echo "make check-series    both series round-trip, match the suite, pass checkpatch (or TREE=T)"
	@echo "make check-debug     the suite on the mainline series kernel with lockdep, KASAN, UBSAN, ..."
	@echo "make check-arm64     the suite on the mainline series for arm64, 4 KiB and 64 KiB pages"
	@echo "make check-mutants   show that the suite fails on broken kernels"
	@echo "make check-bisect    build, boot and test every prefix of both series (or TREE=T)"
	@echo "make check-kselftest make kselftest TARGETS=pipe in each tree with its series applied,"
	@echo "                     run on the host kernel (or TREE=T)"
	@echo "make host-test       run the suite on the running (host) kernel (build/host-test)"
	@echo "make headers         the series' uapi headers in build/headers, linked as usr/"
	@echo "make bench           benchmark base, stock and series of both trees (build/bench/TREE/;"
	@echo "                     on 7.3 stock-7.3 is base and stock, mainline the series; or TREE=T)"
	@echo "make bench-host      benchmark the running (host) kernel"
	@echo "make clean           remove build outputs, keep the imported tree"
	@echo "make distclean       remove all of build/"

build:
	$(S)/build-kernel.sh $(KERNEL)
	$(S)/make-initramfs.sh $(KERNEL)

run: build
	$(S)/run-qemu.sh $(KERNEL)

shell: build
	SHELL_MODE=1 $(S)/run-qemu.sh $(KERNEL)

check:
	$(S)/check.sh

selftest-harness:
	python3 -m unittest discover -s $(S)/tests -t $(S) -v

check-series:
	@set -e; for t in $(or $(TREE),$(TREES)); do TREE=$$t $(S)/check-series.sh; done

tree:
	$(S)/make-tree.sh

export:
	$(S)/export-series.sh

update-tree:
	$(S)/update-tree.sh $(VERSION)

check-patches:
	$(S)/check-patches.sh

bench:
	@set -e; for t in $(or $(TREE),$(TREES)); do TREE=$$t $(S)/bench.sh; done

bench-host:
	$(S)/bench.sh host

# The mainline series kernel (7.3) with lockdep, KASAN, UBSAN, KFENCE, DEBUG_LIST,
# DEBUG_ATOMIC_SLEEP, DEBUG_VM and DEBUG_PAGEALLOC (scripts/debug.config)
# and the lockup detectors (scripts/lockup.config): any splat fails.
# The stress test's long mode runs there: STRESS_PACKETS packets. Its
# limits grow with the length asked for: 10 minutes for the rest of each
# program plus 5 ms a packet, and 15 minutes more for the whole guest. A
# million packets took 72 minutes there (4.3 ms each) on two cores shared
# with other builds (README.md). CI runs 100000 packets: limits of 18 and
# 33 minutes, within its budget even when something hangs.
STRESS_PACKETS ?= 1000000
STRESS_LIMIT = $(shell echo $$((600 + $(STRESS_PACKETS) / 200)))
check-debug:
	APPEND="PIPE_STRESS_PACKETS=$(STRESS_PACKETS) KSFT_TIMEOUT=$(STRESS_LIMIT)" \
	TIMEOUT=$$(($(STRESS_LIMIT) + 900)) $(MAKE) run KERNEL=debug

# The mainline series cross-built for arm64 (scripts/arch/arm64.sh), booted on
# QEMU's virt machine: 4 KiB pages, and 64 KiB pages, where one page
# holds a 64 KiB packet and a default pipe 1 MiB.
# ARM64_FLAVOURS=arm64-64k boots one of them (CI: .ci/run).
ARM64_FLAVOURS ?= arm64-4k arm64-64k
check-arm64:
	$(S)/run-flavours.sh $(ARM64_FLAVOURS)

check-mutants:
	$(S)/check-mutants.sh

check-bisect:
	@set -e; for t in $(or $(TREE),$(TREES)); do TREE=$$t $(S)/check-bisect.sh; done

check-kselftest:
	@set -e; for t in $(or $(TREE),$(TREES)); do TREE=$$t $(S)/check-kselftest.sh; done

host-test:
	$(S)/host-test.sh

headers:
	$(S)/install-headers.sh >/dev/null

# Keeps every build/FLAVOUR/linux source tree (and the imported repository).
clean:
	for d in build/*/; do \
		[ -d "$$d/linux" ] && find "$$d" -mindepth 1 -maxdepth 1 ! -name linux -exec rm -rf {} +; \
	done; rm -rf build/export build/export.diff

distclean:
	rm -rf build
