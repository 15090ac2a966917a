#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# The ioctl magic byte is nobody else's: Documentation/userspace-api/ioctl/
# ioctl-number.rst of the kernel source Debian ships (linux-source-6.1,
# unpacked into the cache like kselftest_harness.h) must not list it.
# (0xB6, the first choice, is fpga-dfl's.)  TAP, then "magic: N passed,
# N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
cache=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}
src=$cache/linux-source
doc=Documentation/userspace-api/ioctl/ioctl-number.rst
pass=0 fail=0

if [ ! -f "$src/$doc" ]; then
	tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | head -n 1)
	[ -n "$tarball" ] && mkdir -p "$src" &&
	tar -xJf "$tarball" -C "$src" --strip-components=1 \
		"$(basename "$tarball" .tar.xz)/$doc"
fi
magic=$(sed -n 's/^#define[[:space:]]*IONCLOCK_IOC_MAGIC[[:space:]]*\(0x[0-9A-Fa-f]*\).*/\1/p' \
	"$top/uapi/linux/ionclock.h")
if [ -z "$magic" ] || [ ! -f "$src/$doc" ]; then
	echo "not ok 1 - the magic ('$magic') and $doc are there"
	fail=1
else
	hex=$(printf '0x%02X' "$magic")
	if grep -E "^$hex[[:space:]]" "$src/$doc"; then
		echo "not ok 1 - ioctl magic $hex is free in $doc (listed above)"
		fail=1
	else
		echo "ok 1 - ioctl magic $hex is free in $doc"
		pass=1
	fi
fi
echo "magic: $pass passed, $fail failed"
[ "$fail" = 0 ]
