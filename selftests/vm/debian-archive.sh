# SPDX-License-Identifier: GPL-2.0
#
# Sourced by install-deps.sh and debian13-root.sh: the Debian archive this
# machine already uses, as its own apt sources name it, so that a mirror or
# proxy the user set up stays in use and no host name is written anywhere.
# IONCLOCK_APT_ETC (/etc/apt) is where the sources are read.

apt_etc=${IONCLOCK_APT_ETC:-/etc/apt}

# debian_source [suite]: "URI KEYRING" (KEYRING "-" when none is named) of
# the first source carrying <suite> (default bookworm).  deb822 stanzas
# (*.sources) first, then one-line entries ("deb [options] URI suite ...").
debian_source() {
	local suite=${1:-bookworm} f
	for f in "$apt_etc"/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v want="$suite" 'function flush() {
			if (types ~ /(^| )deb( |$)/ && (" " suites " ") ~ (" " want " ") && uri != "") {
				print uri, (key == "" ? "-" : key); found = 1; exit
			}
			types = suites = uri = key = ""
		}
		/^[[:space:]]*$/ { flush(); next }
		/^#/ { next }
		tolower($1) == "types:" { $1 = ""; types = $0 }
		tolower($1) == "suites:" { $1 = ""; suites = $0 }
		tolower($1) == "uris:" { uri = $2 }
		tolower($1) == "signed-by:" { key = $2 }
		END { if (!found) flush() }' "$f" | head -n 1 | grep . && return
	done
	cat "$apt_etc"/sources.list "$apt_etc"/sources.list.d/*.list 2>/dev/null |
	sed -E 's/\[[^]]*\]//' |
	awk -v want="$suite" '$1 == "deb" && $3 == want { print $2, "-"; exit }' | grep .
}
