# SPDX-License-Identifier: GPL-2.0
#
# The pieces every VM runner shares, sourced by run.sh (one VM, one plan)
# and fleet.sh (three VMs on one link): pick a kernel, build the module
# against it, assemble an initramfs, boot it under TCG.  Each function sets
# or reads the variables named in its comment; none exits on its own.

vm_top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
# Outside the source tree: the kernel's "make clean M=..." deletes *.ko*.
vm_cache=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}
vm_append="console=ttyS0 panic_on_warn=1 oops=panic panic=-1 quiet loglevel=4 tsc=reliable"

vm_log() { echo "vm-${vm_series:-?}: $*" >&2; }

# vm_kernel <series>: sets vm_series, vm_abi, vm_kdir (the build tree the
# module is built against), vm_root (where the NIC drivers are found),
# vm_vmlinuz and vm_make (what runs make against vm_kdir).  The stock
# series are Debian's packages, unpacked into the cache: 6.1 and 6.12
# bookworm's, trixie and trixie-backports Debian 13's (debian13-kernel.sh),
# built with Debian 13's gcc-14 inside its build root (debian13-root.sh);
# "debug" is our own build (build-debug-kernel.sh).
vm_kernel() {
	local meta img_pkg vars
	vm_series=$1
	vm_make=make
	case "$vm_series" in
	6.1) meta=linux-image-amd64 ;;
	6.12) meta=linux-image-6.12-amd64 ;;
	trixie | trixie-backports)
		vars=$("$vm_top/selftests/vm/debian13-kernel.sh" "$vm_series") ||
			{ vm_log "fetching Debian 13's $vm_series kernel failed"; return 1; }
		eval "$vars"
		vm_make="$vm_top/selftests/vm/debian13-root.sh run make"
		return 0
		;;
	debug)
		vm_kdir=$("$vm_top/selftests/vm/build-debug-kernel.sh") ||
			{ vm_log "building the debug kernel failed"; return 1; }
		vm_abi=$(cat "$vm_kdir/include/config/kernel.release")
		vm_root=$vm_kdir/root
		vm_vmlinuz=$vm_kdir/arch/x86/boot/bzImage
		return 0
		;;
	*) vm_log "unknown kernel series '$vm_series' (6.1, 6.12, trixie, trixie-backports or debug)"; return 2 ;;
	esac
	mkdir -p "$vm_cache"
	# Debian drops old ABI packages: follow the meta-package to today's one.
	img_pkg=$(apt-cache depends "$meta" | awk '/Depends:/ { print $2; exit }')
	[ -n "$img_pkg" ] || { vm_log "cannot resolve $meta (apt-get update?)"; return 1; }
	vm_abi=${img_pkg#linux-image-}
	# Installed headers, or the packages unpacked into the cache.
	vm_kdir=$("$vm_top/selftests/vm/kernel-headers.sh" "$vm_abi") ||
		{ vm_log "no headers for $vm_abi: run selftests/vm/install-deps.sh"; return 1; }
	vm_root=$vm_cache/root-$vm_abi
	if [ ! -e "$vm_root/.done" ] || [ ! -d "$vm_root/lib/modules/$vm_abi/kernel" ]; then
		vm_log "fetching $img_pkg"
		rm -rf "$vm_root" && mkdir -p "$vm_root"
		(cd "$vm_cache" && ls ./"${img_pkg}"_*.deb >/dev/null 2>&1 ||
			apt-get download -q "$img_pkg") || return 1
		dpkg -x "$(ls "$vm_cache/${img_pkg}"_*.deb | tail -n 1)" "$vm_root" || return 1
		depmod -b "$vm_root" "$vm_abi" || return 1
		touch "$vm_root/.done"
	fi
	vm_vmlinuz=$vm_root/boot/vmlinuz-$vm_abi
}

# vm_has_vmclock: whether this QEMU has -device vmclock and vm_kdir's
# kernel its driver (ptp_vmclock, 6.13+): then the VM gets the device.
# QEMU fills in no clock data, only the disruption fields; ionclock reads
# the page itself, whether or not the driver is loaded.
vm_has_vmclock() {
	qemu-system-x86_64 -device help 2>/dev/null | grep -q '"vmclock"' &&
	modprobe -d "$vm_root" -S "$vm_abi" --show-depends ptp_vmclock \
		>/dev/null 2>&1
}

# vm_build_module <dir> [skew]: ionclock.ko and the fake PHC built W=1
# against vm_kdir in <dir>/mod; with "skew", also the build that takes its
# mirror of struct ptp_clock for wrong (phc.c), in <dir>/mod-skew.
vm_build_module() {
	local out=$1 skew=${2:-}
	vm_log "building ionclock.ko against $vm_abi"
	rm -rf "$out/mod" && mkdir -p "$out/mod"
	cp -a "$vm_top/Kbuild" "$vm_top/kmod" "$vm_top/uapi" "$out/mod/"
	$vm_make -s -C "$vm_kdir" M="$out/mod" W=1 modules >"$out/build.log" 2>&1 ||
		{ cat "$out/build.log"; return 1; }
	if [ -n "$skew" ]; then
		rm -rf "$out/mod-skew" && mkdir -p "$out/mod-skew"
		cp -a "$vm_top/Kbuild" "$vm_top/kmod" "$vm_top/uapi" "$out/mod-skew/"
		$vm_make -s -C "$vm_kdir" M="$out/mod-skew" \
			KCFLAGS=-DIONCLOCK_TEST_MIRROR_SKEW=1 modules \
			>"$out/build-skew.log" 2>&1 ||
			{ cat "$out/build-skew.log"; return 1; }
	fi
	# The fault tests' fake PHC, held to the same W=1 standard.
	cp -a "$vm_top/selftests/fakephc" "$out/mod/"
	$vm_make -s -C "$vm_kdir" M="$out/mod/fakephc" W=1 modules >>"$out/build.log" 2>&1 ||
		{ cat "$out/build.log"; return 1; }
	if grep -q 'warning:' "$out/build.log"; then
		cat "$out/build.log"; vm_log "W=1 warnings"; return 1
	fi
}

# vm_copy_program <initramfs> <path>: a host binary or library at its own
# path in the initramfs (or, for the PTP tools, in /bin), with the
# libraries it links.
vm_copy_program() {
	local ird=$1 bin=$2 lib
	[ -e "$bin" ] || { vm_log "$bin missing: run selftests/vm/install-deps.sh"; return 1; }
	case "$bin" in
	*/sbin/*) cp "$bin" "$ird/bin/" ;;
	*) mkdir -p "$ird${bin%/*}" && cp -L "$bin" "$ird$bin" ;;
	esac
	for lib in $(ldd "$bin" | awk '/=>/ { print $3 } /ld-linux/ { print $1 }'); do
		mkdir -p "$ird$(dirname "$lib")"
		cp -L "$lib" "$ird$lib"
	done
}

# vm_initramfs <dir> <init> <mod-dir> [program...]: the initramfs tree in
# <dir>: busybox, the NIC drivers (and vm_modules, default none) in load
# order, ionclock.ko and the fake
# PHC from <mod-dir>, the selftests, the programs named, <init> as PID 1
# and the guest's shell library (selftests/vm/guest/).
# The caller adds its own files, then packs it with vm_pack.
vm_initramfs() {
	local ird=$1 init=$2 mod=$3 cmd path name bin
	shift 3
	rm -rf "$ird" && mkdir -p "$ird"/{bin,sbin,dev,proc,sys,tmp,modules,tests,lib64,lib/x86_64-linux-gnu}
	cp /usr/bin/busybox "$ird/bin/busybox"
	: >"$ird/modules/order"
	# shellcheck disable=SC2086 # a list of module names
	modprobe -d "$vm_root" -S "$vm_abi" --show-depends -a igb e1000e ${vm_modules:-} |
	while read -r cmd path _; do
		[ "$cmd" = insmod ] || continue
		name=$(basename "$path"); name=${name%.xz}
		name=${name%.zst}
		case "$path" in
		*.xz) xz -dc "$path" >"$ird/modules/$name" ;;
		*.zst) zstd -qdc "$path" >"$ird/modules/$name" ;;
		*) cp "$path" "$ird/modules/$name" ;;
		esac
		grep -qx "$name" "$ird/modules/order" || echo "$name" >>"$ird/modules/order"
	done
	cp "$mod/kmod/ionclock.ko" "$ird/modules/"
	# Not in modules/order: the fault stage loads it itself.
	cp "$mod/fakephc/fakephc.ko" "$ird/modules/"
	for bin in "$@"; do
		vm_copy_program "$ird" "$bin" || return 1
	done
	cp -r "$vm_top"/build/selftests/. "$ird/tests/"
	cp "$init" "$ird/init"
	cp -r "$vm_top/selftests/vm/guest" "$ird/guest"
	echo "$vm_series" >"$ird/series"
}

# vm_pack <dir> <file>: the initramfs tree packed for -initrd.
vm_pack() {
	(cd "$1" && find . | cpio -o -H newc --quiet | gzip -1) >"$2"
}

# vm_boot <out> <timeout_s> <accel> [qemu args...]: boots vm_vmlinuz with
# <out>/initramfs.gz under TCG, its console on stdout and in
# <out>/console.log, and the guest's verdict port in <out>/result.  As in
# WireGuard's QEMU harness, the guest's PID 1 writes one word there only if
# every test passed; a failure, an oops or WARN (panic_on_warn=1) or a hang
# (timeout) all leave it out.  Returns 0 only for "success".  vm_monitor
# (default none) is QEMU's -monitor, for runners that pause the guest;
# vm_smp (default 2) its vCPUs.
vm_boot() {
	local out=$1 timeout_s=$2 accel=$3 rc
	shift 3
	rm -f "$out/result"
	timeout --foreground "$timeout_s" qemu-system-x86_64 \
		-accel "$accel" -cpu max -smp "${vm_smp:-2}" -m 1G -nographic -no-reboot \
		-kernel "$vm_vmlinuz" -initrd "$out/initramfs.gz" \
		-append "$vm_append" \
		-chardev file,id=result,path="$out/result" \
		-device isa-serial,chardev=result \
		-monitor "${vm_monitor:-none}" -serial stdio "$@" </dev/null 2>&1 | tee "$out/console.log"
	rc=${PIPESTATUS[0]}
	[ "$rc" != 124 ] || vm_log "TIMEOUT after ${timeout_s}s"
	tr -d '\r' <"$out/result" 2>/dev/null | grep -qx success
}
