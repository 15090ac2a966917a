#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# "make install" as a distribution's package build runs it, checked from
# the outside, and a DKMS build of the module against both stock kernels.
#
#   install_test.sh
#
# Works on a copy of the source tree (tracked and new files, no build
# outputs) in build/install/, so nothing is built in kmod/ itself.  Prints
# TAP; the last line is "install: N passed, N failed, N skipped".  Never
# loads a module: the host may have no module support.
#
#   - make install DESTDIR=... PREFIX=/usr against Debian's 6.12 headers:
#     every file where a package would put it, with its mode; the module
#     built for that kernel; the library's soname and symbol version;
#     uninstall leaves nothing behind
#   - a program built with "pkg-config --cflags --libs ionclock" out of the
#     DESTDIR, linked against the shared and the static library, runs
#   - the man pages render without a groff warning, and name every library
#     function and every ionclockctl command
#   - DKMS (as root): "dkms add" of the tree "make dkms-src" makes, "dkms
#     build" for the 6.1 and the 6.12 kernel, "dkms remove"; in private
#     DKMS trees and with a throwaway signing key, so the host's DKMS state
#     and /var/lib/dkms/mok.key are not touched
#
# shellcheck disable=SC2317 # the predicates below are run through check()
set -euo pipefail

top=$(cd "$(dirname "$0")/.." && pwd)
out=$top/build/install
src=$out/src
dest=$out/root
log=$out/log

n=0
pass=0
fail=0
skipped=0

ok() {
	n=$((n + 1)) pass=$((pass + 1))
	echo "ok $n - $1"
}

not_ok() {
	n=$((n + 1)) fail=$((fail + 1))
	echo "not ok $n - $1"
}

skip() {
	n=$((n + 1)) skipped=$((skipped + 1))
	echo "ok $n - $1 # SKIP $2"
}

# check <description> <command>...: one TAP line for the command's status.
check() {
	local what=$1

	shift
	if "$@"; then
		ok "$what"
	else
		not_ok "$what"
	fi
}

# The last lines of a failed step's log, as TAP comments.
show_log() {
	tail -n "${2:-20}" "$1" | sed 's/^/# /'
}

finish() {
	echo "1..$n"
	echo "install: $pass passed, $fail failed, $skipped skipped"
	[ "$fail" = 0 ]
	exit
}

# mode_is <octal> <file>: a regular file with exactly that mode.
mode_is() {
	[ -f "$2" ] && [ ! -L "$2" ] && [ "$(stat -c %a "$2")" = "$1" ]
}

not() {
	! "$@"
}

# quiet <command>...: its status, its output kept out of the TAP.
quiet() {
	"$@" >>"$log.quiet" 2>&1
}

# needs <elf> <library>: the ELF file has a DT_NEEDED on it.
# (grep reads all its input in these pipes: with -q it could stop early,
# and pipefail would count the writer's SIGPIPE as a failure.)
needs() {
	readelf -d "$1" | grep -F '(NEEDED)' | grep -F "[$2]" >/dev/null
}

exports() {
	readelf --dyn-syms -W "$1" | grep " $2\$" >/dev/null
}

# renders <page>: man formats it, through to the EXAMPLES heading.
renders() {
	MANWIDTH=80 man -l "$1" 2>/dev/null | grep '^EXAMPLES' >/dev/null
}

# no_build_output <dir>
no_build_output() {
	[ -z "$(find "$1" -name '*.o' -o -name '*.ko*' -o -name '*.cmd')" ]
}

# Debian drops old ABI packages: follow the meta-package, as vm/run.sh does.
abi_of() {
	local pkg

	pkg=$(apt-cache depends "$1" 2>/dev/null |
	      awk '/Depends:/ && !p { print $2; p = 1 }')
	[ -n "$pkg" ] && echo "${pkg#linux-headers-}"
}

version=$(sed -n 's/^PACKAGE_VERSION="\(.*\)"/\1/p' "$top/dkms.conf")
abi612=$(abi_of linux-headers-6.12-amd64) || abi612=
abi61=$(abi_of linux-headers-amd64) || abi61=

rm -rf "$out"
mkdir -p "$src" "$dest"

# The source tree as a release tarball would hold it.
if ! git -C "$top" rev-parse --git-dir >/dev/null 2>&1; then
	not_ok "the source is a git checkout (needed to copy it clean)"
	finish
fi
(cd "$top" && git ls-files -z --cached --others --exclude-standard |
	while IFS= read -r -d '' f; do
		[ ! -e "$f" ] || cp -a --parents "$f" "$src/"
	done)

check "dkms.conf names a version" [ -n "$version" ]

# --- make install into a DESTDIR -------------------------------------------

# Installed headers, or the packages unpacked into the cache.
headers() { "$top/selftests/vm/kernel-headers.sh" "$1" 2>/dev/null; }
kdir=
[ -z "$abi612" ] || kdir=$(headers "$abi612") || kdir=
if [ -z "$kdir" ]; then
	not_ok "6.12 headers ($abi612; run selftests/vm/install-deps.sh)"
	finish
fi

installed=1
if make -C "$src" install DESTDIR="$dest" PREFIX=/usr KERNELDIR="$kdir" \
	>"$log.install" 2>&1; then
	ok "make install DESTDIR=... PREFIX=/usr KERNELDIR=$kdir"
else
	not_ok "make install DESTDIR=... PREFIX=/usr KERNELDIR=$kdir"
	show_log "$log.install"
	installed=
fi
[ -n "$installed" ] || finish

u=$dest/usr
modules=$dest/lib/modules/$abi612
ko=$(find "$modules/updates" -name 'ionclock.ko*' 2>/dev/null | head -n 1)
check "module installed under lib/modules/$abi612/updates/" [ -n "$ko" ]
if [ -n "$ko" ]; then
	check "module mode 644" mode_is 644 "$ko"
	vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null) || vermagic=
	check "module built for $abi612 (vermagic '$vermagic')" \
		[ "${vermagic%% *}" = "$abi612" ]
fi
check "no depmod output in a DESTDIR install" \
	[ ! -e "$modules/modules.dep" ]

check "libionclock.so.1 mode 755" mode_is 755 "$u/lib/libionclock.so.1"
soname=$(readelf -d "$u/lib/libionclock.so.1" 2>/dev/null |
	 sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
check "libionclock.so.1 soname '$soname'" [ "$soname" = libionclock.so.1 ]
check "libionclock.so.1 exports ionclock_open@@IONCLOCK_1" \
	exports "$u/lib/libionclock.so.1" ionclock_open@@IONCLOCK_1
check "libionclock.so -> libionclock.so.1" \
	[ "$(readlink "$u/lib/libionclock.so")" = libionclock.so.1 ]
check "libionclock.a mode 644" mode_is 644 "$u/lib/libionclock.a"
if grep -q 'libionclock-preload\.so' "$src/userspace/Makefile"; then
	check "libionclock-preload.so mode 755" \
		mode_is 755 "$u/lib/libionclock-preload.so"
else
	skip "libionclock-preload.so installed" "this tree does not build it"
fi
check "include/ionclock.h mode 644" mode_is 644 "$u/include/ionclock.h"
check "include/linux/ionclock.h mode 644" \
	mode_is 644 "$u/include/linux/ionclock.h"
check "lib/pkgconfig/ionclock.pc mode 644" \
	mode_is 644 "$u/lib/pkgconfig/ionclock.pc"
check "bin/ionclockctl mode 755" mode_is 755 "$u/bin/ionclockctl"
check "installed ionclockctl -v exits 0" quiet "$u/bin/ionclockctl" -v
check "man3/libionclock.3 mode 644" \
	mode_is 644 "$u/share/man/man3/libionclock.3"
check "man8/ionclockctl.8 mode 644" \
	mode_is 644 "$u/share/man/man8/ionclockctl.8"
rule=$dest/lib/udev/rules.d/99-ionclock.rules
check "udev rule mode 644" mode_is 644 "$rule"
check "udev rule makes /dev/ionclock* 0444" \
	grep -Eq '^SUBSYSTEM=="misc", KERNEL=="ionclock\[0-9\]\*", MODE="0444"$' \
	"$rule"
unit=$dest/lib/systemd/system/ionclock-feed.service
check "systemd unit ionclock-feed.service mode 644" mode_is 644 "$unit"
check "the unit runs the installed ionclockctl's feed" \
	grep -qx 'ExecStart=/usr/bin/ionclockctl feed --interval 1' "$unit"
check "the unit is ordered after ptp4l.service and wants it" \
	sh -c "grep -qx 'After=ptp4l.service' '$unit' && grep -qx 'Wants=ptp4l.service' '$unit'"
check "the unit has CAP_SYS_TIME and only it, as no root user" \
	sh -c "grep -qx 'AmbientCapabilities=CAP_SYS_TIME' '$unit' &&
	       grep -qx 'CapabilityBoundingSet=CAP_SYS_TIME' '$unit' &&
	       grep -qx 'DynamicUser=yes' '$unit' && grep -qx 'NoNewPrivileges=yes' '$unit' &&
	       ! grep -q '^User=root' '$unit'"
if command -v systemd-analyze >/dev/null; then
	# verify resolves ExecStart on this machine: check the installed one.
	sed "s|/usr/bin/ionclockctl|$u/bin/ionclockctl|" "$unit" >"$out/ionclock-feed.service"
	check "systemd-analyze verify finds nothing wrong in the unit" \
		sh -c "! systemd-analyze verify '$out/ionclock-feed.service' 2>&1 | grep -v 'man ionclockctl' | grep ."
else
	skip "systemd-analyze verify" "no systemd-analyze"
fi
example=$u/share/doc/ionclock/modprobe.d/ionclock.conf
check "modprobe.d example in share/doc, mode 644" mode_is 644 "$example"
check "modprobe.d example sets phc=" \
	grep -q '^options ionclock phc=' "$example"
rules=$u/share/ionclock/prometheus/ionclock.rules.yml
check "Prometheus rules in share/ionclock/prometheus, mode 644" \
	mode_is 644 "$rules"
check "the installed rules are the ones promtool checks" \
	cmp "$rules" "$src/packaging/prometheus/ionclock.rules.yml"
check "Grafana dashboard in share/ionclock/grafana, mode 644" \
	mode_is 644 "$u/share/ionclock/grafana/ionclock-dashboard.json"
check "nothing installed to etc/ (the example is not activated)" \
	[ ! -e "$dest/etc" ]

# --- a program built with pkg-config out of the DESTDIR ----------------------

cat >"$out/prog.c" <<'EOF'
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <ionclock.h>

int main(void)
{
	struct ionclock *c = NULL;
	int err;

	err = ionclock_open("/nonexistent/ionclock0", &c);
	if (err != -ENOENT || c) {
		fprintf(stderr, "ionclock_open: %d, want %d\n", err, -ENOENT);
		return 1;
	}
	if (strcmp(ionclock_strerror(err), strerror(ENOENT))) {
		fprintf(stderr, "ionclock_strerror: '%s'\n",
			ionclock_strerror(err));
		return 1;
	}
	if (!ionclock_strerror(-ENODEV)[0])
		return 1;
	ionclock_close(NULL);
	puts("ok");
	return 0;
}
EOF
export PKG_CONFIG_SYSROOT_DIR=$dest
export PKG_CONFIG_LIBDIR=$u/lib/pkgconfig
# The DESTDIR's /usr/include is no system directory: keep its -I.
export PKG_CONFIG_ALLOW_SYSTEM_CFLAGS=1 PKG_CONFIG_ALLOW_SYSTEM_LIBS=1
pcver=$(pkg-config --modversion ionclock 2>"$log.pc") || pcver=
check "pkg-config --modversion ionclock is $version ('$pcver')" \
	[ "$pcver" = "$version" ]
cflags=$(pkg-config --cflags ionclock 2>>"$log.pc") || cflags=
libs=$(pkg-config --libs ionclock 2>>"$log.pc") || libs=
# Split and rejoined: pkg-config pads with spaces.
read -r -a words <<<"$cflags $libs"
flags="${words[*]}"
check "pkg-config's flags point into the DESTDIR ($flags)" \
	[ "$flags" = "-I$u/include -L$u/lib -lionclock" ]

# shellcheck disable=SC2086 # the flags are words
if cc -Wall -Wextra -Werror $cflags -o "$out/prog-shared" "$out/prog.c" \
	$libs >"$log.cc-shared" 2>&1; then
	ok "cc \$(pkg-config --cflags --libs ionclock): shared"
	check "the shared build needs libionclock.so.1" \
		needs "$out/prog-shared" libionclock.so.1
	check "the shared build runs" \
		quiet env LD_LIBRARY_PATH="$u/lib" "$out/prog-shared"
else
	not_ok "cc \$(pkg-config --cflags --libs ionclock): shared"
	show_log "$log.cc-shared"
fi

# shellcheck disable=SC2086
if cc -Wall -Wextra -Werror $cflags -o "$out/prog-static" "$out/prog.c" \
	-Wl,-Bstatic $libs -Wl,-Bdynamic >"$log.cc-static" 2>&1; then
	ok "cc \$(pkg-config --cflags --libs ionclock): static libionclock.a"
	check "the static build needs no libionclock.so" \
		not needs "$out/prog-static" libionclock.so.1
	check "the static build runs" quiet "$out/prog-static"
else
	not_ok "cc \$(pkg-config --cflags --libs ionclock): static libionclock.a"
	show_log "$log.cc-static"
fi

# The program in libionclock(3)'s EXAMPLES, built as it says.
awk '/^\.EX$/ { n++; next } /^\.EE$/ && n == 1 { exit } n == 1' \
	"$u/share/man/man3/libionclock.3" |
	sed -e 's/\\e/\\/g' -e 's/\\-/-/g' >"$out/example.c"
# shellcheck disable=SC2086
check "libionclock(3)'s example builds with its pkg-config line" \
	quiet cc -Wall -Wextra -Werror $cflags -o "$out/example" \
	"$out/example.c" $libs

if command -v c++ >/dev/null; then
	echo '#include <ionclock.h>' >"$out/prog.cc"
	# shellcheck disable=SC2086
	check "the installed headers compile as C++" \
		quiet c++ -Wall -Wextra -Werror $cflags -fsyntax-only "$out/prog.cc"
else
	skip "the installed headers compile as C++" "no c++"
fi

# --- the man pages -----------------------------------------------------------

for page in "$u/share/man/man3/libionclock.3" "$u/share/man/man8/ionclockctl.8"
do
	name=$(basename "$page")
	if [ ! -f "$page" ]; then
		not_ok "$name renders without warnings (missing)"
		continue
	fi
	if groff -man -Tutf8 -ww -z "$page" >"$log.groff" 2>&1 &&
	   [ ! -s "$log.groff" ]; then
		ok "$name renders without groff warnings"
	else
		not_ok "$name renders without groff warnings"
		show_log "$log.groff"
	fi
	check "man -l $name renders, with EXAMPLES" renders "$page"
	check "$name has a NAME line whatis can read" quiet lexgrog "$page"
done

# Every function the library exports is documented (in the SYNOPSIS and
# in the text)...
page=$u/share/man/man3/libionclock.3
missing=
for f in $(readelf --dyn-syms -W "$u/lib/libionclock.so.1" |
	   awk '$7 != "UND" && $8 ~ /^ionclock_/ { sub(/@.*/, "", $8); print $8 }' |
	   sort -u); do
	{ grep -q "[ *]$f(" "$page" && grep -q "^\\.BR $f ()" "$page"; } ||
		missing="$missing $f"
done
check "libionclock.3 documents every exported function${missing:+ (missing:$missing)}" \
	[ -z "$missing" ]

# ... and every ionclockctl command (the lines under "commands:" in -h).
page=$u/share/man/man8/ionclockctl.8
missing=
for c in $("$u/bin/ionclockctl" -h |
	   awk 'f && /^  [^ ]/ { print $1 } /^commands:/ { f = 1 }'); do
	grep -q "^\\.B $c\\>\\|^\\.BR\\? $c\\>\\|fB$c\\\\f" "$page" ||
		missing="$missing $c"
done
check "ionclockctl.8 documents every command in -h${missing:+ (missing:$missing)}" \
	[ -z "$missing" ]

# --- uninstall ---------------------------------------------------------------

if make -C "$src" uninstall DESTDIR="$dest" PREFIX=/usr KERNELDIR="$kdir" \
	>"$log.uninstall" 2>&1; then
	left=$(find "$dest" ! -type d | sed "s|^$dest||")
	check "make uninstall removes every file${left:+ (left:$(echo "$left" | tr '\n' ' '))}" \
		[ -z "$left" ]
else
	not_ok "make uninstall"
	show_log "$log.uninstall"
fi

# --- DKMS --------------------------------------------------------------------

if [ "$(id -u)" != 0 ]; then
	skip "DKMS build" "not root"
	finish
fi
if ! command -v dkms >/dev/null; then
	not_ok "dkms installed (selftests/vm/install-deps.sh)"
	finish
fi

dk_src=$out/dkms-root/usr/src
dk_tree=$out/dkms-tree
mkdir -p "$dk_tree"
dkms_() {
	# A throwaway key: DKMS would otherwise create /var/lib/dkms/mok.key.
	mok_signing_key=$out/mok.key mok_certificate=$out/mok.der \
		dkms --sourcetree "$dk_src" --dkmstree "$dk_tree" "$@"
}

if make -C "$src" dkms-src DESTDIR="$out/dkms-root" >"$log.dkms-src" 2>&1 &&
   [ -f "$dk_src/ionclock-$version/dkms.conf" ]; then
	ok "make dkms-src makes usr/src/ionclock-$version"
else
	not_ok "make dkms-src makes usr/src/ionclock-$version"
	show_log "$log.dkms-src"
	finish
fi
check "the DKMS tree holds no build output" no_build_output "$dk_src"

if dkms_ add -m ionclock -v "$version" >"$log.dkms-add" 2>&1; then
	ok "dkms add ionclock/$version"
else
	not_ok "dkms add ionclock/$version"
	show_log "$log.dkms-add"
	finish
fi

for abi in "$abi61" "$abi612"; do
	kd=
	[ -z "$abi" ] || kd=$(headers "$abi") || kd=
	if [ -z "$kd" ]; then
		not_ok "dkms build for '$abi' (headers missing)"
		continue
	fi
	# DKMS looks for sign-file under /lib/modules/$abi/build, which
	# headers unpacked into the cache are not: name theirs.
	if sign_file=$kd/scripts/sign-file dkms_ build -m ionclock -v "$version" -k "$abi" \
		--kernelsourcedir "$kd" >"$log.dkms-$abi" 2>&1; then
		ok "dkms build -k $abi"
	else
		not_ok "dkms build -k $abi"
		show_log "$log.dkms-$abi"
		find "$dk_tree" -name make.log -exec tail -n 20 {} + | sed 's/^/# /'
		continue
	fi
	ko=$(find "$dk_tree/ionclock/$version/$abi" -name 'ionclock.ko*' |
	     head -n 1)
	check "DKMS built ionclock.ko for $abi" [ -n "$ko" ]
	if [ -n "$ko" ]; then
		vermagic=$(modinfo -F vermagic "$ko" 2>/dev/null) || vermagic=
		check "its vermagic is $abi ('${vermagic%% *}')" \
			[ "${vermagic%% *}" = "$abi" ]
		signer=$(modinfo -F signer "$ko" 2>/dev/null) || signer=
		check "DKMS signed it with the throwaway key ('$signer')" \
			[ "$signer" = "DKMS module signing key" ]
	fi
done

if dkms_ remove -m ionclock -v "$version" --all >"$log.dkms-remove" 2>&1 &&
   [ ! -e "$dk_tree/ionclock" ]; then
	ok "dkms remove --all"
else
	not_ok "dkms remove --all"
	show_log "$log.dkms-remove"
fi

finish
