#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Boot one of Debian's stock kernels under QEMU (TCG) with an emulated Intel
# 82576 (igb: a PHC that works through the stock driver) and an e1000e (whose
# PHC runs 2.5x fast), load ionclock.ko and run the selftests inside.
#
#   run.sh <6.1|6.12|debug> [check|demo|soak|bound|bench|fuzz|preload|feed]
#
# soak runs only the fault scenarios and the reloads, each for
# FAULT_SOAK_SECONDS (600); preload only the LD_PRELOAD drop-in's stage;
# feed only what the PTP feed changed (control, upstream, ptp4l).
#
# fuzz (make check-fuzz, on the debug kernel) runs init.sh's hostile-input
# plan instead: FUZZ_IOCTLS (1000000) random ioctls beside readers, mappers
# and rmmod attempts, then phc= lists of bad entries.
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
# As in WireGuard's QEMU harness, the guest's PID 1 writes one word to a
# second serial port only if every test passed; a failure, an oops or WARN
# (panic_on_warn=1) or a hang (timeout) all leave it out.  The guest's TAP
# goes to stdout and to build/vm-<series>/console.log.
#
# The series "debug" boots our own 6.1 kernel with KASAN, lockdep,
# DEBUG_ATOMIC_SLEEP, kmemleak and UBSAN instead (build-debug-kernel.sh,
# debug.config): the same test plan, plus init.sh's checks that none of them
# reported anything.
set -euo pipefail

series=${1:?usage: run.sh <6.1|6.12|debug> [check|demo|soak|bound|bench|fuzz|preload|feed]}
mode=${2:-check}
top=$(cd "$(dirname "$0")/../.." && pwd)
# Outside the source tree: the kernel's "make clean M=..." deletes *.ko*.
cache=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}
out=$top/build/vm-$series
case "$mode" in bench | bound | fuzz | preload | feed) out=$out-$mode ;; esac
accel=tcg
[ "$mode" != bound ] || accel=tcg,thread=single
timeout_s=${IONCLOCK_VM_TIMEOUT:-1200}
append="console=ttyS0 panic_on_warn=1 oops=panic panic=-1 quiet loglevel=4 tsc=reliable"

case "$series" in
6.1) meta=linux-image-amd64 ;;
6.12) meta=linux-image-6.12-amd64 ;;
debug)
	# KASAN and lockdep under TCG: the plan takes several times as long.
	timeout_s=${IONCLOCK_VM_TIMEOUT:-3600}
	# KASAN and UBSAN reports are fatal through panic_on_warn (and
	# kasan.fault=panic in case a report does not go through it);
	# lockdep and might_sleep() only print, at KERN_WARNING: loglevel=5
	# puts them on the console too, and a large log buffer keeps them for
	# init.sh's dmesg check.
	append="$append loglevel=5 kasan.fault=panic kmemleak=on log_buf_len=8M"
	;;
*) echo "run.sh: unknown kernel series '$series' (6.1, 6.12 or debug)" >&2; exit 2 ;;
esac

log() { echo "vm-$series: $*" >&2; }

mkdir -p "$cache" "$out"
if [ "$series" = debug ]; then
	# Our own build tree: the module builds against it, and its
	# modules_install root gives the NIC drivers.
	kdir=$("$top/selftests/vm/build-debug-kernel.sh") ||
		{ log "building the debug kernel failed"; exit 1; }
	abi=$(cat "$kdir/include/config/kernel.release")
	root=$kdir/root
	vmlinuz=$kdir/arch/x86/boot/bzImage
else
	# Debian drops old ABI packages: follow the meta-package to today's one.
	img_pkg=$(apt-cache depends "$meta" | awk '/Depends:/ { print $2; exit }')
	[ -n "$img_pkg" ] || { log "cannot resolve $meta (apt-get update?)"; exit 1; }
	abi=${img_pkg#linux-image-}
	# Installed headers, or the packages unpacked into the cache.
	kdir=$("$top/selftests/vm/kernel-headers.sh" "$abi") ||
		{ log "no headers for $abi: run selftests/vm/install-deps.sh"; exit 1; }

	root=$cache/root-$abi
	if [ ! -e "$root/.done" ] || [ ! -d "$root/lib/modules/$abi/kernel" ]; then
		log "fetching $img_pkg"
		rm -rf "$root" && mkdir -p "$root"
		(cd "$cache" && ls ./"${img_pkg}"_*.deb >/dev/null 2>&1 ||
			apt-get download -q "$img_pkg")
		dpkg -x "$(ls "$cache/${img_pkg}"_*.deb | tail -n 1)" "$root"
		depmod -b "$root" "$abi"
		touch "$root/.done"
	fi
	vmlinuz=$root/boot/vmlinuz-$abi
fi

log "building ionclock.ko against $abi"
rm -rf "$out/mod" && mkdir -p "$out/mod"
cp -a "$top/Kbuild" "$top/kmod" "$top/uapi" "$out/mod/"
make -s -C "$kdir" M="$out/mod" W=1 modules >"$out/build.log" 2>&1 ||
	{ cat "$out/build.log"; exit 1; }
# A build that takes its mirror of struct ptp_clock for wrong (phc.c):
# the check plan's init.sh makes sure it refuses every PHC.
if [ "$mode" = check ]; then
	rm -rf "$out/mod-skew" && mkdir -p "$out/mod-skew"
	cp -a "$top/Kbuild" "$top/kmod" "$top/uapi" "$out/mod-skew/"
	make -s -C "$kdir" M="$out/mod-skew" \
		KCFLAGS=-DIONCLOCK_TEST_MIRROR_SKEW=1 modules \
		>"$out/build-skew.log" 2>&1 ||
		{ cat "$out/build-skew.log"; exit 1; }
fi
# The fault tests' fake PHC, held to the same W=1 standard.
cp -a "$top/selftests/fakephc" "$out/mod/"
make -s -C "$kdir" M="$out/mod/fakephc" W=1 modules >>"$out/build.log" 2>&1 ||
	{ cat "$out/build.log"; exit 1; }
if grep -q 'warning:' "$out/build.log"; then
	cat "$out/build.log"; log "W=1 warnings"; exit 1
fi

log "assembling the initramfs"
ird=$out/initramfs
rm -rf "$ird" && mkdir -p "$ird"/{bin,sbin,dev,proc,sys,tmp,modules,tests,lib64,lib/x86_64-linux-gnu}
cp /usr/bin/busybox "$ird/bin/busybox"
# The NIC drivers and everything they need, in load order.
: >"$ird/modules/order"
modprobe -d "$root" -S "$abi" --show-depends -a igb e1000e |
while read -r cmd path _; do
	[ "$cmd" = insmod ] || continue
	name=$(basename "$path"); name=${name%.xz}
	case "$path" in
	*.xz) xz -dc "$path" >"$ird/modules/$name" ;;
	*) cp "$path" "$ird/modules/$name" ;;
	esac
	grep -qx "$name" "$ird/modules/order" || echo "$name" >>"$ird/modules/order"
done
cp "$out/mod/kmod/ionclock.ko" "$ird/modules/"
[ "$mode" != check ] ||
	cp "$out/mod-skew/kmod/ionclock.ko" "$ird/modules/ionclock-mirror-skew.ko"
# Not in modules/order: the fault stage loads it itself.
cp "$out/mod/fakephc/fakephc.ko" "$ird/modules/"
# phc_ctl is the real tool users steer a PHC with, ptp4l the one the feed
# talks to; coreutils' date, python3 and redis-server (linked with
# jemalloc) are real programs for the LD_PRELOAD drop-in, at their own
# paths (busybox's date stays the shell's), with only the Python modules
# that start-up needs; jemalloc, tcmalloc and mimalloc are real allocators
# to preload beside it.  Bring their libraries.
multiarch=$(gcc -print-multiarch)
for bin in /usr/sbin/phc_ctl /usr/sbin/ptp4l /usr/bin/date /usr/bin/python3.11 \
	   /usr/bin/redis-server /usr/lib/"$multiarch"/libjemalloc.so.2 \
	   /usr/lib/"$multiarch"/libtcmalloc_minimal.so.4 \
	   /usr/lib/"$multiarch"/libmimalloc.so.2; do
	[ -e "$bin" ] || { log "$bin missing: run selftests/vm/install-deps.sh"; exit 1; }
	case "$bin" in
	*/phc_ctl | */ptp4l) cp "$bin" "$ird/bin/" ;;
	*) mkdir -p "$ird${bin%/*}" && cp -L "$bin" "$ird$bin" ;;
	esac
	for lib in $(ldd "$bin" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do
		mkdir -p "$ird$(dirname "$lib")"
		cp -L "$lib" "$ird$lib"
	done
done
mkdir -p "$ird/usr/lib/python3.11"
cp /usr/lib/python3.11/*.py "$ird/usr/lib/python3.11/"
cp -r /usr/lib/python3.11/encodings "$ird/usr/lib/python3.11/"
cp -r "$top"/build/selftests/. "$ird/tests/"
# make bench's drop-in half, built by userspace/bench before the VM starts.
if [ "$mode" = bench ]; then
	cp "$top/build/bench/preload_vm_bench" "$ird/tests/" ||
		{ log "build/bench/preload_vm_bench missing: make -C userspace/bench"; exit 1; }
fi
cp "$top/selftests/vm/init.sh" "$ird/init"
echo "$mode" >"$ird/mode"
[ "$mode" != soak ] || echo "${FAULT_SOAK_SECONDS:-600}" >"$ird/soak_seconds"
[ "$mode" != fuzz ] || echo "${FUZZ_IOCTLS:-1000000}" >"$ird/fuzz_ioctls"
echo "$series" >"$ird/series"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$out/initramfs.gz"

log "booting $abi (TCG)"
rm -f "$out/result"
set +e
timeout --foreground "$timeout_s" qemu-system-x86_64 \
	-accel "$accel" -cpu max -smp 2 -m 1G -nographic -no-reboot \
	-kernel "$vmlinuz" -initrd "$out/initramfs.gz" \
	-append "$append" \
	-device igb -device e1000e \
	-chardev file,id=result,path="$out/result" \
	-device isa-serial,chardev=result \
	-monitor none -serial stdio </dev/null 2>&1 | tee "$out/console.log"
rc=${PIPESTATUS[0]}
set -e
if [ "$rc" = 124 ]; then
	log "TIMEOUT after ${timeout_s}s"
fi
if tr -d '\r' <"$out/result" 2>/dev/null | grep -qx success; then
	log "PASS"
	exit 0
fi
log "FAIL (see $out/console.log)"
exit 1
