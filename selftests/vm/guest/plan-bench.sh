#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# make bench: the read costs on the igb PHC, once tracking (ionclockctl
# bench, preload_vm_bench) and the anchor's need (anchor_test); the host
# collects the "read-cost:", "preload-cost:" and "anchor-need:" lines from
# the console log.

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
ionclockctl bench && preload_vm_bench && anchor_test && pass=1
# The same bound at the shortest poll (10 ms), where its growth between
# samples is smallest: what a user after the narrowest bound would set.
ionclockctl config poll_ms 10 >/dev/null
sleep 5
ionclockctl bench ratio || pass=
unload
