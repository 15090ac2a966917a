#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The build tree of one of Debian's stock kernels, without installing a
# kernel: installing linux-headers-6.12.* pulls in its linux-image (a kernel
# in the host's /boot, update-initramfs).  Prints the directory to build
# against ("make -C <it> M=...").
#
#   kernel-headers.sh <abi>            /usr/src/linux-headers-<abi> if the
#                                      package is installed, else the cache's
#   kernel-headers.sh --cache <abi>    always the cache's
#
# IONCLOCK_APT_RUN, when set, is a command apt runs under, for a kernel
# of another release (debian13-kernel.sh: "debian13-root.sh run").
#
# The cache's tree is linux-headers-<abi>, the -common package it includes
# and the linux-kbuild package its scripts link to, fetched with apt-get
# download and unpacked together under $cache/headers-<abi>/, where their
# relative links meet.  The absolute paths, the include of the -common
# Makefile (and, from 7.x, its KBUILD_OUTPUT), are pointed into the cache.
set -euo pipefail

use_installed=1
if [ "${1:-}" = --cache ]; then
	use_installed=
	shift
fi
abi=${1:?usage: kernel-headers.sh [--cache] <abi>}
apt_run=${IONCLOCK_APT_RUN:-}
cache=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}
root=$cache/headers-$abi
tree=$root/usr/src/linux-headers-$abi

log() { echo "kernel-headers: $*" >&2; }

if [ -n "$use_installed" ] && [ -f "/usr/src/linux-headers-$abi/Makefile" ]; then
	echo "/usr/src/linux-headers-$abi"
	exit 0
fi
if [ -e "$root/.done" ]; then
	echo "$tree"
	exit 0
fi

pkg=linux-headers-$abi
# What the headers package needs to build with: its -common half and kbuild.
deps=$($apt_run apt-cache depends "$pkg" 2>/dev/null |
       awk '/Depends:/ && ($2 ~ /^linux-headers-.*-common$/ ||
			   $2 ~ /^linux-kbuild-/) { print $2 }' | sort -u)
[ -n "$deps" ] || { log "cannot resolve $pkg's dependencies (apt-get update?)"; exit 1; }

mkdir -p "$cache/debs"
for p in "$pkg" $deps; do
	if ! ls "$cache/debs/${p}"_*.deb >/dev/null 2>&1; then
		log "fetching $p"
		(cd "$cache/debs" && $apt_run apt-get download -q "$p") >&2 ||
			{ log "apt-get download $p failed"; exit 1; }
	fi
done

# Unpack under a temporary name, so a half-unpacked tree is never used.
rm -rf "$root.tmp" && mkdir -p "$root.tmp"
for p in "$pkg" $deps; do
	dpkg -x "$(ls "$cache/debs/${p}"_*.deb | tail -n 1)" "$root.tmp"
done
common=$(ls -d "$root.tmp"/usr/src/linux-headers-*-common 2>/dev/null | head -n 1)
[ -n "$common" ] || { log "no -common tree in $deps"; exit 1; }
sed -i -e "s|^include /usr/src/\(linux-headers-[^/]*-common\)/Makefile\$|include $root/usr/src/\1/Makefile|" \
	-e "s|^KBUILD_OUTPUT=/usr/src/|KBUILD_OUTPUT=$root/usr/src/|" \
	"$root.tmp/usr/src/linux-headers-$abi/Makefile"
grep -q "^include $root/" "$root.tmp/usr/src/linux-headers-$abi/Makefile" ||
	{ log "unexpected Makefile in $pkg"; exit 1; }
touch "$root.tmp/.done"
rm -rf "$root"
mv "$root.tmp" "$root"
echo "$tree"
