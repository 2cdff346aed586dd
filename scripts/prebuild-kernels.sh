#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# prebuild-kernels.sh FLAVOUR... - build the kernels of FLAVOURs, one after
# another, at nice 19 and the idle I/O class: mostly on the cycles that
# another run leaves idle, so that it slows that run little. make check runs
# it beside itself when PREBUILD names flavours (CI names those of
# make check-debug and make check-arm64, which then only boot them).
#
# Nice 19 rather than SCHED_IDLE: a build at SCHED_IDLE can be starved
# while it holds one of ccache's lock files, and a build at normal
# priority waits for it.

. "$(dirname "$0")/lib.sh"

[ $# -gt 0 ] || die $EXIT_USAGE "usage: prebuild-kernels.sh FLAVOUR..."
need_packages ionice:util-linux
for f in "$@"; do
	flavour_kernel "$f" >/dev/null
done

# Its output reaches make check's log only at the end: each build says
# when it started and how long it took, measured here.
for f in "$@"; do
	start=$(date +%s)
	say "$f: building beside, from $(date +%T)"
	nice -n 19 ionice -c 3 "$TOP/scripts/build-kernel.sh" "$f" ||
		die $EXIT_BUILD "$f: kernel build failed"
	say "$f: built beside in $(($(date +%s) - start)) s, until $(date +%T)"
done
say "built the kernels of: $*"
