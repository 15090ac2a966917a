#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check-fleet: three VMs on one private link, a PTP grandmaster and
# two slaves, ionclock and its feed on every one; fleet_plan.py drives them
# and checks that they agree within their bounds.
#
#   fleet.sh [6.12|6.1]
#
# The link is a vde_switch on a unix socket in build/fleet: the guests
# have addresses on it (10.11.0.0/24), the host has none.  Each guest is
# one vCPU (its TSC a steady oscillator under TCG, see run.sh), runs
# fleet-guest.sh as PID 1 and takes the plan's commands on a third serial
# port, a unix socket here.  The plan's TAP goes to stdout, ending
# "fleet: N passed, N failed"; each guest's console to
# build/fleet/<role>/console.log.
set -euo pipefail

series=${1:-6.12}
. "$(dirname "$0")/lib.sh"
top=$vm_top
out=$top/build/fleet
roles=(gm s1 s2)
declare -A addr=([gm]=10.11.0.1 [s1]=10.11.0.2 [s2]=10.11.0.3)
declare -A mac=([gm]=52:54:00:11:00:01 [s1]=52:54:00:11:00:02 [s2]=52:54:00:11:00:03)
timeout_s=${IONCLOCK_VM_TIMEOUT:-1500}
pids=()

stop_all() {
	local p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	[ ! -s "$out/vde.pid" ] || kill "$(cat "$out/vde.pid")" 2>/dev/null || true
}
trap stop_all EXIT

mkdir -p "$out"
vm_kernel "$series" >&2
vm_build_module "$out" >&2
for r in "${roles[@]}"; do
	mkdir -p "$out/$r"
	vm_initramfs "$out/$r/initramfs" "$top/selftests/vm/fleet-guest.sh" "$out/mod" \
		/usr/sbin/ptp4l /usr/sbin/phc2sys /usr/sbin/pmc /usr/sbin/phc_ctl >&2
	echo "$r" >"$out/$r/initramfs/role"
	echo "${addr[$r]}" >"$out/$r/initramfs/addr"
	vm_pack "$out/$r/initramfs" "$out/$r/initramfs.gz"
done

rm -rf "$out/switch" "$out/vde.pid"
vde_switch --sock "$out/switch" --daemon --pidfile "$out/vde.pid"
vm_smp=1
for r in "${roles[@]}"; do
	rm -f "$out/$r/agent.sock"
	vm_boot "$out/$r" "$timeout_s" tcg \
		-netdev vde,id=link,sock="$out/switch" \
		-device igb,netdev=link,mac="${mac[$r]}" \
		-chardev socket,id=agent,path="$out/$r/agent.sock",server=on,wait=off \
		-device isa-serial,chardev=agent >/dev/null 2>&1 &
	pids+=($!)
done
vm_log "fleet booting ($vm_abi, TCG): ${roles[*]}"

rc=0
python3 "$top/selftests/vm/fleet_plan.py" "$out" "${roles[@]}" || rc=1
for p in "${pids[@]}"; do wait "$p" || rc=1; done
pids=()
exit "$rc"
