#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# A Debian 13 (trixie) build root in the cache, for building against
# Debian 13's kernel headers: they name trixie's gcc-14 in
# CONFIG_CC_VERSION_TEXT and pass it options (-fmin-function-alignment=16)
# that bookworm's gcc-12 does not know.  Made once with debootstrap from the
# archive the machine's own apt sources name; nothing goes into the host's
# system directories.
#
#   debian13-root.sh                 print the root's directory (made if missing)
#   debian13-root.sh run CMD...      run CMD inside it, in a private mount
#                                    namespace with the cache and the source
#                                    tree bind-mounted at their own paths
#                                    (and the caller's directory kept if it
#                                    is under one of them)
#   debian13-root.sh update          apt-get update inside it
#
# Inside, apt has trixie, trixie-updates, trixie-security and
# trixie-backports: debian13-kernel.sh resolves and fetches kernels there.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
cache=${IONCLOCK_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/ionclock}
root=$cache/debian13-root
# What building a module W=1 needs (perl: kernel-doc; dwarves: pahole, for
# the BTF of headers that carry a vmlinux), and what apt needs to fetch.
include=gcc-14,make,libc6-dev,libelf-dev,bc,kmod,perl,dwarves,xz-utils,zstd,debian-archive-keyring,ca-certificates

log() { echo "debian13-root: $*" >&2; }

. "$here/debian-archive.sh"

in_root() {
	local d cwd=/
	case "$PWD/" in "$cache"/* | "$top"/*) cwd=$PWD ;; esac
	# The mounts vanish with the namespace: nothing to undo on any exit.
	unshare -m /bin/sh -euc '
		root=$1 cwd=$2; shift 2
		mount --make-rprivate /
		for d in /dev /proc "$IONCLOCK_RUN_CACHE" "$IONCLOCK_RUN_TOP"; do
			mkdir -p "$root$d"
			mount --rbind "$d" "$root$d"
		done
		exec chroot "$root" /bin/sh -c "cd \"\$0\" && exec \"\$@\"" "$cwd" "$@"
	' in_root "$root" "$cwd" "$@"
}

sources() {
	local uri key suri
	read -r uri key < <(debian_source bookworm) ||
		{ log "no bookworm archive in $apt_etc's sources"; return 1; }
	printf 'Types: deb\nURIs: %s\nSuites: trixie trixie-updates trixie-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$uri"
	if read -r suri key < <(debian_source bookworm-security); then
		printf '\nTypes: deb\nURIs: %s\nSuites: trixie-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' "$suri"
	fi
}

make_root() {
	local uri key start
	read -r uri key < <(debian_source bookworm) ||
		{ log "no bookworm archive in $apt_etc's sources"; return 1; }
	[ "$key" != - ] || key=/usr/share/keyrings/debian-archive-keyring.gpg
	command -v debootstrap >/dev/null ||
		{ log "debootstrap missing: run selftests/vm/install-deps.sh"; return 1; }
	start=$(date +%s)
	log "debootstrap trixie into $root (once)"
	rm -rf "$root.tmp"
	debootstrap --variant=minbase --keyring="$key" --include="$include" \
		trixie "$root.tmp" "$uri" >"$cache/debian13-root.log" 2>&1 ||
		{ tail -n 20 "$cache/debian13-root.log" >&2; log "debootstrap failed"; return 1; }
	rm -f "$root.tmp/etc/apt/sources.list"
	# Downloads go into the cache, which apt's _apt user cannot write.
	echo 'APT::Sandbox::User "root";' >"$root.tmp/etc/apt/apt.conf.d/50ionclock"
	sources >"$root.tmp/etc/apt/sources.list.d/debian.sources"
	rm -rf "$root"
	mv "$root.tmp" "$root"
	in_root apt-get update -q >>"$cache/debian13-root.log" 2>&1 ||
		{ tail -n 20 "$cache/debian13-root.log" >&2; log "apt-get update failed"; return 1; }
	touch "$root/.done" "$root/.updated"
	log "made in $(($(date +%s) - start)) s"
}

[ "$(id -u)" = 0 ] || { log "needs root (debootstrap, chroot)"; exit 1; }
mkdir -p "$cache"
export IONCLOCK_RUN_CACHE=$cache IONCLOCK_RUN_TOP=$top
exec 9>"$cache/debian13-root.lock"
flock 9
[ -e "$root/.done" ] || make_root
# A day-old package list may name kernels the archive has dropped.
if [ -z "$(find "$root/.updated" -mmin -720 2>/dev/null)" ] || [ "${1:-}" = update ]; then
	in_root apt-get update -q >>"$cache/debian13-root.log" 2>&1 ||
		{ log "apt-get update failed (see $cache/debian13-root.log)"; exit 1; }
	touch "$root/.updated"
fi
flock -u 9

case "${1:-}" in
"") echo "$root" ;;
update) ;;
run) shift; in_root "$@" ;;
*) log "usage: debian13-root.sh [run CMD... | update]"; exit 2 ;;
esac
