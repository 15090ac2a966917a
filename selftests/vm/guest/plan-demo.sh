#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0
#
# make demo: ionclock live, and a recording for the host's picture
# (selftests/demo-plot.sh): the system clock is stepped 2 s back and the
# PHC 1 s back while it records, and ionclock goes on forward.

phc_ctl "$igb_ptp" -- set adj 37 >/dev/null
load phc="$igb"
ionclockctl waitsync --timeout 60
make-leapfile.sh $(($(date +%s) + 100 * 86400)) >/tmp/leap-seconds.list
ionclockctl leap load /tmp/leap-seconds.list >/dev/null
echo "\$ ionclockctl status"
if ionclockctl status | tee /tmp/status; then
	grep -qx "state tracking" /tmp/status && pass=1
fi
echo
echo "\$ ionclockctl record /tmp/demo.csv 0.25 160   (40 s)"
ionclockctl record /tmp/demo.csv 0.25 160 &
rec=$!
sleep 10
echo "\$ date -s @\$((\$(date +%s) - 2))   # the system clock 2 s back"
/usr/bin/date -s "@$(($(/usr/bin/date +%s) - 2))" >/dev/null
sleep 10
echo "\$ phc_ctl $igb_ptp -- adj -1   # the PHC 1 s back"
phc_ctl "$igb_ptp" -- adj -1
sleep 5
ionclockctl watch 1 3
wait $rec || pass=0
echo "ionclock-demo-begin"
cat /tmp/demo.csv
echo "ionclock-demo-end"
echo
echo "\$ dmesg | grep ionclock"
dmesg | grep ionclock
unload
