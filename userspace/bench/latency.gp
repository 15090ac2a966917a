# SPDX-License-Identifier: GPL-2.0
#
# make bench's plot: latency against percentile, one line per read, from
# build/bench/latency.dat (written by bench --data).  The x axis is
# 1 / (1 - quantile) on a log scale, so the tail gets as much room as the
# median.  gnuplot -e "data='...'; out='...'" latency.gp

set terminal pngcairo size 1200,750 font "DejaVu Sans,11" noenhanced
set output out
set title "ionclock vs vDSO: single-call read latency on this host (rdtscp-timed, timer cost subtracted)"
set logscale x
set logscale y
# Above 100 us it is the scheduler, not the read: the maxima are in RESULTS.md.
set yrange [10:100000]
set xrange [1:100000]
set xtics ("p0 (min)" 1, "p90" 10, "p99" 100, "p99.9" 1000, "p99.99" 10000, "p99.999" 100000)
set ylabel "ns per call"
set xlabel "percentile"
set grid xtics ytics mytics
set key top left box opaque
set style data lines
plot for [i=2:*] data using 1:(column(i) > 0 ? column(i) : 1/0) \
	lw 2 title columnheader(i)
