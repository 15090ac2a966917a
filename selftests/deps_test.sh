#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make check on a user's own machine: what install-deps.sh would change.
#   - the backports source it adds takes the archive (a mirror, a proxy)
#     and keyring from the machine's own apt sources, deb822 or one-line;
#   - nothing it installs with apt pulls in a kernel image (the 6.12
#     headers package does: a kernel in /boot and update-initramfs);
#   - the stock kernels' headers unpacked into the cache instead
#     (kernel-headers.sh --cache) build the module W=1-clean.
# TAP, then "deps: N passed, N failed".
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
deps=$top/selftests/vm/install-deps.sh
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
n=0 pass=0 fail=0

ok() { n=$((n + 1)); pass=$((pass + 1)); echo "ok $n - $1"; }
not_ok() { n=$((n + 1)); fail=$((fail + 1)); echo "not ok $n - $1"; }
check() {
	local desc=$1
	shift
	if "$@" >"$tmp/out" 2>&1; then
		ok "$desc"
	else
		not_ok "$desc"
		sed 's/^/# /' "$tmp/out"
	fi
}

# source_of <apt etc dir>: the backports stanza install-deps.sh would write.
source_of() { IONCLOCK_APT_ETC=$1 "$deps" --source; }

mkdir -p "$tmp/a/sources.list.d" "$tmp/b/sources.list.d" "$tmp/c/sources.list.d"
cat >"$tmp/a/sources.list.d/mirror.sources" <<'EOF'
Types: deb
URIs: http://security.mirror.example/debian-security
Suites: bookworm-security
Components: main

Types: deb deb-src
# the user's proxy
URIs: http://apt-proxy.example:3142/debian
Suites: bookworm bookworm-updates
Components: main contrib
Signed-By: /etc/apt/keyrings/mirror.gpg
EOF
cat >"$tmp/b/sources.list" <<'EOF'
# deb http://commented.example/debian bookworm main
deb [arch=amd64 signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://mirror.example/debian bookworm main
deb http://mirror.example/debian-security bookworm-security main
EOF
cat >"$tmp/c/sources.list" <<'EOF'
deb http://mirror.example/debian-security bookworm-security main
EOF

deb822_ok() {
	source_of "$tmp/a" >"$tmp/a.out" || return 1
	cat "$tmp/a.out"
	grep -qx 'URIs: http://apt-proxy.example:3142/debian' "$tmp/a.out" &&
	grep -qx 'Suites: bookworm-backports' "$tmp/a.out" &&
	grep -qx 'Signed-By: /etc/apt/keyrings/mirror.gpg' "$tmp/a.out"
}
check "backports from a deb822 source's bookworm archive and its keyring" deb822_ok

oneline_ok() {
	source_of "$tmp/b" >"$tmp/b.out" || return 1
	cat "$tmp/b.out"
	grep -qx 'URIs: http://mirror.example/debian' "$tmp/b.out" &&
	grep -qx 'Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg' "$tmp/b.out"
}
check "backports from a one-line sources.list entry with options" oneline_ok

check "no bookworm archive in the sources: refused, nothing guessed" \
	sh -c '! IONCLOCK_APT_ETC="$1" "$2" --source' sh "$tmp/c" "$deps"

# A package install-deps.sh installs must not depend on a kernel image.
no_image() {
	local p bad=0
	for p in $("$deps" --packages); do
		if apt-cache depends "$p" 2>/dev/null |
		   grep -E '^ *(\|)?Depends: linux-image-'; then
			echo "$p pulls in a kernel image"
			bad=1
		fi
	done
	[ "$bad" = 0 ]
}
check "nothing install-deps.sh installs pulls in a kernel image" no_image

abi=$(apt-cache depends linux-headers-6.12-amd64 2>/dev/null |
      awk '/Depends:/ { print $2; exit }')
abi=${abi#linux-headers-}
unpacked_builds() {
	local kdir mod=$tmp/mod
	kdir=$("$top/selftests/vm/kernel-headers.sh" --cache "$abi") || return 1
	echo "headers: $kdir"
	case "$kdir" in /usr/*) echo "not the cache's tree"; return 1 ;; esac
	mkdir -p "$mod" && cp -a "$top/Kbuild" "$top/kmod" "$top/uapi" "$mod/"
	make -s -C "$kdir" M="$mod" W=1 modules >"$tmp/build.log" 2>&1 ||
		{ cat "$tmp/build.log"; return 1; }
	! grep 'warning:' "$tmp/build.log" &&
	[ "$(modinfo -F vermagic "$mod/kmod/ionclock.ko" | cut -d' ' -f1)" = "$abi" ]
}
if [ -n "$abi" ]; then
	check "the module builds W=1 against $abi headers unpacked into the cache" \
		unpacked_builds
else
	not_ok "resolve linux-headers-6.12-amd64 (apt-get update?)"
fi

echo "deps: $pass passed, $fail failed"
[ "$fail" = 0 ]
