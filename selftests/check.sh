#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check: every suite runs even when an earlier one fails; the last line
# totals them all ("check: N passed, N failed, N skipped"), and the exit
# status is non-zero if anything failed or nothing ran.
#   check.sh all | unit (and preload-host) | kunit | install |
#            vm <6.1|6.12|trixie|trixie-backports> [bound] | debug | fuzz |
#            fleet [6.12|6.1] | migration [6.12|6.1|trixie-backports] | deps |
#            metrics | ops | feed | style
# debug is the VM plan on our own KASAN/lockdep/kmemleak/UBSAN kernel: the
# first run builds it (about 10 minutes on two cores), then about 6.
set -uo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"
results=$top/build/results
what=${1:-all}

record() { echo "ionclock-suite: $*" >>"$results/host.txt"; }

# A host script printing TAP and a last line
# "<word>: N passed, N failed" (", N skipped" may follow).
run_script() {
	local name=$1 out line skip
	shift
	out=$("$@" 2>&1)
	echo "$out"
	line=$(echo "$out" |
	       grep -E "^$name: [0-9]+ passed, [0-9]+ failed(, [0-9]+ skipped)?\$" |
	       tail -n 1)
	if [ -n "$line" ]; then
		skip=$(echo "$line" | sed -nE 's/.*, ([0-9]+) skipped$/\1/p')
		record "host $name $(echo "$line" |
			sed -E 's/.*: ([0-9]+) passed, ([0-9]+) failed.*/pass=\1 fail=\2/') skip=${skip:-0}"
	else
		record "host $name pass=0 fail=1 skip=0"
	fi
}

# run_vm <series> [mode]: the VM plan (check), or run.sh's "bound" or
# "fuzz" plan.
run_vm() {
	local series=$1 mode=${2:-check} name=vm-$1
	[ "$mode" = check ] || name=$name-$mode
	local log=$top/build/$name/console.log
	if selftests/vm/run.sh "$series" "$mode"; then
		tr -d '\r' <"$log" | grep '^ionclock-suite: ' |
			sed 's/^ionclock-suite: //' >"$results/$name.txt"
	else
		{ [ -f "$log" ] && tr -d '\r' <"$log" | grep '^ionclock-suite: ' |
			sed 's/^ionclock-suite: //'
		  echo "$series $mode verdict pass=0 fail=1 skip=0"; } >"$results/$name.txt"
	fi
	sed -i 's/^/ionclock-suite: /' "$results/$name.txt"
}

# The debug kernel's fuzz plan; its two lines for the record at the end.
run_fuzz() {
	run_vm debug fuzz
	tr -d '\r' <"$top/build/vm-debug-fuzz/console.log" 2>/dev/null |
		grep -E '^fuzz( ioctls)?: ' >"$top/build/vm-debug-fuzz/summary"
}

run_style() {
	local src=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}/linux-source
	local cp=$src/scripts/checkpatch.pl bad=0 f
	selftests/fetch-kselftest.sh "$src" || return 1
	# Kernel code: checkpatch as it stands.
	for f in kmod/*.[ch] uapi/linux/*.h selftests/kunit/*.c \
		 selftests/sim/*.[ch] selftests/fakephc/*.c; do
		case "$f" in *.mod.c) continue ;; esac
		perl "$cp" --no-tree --quiet --terse --show-types -f "$f" ||
			bad=$((bad + 1))
	done
	# Userspace: kernel style too, less the rules that only make sense in
	# the kernel (its types and attribute macros, and volatile: the page is
	# memory the kernel writes, and userspace has no READ_ONCE()).
	for f in userspace/*.c userspace/*/*.[ch] selftests/*.[ch] \
		 selftests/unit/*.[ch]; do
		[ -e "$f" ] || continue
		perl "$cp" --no-tree --quiet --terse --show-types \
			--ignore PREFER_KERNEL_TYPES,VOLATILE,NEW_TYPEDEFS,PREFER_DEFINED_ATTRIBUTE_MACRO -f "$f" ||
			bad=$((bad + 1))
	done
	if [ "$bad" = 0 ]; then
		record "host style pass=1 fail=0 skip=0"
	else
		record "host style pass=0 fail=1 skip=0"
	fi
}

# The tunables' prose (ionclockctl(8), the uapi header) against their table.
run_docs() {
	run_script docs python3 selftests/tunables_doc_test.py \
		userspace/ionclockctl man/ionclockctl.8 uapi/linux/ionclock.h
}

summarize() {
	cat "$results"/*.txt 2>/dev/null | sed 's/^ionclock-suite: //'
	awk '/^ionclock-suite: / {
		for (i = 2; i <= NF; i++) {
			split($i, kv, "=")
			if (kv[1] == "pass") p += kv[2]
			if (kv[1] == "fail") f += kv[2]
			if (kv[1] == "skip") s += kv[2]
		}
	}
	END {
		printf "check: %d passed, %d failed, %d skipped\n", p, f, s
		exit (f > 0 || p == 0)
	}' "$results"/*.txt
}

# check-fuzz ends with the fuzz plan's own lines ("fuzz ioctls: N",
# "fuzz: N passed, N failed"), or one saying it never got there.
fuzz_lines() {
	local f=$top/build/vm-debug-fuzz/summary
	if [ -s "$f" ]; then
		cat "$f"
	else
		echo "fuzz: 0 passed, 1 failed"
	fi
}

# A cold machine's longest waits, started while the host suites run: the
# debug kernel's build (about 10 minutes on two cores) and Debian 13's
# build root and kernels (about 3).  At nice 19 the host suites keep the
# CPUs; the VMs start once it is done, so no VM shares them with a build.
# A step that fails here is tried again, and reported, where it is used.
prepare_caches() {
	nice -n 19 selftests/vm/build-debug-kernel.sh >/dev/null
	nice -n 19 selftests/vm/debian13-kernel.sh trixie >/dev/null
	nice -n 19 selftests/vm/debian13-kernel.sh trixie-backports >/dev/null
}

rm -rf "$results" && mkdir -p "$results"
case "$what" in
all)
	selftests/vm/install-deps.sh || exit 1
	prepare_caches >"$top/build/prepare.log" 2>&1 &
	prepare_pid=$!
	make -s userspace selftests || { record "host build pass=0 fail=1 skip=0"; summarize; exit 1; }
	run_style
	run_script magic selftests/ioctl_magic_test.sh
	run_docs
	run_script unit make -s -C selftests/unit run
	# make install into a DESTDIR, pkg-config, the man pages, DKMS builds.
	run_script install selftests/install_test.sh
	# What install-deps.sh would do to a user's machine.
	run_script deps selftests/deps_test.sh
	run_script ctl selftests/ctl_test.sh
	# The LD_PRELOAD drop-in under real allocators and redis-server.
	run_script preload-host selftests/preload_host_test.sh
	# The alert rules and the dashboard against the exporter.
	run_script ops selftests/ops_test.sh
	# The drop-in's IONCLOCK_PRELOAD_MAX_BOUND_NS with no device.
	run_script preload-closed selftests/preload_closed_test.sh
	# ionclockctl feed against a fake and a real ptp4l (no device).
	run_script feed selftests/feed_test.sh
	run_script kunit selftests/kunit/run-kunit.sh
	wait "$prepare_pid"
	run_vm 6.1
	run_vm 6.12
	run_vm 6.1 bound
	run_vm 6.12 bound
	# Debian 13's own kernel and the newest of its backports.
	run_vm trixie
	run_vm trixie-backports
	run_vm debug
	run_fuzz
	# A VM paused and its QEMU stopped under a reader; and one saved to
	# a file, its PHC moved, restored (vmclock: trixie-backports).
	run_script migration selftests/vm/migration.sh
	run_script migration selftests/vm/migration.sh trixie-backports
	# Three VMs in one PTP domain: do their bounds agree?
	run_script fleet selftests/vm/fleet.sh
	# The VMs' metrics through promtool and node_exporter.
	run_script metrics selftests/metrics_test.sh
	;;
unit)
	run_script unit make -s -C selftests/unit run
	run_script preload-host selftests/preload_host_test.sh
	;;
kunit)
	run_script kunit selftests/kunit/run-kunit.sh
	;;
install)
	selftests/vm/install-deps.sh || exit 1
	# make install into a DESTDIR, pkg-config, the man pages, DKMS builds.
	run_script install selftests/install_test.sh
	;;
vm)
	selftests/vm/install-deps.sh || exit 1
	make -s userspace selftests || exit 1
	run_vm "${2:?check.sh vm <6.1|6.12|trixie|trixie-backports> [bound]}" "${3:-check}"
	;;
debug)
	selftests/vm/install-deps.sh || exit 1
	make -s userspace selftests || exit 1
	run_vm debug
	;;
deps)
	run_script deps selftests/deps_test.sh
	;;
fleet)
	selftests/vm/install-deps.sh || exit 1
	make -s userspace selftests || exit 1
	run_script fleet selftests/vm/fleet.sh "${2:-6.12}"
	;;
migration)
	selftests/vm/install-deps.sh || exit 1
	make -s userspace selftests || exit 1
	run_script migration selftests/vm/migration.sh "${2:-6.12}"
	;;
fuzz)
	selftests/vm/install-deps.sh || exit 1
	make -s userspace selftests || exit 1
	run_fuzz
	;;
metrics)
	run_script metrics selftests/metrics_test.sh
	;;
ops)
	run_script ops selftests/ops_test.sh
	run_script preload-closed selftests/preload_closed_test.sh
	;;
feed)
	make -s userspace || exit 1
	run_script feed selftests/feed_test.sh
	;;
style)
	run_style
	run_script magic selftests/ioctl_magic_test.sh
	make -s userspace && run_docs
	;;
*)
	echo "check.sh: unknown target '$what'" >&2
	exit 2
	;;
esac
if [ "$what" = fuzz ]; then
	summarize
	rc=$?
	fuzz_lines
	exit $rc
fi
summarize
