#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The KUnit suite for the time core (kmod/engine.c, leap.c, page_fill.c), run
# by kunit.py on UML.  Debian's kernels have no CONFIG_KUNIT, so the suite
# cannot load into them; a UML kernel from linux-source-6.1 runs it instead.
#
# The kernel tree is a scratch copy outside the repo, unpacked once and
# rebuilt incrementally:
#   ${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}/kunit-6.1
# Each run copies the suite, the simulator it shares with the unit tests
# (selftests/sim/) and the core into its lib/ionclock/ (only what
# changed, so make rebuilds only that), hooks lib/ionclock/ into lib/Kconfig.debug
# and lib/Makefile if not done yet, runs the suite, prints the KTAP and the
# parsed results, and ends with "kunit: N passed, N failed".
#   run-kunit.sh [filter_glob]     e.g. 'ionclock_leap*'
set -uo pipefail
top=$(cd "$(dirname "$0")/../.." && pwd)
here=$top/selftests/kunit
cache=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}
tree=$cache/kunit-6.1
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${JOBS:-$(nproc)}

fail() {
	echo "run-kunit: $*" >&2
	echo "kunit: 0 passed, 1 failed"
	exit 1
}

# kunit.py needs Python 3.7+ and only the standard library: Debian's, even
# when another python3 (pyenv) comes first on PATH.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3) || fail "no python3"

# Unpack once, into a temporary name first so that an interrupted unpack is
# not mistaken for a tree.
if [ ! -e "$tree/.ionclock-unpacked" ]; then
	[ -f "$tarball" ] || fail "no $tarball (apt-get install linux-source-6.1)"
	echo "run-kunit: unpacking $tarball into $tree"
	rm -rf "$tree" "$tree.tmp" && mkdir -p "$tree.tmp" || fail "cannot create $tree.tmp"
	tar -xJf "$tarball" -C "$tree.tmp" --strip-components=1 ||
		fail "cannot unpack $tarball"
	touch "$tree.tmp/.ionclock-unpacked"
	mv "$tree.tmp" "$tree" || fail "cannot move $tree.tmp to $tree"
fi

# Copy only what changed: make goes by mtimes.
sync_file() {
	cmp -s "$1" "$2" || install -m 644 "$1" "$2" || fail "cannot copy $1"
}
mkdir -p "$tree/lib/ionclock"
for f in ionclock_kunit.c Kconfig Kbuild; do
	sync_file "$here/$f" "$tree/lib/ionclock/$f"
done
for f in phc_sim.c phc_sim.h engine_cases.c engine_cases.h; do
	sync_file "$top/selftests/sim/$f" "$tree/lib/ionclock/$f"
done
for f in engine.c engine.h leap.c leap.h page_fill.c disruption.h upstream.c upstream.h \
	 utc_source.c utc_source.h; do
	sync_file "$top/kmod/$f" "$tree/lib/ionclock/$f"
done
for f in ionclock.h ionclock_seq.h; do
	sync_file "$top/uapi/linux/$f" "$tree/include/uapi/linux/$f"
done

# Hook lib/ionclock/ into the tree, once.
if ! grep -qxF 'source "lib/ionclock/Kconfig"' "$tree/lib/Kconfig.debug"; then
	sed -i '/^source "lib\/kunit\/Kconfig"$/a source "lib/ionclock/Kconfig"' \
		"$tree/lib/Kconfig.debug"
	grep -qxF 'source "lib/ionclock/Kconfig"' "$tree/lib/Kconfig.debug" ||
		fail "cannot hook lib/ionclock/Kconfig into lib/Kconfig.debug"
fi
if ! grep -qxF 'obj-$(CONFIG_IONCLOCK_KUNIT_TEST) += ionclock/' "$tree/lib/Makefile"; then
	echo 'obj-$(CONFIG_IONCLOCK_KUNIT_TEST) += ionclock/' >>"$tree/lib/Makefile"
fi

cd "$tree" || fail "no $tree"
log=$tree/.kunit/ionclock-ktap.log
mkdir -p .kunit
start=$(date +%s)
# --raw_output=kunit prints the KTAP as the kernel wrote it; parse reads it
# back for the per-case results and the totals.
"$py" tools/testing/kunit/kunit.py run --arch=um --jobs="$jobs" \
	--kunitconfig="$here/kunitconfig" --timeout=600 --raw_output=kunit \
	"$@" </dev/null | tee "$log"
rc=${PIPESTATUS[0]}
echo "run-kunit: kunit.py run exited $rc after $(($(date +%s) - start)) s"
[ "$rc" = 0 ] || fail "kunit.py run failed (build or boot); see $tree/.kunit"

parsed=$("$py" tools/testing/kunit/kunit.py parse "$log" </dev/null 2>&1)
echo "$parsed"
# "Testing complete. Ran N tests: passed: P, failed: F, crashed: C, ..."
summary=$(echo "$parsed" | sed 's/\x1b\[[0-9;]*m//g' |
	  grep -o 'Testing complete\. Ran [0-9]* tests:.*' | tail -n 1)
[ -n "$summary" ] || fail "no results in the KTAP"
count() { echo "$summary" | grep -o "$1: [0-9]*" | grep -o '[0-9]*' || echo 0; }
passed=$(count passed)
failed=$(($(count failed) + $(count crashed) + $(count errors)))
[ "$passed" -gt 0 ] || failed=$((failed + (failed == 0)))
echo "kunit: $passed passed, $failed failed"
[ "$failed" = 0 ]
