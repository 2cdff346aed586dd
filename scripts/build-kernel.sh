#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# build-kernel.sh FLAVOUR - build build/FLAVOUR/kernel (the boot image of
# the flavour's architecture) out of tree from tinyconfig + the fragments
# flavour_fragments lists (+ EXTRA_CONFIG), and install the kernel headers
# the suite is compiled against. The up and smp4 flavours build the series
# kernel; the arm64 flavours cross-build it (scripts/arch/arm64.sh).
# Skips all work when the source commit and every fragment are unchanged.

. "$(dirname "$0")/lib.sh"

flavour=$(flavour_kernel "${1:?usage: build-kernel.sh FLAVOUR}")
load_arch "$flavour"
need_build_packages

commit=$("$TOP/scripts/prepare-source.sh" "$flavour")
src=$(flavour_src "$flavour")
out=$BUILD/$flavour
obj=$out/obj
mapfile -t fragments < <(flavour_fragments "$flavour")
[ -n "${EXTRA_CONFIG:-}" ] && fragments+=($EXTRA_CONFIG)

key=$({ echo "$commit"; cat "${fragments[@]}" "$0"; } | sha256sum | cut -c1-16)
if [ -f "$out/kernel" ] && [ "$(cat "$out/build.key" 2>/dev/null)" = "$key" ]; then
	say "$flavour: kernel up to date ($(git -C "$src" log -1 --format=%h))"
	exit 0
fi

mkdir -p "$obj"
need_space "$obj" "$SPACE_BUILD" "building the $flavour kernel"
rm -f "$out/build.key"
# ccache: the x86-64 flavours of a tree share one config, so all but the
# first build of a make check are mostly cache hits.
# A record with "ccache: depend" (a config no other flavour shares): no
# preprocessor run at all, the key made from the files kbuild's -MMD
# lists. A miss then costs about 1.13 times gcc alone instead of 1.3 to
# 1.5, but no other config's objects can ever be found by their
# preprocessed text.
export CCACHE_BASEDIR=$BUILD CCACHE_NOHASHDIR=1
[ "$(flavour_field "$flavour" ccache)" != depend ] || export CCACHE_DEPEND=1
kmake() {
	make -s -C "$src" O="$obj" ARCH="$KARCH" CROSS_COMPILE="$CROSS_COMPILE" \
		CC="ccache ${CROSS_COMPILE}gcc" HOSTCC="ccache gcc" -j"$(nproc)" "$@"
}

say "$flavour: configuring (tinyconfig + ${#fragments[@]} fragments)"
kmake tinyconfig >/dev/null
"$src/scripts/kconfig/merge_config.sh" -m -O "$obj" "$obj/.config" "${fragments[@]}" >/dev/null
kmake olddefconfig >/dev/null
# merge_config.sh drops options that do not exist or whose dependencies are
# missing without a word: check that every requested line made it. Where
# two fragments set one option, the later one's line is the request. An
# option that only other architectures have (the suite's config is shared
# by all) is not asked of this one.
other_arch_only() {
	local files
	files=$(git -C "$src" grep -l "^config ${1#CONFIG_}\$" -- '*Kconfig*') || return 1
	! grep -qv '^arch/' <<< "$files" && ! grep -q "^arch/$SRCARCH/" <<< "$files"
}
declare -A want from
for f in "${fragments[@]}"; do
	while read -r line; do
		case $line in
		CONFIG_*=*) want[${line%%=*}]=$line; from[${line%%=*}]=$f ;;
		esac
	done < "$f"
done
missing=0
for sym in $(printf '%s\n' "${!want[@]}" | sort); do
	line=${want[$sym]}
	case $line in
	*=n) grep -q "^$sym=" "$obj/.config" || continue
		echo "  ${from[$sym]}: $line became $(grep "^$sym=" "$obj/.config")" >&2 ;;
	*) grep -qxF "$line" "$obj/.config" && continue
		other_arch_only "$sym" && continue
		echo "  ${from[$sym]}: $line did not survive olddefconfig" >&2 ;;
	esac
	missing=1
done
[ $missing -eq 0 ] || die $EXIT_BUILD "$flavour: kernel config is missing requested options (above)"

say "$flavour: building $(git -C "$src" log -1 --format='%h %s') (minutes cold, seconds from a warm ccache)"
log=$out/build.log
if ! kmake "$KIMAGE_TARGET" headers >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	die $EXIT_BUILD "$flavour: kernel build failed (full log: $log)"
fi
# gen_init_cpio builds the initramfs without root rights.
kmake usr/gen_init_cpio >>"$log" 2>&1 || die $EXIT_BUILD "$flavour: usr/gen_init_cpio failed"
cp "$obj/$KIMAGE" "$out/kernel"
echo "$key" > "$out/build.key"
say "$flavour: $(du -k "$out/kernel" | cut -f1) KiB $KIMAGE_TARGET ready"
