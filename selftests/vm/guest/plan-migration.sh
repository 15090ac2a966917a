# SPDX-License-Identifier: GPL-2.0
#
# make check-migration (selftests/vm/migration.sh): a reader checks every
# read against the igb PHC while the host pauses this VM through QEMU's
# monitor (stop, cont) and stops QEMU itself (SIGSTOP, SIGCONT), or, on a
# VM with a vmclock (/migration_flow says "file"), saves it to a file,
# moves its PHC and restores it in a new QEMU.
flow=$(cat /migration_flow)
check "load on the igb PHC" load phc="$igb"
check "tracking" ionclockctl waitsync --timeout 60
if [ "$flow" = file ]; then
	check "the module follows the vmclock" \
		sh -c 'ionclockctl status | grep -qx "vmclock followed"'
	IONCLOCK_VMCLOCK=/dev/vmclock0 \
	MIGRATION_PHC_STEP_NS=$(cat /migration_phc_step_ns) MIGRATION_MIN_GAPS=0 \
	MIGRATION_SECONDS=$(cat /migration_seconds) suite migration migration_test
	check "dmesg reports the restore as a disruption (vmclock)" \
		sh -c 'dmesg | grep "disruption (" | grep -q vmclock'
	check "dmesg has the vmclock's marker moving" \
		sh -c 'dmesg | grep -q "vmclock: disruption marker"'
else
	MIGRATION_SECONDS=$(cat /migration_seconds) suite migration migration_test
	check "dmesg reports the stopped VM as a disruption (stall)" \
		sh -c 'dmesg | grep "disruption (" | grep -q stall'
fi
check "ionclockctl status counts it" \
	sh -c 'ionclockctl status | tee /dev/stderr | awk "\$1 == \"disruptions\" && \$2 > 0 { ok = 1 } END { exit !ok }"'
check "unload" unload
check "no kernel warnings" sh -c '! dmesg | grep -E "WARNING|BUG:|Oops"'
