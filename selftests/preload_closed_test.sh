#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The drop-in's IONCLOCK_PRELOAD_MAX_BOUND_NS on the host, where there is no
# ionclock device: with it, every clock the drop-in interposes fails
# (EAGAIN; timespec_get 0) instead of falling back to the system clock, and
# CLOCK_MONOTONIC, which it leaves alone, still works (unless
# IONCLOCK_PRELOAD_MONOTONIC=tai interposes it; IONCLOCK_PRELOAD_REALTIME=off
# leaves CLOCK_REALTIME alone); without it, they all fall back and work; a
# malformed value fails them too.  The VM plan checks
# a live device above and within the bound.
# TAP, then "preload-closed: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
so=$top/userspace/libionclock-preload.so
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
. "$top/selftests/tap.sh"

prog=$tmp/prog
cc -O2 -Wall -Wextra -Werror -o "$prog" "$top/selftests/preload_closed_prog.c" ||
	exit 1
[ -f "$so" ] || make -s -C "$top/userspace" libionclock-preload.so

# run <expected output> [VAR=value...]
run() {
	local want=$1
	shift
	env IONCLOCK_DEVICE=/nonexistent/ionclock0 LD_PRELOAD="$so" "$@" \
		"$prog" >"$tmp/got" || return 1
	cat "$tmp/got"
	diff -u <(printf '%s\n' $want | paste -d' ' - - -) "$tmp/got"
}

closed="clock_gettime_realtime -1 11 clock_gettime_tai -1 11 gettimeofday -1 11
	time -1 11 timespec_get -1 0 clock_gettime_monotonic 0 0"
open="clock_gettime_realtime 0 0 clock_gettime_tai 0 0 gettimeofday 0 0
	time 0 0 timespec_get 0 0 clock_gettime_monotonic 0 0"

result "no device, no maximum bound: every clock falls back and works" \
	run "$open"
result "no device, IONCLOCK_PRELOAD_MAX_BOUND_NS=1000000: the interposed clocks fail with EAGAIN, MONOTONIC works" \
	run "$closed" IONCLOCK_PRELOAD_MAX_BOUND_NS=1000000
result "a malformed IONCLOCK_PRELOAD_MAX_BOUND_NS fails them too" \
	run "$closed" IONCLOCK_PRELOAD_MAX_BOUND_NS=1ms
result "an empty one is no maximum" run "$open" IONCLOCK_PRELOAD_MAX_BOUND_NS=
monotonic_tai="clock_gettime_realtime -1 11 clock_gettime_tai -1 11 gettimeofday -1 11
	time -1 11 timespec_get -1 0 clock_gettime_monotonic -1 11"
result "with IONCLOCK_PRELOAD_MONOTONIC=tai, CLOCK_MONOTONIC is interposed and fails too" \
	run "$monotonic_tai" IONCLOCK_PRELOAD_MAX_BOUND_NS=1000000 \
	IONCLOCK_PRELOAD_MONOTONIC=tai
realtime_off="clock_gettime_realtime 0 0 clock_gettime_tai -1 11 gettimeofday 0 0
	time 0 0 timespec_get 0 0 clock_gettime_monotonic 0 0"
result "with IONCLOCK_PRELOAD_REALTIME=off, only CLOCK_TAI is interposed and fails" \
	run "$realtime_off" IONCLOCK_PRELOAD_MAX_BOUND_NS=1000000 \
	IONCLOCK_PRELOAD_REALTIME=off
python_closed() {
	! env IONCLOCK_DEVICE=/nonexistent/ionclock0 LD_PRELOAD="$so" \
		IONCLOCK_PRELOAD_MAX_BOUND_NS=1000000 \
		python3 -c 'import time; print(time.time())' 2>"$tmp/py" &&
	grep -q 'BlockingIOError' "$tmp/py"
}
result "python3's time.time() raises BlockingIOError rather than read the system clock" \
	python_closed

echo "1..$n"
echo "preload-closed: $pass passed, $fail failed"
[ "$fail" = 0 ]
