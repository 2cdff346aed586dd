#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /usr/bin/timeout in the guest, as kselftest's runner calls it:
#   timeout --foreground N timeout N cmd
# and expecting 124 when the time is up.
#
# busybox's timeout would kill the command alone. A test program's
# children can live on after it (the harness puts every test in a process
# group of its own, and a broken kernel can leave one blocked), keep the
# runner's output pipe open, and the guest then hangs until the host's
# limit. So the command runs in a session of its own, and whatever is
# left of that session goes when the time is up or the command ends.

# The outer call of the pair: the inner one, of the same length, does it.
if [ "$1" = --foreground ]; then
	shift
	shift
	exec "$@"
fi
secs=$1
shift

# The processes whose session id (field 6 of /proc/PID/stat) is $1.
session_pids() {
	sid=$1
	for stat in /proc/[0-9]*/stat; do
		fields=$(sed 's/.*) //' "$stat" 2>/dev/null) || continue
		# shellcheck disable=SC2086 # split into state ppid pgrp session
		set -- $fields
		[ "$4" = "$sid" ] || continue
		pid=${stat#/proc/}
		echo "${pid%/stat}"
	done
}

# Not a process group leader in a non-interactive shell: setsid() works
# in place, so $! is the session's id.
setsid "$@" &
leader=$!
expired=/tmp/.timeout-expired.$leader

(
	left=$secs
	while [ "$left" -gt 0 ] && kill -0 "$leader" 2>/dev/null; do
		sleep 1
		left=$((left - 1))
	done
	kill -0 "$leader" 2>/dev/null || exit 0
	: > "$expired"
	for sig in TERM KILL; do
		# shellcheck disable=SC2046 # a list of pids
		kill -"$sig" $(session_pids "$leader") 2>/dev/null
		sleep 1
	done
) > /dev/null 2>&1 &

wait "$leader"
rc=$?
# shellcheck disable=SC2046 # a list of pids
kill -KILL $(session_pids "$leader") 2>/dev/null
if [ -e "$expired" ]; then
	rm -f "$expired"
	rc=124
fi
exit $rc
