#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# make check's "bound" VMs: the igb PHC against the error bound, on a
# guest whose TSC is steady (run.sh: one host thread for both vCPUs).
# Nothing may fall outside the bound here, not even by a nanosecond.

# How far ahead the module must anchor a mapping, both vCPUs on one thread.
suite bound_anchor anchor_test
check "load on the igb PHC" load phc="$igb"
suite bound_sandwich sandwich_test
check "unload" unload
check "load with counter=monotonic_raw" \
	load phc="$igb" counter=monotonic_raw
suite bound_sandwich_raw sandwich_test
check "unload" unload
check "load on the igb PHC, max_slew_ppm=100000" \
	load phc="$igb_ptp" max_slew_ppm=100000
suite bound_phc_manip phc_manip_test
check "unload" unload
# The same steering on the fake PHC, whose frequency changes are
# continuous: QEMU's igb also steps its time when the driver rewrites
# TIMINCA (by about uptime x the change: 5.5 ms for 100 ppm after 55 s
# of uptime, measured).  drift_ppb=100000 allows for the 100 ppm
# steps, so the checks right after them are judged too.
check "load fakephc" insmod /modules/fakephc.ko
fake_ptp=$(find_fake)
check "load on the fake PHC, max_slew_ppm=100000 drift_ppb=100000" \
	load phc="$fake_ptp" max_slew_ppm=100000 drift_ppb=100000
IONCLOCK_PHC=$fake_ptp IONCLOCK_JUDGE_FREQ_STEP=1 \
	suite bound_phc_manip_fake phc_manip_test
check "unload" unload
check "unload fakephc" rmmod fakephc
