#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Build the debug kernel that "run.sh debug" boots: Debian's linux-source-6.1
# configured as allnoconfig plus selftests/vm/debug.config (KASAN, lockdep,
# DEBUG_ATOMIC_SLEEP, kmemleak, UBSAN, and what the VM test plan needs).
#
#   build-debug-kernel.sh        prints the build directory on stdout
#
# Everything lives in the cache, never in the repo:
#   $cache/debug-src-<version>/   the unpacked source (shared by every config)
#   $cache/debug-kernel-<key>/    the O= build tree: arch/x86/boot/bzImage,
#                                 Module.symvers for "make -C <it> M=...",
#                                 and root/lib/modules/<release>/ from
#                                 modules_install
# <key> hashes the fragment, the source package's version and the compiler,
# so the kernel is rebuilt only when one of them changes.  A finished build
# is marked by .done; an interrupted one is resumed by make.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
fragment=$here/debug.config
cache=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}
tarball=/usr/src/linux-source-6.1.tar.xz
jobs=${JOBS:-$(nproc)}

log() { echo "build-debug-kernel: $*" >&2; }

[ -f "$tarball" ] || { log "no $tarball (apt-get install linux-source-6.1)"; exit 1; }
version=$(dpkg-query -W -f='${Version}' linux-source-6.1 2>/dev/null) ||
	version=$(stat -c %s-%Y "$tarball")
key=$( { cat "$fragment"; echo "$version"; gcc --version | head -n 1; } |
       sha256sum | cut -c 1-12)
src=$cache/debug-src-$version
out=$cache/debug-kernel-$key

if [ -e "$out/.done" ]; then
	echo "$out"
	exit 0
fi

# Unpack once, under a temporary name so a half-unpacked tree is never used.
if [ ! -e "$src/.ionclock-unpacked" ]; then
	log "unpacking $tarball"
	mkdir -p "$cache"
	rm -rf "$src" "$src.tmp" && mkdir -p "$src.tmp"
	tar -xJf "$tarball" -C "$src.tmp" --strip-components=1
	touch "$src.tmp/.ionclock-unpacked"
	mv "$src.tmp" "$src"
fi

mkdir -p "$out"
start=$(date +%s)
log "configuring in $out"
# merge_config.sh -n: allnoconfig with the fragment as KCONFIG_ALLCONFIG.  It
# only warns when Kconfig overrides a requested value (a missing dependency,
# a misspelt name): treat that as an error, or the kernel silently lacks a
# checker.
(cd "$src" && ARCH=x86_64 scripts/kconfig/merge_config.sh -n -O "$out" \
	"$fragment") >"$out/config.log" 2>&1 ||
	{ cat "$out/config.log" >&2; exit 1; }
if grep -A 2 'not in final .config' "$out/config.log" >&2; then
	log "debug.config asks for values Kconfig did not keep (above)"
	exit 1
fi

log "building bzImage and modules (-j$jobs, nice 10; see $out/build.log)"
if ! nice -n 10 make -C "$src" O="$out" ARCH=x86_64 -j"$jobs" \
	bzImage modules >"$out/build.log" 2>&1; then
	tail -n 40 "$out/build.log" >&2
	exit 1
fi
rm -rf "$out/root"
make -s -C "$src" O="$out" ARCH=x86_64 INSTALL_MOD_PATH="$out/root" \
	modules_install >>"$out/build.log" 2>&1 ||
	{ tail -n 20 "$out/build.log" >&2; exit 1; }
touch "$out/.done"
log "built $(cat "$out/include/config/kernel.release") in $(($(date +%s) - start)) s"
echo "$out"
