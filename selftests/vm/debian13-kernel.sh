#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# One of Debian 13's kernels, fetched into the cache without installing
# anything: resolved, downloaded and unpacked with apt inside the Debian 13
# build root (debian13-root.sh), whose apt knows trixie and its backports.
#
#   debian13-kernel.sh <trixie|trixie-backports>
#
# trixie is Debian 13's own kernel (linux-image-amd64 there);
# trixie-backports the newest its backports carry, resolved now.  Prints
# shell assignments for lib.sh's vm_kernel: vm_abi, vm_kdir (the headers,
# unpacked as kernel-headers.sh does), vm_root (the image and modules,
# with depmod run) and vm_vmlinuz.
#
# 7.x kernels are split packages: linux-image-<abi> is then a metapackage,
# the kernel is in linux-binary-<abi> (usr/lib/modules/<abi>/vmlinuz) and
# the modules in linux-modules-<abi>.  Whatever the image package depends
# on of that ABI is unpacked beside it, so both layouts work.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
suite=${1:?usage: debian13-kernel.sh <trixie|trixie-backports>}
cache=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}

log() { echo "debian13-kernel: $*" >&2; }
in_root() { "$here/debian13-root.sh" run "$@"; }

case "$suite" in
trixie) rel=() ;;
trixie-backports) rel=(-t trixie-backports) ;;
*) log "unknown suite '$suite' (trixie or trixie-backports)"; exit 2 ;;
esac
"$here/debian13-root.sh" >/dev/null

# The meta-package's candidate in that suite names today's ABI.
img=$(in_root apt-cache "${rel[@]}" depends linux-image-amd64 |
      awk '/Depends:/ && $2 ~ /^linux-image-/ { print $2; exit }')
[ -n "$img" ] || { log "cannot resolve linux-image-amd64 in $suite"; exit 1; }
abi=${img#linux-image-}

kdir=$(IONCLOCK_APT_RUN="$here/debian13-root.sh run" \
       "$here/kernel-headers.sh" --cache "$abi") ||
	{ log "no headers for $abi"; exit 1; }

root=$cache/root-$abi
if [ ! -e "$root/.done" ]; then
	pkgs=("$img")
	pkgs+=($(in_root apt-cache depends "$img" |
		 awk -v abi="$abi" '/Depends:/ && $2 ~ /^linux-[a-z]+-/ &&
			substr($2, length($2) - length(abi) + 1) == abi { print $2 }'))
	mkdir -p "$cache/debs"
	rm -rf "$root" && mkdir -p "$root"
	for p in "${pkgs[@]}"; do
		if ! ls "$cache/debs/${p}"_*.deb >/dev/null 2>&1; then
			log "fetching $p"
			(cd "$cache/debs" && in_root apt-get download -q "$p") >&2 ||
				{ log "apt-get download $p failed"; exit 1; }
		fi
		dpkg -x "$(ls "$cache/debs/${p}"_*.deb | tail -n 1)" "$root"
	done
	# Merged /usr: the modules may sit under usr/lib only; the host's
	# modprobe and depmod look under lib/modules.
	[ -e "$root/lib" ] || ln -s usr/lib "$root/lib"
	[ -d "$root/lib/modules/$abi/kernel" ] ||
		{ log "no modules in ${pkgs[*]}"; exit 1; }
	depmod -b "$root" "$abi"
	touch "$root/.done"
fi
for vmlinuz in "$root/boot/vmlinuz-$abi" "$root/usr/lib/modules/$abi/vmlinuz" ""; do
	[ -z "$vmlinuz" ] || [ ! -f "$vmlinuz" ] || break
done
[ -n "$vmlinuz" ] || { log "no vmlinuz in $root"; exit 1; }
printf 'vm_abi=%q vm_kdir=%q vm_root=%q vm_vmlinuz=%q\n' "$abi" "$kdir" "$root" "$vmlinuz"
