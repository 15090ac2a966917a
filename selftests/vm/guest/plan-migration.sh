# SPDX-License-Identifier: GPL-2.0
#
# make check-migration (selftests/vm/migration.sh): a reader checks every
# read against the igb PHC while the host pauses this VM through QEMU's
# monitor (stop, cont) and stops QEMU itself (SIGSTOP, SIGCONT).
check "load on the igb PHC" load phc="$igb"
check "tracking" ionclockctl waitsync --timeout 60
MIGRATION_SECONDS=$(cat /migration_seconds) suite migration migration_test
check "dmesg reports the stopped VM as a disruption (stall)" \
	sh -c 'dmesg | grep "disruption (" | grep -q stall'
check "ionclockctl status counts it" \
	sh -c 'ionclockctl status | tee /dev/stderr | awk "\$1 == \"disruptions\" && \$2 > 0 { ok = 1 } END { exit !ok }"'
check "unload" unload
check "no kernel warnings" sh -c '! dmesg | grep -E "WARNING|BUG:|Oops"'
