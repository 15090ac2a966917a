// SPDX-License-Identifier: GPL-2.0
/*
 * make bench's clocks: the TSC calibrated against CLOCK_MONOTONIC_RAW,
 * its step and the empty timer's cost, the tick histograms percentiles are
 * taken from, and pinning to a CPU (see HOW CALLS ARE TIMED in bench.c).
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + (uint64_t)ts.tv_nsec;
}

double ticks_per_ns;

void calibrate(void)
{
	uint64_t t0, r0, t1, r1;

	r0 = clock_ns(CLOCK_MONOTONIC_RAW);
	t0 = tsc_begin();
	usleep(200000);
	r1 = clock_ns(CLOCK_MONOTONIC_RAW);
	t1 = tsc_begin();
	ticks_per_ns = (double)(t1 - t0) / (double)(r1 - r0);
}

/* ---- histograms of ticks */

void hist_init(struct hist *h)
{
	h->n = 0;
	h->max = 0;
	h->bins = calloc(HBINS, sizeof(*h->bins));
	if (!h->bins)
		abort();
}

void hist_merge(struct hist *to, const struct hist *from)
{
	unsigned int i;

	for (i = 0; i < HBINS; i++)
		to->bins[i] += from->bins[i];
	to->n += from->n;
	if (from->max > to->max)
		to->max = from->max;
}

/* The smallest tick count at or below which a fraction @q of samples lie. */
uint64_t hist_ticks(const struct hist *h, double q)
{
	uint64_t want = (uint64_t)(q * (double)h->n + 0.999999), sum = 0;
	unsigned int i;

	if (!want)
		want = 1;
	for (i = 0; i < HBINS - 1; i++) {
		sum += h->bins[i];
		if (sum >= want)
			return i;
	}
	return h->max;
}

/* ns per call: @per calls per sample, @overhead ticks of timer removed */
double hist_ns(const struct hist *h, double q, unsigned int per,
		      uint64_t overhead)
{
	uint64_t t = hist_ticks(h, q);

	t = t > overhead ? t - overhead : 0;
	return (double)t / per / ticks_per_ns;
}

void pin(int cpu)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu % (ncpu > 0 ? ncpu : 1), &set);
	pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The smallest step the TSC is seen to take (AMD's advances in steps). */
uint64_t tsc_step(void)
{
	uint64_t a, b, best = UINT64_MAX;
	int i;

	for (i = 0; i < 10000; i++) {
		a = tsc_begin();
		b = tsc_begin();
		if (b > a && b - a < best)
			best = b - a;
	}
	return best;
}

/* The timer's own cost: an empty timed region. */
uint64_t timer_overhead(void)
{
	struct hist h;
	uint64_t t0, r;
	int i;

	hist_init(&h);
	for (i = 0; i < 1000000; i++) {
		t0 = tsc_begin();
		hist_add(&h, tsc_end() - t0);
	}
	r = hist_ticks(&h, 0.5);
	free(h.bins);
	return r;
}
