#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one of Debian's stock kernels (bookworm's 6.1 and 6.12; Debian 13's
# own, trixie, and the newest of its backports, trixie-backports) under
# QEMU (TCG) with an emulated Intel 82576 (igb: a PHC that works through the
# stock driver) and an e1000e (whose PHC runs 2.5x fast), load ionclock.ko
# and run the selftests inside.
#
#   run.sh <6.1|6.12|trixie|trixie-backports|debug> [check|demo|soak|bound|bench|fuzz|preload|feed|vmclock]
#
# soak runs only the fault scenarios and the reloads, each for
# FAULT_SOAK_SECONDS (600); preload only the LD_PRELOAD drop-in's stage;
# feed only what the PTP feed changed (control, upstream, ptp4l); vmclock
# only the vmclock stage.  Where QEMU has -device vmclock and the kernel
# its driver (trixie-backports), check and vmclock boot with the device.
#
# fuzz (make check-fuzz, on the debug kernel) runs the hostile-input plan
# (guest/plan-fuzz.sh) instead: FUZZ_IOCTLS (1000000) random ioctls beside
# readers, mappers and rmmod attempts, then phc= lists of bad entries.
#
# bound runs the checks of the error bound against the emulated igb PHC on
# a guest whose TSC is a steady oscillator, as a real one is.  Under
# multi-threaded TCG it is not: every guest rdtsc goes through QEMU's
# cpu_get_ticks(), which reads the host TSC under a lock and, when a read
# comes out below the last one any vCPU got (the host's rdtsc is not
# ordered against the lock), moves a shared offset forward by the
# difference.  With two vCPUs reading the TSC at once, as a reader thread
# beside the sampler does, the guest TSC gains on the emulated PHC (which
# runs on QEMU's virtual clock) by hundreds to thousands of ppm, varying
# from second to second: -858 to -4292 ppm measured here against the
# first second, where one reader, or both vCPUs on one host thread, stay
# within the measurement's own +-30 ppm.  That is far beyond what the
# bound assumes of a counter.  thread=single runs both vCPUs on one host
# thread, so the offset never moves.  The check plan keeps multi-threaded
# TCG, for readers that really run in parallel.
#
# The guest's TAP goes to stdout and to build/vm-<series>/console.log; lib.sh
# has how the verdict comes back.
#
# The series "debug" boots our own 6.1 kernel with KASAN, lockdep,
# DEBUG_ATOMIC_SLEEP, kmemleak and UBSAN instead (build-debug-kernel.sh,
# debug.config): the same test plan, plus init.sh's checks that none of them
# reported anything.
set -euo pipefail

series=${1:?usage: run.sh <6.1|6.12|trixie|trixie-backports|debug> [check|demo|soak|bound|bench|fuzz|preload|feed|vmclock]}
mode=${2:-check}
. "$(dirname "$0")/lib.sh"
top=$vm_top
out=$top/build/vm-$series
case "$mode" in bench | bound | fuzz | preload | feed | vmclock) out=$out-$mode ;; esac
accel=tcg
[ "$mode" != bound ] || accel=tcg,thread=single
timeout_s=${IONCLOCK_VM_TIMEOUT:-1200}
if [ "$series" = debug ]; then
	# KASAN and lockdep under TCG: the plan takes several times as long.
	timeout_s=${IONCLOCK_VM_TIMEOUT:-3600}
	# KASAN and UBSAN reports are fatal through panic_on_warn (and
	# kasan.fault=panic in case a report does not go through it);
	# lockdep and might_sleep() only print, at KERN_WARNING: loglevel=5
	# puts them on the console too, and a large log buffer keeps them for
	# init.sh's dmesg check.
	vm_append="$vm_append loglevel=5 kasan.fault=panic kmemleak=on log_buf_len=8M"
fi

mkdir -p "$out"
vm_kernel "$series"
# The check plan's init.sh makes sure the skewed build refuses every PHC.
skew=
[ "$mode" != check ] || skew=skew
vm_build_module "$out" $skew

# The vmclock stage runs where the device can be had (the driver loaded
# too, for its /dev/vmclock0), and checks its absence elsewhere.
vmclock=()
if { [ "$mode" = check ] || [ "$mode" = vmclock ]; } && vm_has_vmclock; then
	vmclock=(-device vmclock)
	vm_modules=ptp_vmclock
fi

vm_log "assembling the initramfs"
ird=$out/initramfs
# phc_ctl is the real tool users steer a PHC with, ptp4l the one the feed
# talks to; coreutils' date, python3 and redis-server (linked with
# jemalloc) are real programs for the LD_PRELOAD drop-in, at their own
# paths (busybox's date stays the shell's), with only the Python modules
# that start-up needs; jemalloc, tcmalloc and mimalloc are real allocators
# to preload beside it.
multiarch=$(gcc -print-multiarch)
vm_initramfs "$ird" "$top/selftests/vm/init.sh" "$out/mod" \
	/usr/sbin/phc_ctl /usr/sbin/ptp4l /usr/bin/date /usr/bin/python3.11 \
	/usr/bin/redis-server /usr/lib/"$multiarch"/libjemalloc.so.2 \
	/usr/lib/"$multiarch"/libtcmalloc_minimal.so.4 \
	/usr/lib/"$multiarch"/libmimalloc.so.2
[ "$mode" != check ] ||
	cp "$out/mod-skew/kmod/ionclock.ko" "$ird/modules/ionclock-mirror-skew.ko"
mkdir -p "$ird/usr/lib/python3.11"
cp /usr/lib/python3.11/*.py "$ird/usr/lib/python3.11/"
cp -r /usr/lib/python3.11/encodings "$ird/usr/lib/python3.11/"
# make bench's drop-in half, built by userspace/bench before the VM starts.
if [ "$mode" = bench ]; then
	cp "$top/build/bench/preload_vm_bench" "$ird/tests/" ||
		{ vm_log "build/bench/preload_vm_bench missing: make -C userspace/bench"; exit 1; }
fi
echo "$mode" >"$ird/mode"
[ ${#vmclock[@]} = 0 ] || : >"$ird/vmclock"
[ "$mode" != soak ] || echo "${FAULT_SOAK_SECONDS:-600}" >"$ird/soak_seconds"
[ "$mode" != fuzz ] || echo "${FUZZ_IOCTLS:-1000000}" >"$ird/fuzz_ioctls"
vm_pack "$ird" "$out/initramfs.gz"

vm_log "booting $vm_abi (TCG)"
if vm_boot "$out" "$timeout_s" "$accel" -device igb -device e1000e "${vmclock[@]}"; then
	vm_log "PASS"
	exit 0
fi
vm_log "FAIL (see $out/console.log)"
exit 1
