#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# /usr/bin/timeout in the guest. kselftest's runner calls coreutils-style
# "timeout --foreground N cmd" and expects 124 on expiry; busybox rejects
# --foreground and exits 143 when it kills the command.
[ "$1" = --foreground ] && shift
busybox timeout "$@"
rc=$?
[ $rc -eq 143 ] && rc=124
exit $rc
