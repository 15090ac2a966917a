/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What make bench's files share: bench.c runs the host half, timing.c
 * holds the clocks and histograms, report.c reads the VM half and writes
 * the report.  The calls in a timed loop stay in bench.c, inlined.
 */
#ifndef IONCLOCK_BENCH_H
#define IONCLOCK_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "anchor_probe.h"
#include "ionclock.h"

#define NSEC_PER_SEC		1000000000LL
#define BATCH			64
#define HBINS			(1u << 18)	/* ticks; the last bin is "more" */
#define ROUNDS			5
#define BATCHES_PER_ROUND	4000
#define SINGLE_NS_PER_ROUND	(NSEC_PER_SEC / 5)
#define TAIL_NS_PER_ROUND	(NSEC_PER_SEC / 5)
#define THREAD_RUN_NS		(NSEC_PER_SEC / 2)
#define THREAD_REPEATS		3
#define WRITER_PERIOD_NS	(NSEC_PER_SEC / 100)
#define WARMUP_SAMPLES		32
#define ANCHOR_PROBE_MS		1500
#define TAI_UTC_OFFSET_S	37

/* ---- timing (timing.c) */

static inline uint64_t tsc_begin(void)
{
	uint32_t lo, hi;

	asm volatile("lfence; rdtsc; lfence" : "=a" (lo), "=d" (hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

/* What the vDSO's rdtsc_ordered() does on CPUs with LFENCE_RDTSC. */
static inline uint64_t tsc_one_fence(void)
{
	uint32_t lo, hi;

	asm volatile("lfence; rdtsc" : "=a" (lo), "=d" (hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

static inline uint64_t tsc_end(void)
{
	uint32_t lo, hi, aux;

	asm volatile("rdtscp; lfence" : "=a" (lo), "=d" (hi), "=c" (aux)
		     : : "memory");
	return (uint64_t)hi << 32 | lo;
}

extern double ticks_per_ns;

uint64_t clock_ns(clockid_t id);
void calibrate(void);
void pin(int cpu);
/* The smallest step the TSC is seen to take (AMD's advances in steps). */
uint64_t tsc_step(void);
/* The timer's own cost, ticks: an empty timed region. */
uint64_t timer_overhead(void);

/* ---- histograms of ticks (timing.c) */

struct hist {
	uint64_t n;
	uint64_t max;
	uint32_t *bins;
};

void hist_init(struct hist *h);
void hist_merge(struct hist *to, const struct hist *from);
/* The smallest tick count at or below which a fraction @q of samples lie. */
uint64_t hist_ticks(const struct hist *h, double q);
/* ns per call: @per calls per sample, @overhead ticks of timer removed */
double hist_ns(const struct hist *h, double q, unsigned int per,
	       uint64_t overhead);

static inline void hist_add(struct hist *h, uint64_t ticks)
{
	h->bins[ticks < HBINS ? ticks : HBINS - 1]++;
	h->n++;
	if (ticks > h->max)
		h->max = ticks;
}

/* ---- what is measured (bench.c) */

enum op {
	OP_COUNTER,
	OP_COUNTER1,
	OP_NOW,
	OP_BOUNDED,
#ifdef IONCLOCK_UTC
	OP_GETTIME_UTC,
#endif
	OP_MONOTONIC,
	OP_REALTIME,
	OP_TAI,
	OP_PRELOAD,
	OP_COUNT,
};

/* The table's name, and a short one for the plot's legend and columns */
struct op_name {
	const char *name;
	const char *key;
};

extern const struct op_name ops[OP_COUNT];
/* Whether @op is also run on 1 and 2 threads for throughput. */
bool threaded(unsigned int op);

/**
 * struct bench_results - what the host half measured, for the report
 * @batch: per-call means of batches, per read
 * @single: single calls, per read
 * @tail: single calls while the page is rewritten at 100 Hz
 * @th1: batches on one thread (threaded() reads only)
 * @th2: batches on each of two threads
 * @rate1: calls/s on one thread, the best of THREAD_REPEATS
 * @rate2: calls/s on two threads together
 * @steal2: steal time during the two-thread runs, a fraction
 * @op_errors: failed calls, per read
 * @overhead: the empty timer's median, ticks
 * @publishes: page updates during the @tail runs
 * @load0: load average at the start
 * @load: load average before the thread runs
 * @t0: CLOCK_TAI before the first ionclock_now(), ns
 * @t: that ionclock_now(), ns
 * @t1: CLOCK_TAI after it, ns
 * @ncpu: CPUs online
 * @counter_id: the page's counter
 * @setup_ns: the drop-in's set-up from scratch, median, ns
 * @setup_dev: whether that set-up found a device
 * @anchor: the anchor probe on the page's counter (selftests/anchor_probe.c)
 * @anchor_err: its result, 0 if it ran
 */
struct bench_results {
	struct hist batch[OP_COUNT], single[OP_COUNT], tail[OP_COUNT];
	struct hist th1[OP_COUNT], th2[OP_COUNT];
	double rate1[OP_COUNT], rate2[OP_COUNT], steal2[OP_COUNT];
	const unsigned long *op_errors;
	uint64_t overhead, publishes;
	double load0, load;
	int64_t t0, t, t1;
	long ncpu;
	uint8_t counter_id;
	int64_t setup_ns;
	bool setup_dev;
	struct anchor_probe anchor;
	int anchor_err;
};

/* ---- the report (report.c) */

/*
 * Reads the VM half from @vm_log (or not, if NULL), prints the report and
 * writes it to @results_path and the plot's data into @data_dir (each if
 * not NULL).
 */
void bench_report(const struct bench_results *r, const char *vm_log,
		  const char *results_path, const char *data_dir);

#endif /* IONCLOCK_BENCH_H */
