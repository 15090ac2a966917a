#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# Install what the VM tests need on a Debian 12 host: QEMU 10 from
# bookworm-backports (bookworm's 7.2 has no igb and a frozen e1000e PHC),
# busybox for the guest's userland, linuxptp for phc_ctl, both stock kernels'
# headers, and linux-source-6.1 for kselftest_harness.h and checkpatch.pl;
# for the install test, dkms, pkg-config and groff/man-db; for the metrics
# test, Prometheus's promtool and node_exporter, and curl to scrape it; for
# the LD_PRELOAD drop-in, real allocators and a real service to run it
# under (jemalloc, tcmalloc, mimalloc, redis-server and redis-cli).
# Safe to run again: it only acts on what is missing.
set -euo pipefail

need=()
have() { dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q 'ok installed'; }

if [ "$(id -u)" != 0 ]; then
	echo "install-deps: not root; assuming the dependencies are installed" >&2
	exit 0
fi

export DEBIAN_FRONTEND=noninteractive
src=/etc/apt/sources.list.d/ionclock-backports.sources
if ! grep -rqs '^Suites:.*bookworm-backports' /etc/apt/sources.list.d/ &&
   ! grep -qs 'bookworm-backports' /etc/apt/sources.list; then
	cat > "$src" <<'EOS'
Types: deb
URIs: http://deb.debian.org/debian
Suites: bookworm-backports
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOS
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

# Resolve the current ABI names from the meta-packages: Debian drops old ones.
dep_of() { apt-cache depends "$1" | awk '/Depends:/ { print $2; exit }'; }
h61=$(dep_of linux-headers-amd64)
h612=$(dep_of linux-headers-6.12-amd64)

for p in build-essential bc flex bison libelf-dev cpio xz-utils zstd kmod \
	 busybox-static linuxptp tzdata python3 "$h61" "$h612" linux-source-6.1 \
	 dkms pkg-config groff-base man-db gnuplot-nox prometheus \
	 prometheus-node-exporter curl libjemalloc2 libtcmalloc-minimal4 \
	 libmimalloc2.0 redis-server redis-tools; do
	have "$p" || need+=("$p")
done
if [ ${#need[@]} -gt 0 ]; then
	apt-get install -y -q --no-install-recommends "${need[@]}"
fi

qemu_ok() {
	command -v qemu-system-x86_64 >/dev/null &&
	qemu-system-x86_64 -device help 2>/dev/null | grep -q '"igb"'
}
if ! qemu_ok; then
	apt-get install -y -q --no-install-recommends -t bookworm-backports \
		qemu-system-x86 qemu-system-data ipxe-qemu seabios
fi
qemu_ok || { echo "install-deps: QEMU lacks -device igb" >&2; exit 1; }
