// SPDX-License-Identifier: GPL-2.0
/*
 * Not a test: what a read costs, measured in the same run for every way of
 * getting the time, and printed as ns per call and as ratios to the vDSO's
 * CLOCK_MONOTONIC.  Everything is timed with "lfence; rdtsc" pairs (the
 * TSC calibrated against CLOCK_MONOTONIC here), less the empty pair's own
 * cost.  The median is that of 305 short batches' per-call means, so a vCPU
 * preempted during a few batches does not move it; the p99 is of single
 * calls, and shows the slow calls that a batch averages away.  The ways
 * take turns over 5 rounds, so that a busy host slows all of them alike.  Under QEMU TCG only
 * the ratios mean anything.  A way whose first call fails is reported as
 * skipped, not timed.  make bench reads the "read-cost:" lines.
 *
 *   read_cost [ionclock device] [ptp device]
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/ptp_clock.h>

#include "ionclock_test.h"

#define ROUNDS	5
#define BATCHES	61	/* per round */

struct ctx {
	struct ionclock *c;
	int ptp_fd;
	int dev_fd;
	clockid_t clk;		/* for do_vdso() */
};

typedef int (*read_fn)(struct ctx *x);

static int do_ionclock_now(struct ctx *x)
{
	int64_t t;

	return ionclock_now(x->c, &t);
}

static int do_ionclock_bounded(struct ctx *x)
{
	int64_t t, e, l;

	return ionclock_now_bounded(x->c, &t, &e, &l);
}

#ifdef IONCLOCK_UTC
static int do_ionclock_gettime_utc(struct ctx *x)
{
	struct timespec ts;

	return ionclock_gettime(x->c, IONCLOCK_UTC, &ts, NULL);
}
#endif

static int do_ionclock_unique(struct ctx *x)
{
	int64_t t;

	return ionclock_unique(x->c, &t);
}

static int do_vdso(struct ctx *x)
{
	struct timespec ts;

	return clock_gettime(x->clk, &ts) ? -errno : 0;
}

static int do_phc_gettime(struct ctx *x)
{
	struct timespec ts;

	return clock_gettime(FD_TO_CLOCKID(x->ptp_fd), &ts) ? -errno : 0;
}

static int do_phc_sys_offset_extended(struct ctx *x)
{
	struct ptp_sys_offset_extended ext = { .n_samples = 1 };

	return ioctl(x->ptp_fd, PTP_SYS_OFFSET_EXTENDED, &ext) ? -errno : 0;
}

static int do_device_read(struct ctx *x)
{
	struct ionclock_reading r;

	return read(x->dev_fd, &r, sizeof(r)) == sizeof(r) ? 0 : -EIO;
}

static int do_getppid(struct ctx *x)
{
	(void)x;
	getppid();
	return 0;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* Ordered after everything before it, as the vDSO's own TSC read. */
static inline uint64_t tsc(void)
{
	uint32_t lo, hi;

	asm volatile("lfence; rdtsc" : "=a" (lo), "=d" (hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}

static double ticks_per_ns;

static void calibrate(void)
{
	int64_t m0, m1;
	uint64_t t0, t1;

	m0 = test_mono_ns();
	t0 = tsc();
	usleep(50000);
	m1 = test_mono_ns();
	t1 = tsc();
	ticks_per_ns = (double)(t1 - t0) / (double)(m1 - m0);
}

/* @n single calls, each less the timer's own cost @timer, into @out */
static void time_singles(struct ctx *x, read_fn fn, double timer,
			 double *out, int n)
{
	uint64_t t0;
	int i;

	for (i = 0; i < n; i++) {
		t0 = tsc();
		if (fn)
			fn(x);
		out[i] = (double)(tsc() - t0) / ticks_per_ns - timer;
	}
}

/*
 * The per-call means of @n batches of @calls calls, into @out.  Short
 * batches, so that most are not interrupted: under TCG on a busy host a
 * long batch is mostly the host's scheduler.
 */
static void time_batches(struct ctx *x, read_fn fn, int calls, double timer,
			 double *out, int n)
{
	uint64_t t0;
	int b, i;

	for (b = 0; b < n; b++) {
		t0 = tsc();
		for (i = 0; i < calls; i++)
			fn(x);
		out[b] = ((double)(tsc() - t0) / ticks_per_ns - timer) / calls;
	}
}

/* The @permille'th value of @v, sorted in place; not below 0 */
static double pick(double *v, int n, int permille)
{
	double r;

	qsort(v, n, sizeof(v[0]), cmp);
	r = v[(int64_t)n * permille / 1000];
	return r > 0 ? r : 0;
}

static double *alloc_doubles(int n)
{
	double *v = malloc(n * sizeof(*v));

	if (!v)
		exit(1);
	return v;
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		read_fn fn;
		clockid_t clk;	/* for do_vdso() */
		int calls;	/* per batch, for the median */
		int singles;	/* timed one by one, for the p99 */
	} ways[] = {
		{ "vdso_clock_gettime_monotonic", do_vdso, CLOCK_MONOTONIC, 64, 20000 },
		{ "ionclock_now", do_ionclock_now, 0, 64, 20000 },
		{ "ionclock_now_bounded", do_ionclock_bounded, 0, 64, 20000 },
#ifdef IONCLOCK_UTC
		{ "ionclock_gettime_utc", do_ionclock_gettime_utc, 0, 64, 20000 },
#endif
		{ "vdso_clock_gettime_realtime", do_vdso, CLOCK_REALTIME, 64, 20000 },
		{ "vdso_clock_gettime_tai", do_vdso, CLOCK_TAI, 64, 20000 },
		{ "getppid_syscall", do_getppid, 0, 16, 2000 },
		{ "read_dev_ionclock", do_device_read, 0, 16, 2000 },
		{ "ionclock_unique", do_ionclock_unique, 0, 16, 2000 },
		{ "phc_clock_gettime", do_phc_gettime, 0, 4, 500 },
		{ "phc_sys_offset_extended", do_phc_sys_offset_extended, 0, 1, 500 },
	};
	const char *dev = argc > 1 ? argv[1] : test_ionclock_dev();
	const char *ptp = argc > 2 ? argv[2] : test_phc_dev();
	double ns[ARRAY_SIZE(ways)], p99[ARRAY_SIZE(ways)], timer, *v;
	double *per[ARRAY_SIZE(ways)], *one[ARRAY_SIZE(ways)];
	int ok[ARRAY_SIZE(ways)], n1;
	unsigned int i, r;
	struct ctx x;
	int err;

	err = ionclock_open(dev, &x.c);
	if (err) {
		fprintf(stderr, "read_cost: %s: %s\n", dev,
			ionclock_strerror(err));
		return 1;
	}
	x.dev_fd = ionclock_fd(x.c);
	x.ptp_fd = open(ptp, O_RDONLY);
	if (x.ptp_fd < 0) {
		perror(ptp);
		return 1;
	}
	if (!test_wait_state(x.c, IONCLOCK_STATE_TRACKING, 30))
		fprintf(stderr, "read_cost: %s is not tracking\n", dev);
	calibrate();
	v = alloc_doubles(10001);
	time_singles(&x, NULL, 0, v, 10001);
	timer = pick(v, 10001, 500);
	free(v);
	for (i = 0; i < ARRAY_SIZE(ways); i++) {
		x.clk = ways[i].clk;
		ok[i] = ways[i].fn(&x);
		per[i] = alloc_doubles(ROUNDS * BATCHES);
		one[i] = alloc_doubles(ways[i].singles);
	}
	/* Rounds interleave the ways, so that the host's load hits all alike. */
	for (r = 0; r < ROUNDS; r++) {
		for (i = 0; i < ARRAY_SIZE(ways); i++) {
			if (ok[i])
				continue;
			n1 = ways[i].singles / ROUNDS;
			x.clk = ways[i].clk;
			time_batches(&x, ways[i].fn, ways[i].calls, timer,
				     per[i] + r * BATCHES, BATCHES);
			time_singles(&x, ways[i].fn, timer, one[i] + r * n1, n1);
		}
	}
	for (i = 0; i < ARRAY_SIZE(ways); i++) {
		if (!ok[i]) {
			ns[i] = pick(per[i], ROUNDS * BATCHES, 500);
			p99[i] = pick(one[i], ways[i].singles / ROUNDS * ROUNDS,
				      990);
		}
		free(per[i]);
		free(one[i]);
	}
	/* The ratios' bases: rows 0 and 1 */
	if (ok[0] || ok[1]) {
		fprintf(stderr, "read_cost: the vDSO or ionclock_now fails: %s\n",
			strerror(-(ok[0] ? ok[0] : ok[1])));
		return 1;
	}
	for (i = 0; i < ARRAY_SIZE(ways); i++) {
		if (ok[i]) {
			printf("read-cost: %-30s skipped: %s\n", ways[i].name,
			       ionclock_strerror(ok[i]));
			continue;
		}
		printf("read-cost: %-30s median %10.1f ns  p99 %10.1f ns  %7.2fx vdso  %7.2fx ionclock_now\n",
		       ways[i].name, ns[i], p99[i], ns[i] / ns[0],
		       ns[i] / ns[1]);
	}
	ionclock_close(x.c);
	close(x.ptp_fd);
	return 0;
}
