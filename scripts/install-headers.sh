#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# install-headers.sh - install the series tree's uapi headers into
# build/headers/usr/include ("make headers_install", once per commit) and
# link the repository's usr/ to them, where kselftest's lib.mk looks by
# default (-isystem <top>/usr/include), so that the suite builds outside
# the harness too: make -C tools/testing/selftests/pipe. Prints the
# include directory.

. "$(dirname "$0")/lib.sh"

need_packages gcc:gcc make:make rsync:rsync
commit=$("$TOP/scripts/prepare-source.sh" series)
src=$(flavour_src series)
out=$BUILD/headers
if [ "$(cat "$out/commit" 2>/dev/null)" != "$commit" ]; then
	say "installing the uapi headers of $(git -C "$src" log -1 --format=%h) into $out"
	rm -rf "$out"
	make -s -C "$src" O="$out" headers_install >&2 ||
		die $EXIT_BUILD "make headers_install failed in $src"
	echo "$commit" > "$out/commit"
fi
# A link the clone ignores (.gitignore), like tools/testing/selftests/lib.mk.
[ "$(readlink "$TOP/usr" 2>/dev/null)" = build/headers/usr ] || ln -sfn build/headers/usr "$TOP/usr"
echo "$out/usr/include"
