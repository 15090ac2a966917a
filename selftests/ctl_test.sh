#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# ionclockctl's grammar and file checks, on the host (no device needed):
# exit codes 0/1/2, distinct messages for malformed and out-of-range
# numbers, and leap-seconds.list verification (hash, expiry, format).
# TAP, then "ctl: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
ctl=$top/userspace/ionclockctl
mk=$top/selftests/make-leapfile.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 pass=0 fail=0

# expect <description> <exit code> <stderr/stdout pattern> -- command...
expect() {
	local desc=$1 code=$2 pattern=$3 rc
	shift 4
	n=$((n + 1))
	"$@" >"$tmp/out" 2>&1
	rc=$?
	if [ "$rc" = "$code" ] && grep -qE -- "$pattern" "$tmp/out"; then
		echo "ok $n - $desc"
		pass=$((pass + 1))
	else
		echo "not ok $n - $desc (exit $rc, wanted $code and /$pattern/)"
		sed 's/^/# /' "$tmp/out"
		fail=$((fail + 1))
	fi
}

future=$(($(date +%s) + 200 * 86400))
"$mk" "$future" >"$tmp/good.list"
"$mk" "$future" $(( (future / 86400 - 100) * 86400 )) 38 >"$tmp/extra.list"
"$mk" "$(($(date +%s) - 86400))" >"$tmp/expired.list"
sed 's/^\(3692217600\t\)37/\138/' "$tmp/good.list" >"$tmp/tampered.list"
grep -v '^#@' "$tmp/good.list" >"$tmp/noexpiry.list"
sed 's/^#h.*/#h	1234/' "$tmp/good.list" >"$tmp/badhash.list"
printf '2272060800 10\nnot a line\n' >"$tmp/garbage.list"

expect "a valid file is accepted" 0 'leap_file_valid yes' -- \
	"$ctl" leap check "$tmp/good.list"
expect "it has the real history: 28 entries up to 37 s" 0 \
	'leap_file_tai_utc_offset_s 37' -- "$ctl" leap check "$tmp/good.list"
expect "a scheduled leap adds an entry" 0 'leap_file_entries 29' -- \
	"$ctl" leap check "$tmp/extra.list"
expect "an expired file is accepted, with its date on stderr" 0 \
	'expired on [0-9-]+: its leaps are known only up to then' -- \
	"$ctl" leap check "$tmp/expired.list"
expect "an expired file is said to be expired" 0 'leap_file_expired yes' -- \
	"$ctl" leap check "$tmp/expired.list"
expect "a current file is not" 0 'leap_file_expired no' -- \
	"$ctl" leap check "$tmp/good.list"
expect "edited data fails the hash" 1 'hash mismatch' -- \
	"$ctl" leap check "$tmp/tampered.list"
expect "a short hash line is malformed" 1 'line [0-9]+: malformed' -- \
	"$ctl" leap check "$tmp/badhash.list"
expect "a missing expiry line is named" 1 '#@ expiry line missing' -- \
	"$ctl" leap check "$tmp/noexpiry.list"
expect "garbage is malformed, with its line" 1 'line 2: malformed' -- \
	"$ctl" leap check "$tmp/garbage.list"
expect "a missing file says so" 1 'No such file' -- \
	"$ctl" leap check "$tmp/nonexistent"
if [ -r /usr/share/zoneinfo/leap-seconds.list ]; then
	# tzdata's file: its hash must check out; expired or not, it is used.
	expect "tzdata's own file passes its hash check" 0 \
		'leap_file_valid yes' -- "$ctl" leap check
	sed '0,/^[0-9]/s/^\([0-9]*[ \t]*\)10/\111/' \
		/usr/share/zoneinfo/leap-seconds.list >"$tmp/tz-tampered.list"
	expect "tzdata's file with one digit changed fails the hash" 1 \
		'hash mismatch' -- "$ctl" leap check "$tmp/tz-tampered.list"
fi
expect "leap takes one file at most" 2 'at most one file' -- \
	"$ctl" leap check a b
expect "leap needs a verb" 2 'needs show, load' -- "$ctl" leap
expect "a malformed number is called malformed" 2 "'x5' is not a number" -- \
	"$ctl" config poll_ms x5
expect "an out-of-range number is called out of range" 2 \
	"poll_ms '5' out of range 10..10000" -- "$ctl" config poll_ms 5
expect "an unknown config key is named" 2 'bogus: unknown config key' -- \
	"$ctl" config bogus 1
expect "config wants pairs" 2 'key value pairs' -- "$ctl" config poll_ms
expect "read's count is range-checked" 2 "count '0' out of range" -- \
	"$ctl" read 0
expect "an unknown command exits 2" 2 'frobnicate: unknown command' -- \
	"$ctl" frobnicate
expect "an unknown option exits 2" 2 '-x: unknown option' -- "$ctl" -x status
expect "-v prints the version" 0 '^ionclockctl ' -- "$ctl" -v
expect "-h lists the commands" 0 'leap show\|load' -- "$ctl" -h
expect "a missing device is a runtime failure" 1 'No such file' -- \
	"$ctl" /dev/ionclock-none status
expect "watch's interval: a malformed one is called malformed" 2 \
	"'1,5' is not a number of seconds" -- "$ctl" watch 1,5
expect "watch's interval: finer than a millisecond is malformed" 2 \
	"'0.0005' is not a number of seconds" -- "$ctl" watch 0.0005
expect "watch's interval: below 10 ms is out of range" 2 \
	"interval '0.001' out of range 0.01..3600 seconds" -- "$ctl" watch 0.001
expect "watch's interval: above an hour is out of range" 2 \
	"interval '99999999999999999999' out of range" -- \
	"$ctl" watch 99999999999999999999
expect "watch's count is range-checked" 2 "count '0' out of range" -- \
	"$ctl" watch 1 0
expect "watch takes at most two arguments" 2 'at most an interval and a count' \
	-- "$ctl" watch 1 2 3
expect "watch checks before opening the device" 2 'not a number of seconds' \
	-- "$ctl" /dev/ionclock-none watch x
expect "watch on a missing device is a runtime failure" 1 'No such file' -- \
	"$ctl" /dev/ionclock-none watch 0.5 1
expect "prometheus takes one file at most" 2 'at most a file name' -- \
	"$ctl" prometheus a b
expect "prometheus refuses an empty file name" 2 'empty file name' -- \
	"$ctl" prometheus ''
expect "prometheus on a missing device is a runtime failure" 1 \
	'No such file' -- "$ctl" /dev/ionclock-none prometheus "$tmp/m.prom"
n=$((n + 1))
if [ ! -e "$tmp/m.prom" ] && [ -z "$(ls "$tmp" | grep 'm\.prom\.')" ]; then
	echo "ok $n - a failed prometheus leaves no file behind"
	pass=$((pass + 1))
else
	echo "not ok $n - a failed prometheus leaves no file behind"
	fail=$((fail + 1))
fi
expect "bench's rounds are range-checked" 2 "rounds '101' out of range 1..100" \
	-- "$ctl" bench 101
expect "bench on a missing device is a runtime failure" 1 'No such file' -- \
	"$ctl" /dev/ionclock-none bench
expect "bench ratio takes nothing more" 2 "takes at most a number of rounds, or ratio" \
	-- "$ctl" bench ratio 5
expect "bench ratio on a missing device is a runtime failure" 1 'No such file' -- \
	"$ctl" /dev/ionclock-none bench ratio
expect "id's count is range-checked" 2 "count '0' out of range 1..1000000" -- \
	"$ctl" id 0
expect "id takes at most a count" 2 'at most a count' -- "$ctl" id 1 2
expect "id on a missing device is a runtime failure" 1 'No such file' -- \
	"$ctl" /dev/ionclock-none id 3
expect "config machine_id is range-checked" 2 \
	"machine_id '1024' out of range 0..1023" -- "$ctl" config machine_id 1024
expect "config machine_id: a malformed one is called malformed" 2 \
	"'five' is not a number \(machine_id\)" -- "$ctl" config machine_id five
expect "config machine_id unset is well-formed (then needs the device)" 1 \
	'No such file' -- "$ctl" /dev/ionclock-none config machine_id unset
expect "waitsync: --max-bound 0 is out of range" 2 \
	"--max-bound '0' out of range 1..1000000000000" -- \
	"$ctl" waitsync --max-bound 0
expect "waitsync: a malformed --max-bound is called malformed" 2 \
	"'1ms' is not a number \(--max-bound\)" -- "$ctl" waitsync --max-bound 1ms
expect "waitsync: --timeout above a day is out of range" 2 \
	"--timeout '86401' out of range 0..86400" -- "$ctl" waitsync --timeout 86401
expect "waitsync: an option without its value" 2 '--timeout: needs a value' -- \
	"$ctl" waitsync --max-bound 5 --timeout
expect "waitsync: an unknown option" 2 'takes --max-bound NS and --timeout S' \
	-- "$ctl" waitsync --bound 5
expect "waitsync checks before opening the device" 2 'not a number' -- \
	"$ctl" /dev/ionclock-none waitsync --timeout x
expect "waitsync on a missing device is a runtime failure" 1 'No such file' \
	-- "$ctl" /dev/ionclock-none waitsync --timeout 1
expect "record needs a file" 2 'needs a file name' -- "$ctl" record
expect "record refuses an empty file name" 2 'empty file name' -- \
	"$ctl" record ''
expect "record checks its interval" 2 "interval '0.001' out of range" -- \
	"$ctl" record "$tmp/r.csv" 0.001
expect "record checks its count" 2 "count '0' out of range" -- \
	"$ctl" record "$tmp/r.csv" 1 0
expect "record takes at most a file, an interval and a count" 2 \
	'at most an interval and a count' -- "$ctl" record "$tmp/r.csv" 1 2 3
expect "record on a missing device is a runtime failure" 1 'No such file' -- \
	"$ctl" /dev/ionclock-none record "$tmp/r.csv" 0.5 1
n=$((n + 1))
if [ ! -e "$tmp/r.csv" ]; then
	echo "ok $n - a failed record leaves no file behind"
	pass=$((pass + 1))
else
	echo "not ok $n - a failed record leaves no file behind"
	fail=$((fail + 1))
fi
expect "a bad command later on the line stops everything before it runs" 2 \
	"count '0' out of range" -- "$ctl" /dev/ionclock-none record "$tmp/r.csv" id 0
for c in watch prometheus bench id waitsync record; do
	expect "-h lists $c" 0 "^  $c" -- "$ctl" -h
done

echo "1..$n"
echo "ctl: $pass passed, $fail failed"
[ "$fail" = 0 ]
