#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# kselftest_harness.h and checkpatch.pl live only in kernel source trees:
# take them from Debian's linux-source-6.1 at build time, never from git.
#   fetch-kselftest.sh <dest dir>
set -euo pipefail
dest=${1:?usage: fetch-kselftest.sh <dest dir>}
[ -e "$dest/.done" ] && exit 0
tarball=$(ls /usr/src/linux-source-*.tar.xz 2>/dev/null | head -n 1)
[ -n "$tarball" ] || {
	echo "fetch-kselftest: no /usr/src/linux-source-*.tar.xz (apt-get install linux-source-6.1)" >&2
	exit 1
}
top=$(basename "$tarball" .tar.xz)
rm -rf "$dest" && mkdir -p "$dest"
tar -xJf "$tarball" -C "$dest" --strip-components=1 \
	"$top/tools/testing/selftests/kselftest_harness.h" \
	"$top/tools/testing/selftests/kselftest.h" \
	"$top/scripts/checkpatch.pl" "$top/scripts/spelling.txt" \
	"$top/scripts/const_structs.checkpatch"
touch "$dest/.done"
