#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the read costs on the igb PHC, once tracking (ionclockctl
# bench, preload_vm_bench); the host collects the "read-cost:" and
# "preload-cost:" lines from the console log.

load phc="$igb"
for i in $(seq 60); do
	ionclockctl status 2>/dev/null | grep -qx "state tracking" && break
	sleep 0.5
done
# A leap table, so that ionclock_gettime(UTC) has an offset to apply.
make-leapfile.sh $(($(date +%s) + 100 * 86400)) >/tmp/leap-seconds.list
ionclockctl leap load /tmp/leap-seconds.list
# A machine id, so that ionclock_id() is timed too.
ionclockctl config machine_id 1 >/dev/null
ionclockctl status
# The drop-in's clock_gettime() next to glibc's, and its set-up.
ionclockctl bench && preload_vm_bench && pass=1
unload
