#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# The guest's counting and loading helpers (init.sh sources it): suites
# and shell checks counted into pass/fail/skip, finish() with the verdict,
# ionclock.ko loaded and unloaded, and the debug kernel's checks.

say() { echo "ionclock-vm: $*"; }

finish() {
	[ "$series" != debug ] || debug_end
	echo "ionclock-suite: $series shell-checks pass=$checks_pass fail=$checks_fail skip=$checks_skip"
	say "totals $series pass=$pass fail=$fail skip=$skip"
	if [ "$fail" = 0 ] && [ "$pass" -gt 0 ]; then
		echo success >/dev/ttyS1
	fi
	sync
	reboot -f
}

# One kselftest binary: show its TAP, then count its totals.
suite() {
	name=$1
	shift
	echo "# ---- suite $name: $*"
	"$@" >/tmp/out 2>&1
	rc=$?
	cat /tmp/out
	totals=$(grep '^# Totals:' /tmp/out | tail -n 1)
	if [ -z "$totals" ]; then
		p=0 f=1 s=0
	else
		p=$(echo "$totals" | sed 's/.* pass:\([0-9]*\).*/\1/')
		f=$(echo "$totals" | sed 's/.* fail:\([0-9]*\).*/\1/')
		s=$(echo "$totals" | sed 's/.* skip:\([0-9]*\).*/\1/')
	fi
	if [ "$rc" != 0 ] && [ "$rc" != 4 ] && [ "$f" = 0 ]; then
		f=1
	fi
	echo "ionclock-suite: $series $name pass=$p fail=$f skip=$s"
	pass=$((pass + p))
	fail=$((fail + f))
	skip=$((skip + s))
}

# One shell-level check, counted like a test.
check() {
	desc=$1
	shift
	if "$@" >/tmp/check 2>&1; then
		echo "ok - $desc"
		checks_pass=$((checks_pass + 1))
		pass=$((pass + 1))
	else
		echo "not ok - $desc"
		sed 's/^/# /' /tmp/check
		checks_fail=$((checks_fail + 1))
		fail=$((fail + 1))
	fi
}

# A check this kernel cannot run, counted as skipped, with the reason.
skip_check() {
	echo "ok - $1 # SKIP $2"
	checks_skip=$((checks_skip + 1))
	skip=$((skip + 1))
}

dmesg_has() { dmesg | tail -n 20 | grep -q "$1"; }

# A load that must fail; one that succeeds after all is undone, so that
# the next check does not fail (or pass) because ionclock is still loaded.
loaded() { grep -q '^ionclock ' /proc/modules; }
load_fails() {
	! loaded || return 1
	if insmod /modules/ionclock.ko "$@"; then
		rmmod ionclock
		return 1
	fi
	dmesg_has ionclock
}
load() { insmod /modules/ionclock.ko "$@"; }
unload() { rmmod ionclock; }

# ---- The debug kernel (run.sh debug, selftests/vm/debug.config).  KASAN
# and UBSAN reports panic (panic_on_warn); lockdep, might_sleep() and
# kmemleak only report, so the checks below read their reports.
kmemleak=/sys/kernel/debug/kmemleak
# What each checker prints when it finds something, or when it gives up
# (lockdep switches itself off after its first report).
debug_reports='WARNING|BUG:|Oops|UBSAN:|KASAN|ODEBUG:|list_(add|del) corruption|turning off the locking correctness validator'

# Each checker is on, and the module under test is instrumented.
debug_tools_on() {
	dmesg | grep -q 'KernelAddressSanitizer initialized' &&
	dmesg | grep -q 'Lock dependency validator' &&
	dmesg | grep -q 'kmemleak: Kernel memory leak detector initialized' &&
	grep -Eq 'debug_locks: +1$' /proc/lockdep_stats &&
	[ -w $kmemleak ] &&
	grep -q __asan_report /modules/ionclock.ko &&
	grep -q __ubsan_handle /modules/ionclock.ko
}

# kmemleak reports an object only once a scan finds it unreferenced with
# the same contents (checksum) as the scan before: the first scan after an
# allocation never reports it.  Two scans, then.
kmemleak_scan() {
	echo scan >$kmemleak && echo scan >$kmemleak
}

# Forget what the boot itself leaked (shown, not counted), so that what
# the final scan reports leaked while the tests ran.
kmemleak_baseline() {
	kmemleak_scan && cat $kmemleak >/tmp/kmemleak-boot &&
	echo clear >$kmemleak
}

# With ionclock unloaded, anything it allocated and never freed is no
# longer referenced from its data and shows up in a scan.  Its symbols are
# gone by then, so its frames show as bare addresses: any new leak fails.
# kmemleak only reports objects older than 5 s.
kmemleak_clean() {
	sleep 5
	kmemleak_scan || return 1
	cat $kmemleak >/tmp/kmemleak-end
	cat /tmp/kmemleak-end
	! grep -q '^unreferenced object' /tmp/kmemleak-end
}

debug_no_reports() {
	! dmesg | grep -E "$debug_reports"
}

debug_end() {
	[ -z "${debug_ended:-}" ] || return 0
	debug_ended=1
	if loaded; then
		rmmod ionclock
	fi
	check "kmemleak finds no leak from the tests" kmemleak_clean
	say "kmemleak: $(grep -c '^unreferenced object' /tmp/kmemleak-end) leak(s) after the tests"
	check "no KASAN, UBSAN, lockdep, might_sleep or ODEBUG report in dmesg" \
		debug_no_reports
	check "lockdep stayed on to the end" \
		grep -Eq 'debug_locks: +1$' /proc/lockdep_stats
}
