#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# check-faults.sh - show on real guests that the harness turns a panic, a
# hang, a soft lockup, a hung task and an RCU stall into a clear message
# and the right exit code, well within the time limit, instead of a hang
# or a false pass. Needs base, up and smp4 built (check.sh builds them);
# the lockups come from LKDTM (scripts/lockup.config).

. "$(dirname "$0")/lib.sh"

bad=0

# expect_exit CODE FLAVOUR WHAT [VAR=value...] - one broken guest.
expect_exit() {
	local want=$1 flavour=$2 what=$3 results=$BUILD/$2/faults rc
	shift 3
	mkdir -p "$results"
	set +e
	env RESULTS="$results/$what" "$@" "$TOP/scripts/run-qemu.sh" "$flavour" skip \
		> "$results/$what.out" 2>&1
	rc=$?
	set -e
	if [ "$rc" -eq "$want" ]; then
		echo "faults: $what ($flavour): exit $rc after $(sed -n 's/.*guest ran \([0-9]*s\).*/\1/p' "$results/$what.out")," \
			"as expected: $(grep -m1 '^  ' "$results/$what.out" | sed 's/^  //')"
	else
		echo "faults: $what ($flavour): expected exit $want, got $rc"
		cat "$results/$what.out"
		bad=1
	fi
}

# An init that makes the kernel misbehave through LKDTM, with the
# detectors' thresholds cut to seconds so that the proof stays cheap.
lkdtm_init() {
	echo "rdinit=/bin/busybox -- sh -c \"/bin/busybox --install -s; mount -t proc p /proc;" \
		"mount -t debugfs d /tmp; cd /proc/sys/kernel; $1;" \
		"echo $2 > /tmp/provoke-crash/DIRECT\""
}

# No init: the kernel panics ("No working init found").
expect_exit "$EXIT_NO_RESULT" base panic APPEND="rdinit=/nonexistent init=/nonexistent"
# An init that never ends: only the host's timeout stops it.
expect_exit "$EXIT_TIMEOUT" base hang TIMEOUT=15 APPEND="rdinit=/bin/busybox -- sleep 100000"
# A task spinning in the kernel on the one CPU: the soft lockup detector.
expect_exit "$EXIT_LOCKUP" up soft-lockup TIMEOUT=120 \
	APPEND="$(lkdtm_init "echo 2 > watchdog_thresh" SOFTLOCKUP)"
# A task in D state for good: the hung task detector.
expect_exit "$EXIT_LOCKUP" up hung-task TIMEOUT=120 \
	APPEND="$(lkdtm_init "echo 1 > hung_task_check_interval_secs; echo 2 > hung_task_timeout_secs" HUNG_TASK)"
# A CPU that never passes through a quiescent state, with the soft
# lockup detector off: RCU's stall warning, and panic_on_rcu_stall.
expect_exit "$EXIT_LOCKUP" smp4 rcu-stall TIMEOUT=120 \
	APPEND="rcupdate.rcu_cpu_stall_timeout=3 $(lkdtm_init "echo 0 > soft_watchdog; echo 1 > panic_on_rcu_stall" SOFTLOCKUP)"
[ $bad -eq 0 ] || die $EXIT_TESTS_FAILED "the harness mishandled a broken guest (above)"
