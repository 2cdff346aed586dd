# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the host-side scripts. Source it, do not run it.

set -euo pipefail
# A failure inside $(...) ends the script too, as it would outside.
shopt -s inherit_errexit

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
# The kernel trees, one lock each: scripts/trees/NAME.lock pins a Debian
# package and names the tree's repository, series and dev tree. TREE (the
# environment, or a flavour's "tree:") picks one; 6.12 unless told.
TREES=$TOP/scripts/trees

# lock_get FILE KEY - the value of "KEY: value" in a lock file.
lock_get() {
	sed -n "s/^$2: //p" "$1"
}

tree_names() {
	(cd "$TREES" && ls -- *.lock | sed 's/\.lock$//')
}

# select_tree NAME - point every per-tree setting at tree NAME:
#   TREE_LOCK    its lock file
#   KERNEL_REPO  the imported repository (build/REPO/linux: tags import,
#                base); its work tree is the stock source, the other
#                flavours of the tree are its worktrees
#   SERIES_DIR   its patch series (patches/ or patches/mainline/)
#   DEV_TREE     its dev tree (make tree, make export)
select_tree() {
	TREE=$1
	TREE_LOCK=$TREES/$TREE.lock
	[ -f "$TREE_LOCK" ] ||
		die $EXIT_USAGE "unknown tree '$TREE' (scripts/trees/: $(tree_names | paste -sd ' '))"
	KERNEL_REPO=$(tree_repo "$TREE")
	SERIES_DIR=$TOP/$(tree_field "$TREE" series)
	DEV_TREE=$BUILD/$(tree_field "$TREE" dev)
	export TREE
}

# tree_field TREE KEY - a field of scripts/trees/TREE.lock.
tree_field() {
	lock_get "$TREES/$1.lock" "$2"
}

# tree_repo TREE - the imported repository of TREE.
tree_repo() {
	echo "$BUILD/$(tree_field "$1" repo)/linux"
}

# series_diff DIR OTHER [DIFF OPTIONS] - diff a series directory against
# another, leaving out the series of other trees kept below it
# (patches/mainline/ is inside patches/).
series_diff() {
	local dir=$1 other=$2
	shift 2
	diff "$@" $(find "$dir" -mindepth 1 -maxdepth 1 -type d -printf '--exclude=%f\n') \
		"$dir" "$other"
}

# The name a path has in messages: relative to the top directory.
rel() {
	echo "${1#"$TOP"/}"
}

# Exit codes shared by every script (documented in README.md).
EXIT_TESTS_FAILED=1
EXIT_USAGE=2
EXIT_PATCH=3
EXIT_BUILD=4
EXIT_NO_RESULT=5
EXIT_TIMEOUT=6
EXIT_SPLAT=7
EXIT_LOCKUP=8
EXIT_PINNED=9
EXIT_NO_SPACE=10

# Free disk space, in GiB, that a step needs before it starts (need_space),
# from what each wrote in a cold .ci/run on 2026-12-06, rounded up
# (README.md, "Disk"): importing a tree (the .deb, the unpacked tarball
# and its git objects: 2.4 GiB), checking out one worktree (1.7), building
# one kernel (0.35 for debug's objects), and a make check that starts
# without build/ (every tree, worktree and kernel it makes, the ccache it
# fills and the packages it installs: 16.4 for all of .ci/run).
SPACE_IMPORT=3
SPACE_WORKTREE=2
SPACE_BUILD=1
SPACE_CHECK=20

# Fixed identities and dates: the same input gives the same commit ids on
# every machine, so base-commit: in the cover letter stays valid.
export GIT_AUTHOR_NAME="Packet Pipe Harness" GIT_AUTHOR_EMAIL="harness@packet-pipe.invalid"
export GIT_COMMITTER_NAME="Packet Pipe Harness" GIT_COMMITTER_EMAIL="harness@packet-pipe.invalid"
export GIT_AUTHOR_DATE="2025-01-01T00:00:00Z" GIT_COMMITTER_DATE="2025-01-01T00:00:00Z"

say()  { printf '==> %s\n' "$*" >&2; }
die()  { local rc=$1; shift; printf 'error: %s\n' "$*" >&2; exit "$rc"; }

# background_start LOG CMD... - run CMD at the side, stdin from
# /dev/null, output in LOG, in a process group of its own (set -m): one
# signal stops all of it, and background jobs of a script would ignore
# SIGINT otherwise. Whatever way the script ends, background_stop runs
# (an EXIT trap: bash runs it also when a signal ends the script, and at
# once, where an INT or TERM trap would wait for the command in the
# foreground) and takes the group down. The trap is set before the job
# starts, so a signal in between leaves nothing behind. It owns the
# script's EXIT trap: it refuses a script that has one, and a script
# must not set one after it. background_wait returns CMD's status. One
# background job at a time.
background_pid=
background_start() {
	local log=$1
	shift
	[ -z "$(trap -p EXIT)" ] ||
		die $EXIT_USAGE "background_start: this script has an EXIT trap already"
	trap background_stop EXIT
	set -m
	"$@" </dev/null >"$log" 2>&1 &
	background_pid=$!
	set +m
}
# Under set -e, a failing command in an EXIT trap would replace the
# script's exit status: nothing here may fail. make cleans up before it
# ends on SIGTERM; the group gets 10 s to, then SIGKILL.
background_stop() {
	local i
	[ -n "$background_pid" ] || return 0
	kill -TERM -- "-$background_pid" 2>/dev/null || true
	wait "$background_pid" 2>/dev/null || true
	for ((i = 0; i < 100; i++)); do
		kill -0 -- "-$background_pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL -- "-$background_pid" 2>/dev/null || true
	background_pid=
}
background_wait() {
	local rc=0
	wait "$background_pid" || rc=$?
	background_pid=
	return "$rc"
}

# disk_free DIR - the free KiB and the mount point of the filesystem that
# holds DIR (where DIR does not exist yet, its nearest existing parent),
# on one line; fails when df cannot tell. --output: a device or mount
# point with a space in its name shifts no column.
disk_free() {
	local at=$1 hdr free mnt
	while [ ! -d "$at" ]; do at=$(dirname "$at"); done
	{ read -r hdr && read -r free mnt; } < <(df -k --output=avail,target "$at" 2>/dev/null) &&
		[[ $free =~ ^[0-9]+$ ]] || return 1
	printf '%s %s\n' "$free" "$mnt"
}

# need_space DIR GIB WHAT - stop with one message when the filesystem
# that holds DIR has less than GIB GiB free. A full disk shows up
# otherwise as hundreds of tar, git or compiler errors far from their
# cause.
need_space() {
	local dir=$1 gib=$2 what=$3 free mnt
	read -r free mnt < <(disk_free "$dir") ||
		die $EXIT_NO_SPACE "$what: cannot tell the free space on $(rel "$dir") (df -k --output=avail,target failed)"
	[ "$free" -lt $((gib * 1024 * 1024)) ] || return 0
	die $EXIT_NO_SPACE "$what needs about $gib GiB free on $mnt (for $(rel "$dir")), and $((free / 1024)) MiB are free there: free some space (make clean removes build/)"
}

# need_packages CMD:PACKAGE ... - install what is missing (as root) or name
# the apt-get line and stop.
need_packages() {
	local missing=() pair
	for pair in "$@"; do
		local probe=${pair%%:*} pkg=${pair#*:}
		case $probe in
		/*) [ -e "$probe" ] || missing+=("$pkg") ;;
		*)  command -v "$probe" >/dev/null 2>&1 || missing+=("$pkg") ;;
		esac
	done
	[ ${#missing[@]} -eq 0 ] && return 0
	if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null; then
		say "installing ${missing[*]}"
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 ||
			die $EXIT_USAGE "apt-get install ${missing[*]} failed"
	else
		die $EXIT_USAGE "missing packages; run: apt-get install ${missing[*]}"
	fi
}

git_k() { git -C "$KERNEL_REPO" "$@"; }

# Packages come from a private apt configuration (build/apt, sources from
# scripts/apt-sources.list): the machine's own sources, lists and dpkg
# architectures stay as they are, and every machine asks the same archive.
APT_DIR=$BUILD/apt
# apt_private apt-get|apt-cache ARGS...
apt_private() {
	local tool=$1
	shift
	"$tool" -q -o Dir::Etc::SourceList="$TOP/scripts/apt-sources.list" \
		-o Dir::Etc::SourceParts=/dev/null -o Dir::Etc::Preferences=/dev/null \
		-o Dir::Etc::PreferencesParts=/dev/null \
		-o Dir::State::Lists="$APT_DIR/lists" -o Dir::State::Status=/dev/null \
		-o Dir::Cache="$APT_DIR/cache" -o APT::Architectures::=amd64 \
		-o APT::Architectures::=arm64 "$@"
}

# apt_private_update - fetch the private lists (once per hour at most).
apt_private_update() {
	local stamp=$APT_DIR/updated
	if [ -n "$(find "$stamp" -mmin -60 2>/dev/null)" ]; then
		return 0
	fi
	need_packages apt-get:apt /usr/share/keyrings/debian-archive-keyring.gpg:debian-archive-keyring
	mkdir -p "$APT_DIR/lists/partial" "$APT_DIR/cache/archives/partial"
	say "reading the archive's package lists (scripts/apt-sources.list)"
	apt_private apt-get update >"$APT_DIR/update.log" 2>&1 ||
		die $EXIT_USAGE "apt-get update of scripts/apt-sources.list failed: $(tail -n 1 "$APT_DIR/update.log")"
	touch "$stamp"
}

# newest_version PKG[:ARCH] - the newest version the archive serves.
newest_version() {
	apt_private_update
	apt_private apt-cache madison "$1" 2>/dev/null | awk -F' [|] ' 'NR == 1 { print $2 }'
}

# fetch_deb PKG[:ARCH] VERSION SHA256 LOCK - print the path of the .deb of
# exactly that version (cached in build/debs), its SHA-256 checked. LOCK
# names the file that pins it. A version the archive no longer serves is
# an error that names the command moving the pin, never another version.
# SHA256 "-" skips the check (make update-tree, which records the hash).
fetch_deb() {
	local pkg=$1 version=$2 sha=$3 lock=$4 dir=$BUILD/debs file tmp got
	file=$dir/$(printf '%s_%s.deb' "${pkg/:/_}" "$version" | tr ':~' '%-')
	if [ ! -f "$file" ]; then
		need_packages dpkg-deb:dpkg
		apt_private_update
		mkdir -p "$dir"
		# A directory apt's download user (_apt) may write to.
		tmp=$(mktemp -d "$dir/.download.XXXXXX") && chmod 777 "$tmp"
		say "downloading $pkg $version"
		if ! (cd "$tmp" && apt_private apt-get download "$pkg=$version") >"$tmp/log" 2>&1; then
			rm -rf "$tmp"
			die $EXIT_PINNED "$pkg $version, pinned in ${lock#"$TOP"/}, is no longer served by the archive (newest: $(newest_version "$pkg")); move the pin with: make update-tree"
		fi
		mv "$tmp"/*.deb "$file"
		rm -rf "$tmp"
	fi
	got=$(sha256sum "$file" | cut -c1-64)
	if [ "$sha" != - ] && [ "$got" != "$sha" ]; then
		rm -f "$file"
		die $EXIT_PINNED "$pkg $version: SHA-256 $got, but ${lock#"$TOP"/} pins $sha; the archive serves other bytes under that version"
	fi
	echo "$file"
}

# Who the series is from (author and Signed-off-by of every patch).
SERIES_NAME=${SERIES_NAME:-Packet Pipe Team}
SERIES_EMAIL=${SERIES_EMAIL:-team@packet-pipe.invalid}

# A flavour is one record, scripts/flavours/NAME: a kernel tree, how it
# is built and how it is booted (as rcutorture keeps a scenario in
# configs/rcu/). Adding a flavour is adding a file. "key: value" lines,
# all but about optional:
#
#   about:   one line for "make help"
#   tree:    the kernel tree, scripts/trees/TREE.lock (6.12)
#   source:  base, stock or series: the tree prepare-source.sh checks out
#            (prefix, mutant: a tree check-bisect.sh or check-mutants.sh sets up)
#   kernel:  the flavour whose kernel and initramfs this one boots (its own)
#   arch:    x86_64 (default) or arm64: scripts/arch/ARCH.sh and .config
#   config:  config fragments after the common ones, relative to scripts/
#   cpus:    CPUs of the guest (2)
#   boot:    words for the kernel command line
#   expect:  what the suite must show (verdict.py): skip, pass or all (pass)
FLAVOURS=$TOP/scripts/flavours

flavour_names() {
	(cd "$FLAVOURS" && ls)
}

# flavour_field FLAVOUR KEY [DEFAULT]
flavour_field() {
	local record=$FLAVOURS/$1 value
	[ -f "$record" ] ||
		die $EXIT_USAGE "unknown flavour '$1' (scripts/flavours/: $(flavour_names | paste -sd ' '))"
	value=$(lock_get "$record" "$2" | tail -n 1)
	echo "${value:-${3:-}}"
}

flavour_tree() {
	flavour_field "$1" tree 6.12
}

# use_flavour FLAVOUR - select the tree FLAVOUR (or the flavour whose
# kernel it boots) is built from.
use_flavour() {
	select_tree "$(flavour_tree "$(flavour_kernel "$1")")"
}

# tree_flavour TREE SOURCE - the plain flavour of TREE built from SOURCE
# (base, stock, series, prefix): the one for the host's architecture with
# no config fragment of its own (not debug, not arm64-*). A tree that
# strips nothing has no base flavour: its base is the stock source.
tree_flavour() {
	local f
	for f in $(flavour_names); do
		if [ "$(flavour_tree "$f")" = "$1" ] && [ "$(flavour_field "$f" source)" = "$2" ] &&
		   [ "$(flavour_arch "$f")" = x86_64 ] && [ -z "$(flavour_field "$f" config)" ]; then
			echo "$f"
			return
		fi
	done
	if [ "$2" = base ] && [ -z "$(tree_field "$1" strip)" ]; then
		tree_flavour "$1" stock
		return
	fi
	die $EXIT_USAGE "no flavour of tree $1 is built from $2 (scripts/flavours/)"
}

# suite_upstream_files - the files upstream has in the suite's directory
# at the base of $TREE (7.3: Makefile, pipe_bench.c). The series changes
# them in place; the top-level suite holds only the files we wrote.
suite_upstream_files() {
	git_k ls-tree --name-only base -- tools/testing/selftests/pipe/ | sed 's|.*/||'
}

# tree_carries_suite SRC - the kernel tree SRC has our suite committed
# (a series tree once its selftests patch is in), not copied in.
tree_carries_suite() {
	git -C "$1" ls-files --error-unmatch tools/testing/selftests/pipe/packet_util.h >/dev/null 2>&1
}

# Source directory of a kernel flavour. Every flavour keeps its source in
# build/FLAVOUR/linux and its objects in build/FLAVOUR/obj: the same
# relative path, so ccache (CCACHE_BASEDIR=build) shares hits between them.
# A stock flavour's source is its tree's imported repository (tag import).
flavour_src() {
	if [ "$(flavour_field "$1" source)" = stock ]; then
		tree_repo "$(flavour_tree "$1")"
	else
		echo "$BUILD/$1/linux"
	fi
}

flavour_arch() {
	flavour_field "$1" arch x86_64
}

# load_arch FLAVOUR - set what differs between architectures (kernel ARCH
# and image, cross compiler, console, QEMU and its machine, the guest's
# busybox) from scripts/arch/ARCH.sh: one place per architecture.
load_arch() {
	# shellcheck source=arch/x86_64.sh
	. "$TOP/scripts/arch/$(flavour_arch "$1").sh"
}

# need_build_packages - what build-kernel.sh needs for the architecture
# load_arch loaded: checked (and installed) before any build starts, also
# by prebuild-kernels.sh, so that no two builds run apt-get at once.
need_build_packages() {
	need_packages gcc:gcc make:make flex:flex bison:bison bc:bc ccache:ccache \
		/usr/include/libelf.h:libelf-dev /usr/include/openssl/ssl.h:libssl-dev \
		"${ARCH_PACKAGES[@]}"
}

# Config fragments on top of tinyconfig, in order (where two set one
# option, the later wins): the common ones, the tree's (its lock's
# config:), then the record's. One config for all x86-64 flavours of a
# tree but debug, so that ccache shares the builds.
flavour_fragments() {
	local f
	echo "$TOP/scripts/platform.config"
	echo "$TOP/scripts/arch/$(flavour_arch "$1").config"
	echo "$TOP/tools/testing/selftests/pipe/config"
	echo "$TOP/scripts/lockup.config"
	for f in $(tree_field "$(flavour_tree "$(flavour_kernel "$1")")" config); do
		echo "$TOP/scripts/$f"
	done
	for f in $(flavour_field "$1" config); do
		echo "$TOP/scripts/$f"
	done
}

# A flavour may boot another's kernel in another way (up, smp4: the series
# kernel on one CPU without preemption, or preemptible on 4 CPUs): the
# kernel picks the preemption model at boot (CONFIG_PREEMPT_DYNAMIC), as
# distribution kernels do, and no second build is needed.
flavour_kernel() {
	flavour_field "$1" kernel "$1"
}

flavour_cpus() {
	flavour_field "$1" cpus 2
}

flavour_append() {
	flavour_field "$1" boot
}

flavour_expect() {
	flavour_field "$1" expect pass
}

PACKAGES_LOCK=$TOP/scripts/packages.lock

# pinned_package PKG:ARCH - unpack the .deb scripts/packages.lock pins for
# PKG:ARCH under build/pkg (once) and print the directory.
pinned_package() {
	local name version sha dir deb
	read -r name version sha < <(awk -v p="$1" '$1 == p' "$PACKAGES_LOCK")
	[ -n "${sha:-}" ] || die $EXIT_USAGE "scripts/packages.lock pins no $1"
	dir=$BUILD/pkg/$(printf '%s_%s' "${name/:/_}" "$version" | tr ':~' '%-')
	if [ ! -d "$dir" ]; then
		deb=$(fetch_deb "$name" "$version" "$sha" "$PACKAGES_LOCK")
		rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
		dpkg-deb -x "$deb" "$dir.tmp" || die $EXIT_USAGE "cannot unpack $deb"
		mv "$dir.tmp" "$dir"
	fi
	echo "$dir"
}

# checkout_worktree DIR REV - make DIR a worktree of the imported tree
# (once) and check REV out there, dropping any half-done git am. Only the
# files that differ are rewritten, so kbuild stays incremental.
checkout_worktree() {
	local dir=$1 rev=$2 common
	# A flavour that moved to another tree (debug, arm64-*: 6.12, then
	# 7.3) leaves a worktree of the old tree's repository behind, which
	# has tags of the same names: start again from the right repository.
	common=$(git -C "$dir" rev-parse --path-format=absolute --git-common-dir 2>/dev/null) || common=
	if [ -e "$dir/.git" ] && [ "$common" != "$(git_k rev-parse --path-format=absolute --git-common-dir)" ]; then
		say "$dir is a worktree of another tree ($common): checking it out again"
		rm -rf "$dir"
	fi
	if [ ! -e "$dir/.git" ]; then
		rm -rf "$dir"
		need_space "$dir" "$SPACE_WORKTREE" "a worktree of $rev"
		say "checking out $rev in $dir"
		git_k worktree prune
		git_k worktree add -q --detach "$dir" "$rev" >&2
	fi
	git -C "$dir" am --abort >/dev/null 2>&1 || true
	git -C "$dir" checkout -q --detach -f "$rev"
}

select_tree "${TREE:-6.12}"
