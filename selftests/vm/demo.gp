# SPDX-License-Identifier: GPL-2.0
#
# make demo's picture (demo-plot.sh feeds it): data has seconds, then the
# drift from CLOCK_MONOTONIC of ionclock, the PHC and the system clock in
# ms, then ionclock's error bound in us; "?" is a value not recorded.
set terminal pngcairo size 1100,800 font ",11"
set output out
set datafile missing "?"
set multiplot layout 2,1 title "ionclock through a system clock step (-2 s) and a PHC step (-1 s)"
set key bottom left
set grid
# Room above and below, so that ionclock's flat line is not on the border.
set offsets graph 0, graph 0, graph 0.08, graph 0.08
set xlabel "time since the recording began (s)"
set ylabel "drift from CLOCK\\_MONOTONIC (ms)"
plot data using 1:3 with lines lw 2 lc rgb "#d62728" title "PHC (/dev/ptpN)", \
     data using 1:4 with lines lw 2 lc rgb "#7f7f7f" title "system clock (CLOCK\\_REALTIME)", \
     data using 1:2 with lines lw 3 lc rgb "#1f77b4" title "ionclock"
set ylabel "ionclock drift (ms), with its error bound"
set key top left
plot data using 1:($2 - $5 / 1000):($2 + $5 / 1000) with filledcurves \
          fc rgb "#1f77b4" fs transparent solid 0.25 title "ionclock +- error bound", \
     data using 1:2 with lines lw 2 lc rgb "#1f77b4" title "ionclock (slews toward the stepped PHC at <= 500 ppm)"
unset multiplot
