#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the VM tests need on a Debian 12 host: QEMU 10 from
# bookworm-backports (bookworm's 7.2 has no igb and a frozen e1000e PHC),
# busybox for the guest's userland, linuxptp for phc_ctl, both stock kernels'
# headers (unpacked into the cache, see kernel-headers.sh, not installed),
# and linux-source-6.1 for kselftest_harness.h and checkpatch.pl; for the
# install test, dkms, pkg-config and groff/man-db; for the metrics test,
# Prometheus's promtool and node_exporter, and curl to scrape it; for the
# LD_PRELOAD drop-in, real allocators and a real service to run it under
# (jemalloc, tcmalloc, mimalloc, redis-server and redis-cli).  Safe to run
# again: it only acts on what is missing.
#
#   install-deps.sh              install
#   install-deps.sh --packages   print the packages it would install with apt
#   install-deps.sh --source     print the backports source it would add
# IONCLOCK_APT_ETC (/etc/apt) is where the machine's apt sources are read.
set -euo pipefail

packages=(build-essential gcc-12 bc flex bison libelf-dev cpio xz-utils zstd
	  kmod busybox-static linuxptp tzdata python3 linux-source-6.1 dkms dwarves
	  vde2 debootstrap debian-archive-keyring
	  pkg-config groff-base man-db gnuplot-nox prometheus
	  prometheus-node-exporter curl libjemalloc2 libtcmalloc-minimal4
	  libmimalloc2.0 redis-server redis-tools)
# dwarves is pahole: Debian's 6.12 headers carry a vmlinux, and with it
# kbuild gives every module BTF.  vde2's switch is the fleet test's private
# link between its VMs (fleet.sh).  debootstrap makes the Debian 13 build
# root in the cache (debian13-root.sh) that Debian 13's kernels are built
# against with its gcc-14; the keyring has trixie's keys.
qemu_packages=(qemu-system-x86 qemu-system-data ipxe-qemu seabios)
here=$(cd "$(dirname "$0")" && pwd)
# debian_source: the archive (and keyring) the machine takes bookworm from.
. "$here/debian-archive.sh"

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

backports_source() {
	local uri key
	read -r uri key < <(debian_source) || {
		echo "install-deps: no bookworm archive in $apt_etc's sources: add bookworm-backports yourself" >&2
		return 1
	}
	[ "$key" != - ] || key=/usr/share/keyrings/debian-archive-keyring.gpg
	printf 'Types: deb\nURIs: %s\nSuites: bookworm-backports\nComponents: main\nSigned-By: %s\n' \
		"$uri" "$key"
}

case "${1:-}" in
--packages) echo "${packages[@]}" "${qemu_packages[@]}"; exit 0 ;;
--source) backports_source; exit ;;
esac

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: not root; assuming the dependencies are installed" >&2
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive

src=$apt_etc/sources.list.d/ionclock-backports.sources
if ! grep -rqs '^Suites:.*bookworm-backports' "$apt_etc"/sources.list.d/ &&
   ! grep -qs 'bookworm-backports' "$apt_etc"/sources.list; then
	backports_source >"$src.tmp" && mv "$src.tmp" "$src" ||
		{ rm -f "$src.tmp"; exit 1; }
	updated=
fi

stamp=/var/lib/apt/periodic/ionclock-update-stamp
if [ -z "${updated+x}" ] && [ -e "$stamp" ] &&
   [ -n "$(find "$stamp" -mmin -720 2>/dev/null)" ]; then
	updated=1
fi
if [ -z "${updated:-}" ]; then
	apt-get update -q
	mkdir -p "$(dirname "$stamp")" && touch "$stamp"
fi

for p in "${packages[@]}"; do
	have "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${need[@]}"
fi

# Both stock kernels' headers, resolved from the meta-packages (Debian
# drops old ABI names), unpacked into the cache rather than installed: the
# 6.12 headers package would install its kernel image into /boot.
dep_of() { apt-cache depends "$1" | awk '/Depends:/ { print $2; exit }'; }
for meta in linux-headers-amd64 linux-headers-6.12-amd64; do
	h=$(dep_of "$meta")
	"$here/kernel-headers.sh" "${h#linux-headers-}" >/dev/null
done

qemu_ok() {
	command -v qemu-system-x86_64 >/dev/null &&
	qemu-system-x86_64 -device help 2>/dev/null | grep -q '"igb"'
}
if ! qemu_ok; then
	apt-get install -y -q --no-install-recommends -t bookworm-backports \
		"${qemu_packages[@]}"
fi
qemu_ok || { echo "install-deps: QEMU lacks -device igb" >&2; exit 1; }
