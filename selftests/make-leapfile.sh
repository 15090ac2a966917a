#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Write a leap-seconds.list in the IERS format, with a correct "#h" hash,
# to stdout: the real history (TAI-UTC 10 s in 1972 up to 37 s in 2017),
# an expiry @1 (Unix seconds), and any further "utc_s offset" pairs given.
# For tests: tzdata's own file may have expired on the day they run.
#   make-leapfile.sh <expiry_utc_s> [<utc_s> <offset>]...
set -eu
ntp=2208988800
expiry=$(( $1 + ntp ))
shift
updated=$(( 3692217600 ))
history="2272060800 10
2287785600 11
2303683200 12
2335219200 13
2366755200 14
2398291200 15
2429913600 16
2461449600 17
2492985600 18
2524521600 19
2571782400 20
2603318400 21
2634854400 22
2698012800 23
2776982400 24
2840140800 25
2871676800 26
2918937600 27
2950473600 28
2982009600 29
3029443200 30
3076704000 31
3124137600 32
3345062400 33
3439756800 34
3550089600 35
3644697600 36
3692217600 37"
while [ $# -ge 2 ]; do
	history="$history
$(( $1 + ntp )) $2"
	shift 2
done
hash=$( { printf '%s%s' "$updated" "$expiry"
	  echo "$history" | while read -r t o; do printf '%s%s' "$t" "$o"; done
	} | sha1sum | cut -c1-40)
echo "#	leap-seconds.list for tests, made by make-leapfile.sh"
echo "#\$	$updated"
echo "#@	$expiry"
echo "$history" | while read -r t o; do printf '%s\t%s\n' "$t" "$o"; done
echo "#h	$(echo "$hash" | sed 's/\(........\)/\1 /g; s/ $//')"
