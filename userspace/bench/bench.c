// SPDX-License-Identifier: GPL-2.0
/*
 * make bench, host half: what a read of ionclock costs next to the vDSO's
 * clocks, measured in one run on this machine.  The host kernel cannot load
 * the module, so this process plays its part: the real engine (kmod/engine.c
 * and kmod/page_fill.c) follows CLOCK_TAI as if it were the PHC and
 * publishes into a shared memfd page with the module's protocol (count odd,
 * full fence, anchor and engine publish, fill, release fence, count even).
 * The readers map the same page read-only and go through libionclock's own
 * read path (the static archive) with a handle built around that page, as
 * the host unit tests do.
 *
 * HOW CALLS ARE TIMED
 *
 * Everything is timed with the TSC, calibrated against CLOCK_MONOTONIC_RAW.
 * The timed region opens with "lfence; rdtsc; lfence" (nothing earlier is
 * still running, nothing later has started) and closes with "rdtscp; lfence"
 * (rdtscp waits for the calls to finish).
 *  - Medians and p99: batches of BATCH calls timed as one, per-call time =
 *    batch / BATCH, so the timer's ~30 cycles are spread over the batch.
 *    A percentile here is one of per-batch means.
 *  - Tails (p99.9): each call timed on its own, the median cost of an empty
 *    timed region subtracted.  This shows single slow calls (a retry during
 *    an update, a cache miss, an interrupt) that batches average away.
 * Samples go into histograms with one-tick bins, so percentiles are exact
 * to a tick over tens of millions of calls.
 *
 * The LD_PRELOAD drop-in's clock_gettime(CLOCK_REALTIME) is timed beside
 * glibc's on the same page: its own code (preload_bench.c), called through
 * a pointer as a program's PLT would call it.  Its set-up from scratch is
 * timed too; on the host it finds no device, so that figure is the
 * fallback's, and the VM half gives the real one.
 *
 * With --vm FILE it also reads the VM half (`ionclockctl bench` and
 * preload_vm_bench, run by "selftests/vm/run.sh 6.12 bench") from the
 * guest's console log, prints both tables and the targets, and writes
 * RESULTS.md and the plot's data.
 *
 *   bench [--vm console.log] [--results RESULTS.md] [--data DIR]
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"
#include "engine.h"
#include "internal.h"
#include "preload_bench.h"

/* ---- the page, published in-process as the module does */

static clockid_t tai_clock = CLOCK_TAI;

struct pub {
	struct ionclock_page *w;	/* the writer's (the "kernel's") map */
	const struct ionclock_page *r;	/* the readers' read-only map */
	uint8_t counter_id;
	struct ionclock_engine e;
	uint64_t publishes;
};

static inline uint64_t counter_read(uint8_t id)
{
	if (id == IONCLOCK_COUNTER_TSC)
		return tsc_begin();
	return clock_ns(CLOCK_MONOTONIC_RAW);
}

/* The system's CLOCK_TAI stands in for the PHC, bracketed by the counter. */
static void pub_sample(struct pub *p)
{
	struct ionclock_sample s;
	uint64_t a, b, t;

	a = counter_read(p->counter_id);
	t = clock_ns(tai_clock);
	b = counter_read(p->counter_id);
	s.counter = a + (b - a) / 2;
	s.half_width = (b - a) / 2 + 1;
	s.phc_ns = t;
	ionclock_engine_add_sample(&p->e, &s);
}

/* As ionclock_page_publish() in kmod/page.c, with its write sequence. */
static void pub_publish(struct pub *p)
{
	struct ionclock_page *w = p->w;
	struct ionclock_bound b = { 0 };
	uint64_t now;

	ionclock_seq_write_begin(w);
	now = ionclock_engine_anchor(&p->e, counter_read(p->counter_id));
	ionclock_engine_publish(&p->e, now, &b);
	ionclock_page_fill(w, &p->e, &b, false);
	/* A loaded leap table with no leap scheduled, as ionclockctl leaves. */
	w->tai_utc_offset_s = TAI_UTC_OFFSET_S;
	w->next_leap_delta_s = 0;
	w->next_leap_tai_s = 0;
	w->leap_expiry_tai_s = p->e.map.time_base_ns / NSEC_PER_SEC +
			       100 * 86400;
	w->smear_window_s = 86400;
	w->flags |= IONCLOCK_FLAG_TAI_OFFSET_VALID | IONCLOCK_FLAG_LEAP_VALID;
	ionclock_seq_write_end(w);
	p->publishes++;
}

static void pub_init(struct pub *p, struct ionclock *c)
{
	uint64_t mult = 1ULL << 32;
	struct timespec next;
	void *w, *r;
	int fd, i;

	p->counter_id = anchor_probe_counter_usable(IONCLOCK_COUNTER_TSC) ?
			IONCLOCK_COUNTER_TSC : IONCLOCK_COUNTER_MONOTONIC_RAW;
	fd = memfd_create("ionclock-bench", MFD_CLOEXEC);
	if (fd < 0 || ftruncate(fd, IONCLOCK_PAGE_SIZE) < 0) {
		perror("bench: memfd");
		exit(1);
	}
	w = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	r = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	if (w == MAP_FAILED || r == MAP_FAILED) {
		perror("bench: mmap");
		exit(1);
	}
	close(fd);
	p->w = w;
	p->r = r;
	p->w->magic = IONCLOCK_PAGE_MAGIC;
	p->w->size = IONCLOCK_PAGE_SIZE;
	p->w->version = IONCLOCK_ABI_VERSION;
	p->w->counter_id = p->counter_id;

	/* ns per counter unit << 32, as kmod/counter.c has it */
	if (p->counter_id == IONCLOCK_COUNTER_TSC)
		mult = (uint64_t)((double)(1ULL << 32) / ticks_per_ns);
	ionclock_engine_init(&p->e, mult, 32, &(struct ionclock_params) {
		.max_slew_ppb = 500000, .slew_time_ms = 1000,
		.step_threshold_ns = 1000000, .step_forward = true,
		.max_freq_ppb = 1000000, .drift_ppb = 15000 });

	/* Fill the fit's window at the writer's pace. */
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (i = 0; i < WARMUP_SAMPLES; i++) {
		pub_sample(p);
		pub_publish(p);
		next.tv_nsec += WRITER_PERIOD_NS;
		if (next.tv_nsec >= NSEC_PER_SEC) {
			next.tv_nsec -= NSEC_PER_SEC;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
	}
	/* fd -1: a fallback to read() would fail, and is counted as an error */
	c->fd = -1;
	c->counter_id = p->counter_id;
	c->page = p->r;
}

static volatile bool writer_stop;

static void *writer(void *arg)
{
	struct pub *p = arg;
	struct timespec next;

	/* Another CPU than the reader's, as the module's sampler would be. */
	pin(1);
	clock_gettime(CLOCK_MONOTONIC, &next);
	while (!writer_stop) {
		next.tv_nsec += WRITER_PERIOD_NS;
		if (next.tv_nsec >= NSEC_PER_SEC) {
			next.tv_nsec -= NSEC_PER_SEC;
			next.tv_sec++;
		}
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &next, NULL);
		pub_sample(p);
		pub_publish(p);
	}
	return NULL;
}

/* ---- what is measured */

/* The table's name, and a short one for the plot's legend and columns */
const struct op_name ops[OP_COUNT] = {
	[OP_COUNTER] = { "page counter read alone", "counter" },
	[OP_COUNTER1] = { "`lfence; rdtsc` alone (one fence, as the vDSO)",
			  "rdtsc_one_fence" },
	[OP_NOW] = { "ionclock_now", "ionclock_now" },
	[OP_BOUNDED] = { "ionclock_now_bounded", "ionclock_now_bounded" },
#ifdef IONCLOCK_UTC
	[OP_GETTIME_UTC] = { "ionclock_gettime(IONCLOCK_UTC)",
			     "ionclock_gettime_UTC" },
#endif
	[OP_MONOTONIC] = { "vDSO clock_gettime(CLOCK_MONOTONIC)",
			   "vDSO_MONOTONIC" },
	[OP_REALTIME] = { "vDSO clock_gettime(CLOCK_REALTIME)",
			  "vDSO_REALTIME" },
	[OP_TAI] = { "vDSO clock_gettime(CLOCK_TAI)", "vDSO_TAI" },
	[OP_PRELOAD] = { "drop-in clock_gettime(CLOCK_REALTIME) (LD_PRELOAD)",
			 "preload_REALTIME" },
};

static struct ionclock handle;
static unsigned long op_errors[OP_COUNT];

/*
 * One call of @op; always inlined with a constant @op, so each loop below
 * holds a direct call and no dispatch.  Returns non-zero on an error.
 */
static inline __attribute__((always_inline)) int op_call(enum op op)
{
	struct timespec ts;
	int64_t t, e, l;

	switch (op) {
	case OP_COUNTER:
		return !counter_read(handle.counter_id);
	case OP_COUNTER1:
		return !tsc_one_fence();
	case OP_NOW:
		return ionclock_now(&handle, &t);
	case OP_BOUNDED:
		return ionclock_now_bounded(&handle, &t, &e, &l);
#ifdef IONCLOCK_UTC
	case OP_GETTIME_UTC:
		return ionclock_gettime(&handle, IONCLOCK_UTC, &ts, NULL);
#endif
	case OP_MONOTONIC:
		return clock_gettime(CLOCK_MONOTONIC, &ts);
	case OP_REALTIME:
		return clock_gettime(CLOCK_REALTIME, &ts);
	case OP_TAI:
		return clock_gettime(CLOCK_TAI, &ts);
	case OP_PRELOAD:
		return preload_bench_clock_gettime(CLOCK_REALTIME, &ts);
	default:
		return 0;
	}
}

static inline __attribute__((always_inline))
unsigned long batch_one(enum op op, struct hist *h)
{
	unsigned long err = 0;
	uint64_t t0;
	int i;

	t0 = tsc_begin();
	for (i = 0; i < BATCH; i++)
		err += op_call(op) != 0;
	hist_add(h, tsc_end() - t0);
	return err;
}

static inline __attribute__((always_inline))
unsigned long batches(enum op op, struct hist *h, uint64_t n)
{
	unsigned long err = 0;
	uint64_t i;

	for (i = 0; i < n; i++)
		err += batch_one(op, h);
	return err;
}

/* Single calls for @ns of wall time; checks the clock every 256 calls. */
static inline __attribute__((always_inline))
unsigned long singles(enum op op, struct hist *h, uint64_t ns)
{
	uint64_t end = clock_ns(CLOCK_MONOTONIC) + ns, t0;
	unsigned long err = 0;
	int i, r;

	do {
		for (i = 0; i < 256; i++) {
			t0 = tsc_begin();
			r = op_call(op);
			hist_add(h, tsc_end() - t0);
			err += r != 0;
		}
	} while (clock_ns(CLOCK_MONOTONIC) < end);
	return err;
}

static inline __attribute__((always_inline))
unsigned long run(enum op op, struct hist *h, uint64_t n, bool single)
{
	return single ? singles(op, h, n) : batches(op, h, n);
}

/*
 * @n batches, or single calls for @n ns; returns the calls that failed.
 * The switch hands each op to the inlined loops as a constant.
 */
static unsigned long measure(enum op op, struct hist *h, uint64_t n,
			     bool single)
{
	switch (op) {
	case OP_COUNTER:
		return run(OP_COUNTER, h, n, single);
	case OP_COUNTER1:
		return run(OP_COUNTER1, h, n, single);
	case OP_NOW:
		return run(OP_NOW, h, n, single);
	case OP_BOUNDED:
		return run(OP_BOUNDED, h, n, single);
#ifdef IONCLOCK_UTC
	case OP_GETTIME_UTC:
		return run(OP_GETTIME_UTC, h, n, single);
#endif
	case OP_MONOTONIC:
		return run(OP_MONOTONIC, h, n, single);
	case OP_REALTIME:
		return run(OP_REALTIME, h, n, single);
	case OP_TAI:
		return run(OP_TAI, h, n, single);
	case OP_PRELOAD:
		return run(OP_PRELOAD, h, n, single);
	default:
		return 0;
	}
}

/* ---- threads: aggregate throughput */

/* The one-minute load average: other work on the machine moves the figures. */
static double load_1min(void)
{
	FILE *f = fopen("/proc/loadavg", "r");
	double l = -1;

	if (f) {
		if (fscanf(f, "%lf", &l) != 1)
			l = -1;
		fclose(f);
	}
	return l;
}

bool threaded(unsigned int op)
{
	return op == OP_NOW || op == OP_MONOTONIC || op == OP_COUNTER;
}

/*
 * Time the hypervisor ran something else on our vCPUs, all CPUs summed, s:
 * if two threads do not scale, this says whether the CPUs were really there.
 */
static double steal_s(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n = 0;

	if (f) {
		n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
			   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6],
			   &v[7]);
		fclose(f);
	}
	return n == 8 ? (double)v[7] / sysconf(_SC_CLK_TCK) : 0;
}

struct worker {
	pthread_t th;
	enum op op;
	int cpu;
	pthread_barrier_t *go;
	struct hist h;
	uint64_t calls;
	uint64_t ns;
};

static volatile bool workers_stop;

static void *worker(void *arg)
{
	struct worker *w = arg;
	unsigned long err = 0;
	uint64_t start;

	pin(w->cpu);
	pthread_barrier_wait(w->go);
	start = clock_ns(CLOCK_MONOTONIC);
	while (!workers_stop) {
		if (w->op == OP_NOW)
			err += batch_one(OP_NOW, &w->h);
		else if (w->op == OP_MONOTONIC)
			batch_one(OP_MONOTONIC, &w->h);
		else
			batch_one(OP_COUNTER, &w->h);
		w->calls += BATCH;
	}
	w->ns = clock_ns(CLOCK_MONOTONIC) - start;
	__atomic_fetch_add(&op_errors[w->op], err, __ATOMIC_RELAXED);
	return NULL;
}

/* Calls per second summed over @n threads; @h gets their batches. */
static double throughput(enum op op, int n, struct hist *h)
{
	struct worker w[2];
	pthread_barrier_t go;
	double rate = 0;
	int i;

	pthread_barrier_init(&go, NULL, n + 1);
	workers_stop = false;
	for (i = 0; i < n; i++) {
		memset(&w[i], 0, sizeof(w[i]));
		w[i].op = op;
		w[i].cpu = i;
		w[i].go = &go;
		hist_init(&w[i].h);
		pthread_create(&w[i].th, NULL, worker, &w[i]);
	}
	pthread_barrier_wait(&go);
	usleep(THREAD_RUN_NS / 1000);
	workers_stop = true;
	for (i = 0; i < n; i++) {
		pthread_join(w[i].th, NULL);
		rate += (double)w[i].calls * NSEC_PER_SEC / (double)w[i].ns;
		hist_merge(h, &w[i].h);
		free(w[i].h.bins);
	}
	pthread_barrier_destroy(&go);
	return rate;
}

/* ---- the drop-in's set-up from scratch */

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The median set-up from scratch, ns, of @n; *have_dev as it found. */
static int64_t preload_setup_median(int n, bool *have_dev)
{
	int64_t v[101];
	int i;

	if (n > 101)
		n = 101;
	for (i = 0; i < n; i++)
		v[i] = preload_bench_setup(have_dev);
	qsort(v, n, sizeof(v[0]), cmp_i64);
	return v[n / 2];
}

/*
 * The host half, into @r: one thread, single calls under a writer, then
 * 1 and 2 threads.  Returns 0, or 1 if the in-process page is not tracking.
 */
static int host_runs(struct bench_results *r)
{
	struct hist *batch = r->batch, *single = r->single, *tail = r->tail;
	struct hist *th1 = r->th1, *th2 = r->th2;
	double steal, x;
	unsigned int i, n;
	struct pub pub;
	pthread_t wth;
	int err;

	r->ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	r->op_errors = op_errors;
	pin(0);
	calibrate();
	pub_init(&pub, &handle);
	r->counter_id = pub.counter_id;
	r->t0 = (int64_t)clock_ns(CLOCK_TAI);
	err = ionclock_now(&handle, &r->t);
	r->t1 = (int64_t)clock_ns(CLOCK_TAI);
	if (err || pub.r->state != IONCLOCK_STATE_TRACKING) {
		fprintf(stderr, "bench: the in-process page is not tracking (state %u): %s\n",
			pub.r->state, ionclock_strerror(err));
		return 1;
	}
	/* The drop-in: set up as a first call would (no device here), then on the page. */
	r->setup_ns = preload_setup_median(101, &r->setup_dev);
	preload_bench_use(&handle);
	r->overhead = timer_overhead();
	r->load0 = load_1min();

	for (i = 0; i < OP_COUNT; i++) {
		hist_init(&batch[i]);
		hist_init(&single[i]);
		hist_init(&tail[i]);
	}
	fprintf(stderr, "bench: host, one thread...\n");
	/* Rounds interleave the reads so that slow drift hits all alike. */
	for (n = 0; n < ROUNDS; n++) {
		for (i = 0; i < OP_COUNT; i++) {
			op_errors[i] += measure(i, &batch[i], BATCHES_PER_ROUND, false);
			op_errors[i] += measure(i, &single[i], SINGLE_NS_PER_ROUND, true);
		}
	}

	fprintf(stderr, "bench: host, single calls while the page is updated at 100 Hz...\n");
	r->publishes = pub.publishes;
	writer_stop = false;
	pthread_create(&wth, NULL, writer, &pub);
	for (n = 0; n < ROUNDS; n++)
		for (i = 0; i < OP_COUNT; i++)
			op_errors[i] += measure(i, &tail[i], TAIL_NS_PER_ROUND, true);
	writer_stop = true;
	pthread_join(wth, NULL);
	r->publishes = pub.publishes - r->publishes;

	fprintf(stderr, "bench: host, 1 and 2 threads...\n");
	r->load = load_1min();
	for (i = 0; i < OP_COUNT; i++) {
		if (!threaded(i))
			continue;
		hist_init(&th1[i]);
		hist_init(&th2[i]);
	}
	/*
	 * The best of THREAD_REPEATS alternating runs: other jobs on the
	 * machine only ever take throughput away.
	 */
	for (n = 0; n < THREAD_REPEATS; n++) {
		for (i = 0; i < OP_COUNT; i++) {
			if (!threaded(i))
				continue;
			x = throughput(i, 1, &th1[i]);
			r->rate1[i] = x > r->rate1[i] ? x : r->rate1[i];
			if (r->ncpu < 2)
				continue;
			steal = steal_s();
			x = throughput(i, 2, &th2[i]);
			r->rate2[i] = x > r->rate2[i] ? x : r->rate2[i];
			r->steal2[i] += (steal_s() - steal) * NSEC_PER_SEC /
					(2.0 * THREAD_RUN_NS * THREAD_REPEATS);
		}
	}
	return 0;
}

static void bad_args(void)
{
	fprintf(stderr, "usage: bench [--vm console.log] [--results RESULTS.md] [--data DIR]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	const char *vm_log = NULL, *results_path = NULL, *data_dir = NULL;
	static struct bench_results r;
	unsigned int i;

	for (i = 1; i < (unsigned int)argc; i++) {
		if (i + 1 >= (unsigned int)argc)
			bad_args();
		if (!strcmp(argv[i], "--vm"))
			vm_log = argv[++i];
		else if (!strcmp(argv[i], "--results"))
			results_path = argv[++i];
		else if (!strcmp(argv[i], "--data"))
			data_dir = argv[++i];
		else
			bad_args();
	}
	if (host_runs(&r))
		return 1;
	r.anchor_err = anchor_probe_run(ANCHOR_PROBE_MS, r.counter_id,
					&r.anchor);
	bench_report(&r, vm_log, results_path, data_dir);
	return 0;
}
