#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ionclockctl feed against ptp4l's management socket, on the host, with no
# ionclock device (feed --dry-run asks ptp4l and prints what it would
# feed).  First a fake ptp4l (fake_ptp4l.py) with crafted good and bad
# replies; then the real ptp4l: a grandmaster and a slave on a veth pair
# between two network namespaces, software timestamps, the slave
# free-running so that the host's clock is never touched; the feed's values
# are compared with pmc's.  TAP, then "feed: N passed, N failed, N skipped".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/userspace/ionclockctl
fake=$top/selftests/fake_ptp4l.py
tmp=$(mktemp -d)
ns1=icfeed1.$$ ns2=icfeed2.$$
pids=()
n=0 pass=0 fail=0 skip=0

cleanup() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
	wait 2>/dev/null
	ip netns del "$ns1" 2>/dev/null
	ip netns del "$ns2" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; sed 's/^/# /' "$tmp/out"; }
skip_it() { n=$((n + 1)); skip=$((skip + 1)); echo "ok $n - $1 # SKIP $2"; }

# expect <description> <exit code> <pattern> -- command...
expect() {
	local desc=$1 code=$2 pattern=$3 rc
	shift 4
	timeout 20 "$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" = "$code" ] && grep -qE -- "$pattern" "$tmp/out"; then
		ok "$desc"
	else
		echo "# exit $rc, wanted $code and /$pattern/" >>"$tmp/out"
		not_ok "$desc"
	fi
}

# fake <mode>: a fake ptp4l on $tmp/fake.sock answering in that mode.
fake() {
	[ -n "${fakepid:-}" ] && kill "$fakepid" 2>/dev/null && wait "$fakepid" 2>/dev/null
	python3 "$fake" "$tmp/fake.sock" "$1" >"$tmp/fake.log" 2>&1 &
	fakepid=$!
	pids+=("$fakepid")
	# Python can take seconds to start on a loaded machine.
	for _ in $(seq 300); do grep -qs ready "$tmp/fake.log" && return; sleep 0.1; done
	echo "# the fake ptp4l ($1) never said ready"
}

feed=("$ctl" feed --once --dry-run --socket "$tmp/fake.sock")

# The command line first: checked whole, nothing runs on a usage error.
expect "an unknown option is a usage error" 2 'options are --socket' -- \
	"$ctl" feed --bogus
expect "an interval out of range is called so" 2 \
	"interval '0.05' out of range 0.1..3600 seconds" -- "$ctl" feed --interval 0.05
expect "a malformed ttl is called so" 2 "'5s' is not a number of seconds" -- \
	"$ctl" feed --ttl 5s
expect "a ttl below the interval is refused" 2 'ttl shorter than --interval' -- \
	"$ctl" feed --interval 10 --ttl 5
expect "asymmetry percent is range-checked" 2 \
	"asymmetry_pct '101' out of range 0..100" -- "$ctl" feed --asymmetry-pct 101
expect "--socket needs a value" 2 'socket needs a value' -- "$ctl" feed --socket
expect "a missing socket says so" 1 'no such socket \(is ptp4l running\?\)' -- \
	"$ctl" feed --once --dry-run --socket "$tmp/nothing"

fake good
expect "a good ptp4l is fed" 0 'fed no \(dry run\)' -- "${feed[@]}"
for kv in 'port_state slave' 'gm_identity aabbcc.fffe.ddeeff' \
	'master_offset_ns -1234' 'path_delay_ns 5678' 'asymmetry_ns 5678' \
	'gm_clock_accuracy 0x21' 'gm_accuracy_ns 100' 'gm_clock_class 6' \
	'utc_offset_s 37' 'utc_offset_valid yes' 'ptp_timescale yes' \
	'leap61 no' 'time_source 0x20' 'age_ns 0' 'ttl_ns 5000000000'; do
	expect "good reply: $kv" 0 "^$kv\$" -- "${feed[@]}"
done
expect "good reply: PORT_PROPERTIES_NP says hardware timestamping" 0 '^timestamping hardware$' -- "${feed[@]}"
fake software
expect "software timestamping: the PHC is a hop from CLOCK_REALTIME" 0 \
	'^timestamping software' -- "${feed[@]}"
expect "software timestamping, no device: the hop is not measured, and says so" 0 \
	'^hop_ns - \(no device' -- "${feed[@]}"
fake no_port_properties
expect "no PORT_PROPERTIES_NP: taken as hardware, and says so" 0 \
	'^timestamping unknown \(taken as hardware\)$' -- "${feed[@]}"
fake good
expect "asymmetry is a percentage of the path delay" 0 '^asymmetry_ns 2839$' -- \
	"${feed[@]}" --asymmetry-pct 50
expect "or a fixed allowance" 0 '^asymmetry_ns 200$' -- "${feed[@]}" --asymmetry-ns 200
expect "ttl follows the interval" 0 '^ttl_ns 10000000000$' -- "${feed[@]}" --interval 2
fake leap61
expect "leap61 is passed on" 0 '^leap61 yes$' -- "${feed[@]}"
fake unknown_accuracy
expect "clockAccuracy 0xFE is unknown, not a number" 0 '^gm_accuracy_ns -$' -- "${feed[@]}"
# A slave whose master goes and which takes over as grandmaster: its
# error against the old domain does not vanish, it keeps ageing.
fake takeover
timeout 3 "$ctl" feed --dry-run --interval 0.1 --socket "$tmp/fake.sock" \
	>"$tmp/out" 2>&1
grep -q '^feed port_state slave .* error_ns 7012$' "$tmp/out" &&
grep -q '^feed port_state master gm_identity 001122.fffe.334455 .* error_ns 7012$' "$tmp/out" &&
	ok "a slave that takes over keeps its last error, ageing" ||
	not_ok "a slave that takes over keeps its last error, ageing"
fake stale_first
expect "a reply to an older request is skipped, not taken" 0 '^master_offset_ns -1234$' -- "${feed[@]}"

# Bad replies: a message, exit 1, nothing fed.
bad() {
	fake "$1"
	expect "$2" 1 "$3" -- "${feed[@]}"
	grep -q '^fed' "$tmp/out" && { echo "# fed although bad" >>"$tmp/out"; not_ok "$2: nothing fed"; } ||
		ok "$2: nothing fed"
}
bad silent "no reply times out" 'no reply to GET DEFAULT_DATA_SET within 500 ms'
bad not_supported "a management error status is named" \
	'ptp4l answers TIME_STATUS_NP with NOT_SUPPORTED \(0x0006\)'
bad truncated "a truncated reply is refused" 'truncated reply: messageLength'
bad short_dataset "a dataset shorter than its layout is refused" \
	'TIME_STATUS_NP reply of 20 bytes is too short'
bad tlv_overrun "a TLV running past the message is refused" 'TLV length 200 runs past'
bad wrong_id "an answer about another dataset is refused" \
	'asked for CURRENT_DATA_SET, answered 0x2002'
bad other_clock "an answer from another clock is refused" 'answered by another clock'
bad not_ptp "a non-management message is refused" 'not a PTPv2 management message'
bad huge_offset "an offset beyond 1000 s is not fed" 'beyond 1000 s: not fed'
bad bothleaps "leap61 with leap59 is not fed" 'leap61 and leap59 both set'
bad bad_port_state "a port state outside IEEE 1588 is not fed" \
	'reports state 42, not an IEEE 1588 portState'
bad listening "a port that never synchronised has nothing to feed" \
	"port is listening: no offset to a grandmaster measured yet"
bad two_ports_one_answers "a port that does not answer fails the poll" \
	'PORT_DATA_SET: 1 of 2 ports answered'
bad utc_offset_negative "a negative currentUtcOffset is not fed" \
	'currentUtcOffset -3 s out of range'

# The real ptp4l.
real_ptp4l() {
	command -v ptp4l >/dev/null && command -v pmc >/dev/null || return 1
	[ "$(id -u)" = 0 ] || return 1
	ip netns add "$ns1" 2>/dev/null && ip netns add "$ns2" || return 1
	ip link add icfa$$ type veth peer name icfb$$ || return 1
	ip link set icfa$$ netns "$ns1" && ip link set icfb$$ netns "$ns2" &&
	ip -n "$ns1" link set icfa$$ up && ip -n "$ns2" link set icfb$$ up || return 1
	printf '[global]\npriority1 10\nuds_address %s\n' "$tmp/gm.sock" >"$tmp/gm.cfg"
	printf '[global]\npriority1 200\nslaveOnly 1\nfree_running 1\nuds_address %s\n' \
		"$tmp/sl.sock" >"$tmp/sl.cfg"
	ip netns exec "$ns1" ptp4l -2 -S -i icfa$$ -f "$tmp/gm.cfg" -m >"$tmp/gm.log" 2>&1 &
	pids+=($!)
	ip netns exec "$ns2" ptp4l -2 -S -i icfb$$ -f "$tmp/sl.cfg" -m >"$tmp/sl.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 60); do
		grep -q 'master offset' "$tmp/sl.log" && return 0
		sleep 0.5
	done
	return 1
}

pmc_get() { # ns sock dataset field
	ip netns exec "$1" pmc -u -b 0 -s "$2" "GET $3" 2>/dev/null |
		awk -v f="$4" '$1 == f { print $2; exit }'
}

if real_ptp4l; then
	sleep 3
	sock=$tmp/sl.sock
	# The offset moves with every sync: compare inside one sync interval.
	same=0
	for _ in 1 2 3 4 5; do
		a=$(pmc_get "$ns2" "$sock" TIME_STATUS_NP master_offset)
		ip netns exec "$ns2" "$ctl" feed --once --dry-run --socket "$sock" >"$tmp/real" 2>&1
		b=$(pmc_get "$ns2" "$sock" TIME_STATUS_NP master_offset)
		f=$(awk '$1 == "master_offset_ns" { print $2 }' "$tmp/real")
		[ -n "$f" ] && [ "$a" = "$f" ] && [ "$b" = "$f" ] && { same=1; break; }
		sleep 0.3
	done
	cp "$tmp/real" "$tmp/out"
	[ "$same" = 1 ] && ok "real ptp4l: master_offset as pmc's TIME_STATUS_NP ($f ns)" ||
		not_ok "real ptp4l: master_offset as pmc's TIME_STATUS_NP (pmc $a/$b, feed $f)"
	gm=$(pmc_get "$ns2" "$sock" PARENT_DATA_SET grandmasterIdentity)
	grep -qx "gm_identity $gm" "$tmp/real" && ok "real ptp4l: grandmaster identity $gm" ||
		not_ok "real ptp4l: grandmaster identity (pmc $gm)"
	acc=$(pmc_get "$ns2" "$sock" PARENT_DATA_SET gm.ClockAccuracy)
	grep -qx "gm_clock_accuracy $acc" "$tmp/real" && ok "real ptp4l: clockAccuracy $acc" ||
		not_ok "real ptp4l: clockAccuracy (pmc $acc)"
	utc=$(pmc_get "$ns2" "$sock" TIME_PROPERTIES_DATA_SET currentUtcOffset)
	grep -qx "utc_offset_s $utc" "$tmp/real" && ok "real ptp4l: currentUtcOffset $utc" ||
		not_ok "real ptp4l: currentUtcOffset (pmc $utc)"
	v=$(pmc_get "$ns2" "$sock" TIME_PROPERTIES_DATA_SET currentUtcOffsetValid)
	[ "$v" = 1 ] && want=yes || want=no
	grep -qx "utc_offset_valid $want" "$tmp/real" && ok "real ptp4l: currentUtcOffsetValid $v" ||
		not_ok "real ptp4l: currentUtcOffsetValid (pmc $v)"
	st=$(pmc_get "$ns2" "$sock" PORT_DATA_SET portState | tr A-Z a-z)
	grep -qx "port_state $st" "$tmp/real" && ok "real ptp4l: port state $st" ||
		not_ok "real ptp4l: port state (pmc $st)"
	d=$(pmc_get "$ns2" "$sock" CURRENT_DATA_SET meanPathDelay)
	d=${d%.*}
	p=$(awk '$1 == "path_delay_ns" { print $2 }' "$tmp/real")
	# meanPathDelay too moves with each exchange: within 50%, and > 0.
	if [ -n "$p" ] && [ "$p" -gt 0 ] && [ -n "$d" ] &&
	   [ $((p * 2)) -ge "$d" ] && [ "$p" -le $((d * 2)) ]; then
		ok "real ptp4l: path delay $p ns, pmc $d ns"
	else
		not_ok "real ptp4l: path delay (feed $p, pmc $d)"
	fi
	grep -qx 'timestamping software (the PHC is a hop from CLOCK_REALTIME)' "$tmp/real" &&
		ok "real ptp4l -S: PORT_PROPERTIES_NP says software timestamping" ||
		not_ok "real ptp4l -S: PORT_PROPERTIES_NP says software timestamping"
	expect "real ptp4l: the grandmaster side feeds as master, offset 0" 0 \
		'^master_offset_ns 0$' -- ip netns exec "$ns1" "$ctl" feed --once --dry-run --socket "$tmp/gm.sock"
	grep -qx 'port_state master' "$tmp/out" && ok "real ptp4l: the grandmaster's port is master" ||
		not_ok "real ptp4l: the grandmaster's port is master"
	expect "real ptp4l: linuxptp's default path is tried" 1 \
		'feed: /var/run/ptp4l: no such socket|feed: /var/run/ptp/ptp4l' -- \
		ip netns exec "$ns2" "$ctl" feed --once --dry-run

	# The long-running feed at a 1 s interval: its CPU cost over
	# FEED_CPU_SECONDS, then ptp4l restarting under it.
	secs=${FEED_CPU_SECONDS:-60}
	ip netns exec "$ns2" "$ctl" feed --dry-run --interval 1 --socket "$sock" \
		>"$tmp/loop.out" 2>"$tmp/loop.err" &
	loop=$!
	pids+=("$loop")
	sleep 1
	# CPU time in ns: schedstat's first field (utime + stime in clock
	# ticks, 10 ms each, is too coarse for this little).
	t0=$(awk '{ print $1 }' "/proc/$loop/schedstat")
	sleep "$secs"
	t1=$(awk '{ print $1 }' "/proc/$loop/schedstat")
	# percent of one CPU, in thousandths of a percent
	milli=$(( (t1 - t0) / (secs * 10000) ))
	printf '# feed cpu: %d ns in %d s (%d us a poll): %d.%03d%% of one CPU\n' \
		$((t1 - t0)) "$secs" $(( (t1 - t0) / secs / 1000 )) \
		$((milli / 1000)) $((milli % 1000))
	cp "$tmp/loop.err" "$tmp/out"
	[ "$milli" -lt 100 ] && ok "the feed at 1 s costs under 0.1% of a CPU ($((milli / 1000)).$(printf %03d $((milli % 1000)))%)" ||
		not_ok "the feed at 1 s costs under 0.1% of a CPU ($milli thousandths of a percent)"
	cp "$tmp/loop.out" "$tmp/out"
	grep -q '^feed port_state uncalibrated gm_identity' "$tmp/loop.out" &&
		ok "the running feed prints the port and grandmaster once" ||
		not_ok "the running feed prints the port and grandmaster once"
	[ "$(grep -c '^feed port_state' "$tmp/loop.out")" = 1 ] &&
		ok "and nothing more while nothing changes" ||
		not_ok "and nothing more while nothing changes"
	slave=$(pgrep -f "ptp4l -2 -S -i icfb$$")
	kill "$slave"
	sleep 3
	cp "$tmp/loop.err" "$tmp/out"
	grep -qE "feed: $sock: (no such socket|nobody listens).*: retrying" "$tmp/loop.err" &&
		ok "ptp4l gone: the feed says so and retries" ||
		not_ok "ptp4l gone: the feed says so and retries"
	[ "$(grep -c retrying "$tmp/loop.err")" = 1 ] && ok "it says so once, not every second" ||
		not_ok "it says so once, not every second"
	ip netns exec "$ns2" ptp4l -2 -S -i icfb$$ -f "$tmp/sl.cfg" -m >"$tmp/sl.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 40); do grep -q 'feed resumed' "$tmp/loop.out" && break; sleep 0.5; done
	cp "$tmp/loop.out" "$tmp/out"
	grep -q 'feed resumed' "$tmp/loop.out" && ok "ptp4l back: the feed resumes" ||
		not_ok "ptp4l back: the feed resumes"
	kill -TERM "$loop"
	wait "$loop"
	rc=$?
	[ "$rc" = 0 ] && ok "SIGTERM ends the feed with exit 0" || not_ok "SIGTERM ends the feed with exit 0 (exit $rc)"
else
	for t in cpu first_line no_repeat gone once resumed sigterm master_offset gm_identity accuracy utc_offset utc_valid port_state path_delay gm_side gm_port default_path; do
		skip_it "real ptp4l: $t" "no ptp4l, pmc, root or network namespaces here"
	done
fi

echo "1..$n"
echo "feed: $pass passed, $fail failed, $skip skipped"
[ "$fail" = 0 ]
