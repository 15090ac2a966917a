#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-migration: a VM's worst day, on every kernel.  One guest
# (guest/plan-migration.sh) follows the igb PHC with a reader checking
# every read (selftests/migration_test.c: never backward, the PHC inside
# the bound); meanwhile the host pauses the VM with the monitor's "stop"
# for PAUSE_S seconds and "cont", then stops the whole QEMU process with
# SIGSTOP for PAUSE_S and SIGCONT.  Both vCPUs run on one host thread
# (run.sh's bound mode: the guest TSC is then a steady oscillator).
#
#   migration.sh [6.12|6.1|debug]
#
# TAP on stdout, ending "migration: N passed, N failed"; the guest's
# console in build/migration-<series>/console.log.  Hold the VM lock.
set -uo pipefail

series=${1:-6.12}
. "$(dirname "$0")/lib.sh"
. "$vm_top/selftests/tap.sh"
out=$vm_top/build/migration-$series
tmp=$out/tmp
pause_s=${PAUSE_S:-10}
read_s=60
timeout_s=${IONCLOCK_VM_TIMEOUT:-600}
qpid=
vmpid=

cleanup() {
	[ -z "$qpid" ] || kill -CONT "$qpid" 2>/dev/null
	[ -z "$vmpid" ] || kill "$vmpid" 2>/dev/null
}
trap cleanup EXIT

# One command to QEMU's human monitor on its unix socket.
monitor() {
	python3 - "$out/monitor.sock" "$1" <<'PY'
import socket, sys, time
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[1])
s.settimeout(5)
s.sendall(sys.argv[2].encode() + b'\n')
time.sleep(0.5)
try:
    print(s.recv(65536).decode(errors='replace'))
except socket.timeout:
    pass
s.close()
PY
}

# Wait up to $2 s for a line matching $1 in the console.
wait_console() {
	local i
	for i in $(seq $((${2} * 5))); do
		tr -d '\r' <"$out/console.log" 2>/dev/null | grep -q "$1" && return 0
		kill -0 "$vmpid" 2>/dev/null || return 1
		sleep 0.2
	done
	return 1
}

run_status() { [ "$(cat /proc/"$qpid"/stat | awk '{ print $3 }')" = "$1" ]; }

# Whatever happens in between, the VM is resumed.
pause_monitor() {
	local st rc=0
	monitor stop || return 1
	sleep "$pause_s"
	st=$(monitor "info status")
	echo "$st" | tr -d '\033' | grep -a 'VM status' | tail -n 1
	echo "$st" | grep -aq 'VM status: paused' || rc=1
	monitor cont || rc=1
	return $rc
}

pause_sigstop() {
	kill -STOP "$qpid" && sleep 0.5 && run_status T &&
	sleep "$((pause_s - 1))" && sleep 0.5 && kill -CONT "$qpid"
}

guest_line() {
	tr -d '\r' <"$out/console.log" | grep "$1"
}

mkdir -p "$out" "$tmp"
vm_kernel "$series" >&2 || exit 1
vm_build_module "$out" >&2 || exit 1
ird=$out/initramfs
vm_initramfs "$ird" "$vm_top/selftests/vm/init.sh" "$out/mod" /usr/sbin/phc_ctl >&2 ||
	exit 1
echo migration >"$ird/mode"
echo "$read_s" >"$ird/migration_seconds"
vm_pack "$ird" "$out/initramfs.gz"

rm -f "$out/monitor.sock" "$out/qemu.pid" "$out/console.log"
vm_monitor=unix:$out/monitor.sock,server=on,wait=off
vm_log "booting $vm_abi (TCG, one host thread), pauses of $pause_s s"
vm_boot "$out" "$timeout_s" tcg,thread=single -device igb -device e1000e \
	-pidfile "$out/qemu.pid" >"$tmp/boot.out" 2>&1 &
vmpid=$!

result "the guest is reading, tracking the igb PHC" wait_console migration-ready 240
qpid=$(cat "$out/qemu.pid" 2>/dev/null)
result "QEMU's pid is known" [ -n "$qpid" ]
sleep 5
result "monitor stop for $pause_s s, then cont" pause_monitor
sleep 10
result "SIGSTOP QEMU for $pause_s s, then SIGCONT" pause_sigstop
wait "$vmpid"
vmpid=
result "the guest's plan ran to its end" \
	sh -c "tr -d '\r' <'$out/console.log' | grep -q '^ionclock-vm: totals'"
for l in migration-gap migration-event migration-outside migration-backward \
	 migration-reader; do
	guest_line "^$l" | sed 's/^/# /'
done
result "the reader: no read backward, the PHC inside every bound" \
	sh -c "tr -d '\r' <'$out/console.log' | grep -q 'ionclock-suite: $series migration pass=1 fail=0'"
result "the guest saw the SIGSTOP as a gap of $((pause_s - 2)) s or more, and a disruption" \
	sh -c "tr -d '\r' <'$out/console.log' | grep -Eq '^migration-reader: .* long [1-9][0-9]* disruptions [1-9]'"
result "every guest check passed (the verdict port)" \
	sh -c "tr -d '\r' <'$out/result' | grep -qx success"
echo "1..$n"
echo "migration: $pass passed, $fail failed"
[ "$fail" = 0 ]
