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
# On trixie-backports (a kernel with the vmclock driver, QEMU's -device
# vmclock) the VM is migrated instead: "stop", "migrate file:", "quit";
# the PHC moved by PHC_STEP_NS in the saved state; a new QEMU with the
# same devices and -incoming, "cont".  QEMU's igb keeps no PHC of its
# own: SYSTIM is computed at each read as timadj + QEMU_CLOCK_VIRTUAL
# scaled by TIMINCA (hw/net/e1000x_common.c), and only timadj (and the
# registers) is in its vmstate, the last field of its section.
# QEMU_CLOCK_VIRTUAL itself is migrated to resume where it stopped, as
# is the guest's TSC, so a restore moves none of the guest's clocks: the
# guest sees no gap, and the vmclock's disruption marker (bumped by
# QEMU's post_load, hw/acpi/vmclock.c) is the only sign.  The host moves
# the PHC honestly, and by a known amount, by adding PHC_STEP_NS to
# timadj in the saved file: the destination's PHC then reads that much
# later than the source's would have, as another host's clock may.  The
# guest checks it saw that jump against its counter.
#
#   migration.sh [6.12|6.1|debug|trixie-backports]
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
phc_step_ns=${PHC_STEP_NS:-50000000}
read_s=60
flow=pause
[ "$series" != trixie-backports ] || flow="file"
timeout_s=${IONCLOCK_VM_TIMEOUT:-600}
qpid=
vmpid=

cleanup() {
	[ -z "$qpid" ] || kill -CONT "$qpid" 2>/dev/null
	[ -z "$vmpid" ] || kill "$vmpid" 2>/dev/null
	[ -z "${vm2pid:-}" ] || kill "$vm2pid" 2>/dev/null
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
	console | grep "$1"
}

# Both QEMUs' consoles, the source's then the destination's (if any).
console() {
	local f
	for f in "$out/console.log" "$out/console2.log"; do
		[ ! -f "$f" ] || tr -d '\r' <"$f"
	done
}

# Wait up to $1 s for QEMU $2 to exit.
wait_exit() {
	local i
	for i in $(seq $((${1} * 5))); do
		kill -0 "$2" 2>/dev/null || return 0
		sleep 0.2
	done
	return 1
}

# The igb's SYSTIM now, through the monitor (xp reads its registers as
# the guest would: SYSTIML, which latches SYSTIMH, then SYSTIMH), while the
# VM is stopped and QEMU's virtual clock stands: into $out/systim.
read_systim() {
	local bar
	bar=$(monitor "info pci" | tr -d '\r' |
	      awk '/Ethernet controller: PCI device 8086:10c9/ { igb = 1 }
		   igb && /BAR0: 32 bit memory at/ { print $6; exit }')
	[ -n "$bar" ] || { echo "no igb BAR0 in info pci"; return 1; }
	monitor "xp /2wx $(printf '0x%x' $((bar + 0xb600)))" | tr -d '\r' |
		awk '/^[0-9a-f]+: 0x/ { print $2, $3; exit }' >"$out/systim"
	echo "igb BAR0 $bar, SYSTIM (low, high): $(cat "$out/systim")"
	[ -s "$out/systim" ]
}

# The saved VM: stop, migrate to the file, check it completed, quit.
save_vm() {
	local st i
	monitor stop >/dev/null || return 1
	read_systim || return 1
	monitor "migrate -d file:$out/vm.state" >/dev/null || return 1
	# "Migration status: completed", or QEMU 10.1's "Status: completed".
	for i in $(seq 60); do
		st=$(monitor "info migrate" | tr -d '\033')
		echo "$st" | grep -aiEq 'status:[[:space:]]+(completed|failed)' &&
			break
		sleep 1
	done
	echo "$st" | grep -aiE 'status:'
	echo "$st" | grep -aiEq 'status:[[:space:]]+completed' || return 1
	monitor quit >/dev/null
	wait_exit 30 "$qpid"
}

# The igb's timadj, the last field of its section, moved by $phc_step_ns.
# The guest's igb driver runs the 82576's SYSTIM as a cycle counter of
# 2^19 per ns (INCVALUE 16 << 19 per 16 ns; its cyclecounter shift 19),
# so the step is PHC_STEP_NS << 19 in timadj.  Which 8 bytes are timadj
# is checked against SYSTIM as read at the stop: SYSTIM - timadj is the
# virtual clock's ns << 19, so a whole multiple of 2^19, and less than
# the VM has run.
move_phc() {
	python3 - "$out/vm.state" "$phc_step_ns" "$(cat "$out/systim")" \
		"$(($(date +%s) - boot_s))" <<'PY'
import re, struct, sys
path, step = sys.argv[1], int(sys.argv[2])
lo, hi = (int(w, 16) for w in sys.argv[3].split())
systim, ran_s = hi << 32 | lo, int(sys.argv[4])
data = bytearray(open(path, 'rb').read())
# A full section: 0x04, be32 section id, idstr's length, idstr
# ("<pci address>/igb"), be32 instance, be32 version; its fields; then,
# with section footers (every machine type since 2.4), 0x7e and the id.
found = []
for m in re.finditer(rb'[0-9a-f]{4}:[0-9a-f]{2}:[0-9a-f]{2}\.[0-7]/igb', data):
    at = m.start()
    if data[at - 1] != len(m.group(0)) or data[at - 6] != 0x04:
        continue
    sid = bytes(data[at - 5:at - 1])
    end = data.find(b'\x7e' + sid, m.end() + 8)
    while end > 0:
        # timadj before the footer, consistent with SYSTIM at the stop.
        timadj = struct.unpack('>q', data[end - 8:end])[0]
        virt = (systim - timadj) % (1 << 64)
        if virt > 0 and virt % (1 << 19) == 0 and \
                (virt >> 19) < (ran_s + 60) * 10**9:
            found.append((end - 8, timadj, virt >> 19))
            break
        end = data.find(b'\x7e' + sid, end + 1)
if len(found) != 1:
    sys.exit('igb sections with a timadj that fits SYSTIM %d: %d' %
             (systim, len(found)))
off, timadj, virt_ns = found[0]
new = timadj + (step << 19)
struct.pack_into('>q', data, off, new)
open(path, 'wb').write(data)
print('timadj at byte %d: %d -> %d (the PHC %+d ns; SYSTIM %d at the stop, '
      'the virtual clock at %.3f s)' % (off, timadj, new, step, systim,
                                        virt_ns / 1e9))
PY
}

# A new QEMU with the same machine, restoring the file, and "cont".
restore_vm() {
	local i
	rm -f "$out/monitor.sock"
	vm_monitor=unix:$out/monitor.sock,server=on,wait=off
	timeout --foreground "$timeout_s" qemu-system-x86_64 \
		-accel tcg,thread=single -cpu max -smp "${vm_smp:-2}" -m 1G \
		-nographic -no-reboot \
		-kernel "$vm_vmlinuz" -initrd "$out/initramfs.gz" \
		-append "$vm_append" \
		-chardev file,id=result,path="$out/result" \
		-device isa-serial,chardev=result \
		-monitor "$vm_monitor" -serial stdio \
		-device igb -device e1000e -device vmclock \
		-pidfile "$out/qemu.pid" -S -incoming "file:$out/vm.state" \
		</dev/null >"$out/console2.log" 2>&1 &
	vm2pid=$!
	for i in $(seq 50); do
		[ -S "$out/monitor.sock" ] && break
		sleep 0.2
	done
	wait_status paused 60
	# While the state still loads ("paused (inmigrate)") cont only asks
	# for a start once it is in.
	monitor cont >/dev/null || return 1
	wait_status running 30
}

# Wait up to $2 s for the monitor's "info status" to say $1; print it.
wait_status() {
	local st i
	for i in $(seq "$2"); do
		st=$(monitor "info status" | tr -d '\033')
		echo "$st" | grep -aq "VM status: $1" && break
		sleep 1
	done
	echo "$st" | grep -a 'VM status' | tail -n 1
	echo "$st" | grep -aq "VM status: $1"
}

# What the guest said, across both consoles.
plan_ended() { console | grep -q '^ionclock-vm: totals'; }
reader_passed() { console | grep -q "ionclock-suite: $series migration pass=1 fail=0"; }
restore_seen() {
	console | grep -Eq '^migration-reader: .* disruptions [1-9][0-9]* causes 0x[0-9a-f]*[13579bdf][0-9a-f] '
}
sigstop_seen() {
	console | grep -Eq '^migration-reader: .* long [1-9][0-9]* disruptions [1-9]'
}

mkdir -p "$out" "$tmp"
vm_kernel "$series" >&2 || exit 1
vmclock=()
if [ "$flow" = file ]; then
	result "this QEMU has -device vmclock, this kernel its driver" vm_has_vmclock
	vmclock=(-device vmclock)
	vm_modules=ptp_vmclock
fi
vm_build_module "$out" >&2 || exit 1
ird=$out/initramfs
vm_initramfs "$ird" "$vm_top/selftests/vm/init.sh" "$out/mod" /usr/sbin/phc_ctl >&2 ||
	exit 1
echo migration >"$ird/mode"
echo "$read_s" >"$ird/migration_seconds"
echo "$flow" >"$ird/migration_flow"
echo "$phc_step_ns" >"$ird/migration_phc_step_ns"
vm_pack "$ird" "$out/initramfs.gz"

rm -f "$out/monitor.sock" "$out/qemu.pid" "$out/console.log" "$out/console2.log" \
	"$out/vm.state"
vm_monitor=unix:$out/monitor.sock,server=on,wait=off
if [ "$flow" = file ]; then
	vm_log "booting $vm_abi (TCG, one host thread), to be saved to a file and restored"
else
	vm_log "booting $vm_abi (TCG, one host thread), pauses of $pause_s s"
fi
boot_s=$(date +%s)
vm_boot "$out" "$timeout_s" tcg,thread=single -device igb -device e1000e \
	"${vmclock[@]}" -pidfile "$out/qemu.pid" >"$tmp/boot.out" 2>&1 &
vmpid=$!

result "the guest is reading, tracking the igb PHC" wait_console migration-ready 240
qpid=$(cat "$out/qemu.pid" 2>/dev/null)
result "QEMU's pid is known" [ -n "$qpid" ]
sleep 5
if [ "$flow" = file ]; then
	result "stop, migrate to a file, quit" save_vm
	sed 's/^/# /' "$tmp/out"
	wait "$vmpid"
	vmpid=
	qpid=
	result "the PHC moved by $phc_step_ns ns in the saved state" move_phc
	sed 's/^/# /' "$tmp/out"
	result "a new QEMU restores it with -incoming, cont" restore_vm
	wait "$vm2pid"
	vm2pid=
else
	result "monitor stop for $pause_s s, then cont" pause_monitor
	sleep 10
	result "SIGSTOP QEMU for $pause_s s, then SIGCONT" pause_sigstop
	wait "$vmpid"
	vmpid=
fi
result "the guest's plan ran to its end" plan_ended
for l in migration-gap migration-event migration-announced migration-outside \
	 migration-backward migration-reader; do
	guest_line "^$l" | sed 's/^/# /'
done
result "the reader: no read backward, the PHC inside every bound" reader_passed
if [ "$flow" = file ]; then
	result "the guest saw the restore as a disruption with cause vmclock (0x10)" \
		restore_seen
else
	result "the guest saw the SIGSTOP as a gap of $((pause_s - 2)) s or more, and a disruption" \
		sigstop_seen
fi
result "every guest check passed (the verdict port)" \
	sh -c "tr -d '\r' <'$out/result' | grep -qx success"
# The saved state is the guest's memory: kept only for a failure.
[ "$fail" != 0 ] || rm -f "$out/vm.state"
echo "1..$n"
echo "migration: $pass passed, $fail failed"
[ "$fail" = 0 ]
