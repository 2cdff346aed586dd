# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the host-side scripts. Source it, do not run it.

set -euo pipefail
# A failure inside $(...) ends the script too, as it would outside.
shopt -s inherit_errexit

TOP=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD=${BUILD:-$TOP/build}
# The imported Debian tree: a git repository (tags: import, base) whose
# own work tree is the stock source; other flavours are its worktrees.
KERNEL_REPO=${KERNEL_REPO:-$BUILD/stock/linux}
# The pinned kernel source: package, version and .deb hash, import and
# base commit ids (moved only by "make update-tree").
TREE_LOCK=${TREE_LOCK:-$TOP/scripts/tree.lock}

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

# Fixed identities and dates: the same input gives the same commit ids on
# every machine, so base-commit: in the cover letter stays valid.
export GIT_AUTHOR_NAME="Packet Pipe Harness" GIT_AUTHOR_EMAIL="harness@packet-pipe.invalid"
export GIT_COMMITTER_NAME="Packet Pipe Harness" GIT_COMMITTER_EMAIL="harness@packet-pipe.invalid"
export GIT_AUTHOR_DATE="2025-01-01T00:00:00Z" GIT_COMMITTER_DATE="2025-01-01T00:00:00Z"

say()  { printf '==> %s\n' "$*" >&2; }
die()  { local rc=$1; shift; printf 'error: %s\n' "$*" >&2; exit "$rc"; }

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

# lock_get FILE KEY - the value of "KEY: value" in a lock file.
lock_get() {
	sed -n "s/^$2: //p" "$1"
}

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

# Source directory of a kernel flavour. Every flavour keeps its source in
# build/FLAVOUR/linux and its objects in build/FLAVOUR/obj: the same
# relative path, so ccache (CCACHE_BASEDIR=build) shares hits between them.
flavour_src() {
	case $1 in
	stock) echo "$KERNEL_REPO" ;;
	*) echo "$BUILD/$1/linux" ;;
	esac
}

# The architecture a flavour runs on. The arm64 flavours are the series
# kernel cross-built for arm64 with 4 KiB and with 64 KiB pages.
flavour_arch() {
	case $1 in
	arm64-*) echo arm64 ;;
	*) echo x86_64 ;;
	esac
}

# load_arch FLAVOUR - set what differs between architectures (kernel ARCH
# and image, cross compiler, console, QEMU and its machine, the guest's
# busybox) from scripts/arch/ARCH.sh: one place per architecture.
load_arch() {
	# shellcheck source=arch/x86_64.sh
	. "$TOP/scripts/arch/$(flavour_arch "$1").sh"
}

# Config fragments on top of tinyconfig, in order (where two set one
# option, the later wins). One config for all x86-64 flavours but debug,
# so that ccache shares the builds.
flavour_fragments() {
	local arch
	arch=$(flavour_arch "$1")
	echo "$TOP/scripts/platform.config"
	echo "$TOP/scripts/arch/$arch.config"
	[ "$arch" = x86_64 ] || echo "$TOP/scripts/arch/$1.config"
	echo "$TOP/tools/testing/selftests/pipe/config"
	echo "$TOP/scripts/lockup.config"
	[ "$1" != debug ] || echo "$TOP/scripts/debug.config"
}

# The up and smp4 flavours boot the series kernel in another way: on one
# CPU without preemption (a task that spins in the kernel locks the
# machine up, and the soft lockup detector ends the run), and preemptible
# on 4 CPUs (where races show). The kernel picks the preemption model at
# boot (CONFIG_PREEMPT_DYNAMIC), as distribution kernels do.
flavour_kernel() {
	case $1 in
	up|smp4) echo series ;;
	*) echo "$1" ;;
	esac
}

flavour_cpus() {
	case $1 in
	up) echo 1 ;;
	smp4) echo 4 ;;
	*) echo 2 ;;
	esac
}

flavour_append() {
	case $1 in
	up) echo preempt=none ;;
	smp4) echo preempt=full ;;
	esac
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
	local dir=$1 rev=$2
	if [ ! -e "$dir/.git" ]; then
		rm -rf "$dir"
		say "checking out $rev in $dir"
		git_k worktree prune
		git_k worktree add -q --detach "$dir" "$rev" >&2
	fi
	git -C "$dir" am --abort >/dev/null 2>&1 || true
	git -C "$dir" checkout -q --detach -f "$rev"
}
