#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
#
# make demo's picture: the recording the demo VM printed (ionclockctl
# record, between "ionclock-demo-begin/end" in its console log) drawn by
# gnuplot (demo.gp) as each clock's drift from CLOCK_MONOTONIC since the
# first row: ionclock, the PHC (ionclock - offset_to_phc) and the system
# clock (ionclock's UTC + the system clock's offset), with ionclock's error
# bound.  It also says whether the recording shows what the demo did: the
# system clock 2 s back, the PHC 1 s back, and ionclock going on forward
# through both.
#   demo-plot.sh <console.log> <out dir>      writes ionclock-demo.csv/.png
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
log=${1:?usage: demo-plot.sh <console.log> <out dir>}
out=${2:?usage: demo-plot.sh <console.log> <out dir>}
mkdir -p "$out"
csv=$out/ionclock-demo.csv
tr -d '\r' <"$log" | sed -n '/^ionclock-demo-begin$/,/^ionclock-demo-end$/p' |
	sed '1d;$d' >"$csv"
rows=$(($(wc -l <"$csv") - 1))
[ "$rows" -ge 20 ] || { echo "demo-plot: only $rows rows in $log" >&2; exit 1; }

# Relative columns, in doubles (ns values near 2^61 keep ~256 ns: plenty at
# this scale): seconds, then each clock's drift in ms, then the bound in us.
awk -F, 'NR == 1 { next }
	NR == 2 { m0 = $1; t0 = $2; p0 = $2 - $5; s0 = $2 + $6 }
	{
		el = ($1 - m0) / 1e9
		ion = (($2 - t0) - ($1 - m0)) / 1e6
		phc = $5 == "" ? "?" : (($2 - $5 - p0) - ($1 - m0)) / 1e6
		sys = $6 == "" ? "?" : (($2 + $6 - s0) - ($1 - m0)) / 1e6
		bound = $4 == "" ? "?" : $4 / 1e3
		printf "%.3f %s %s %s %s\n", el, ion, phc, sys, bound
		if (NR > 2 && $2 <= last) backward++
		last = $2
	}
	END { printf "# backward %d\n", backward }' "$csv" >"$out/ionclock-demo.dat"

gnuplot -e "data='$out/ionclock-demo.dat'; out='$out/ionclock-demo.png'" \
	"$here/demo.gp"

# What the picture must show.
awk '/^#/ { if ($2 == "backward") back = $3; next }
	{ if ($2 < imin) imin = $2; if ($2 > imax) imax = $2
	  if ($3 != "?" && $3 < pmin) pmin = $3
	  if ($4 != "?" && $4 < smin) smin = $4 }
	END {
		printf "demo: ionclock drifted %.1f .. %.1f ms, the PHC down to %.0f ms, the system clock down to %.0f ms; ionclock went back %d times\n",
		       imin, imax, pmin, smin, back
		exit !(back == 0 && pmin < -900 && smin < -1900 &&
		       imin > -50 && imax < 50)
	}' "$out/ionclock-demo.dat"
echo "demo: $out/ionclock-demo.png"
