#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The LD_PRELOAD drop-in on the host, where there is no ionclock device: the
# set-up path runs in full (and used to hang there), then every call falls
# back to the system clock.  Real allocators (Debian's jemalloc, tcmalloc and
# mimalloc) preloaded beside it in both orders, Debian's redis-server (linked
# with jemalloc), python3 and coreutils' date, each under a timeout; bad
# devices and malformed IONCLOCK_PRELOAD_* values; and what the drop-in's
# binary may not import.  TAP, then "preload-host: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/selftests
preload=$bin/libionclock-preload.so
stamp=$bin/preload_stamp_prog
libdir=/usr/lib/$(gcc -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
allocators="libjemalloc.so.2 libtcmalloc_minimal.so.4 libmimalloc.so.2"
limit=10
tmp=$(mktemp -d)
redis_pid=
trap '[ -z "$redis_pid" ] || kill "$redis_pid" 2>/dev/null; rm -rf "$tmp"' EXIT
n=0 pass=0 fail=0

make -s -C "$top/selftests" "$preload" "$stamp" >"$tmp/build" 2>&1 ||
	{ cat "$tmp/build"; echo "preload-host: 0 passed, 1 failed"; exit 1; }

ok() {
	n=$((n + 1))
	echo "ok $n - $1"
	pass=$((pass + 1))
}

not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[ ! -s "$tmp/why" ] || sed 's/^/# /' "$tmp/why"
	fail=$((fail + 1))
}

# check <description> <command>...: passes if the command does.
check() {
	local desc=$1
	shift
	: >"$tmp/why"
	if "$@" >>"$tmp/why" 2>&1; then ok "$desc"; else not_ok "$desc"; fi
}

now_ns() { date +%s%N; }

# "sec[.frac]" to ns, exactly (no floating point).
to_ns() {
	local sec=${1%%.*} frac=
	case "$1" in *.*) frac=${1#*.} ;; esac
	frac=${frac}000000000
	echo $((sec * 1000000000 + 10#${frac:0:9}))
}

# within <lo> <value> <hi>
within() {
	[ "$1" -le "$2" ] && [ "$2" -le "$3" ] && return 0
	echo "$2 not in [$1, $3] ($(($2 - $1)), $(($2 - $3)))"
	return 1
}

# under <LD_PRELOAD> <command>...: the command under the drop-in, a time
# limit and a scratch environment; stdout to $tmp/out, stderr to $tmp/err.
under() {
	local pl=$1
	shift
	timeout "$limit" env LD_PRELOAD="$pl" "$@" >"$tmp/out" 2>"$tmp/err"
	local rc=$?
	[ "$rc" = 0 ] && return 0
	echo "exit $rc$([ "$rc" = 124 ] && echo ': hung'): $*"
	cat "$tmp/err"
	return 1
}

# date_reads_system <LD_PRELOAD> [VAR=value...]: date +%s.%N under it
# exits in time and reads the system clock; stderr in $tmp/err.
date_reads_system() {
	local pl=$1 before after
	shift
	before=$(now_ns)
	under "$pl" "$@" date +%s.%N || return 1
	after=$(now_ns)
	within "$before" "$(to_ns "$(cat "$tmp/out")")" "$after"
}

# stamps_in_order <LD_PRELOAD>: two threads stamping, no step back, errno
# left alone by successful calls.
stamps_in_order() {
	under "$1" "$stamp" 0 || return 1
	cat "$tmp/out"
	grep -qx 'back_clock_gettime 0' "$tmp/out" &&
	grep -qx 'back_gettimeofday 0' "$tmp/out" &&
	grep -qx 'back_time 0' "$tmp/out" &&
	grep -qx 'errno_kept 1' "$tmp/out"
}

# says <LD_PRELOAD> <expected stderr> [VAR=value...]: date reads the
# system clock and the drop-in's one line is exactly the expected one.
says() {
	local pl=$1 want=$2
	shift 2
	date_reads_system "$pl" IONCLOCK_PRELOAD_VERBOSE=1 "$@" || return 1
	[ "$(cat "$tmp/err")" = "$want" ] && return 0
	echo "stderr: '$(cat "$tmp/err")', wanted '$want'"
	return 1
}

python_reads_system() {
	local before after got
	before=$(now_ns)
	under "$preload" python3 -c 'import time; print(repr(time.time()))' ||
		return 1
	after=$(now_ns)
	got=$(to_ns "$(cat "$tmp/out")")
	# A double holds today's seconds to about 240 ns.
	within $((before - 1000)) "$got" $((after + 1000))
}

# ---- redis-server, which links jemalloc, started under the drop-in.
redis() { timeout "$limit" redis-cli -s "$tmp/redis.sock" "$@"; }

redis_starts() {
	local i
	LD_PRELOAD=$preload IONCLOCK_PRELOAD_VERBOSE=1 \
		timeout 60 redis-server --port 0 --unixsocket "$tmp/redis.sock" \
		--save '' --appendonly no --daemonize no \
		>"$tmp/redis.log" 2>&1 &
	redis_pid=$!
	for i in $(seq 100); do
		[ "$(redis PING 2>/dev/null)" = PONG ] && return 0
		kill -0 "$redis_pid" 2>/dev/null || break
		sleep 0.1
	done
	echo "redis-server did not answer within 10 s"
	tail -n 5 "$tmp/redis.log"
	return 1
}

redis_time() {
	local before after out
	before=$(now_ns)
	out=$(redis TIME) || return 1
	after=$(now_ns)
	set -- $out
	within $((before / 1000 * 1000)) $(($1 * 1000000000 + $2 * 1000)) "$after"
}

redis_expiry() {
	[ "$(redis SET ionclock-key v EX 2)" = OK ] || return 1
	sleep 1
	[ "$(redis EXISTS ionclock-key)" = 1 ] || { echo "gone after 1 s"; return 1; }
	sleep 2
	[ "$(redis EXISTS ionclock-key)" = 0 ] || { echo "still there after 3 s"; return 1; }
}

redis_stops() {
	redis SHUTDOWN NOSAVE >/dev/null 2>&1
	wait "$redis_pid"
	local rc=$?
	redis_pid=
	[ "$rc" = 0 ] || { echo "redis-server exit $rc"; return 1; }
	# It was the drop-in's set-up that ran: its one line says so.
	grep -q '^libionclock-preload: /dev/ionclock0: ' "$tmp/redis.log"
}

# ---- What the drop-in imports: nothing that can wait, allocate or be a
# cancellation point.  A new import must be added here, after thought.
allowed_imports='__errno_location access fstat getauxval getenv getpid memcmp memcpy
memset mmap
munmap readlink stat strchr strcmp strerrordesc_np strlen strncmp strrchr syscall
__cxa_finalize __gmon_start__ _ITM_deregisterTMCloneTable
_ITM_registerTMCloneTable'

only_allowed_imports() {
	local sym bad=
	for sym in $(nm -D --undefined-only "$preload" | awk '{ print $NF }' |
		     sed 's/@.*//'); do
		echo " $allowed_imports " | tr '\n' ' ' | grep -qF " $sym " ||
			bad="$bad $sym"
	done
	[ -z "$bad" ] && return 0
	echo "imports:$bad"
	return 1
}

echo "TAP version 13"
check "the drop-in imports no dlsym, malloc, lock, stdio or read()" \
	only_allowed_imports
check "date under the drop-in reads the system clock (no device)" \
	date_reads_system "$preload"
check "two stamping threads: never back, errno kept" \
	stamps_in_order "$preload"
for a in $allocators; do
	if [ ! -e "$libdir/$a" ]; then
		not_ok "$a is installed (selftests/vm/install-deps.sh)"
		continue
	fi
	for order in "$preload $libdir/$a" "$libdir/$a $preload"; do
		check "date, LD_PRELOAD=\"${order//$top\//}\"" \
			date_reads_system "$order"
		check "stamping threads, LD_PRELOAD=\"${order//$top\//}\"" \
			stamps_in_order "$order"
	done
done
check "python3 time.time() under the drop-in" python_reads_system
if command -v redis-server >/dev/null && command -v redis-cli >/dev/null; then
	check "redis-server starts under the drop-in" redis_starts
	check "redis TIME reads the system clock" redis_time
	check "redis SET EX 2: there after 1 s, gone after 3 s" redis_expiry
	check "redis-server shuts down; the drop-in had set up" redis_stops
else
	not_ok "redis-server and redis-cli are installed (install-deps.sh)"
fi

# ---- Bad devices: refused before anything can wait or fault.
mkfifo "$tmp/fifo"
: >"$tmp/file"
for dev in /dev/null /dev/zero "$tmp/fifo" "$tmp" "$tmp/file"; do
	check "IONCLOCK_DEVICE=${dev#$tmp/} is not an ionclock device" \
		says "$preload" \
		"libionclock-preload: $dev: not an ionclock device; using the system clock" \
		IONCLOCK_DEVICE="$dev"
done
check "a missing device says so" says "$preload" \
	"libionclock-preload: $tmp/none: No such file or directory; using the system clock" \
	IONCLOCK_DEVICE="$tmp/none"
check "quiet unless IONCLOCK_PRELOAD_VERBOSE=1 (2 is not 1)" says "$preload" "" \
	IONCLOCK_PRELOAD_VERBOSE=2 IONCLOCK_DEVICE="$tmp/fifo"

# ---- Malformed values: the documented default, and one line naming it.
for v in bogus SMEARED 'strict '; do
	check "IONCLOCK_PRELOAD_REALTIME='$v' is smeared, and said" says "$preload" \
		"libionclock-preload: IONCLOCK_PRELOAD_REALTIME: not smeared, strict or off: smeared" \
		IONCLOCK_PRELOAD_REALTIME="$v"
done
for v in yes 1 TAI; do
	check "IONCLOCK_PRELOAD_MONOTONIC='$v' is off, and said" says "$preload" \
		"libionclock-preload: IONCLOCK_PRELOAD_MONOTONIC: not tai or off: off" \
		IONCLOCK_PRELOAD_MONOTONIC="$v"
done
for v in abc 37x - + ' 37' 37.5 1000001 -1000001 99999999999999999999999; do
	check "IONCLOCK_PRELOAD_TAI_OFFSET='$v' is ignored, and said" says "$preload" \
		"libionclock-preload: IONCLOCK_PRELOAD_TAI_OFFSET: not a whole number of seconds within +-1000000: ignored" \
		IONCLOCK_PRELOAD_TAI_OFFSET="$v"
done
for v in 37 -37 +0 1000000; do
	check "IONCLOCK_PRELOAD_TAI_OFFSET='$v' is taken" says "$preload" \
		"libionclock-preload: /dev/ionclock0: No such file or directory; using the system clock" \
		IONCLOCK_PRELOAD_TAI_OFFSET="$v"
done

echo "1..$n"
echo "preload-host: $pass passed, $fail failed"
[ "$fail" = 0 ]
