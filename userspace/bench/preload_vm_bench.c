// SPDX-License-Identifier: GPL-2.0
/*
 * make bench, the drop-in's VM half: on a real /dev/ionclock0, the cost of
 * the drop-in's clock_gettime(CLOCK_REALTIME) next to glibc's (the vDSO),
 * in the same run, and of its set-up from scratch (what the first call in
 * a process pays).  Calls are timed in batches on CLOCK_MONOTONIC_RAW, the
 * two ways taking turns; the medians of the batch means are printed on one
 * "preload-cost:" line for the host half (bench.c) to read.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "preload_bench.h"

#define CALLS		1000
#define BATCHES		301
#define SETUPS		101

static int64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int cmp(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

static int64_t median(int64_t *v, int n)
{
	qsort(v, n, sizeof(*v), cmp);
	return v[n / 2];
}

static int64_t batch(int (*fn)(clockid_t, struct timespec *))
{
	struct timespec ts;
	int64_t t0 = raw_ns();
	int i;

	for (i = 0; i < CALLS; i++)
		fn(CLOCK_REALTIME, &ts);
	return raw_ns() - t0;
}

int main(void)
{
	static int64_t drop_in[BATCHES], vdso[BATCHES], setup[SETUPS];
	int (*volatile glibc)(clockid_t, struct timespec *) = clock_gettime;
	struct timespec a, b;
	bool have_dev;
	int i;

	for (i = 0; i < SETUPS; i++) {
		setup[i] = preload_bench_setup(&have_dev);
		if (!have_dev) {
			fprintf(stderr, "preload_vm_bench: no ionclock device (IONCLOCK_DEVICE)\n");
			return 1;
		}
	}
	/* Reading ionclock, not the system clock: UTC is on the page. */
	if (preload_bench_clock_gettime(CLOCK_REALTIME, &a) ||
	    clock_gettime(CLOCK_REALTIME, &b)) {
		perror("preload_vm_bench: clock_gettime");
		return 1;
	}
	for (i = 0; i < BATCHES; i++) {
		drop_in[i] = batch(preload_bench_clock_gettime);
		vdso[i] = batch(glibc);
	}
	printf("preload-cost: setup_ns %lld drop_in_realtime_ns %.1f vdso_realtime_ns %.1f drop_in_minus_realtime_s %lld\n",
	       (long long)median(setup, SETUPS),
	       (double)median(drop_in, BATCHES) / CALLS,
	       (double)median(vdso, BATCHES) / CALLS,
	       (long long)(a.tv_sec - b.tv_sec));
	return 0;
}
