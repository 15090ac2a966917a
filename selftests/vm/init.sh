#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# PID 1 of the test VM.  Loads the NIC drivers, then runs the plan for
# run.sh's mode, guest/plan-<mode>.sh, against ionclock.ko (guest/lib.sh
# counts; guest/stages.sh holds what several plans run).  Writes
# "success" to the second serial port only if every test passed; run.sh
# looks for nothing else.

. /guest/pid1.sh
mode=$(cat /mode)
series=$(cat /series)
pass=0
fail=0
skip=0
checks_pass=0
checks_fail=0
checks_skip=0

. /guest/lib.sh
. /guest/stages.sh

for m in $(cat /modules/order); do
	insmod "/modules/$m" || { say "insmod $m failed"; fail=$((fail + 1)); }
done
# PCI probing is asynchronous: wait for both NICs (TCG is slow).
for i in $(seq 50); do
	[ "$(ls /sys/class/net | grep -vc '^lo$')" -ge 2 ] && break
	sleep 0.2
done

nic_of() {
	for n in /sys/class/net/*; do
		drv=$(readlink "$n/device/driver")
		[ "${drv##*/}" = "$1" ] && echo "${n##*/}" && return
	done
}
igb=$(nic_of igb)
e1000e=$(nic_of e1000e)
if [ -z "$igb" ] || [ -z "$e1000e" ]; then
	say "NICs missing: $(ls /sys/class/net); modules: $(cut -d' ' -f1 /proc/modules)"
	dmesg | tail -n 20
	fail=$((fail + 1))
	finish
fi
ip link set "$igb" up
ip link set "$e1000e" up
igb_ptp=/dev/$(ls "/sys/class/net/$igb/device/ptp")
igb_index=${igb_ptp#/dev/ptp}
e1000e_ptp=/dev/$(ls "/sys/class/net/$e1000e/device/ptp")
igb_pci=$(readlink -f "/sys/class/net/$igb/device")
say "igb $igb $igb_ptp ($igb_pci), e1000e $e1000e $e1000e_ptp"
export IONCLOCK_DEV=/dev/ionclock0 IONCLOCK_PHC=$igb_ptp

if [ "$series" = debug ]; then
	mount -t debugfs none /sys/kernel/debug
	dmesg | grep -E 'KernelAddressSanitizer|Lock dependency validator|kmemleak:'
	check "KASAN, lockdep and kmemleak are on; ionclock.ko is instrumented" \
		debug_tools_on
	check "kmemleak: boot leaks cleared" kmemleak_baseline
	say "kmemleak: $(grep -c '^unreferenced object' /tmp/kmemleak-boot) leak(s) at boot, not counted"
fi

# The plan for this run (run.sh writes /mode): guest/plan-<mode>.sh.
if [ ! -f "/guest/plan-$mode.sh" ]; then
	say "no plan for mode $mode"
	fail=$((fail + 1))
	finish
fi
. "/guest/plan-$mode.sh"
finish
