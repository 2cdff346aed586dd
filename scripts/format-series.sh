#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0
#
# format-series.sh TREE OUTDIR - write the commits base..HEAD of TREE as a
# patch series into OUTDIR: cover letter (from scripts/cover-letter.txt),
# one patch per commit, and the "series" list that git am is fed from.
# The output depends only on the commits: zero commit ids, no version
# signature, fixed dates, so it can be compared byte for byte.

. "$(dirname "$0")/lib.sh"

tree=${1:?usage: format-series.sh TREE OUTDIR}
outdir=${2:?usage: format-series.sh TREE OUTDIR}
cover=$TOP/scripts/$(lock_get "$TREE_LOCK" cover)

[ "$(git -C "$tree" rev-list --count base..HEAD)" -gt 0 ] ||
	die $EXIT_USAGE "$tree has no commits on top of base"

mkdir -p "$outdir"
rm -f "$outdir"/*.patch "$outdir/series"
# The cover letter is "from" the series' author, not the harness.
GIT_COMMITTER_NAME=$SERIES_NAME GIT_COMMITTER_EMAIL=$SERIES_EMAIL \
git -C "$tree" format-patch -q --zero-commit --no-signature --cover-letter \
	--base=base --subject-prefix=PATCH -o "$outdir" base..HEAD

# Fill in the cover letter's subject and blurb; @BASE_TREE@ names the
# pinned package the base comes from (scripts/trees/$TREE.lock).
subject=$(head -n 1 "$cover")
base_tree="$(lock_get "$TREE_LOCK" package) $(lock_get "$TREE_LOCK" package-version)"
python3 - "$outdir/0000-cover-letter.patch" "$cover" "$subject" "$base_tree" <<'PY'
import sys
path, cover, subject, tree = sys.argv[1:]
text = open(path).read()
blurb = open(cover).read().split("\n", 1)[1].strip("\n").replace("@BASE_TREE@", tree)
text = text.replace("*** SUBJECT HERE ***", subject, 1)
text = text.replace("*** BLURB HERE ***", blurb, 1)
open(path, "w").write(text)
PY
(cd "$outdir" && ls [0-9][0-9][0-9][0-9]-*.patch | grep -v '^0000-') > "$outdir/series"
