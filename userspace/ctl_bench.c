// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl bench [rounds]: what a read costs on this machine, measured
 * in the same run for every way of getting the time, and printed as ns per
 * call and as ratios to the vDSO's CLOCK_MONOTONIC.  Everything is timed with "lfence; rdtsc" pairs (the
 * TSC calibrated against CLOCK_MONOTONIC here), less the empty pair's own
 * cost.  The median is that of 305 short batches' per-call means, so a vCPU
 * preempted during a few batches does not move it; the p99 is of single
 * calls, and shows the slow calls that a batch averages away.  The ways
 * take turns over the rounds, so that a busy host slows all of them
 * alike.  Under QEMU TCG only the ratios mean anything.  A way whose first
 * call fails (the PHC's /dev/ptpN is often root's alone) is reported as
 * skipped, not timed.  make bench reads the "read-cost:" lines that the VM
 * prints.  x86-64 only, as the TSC read path.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/ptp_clock.h>
#include <linux/ionclock_seq.h>	/* IONCLOCK_ANCHOR_AHEAD_NS */

#include "ionclockctl.h"

#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)
#define DEFAULT_ROUNDS	5
#define MAX_ROUNDS	100
#define BATCHES		61	/* per round */

struct ctx {
	struct ionclock *c;
	int ptp_fd;
	int ptp_err;		/* why there is no ptp_fd */
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

static int do_ionclock_gettime_utc(struct ctx *x)
{
	struct timespec ts;

	return ionclock_gettime(x->c, IONCLOCK_UTC, &ts, NULL);
}

static int do_ionclock_unique(struct ctx *x)
{
	int64_t t;

	return ionclock_unique(x->c, &t);
}

static int do_ionclock_id(struct ctx *x)
{
	uint64_t id;

	return ionclock_id(x->c, &id);
}

#define ID_BATCH	64

static int do_ionclock_ids_batch(struct ctx *x)
{
	uint64_t ids[ID_BATCH];

	return ionclock_ids(x->c, ids, ID_BATCH);
}

static int do_vdso(struct ctx *x)
{
	struct timespec ts;

	return clock_gettime(x->clk, &ts) ? -errno : 0;
}

static int do_phc_gettime(struct ctx *x)
{
	struct timespec ts;

	/* FD_TO_CLOCKID(-1) is a CPU-time clock: never time that. */
	if (x->ptp_fd < 0)
		return x->ptp_err;
	return clock_gettime(FD_TO_CLOCKID(x->ptp_fd), &ts) ? -errno : 0;
}

static int do_phc_sys_offset_extended(struct ctx *x)
{
	struct ptp_sys_offset_extended ext = { .n_samples = 1 };

	if (x->ptp_fd < 0)
		return x->ptp_err;
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

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

static void calibrate(void)
{
	int64_t m0, m1;
	uint64_t t0, t1;

	m0 = mono_ns();
	t0 = tsc();
	usleep(50000);
	m1 = mono_ns();
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

static int check_bench(const char *name, int argc, char **argv)
{
	uint64_t v;

	if (argc > 1) {
		fail(name, "takes at most a number of rounds, or ratio");
		return 2;
	}
	if (argc && !strcmp(argv[0], "ratio"))
		return 0;
	return argc ? parse_u64(name, "rounds", argv[0], 1, MAX_ROUNDS, &v) :
		      0;
}

static const struct way {
	const char *name;
	read_fn fn;
	clockid_t clk;	/* for do_vdso() */
	int calls;	/* per batch, for the median */
	int singles;	/* timed one by one, for the p99 */
} ways[] = {
	{ "vdso_clock_gettime_monotonic", do_vdso, CLOCK_MONOTONIC, 64, 20000 },
	{ "ionclock_now", do_ionclock_now, 0, 64, 20000 },
	{ "ionclock_now_bounded", do_ionclock_bounded, 0, 64, 20000 },
	{ "ionclock_gettime_utc", do_ionclock_gettime_utc, 0, 64, 20000 },
	{ "vdso_clock_gettime_realtime", do_vdso, CLOCK_REALTIME, 64, 20000 },
	{ "vdso_clock_gettime_tai", do_vdso, CLOCK_TAI, 64, 20000 },
	{ "getppid_syscall", do_getppid, 0, 16, 2000 },
	{ "read_dev_ionclock", do_device_read, 0, 16, 2000 },
	{ "ionclock_unique", do_ionclock_unique, 0, 16, 2000 },
	{ "ionclock_id", do_ionclock_id, 0, 16, 2000 },
	{ "ionclock_ids_x64", do_ionclock_ids_batch, 0, 4, 500 },
	{ "phc_clock_gettime", do_phc_gettime, 0, 4, 500 },
	{ "phc_sys_offset_extended", do_phc_sys_offset_extended, 0, 1, 500 },
};

#define NWAYS	ARRAY_SIZE(ways)

struct results {
	double timer;			/* the empty tsc() pair, ns */
	int ok[NWAYS];			/* the first call's result */
	double *per[NWAYS];		/* batch means */
	double *one[NWAYS];		/* single calls */
	double ns[NWAYS], p99[NWAYS];
};

static void free_results(struct results *res)
{
	unsigned int i;

	for (i = 0; i < NWAYS; i++) {
		free(res->per[i]);
		free(res->one[i]);
	}
}

static int measure(struct ctx *x, unsigned int rounds, struct results *res)
{
	unsigned int i, r;
	double *v;
	int n1;

	calibrate();
	v = malloc(10001 * sizeof(*v));
	if (!v)
		return -ENOMEM;
	time_singles(x, NULL, 0, v, 10001);
	res->timer = pick(v, 10001, 500);
	free(v);
	for (i = 0; i < NWAYS; i++) {
		x->clk = ways[i].clk;
		res->ok[i] = ways[i].fn(x);
		res->per[i] = malloc(rounds * BATCHES * sizeof(double));
		res->one[i] = malloc(ways[i].singles * sizeof(double));
		if (!res->per[i] || !res->one[i])
			return -ENOMEM;
	}
	/* Rounds interleave the ways, so that the host's load hits all alike. */
	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NWAYS; i++) {
			if (res->ok[i])
				continue;
			n1 = ways[i].singles / (int)rounds;
			x->clk = ways[i].clk;
			time_batches(x, ways[i].fn, ways[i].calls, res->timer,
				     res->per[i] + r * BATCHES, BATCHES);
			time_singles(x, ways[i].fn, res->timer,
				     res->one[i] + r * n1, n1);
		}
	}
	for (i = 0; i < NWAYS; i++) {
		if (res->ok[i])
			continue;
		res->ns[i] = pick(res->per[i], (int)rounds * BATCHES, 500);
		n1 = ways[i].singles / (int)rounds;
		res->p99[i] = pick(res->one[i], n1 * (int)rounds, 990);
	}
	return 0;
}

static int way_index(const char *name)
{
	unsigned int i;

	for (i = 0; i < NWAYS; i++)
		if (!strcmp(ways[i].name, name))
			return (int)i;
	return -1;
}

/* An ID against ionclock_unique, the other machine-wide unique read. */
static void print_id_costs(const struct results *res)
{
	int u = way_index("ionclock_unique"), one = way_index("ionclock_id"),
	    batch = way_index("ionclock_ids_x64");

	if (res->ok[u] || res->ok[one] || res->ok[batch])
		return;
	printf("id-cost: ionclock_id %.2fx ionclock_unique, ionclock_ids %.1f ns per ID in batches of %d (%.3fx ionclock_unique)\n",
	       res->ns[one] / res->ns[u], res->ns[batch] / ID_BATCH, ID_BATCH,
	       res->ns[batch] / ID_BATCH / res->ns[u]);
}

/* Bound samples behind "bound-ratio:", one every BOUND_GAP_US: 2 s. */
#define BOUND_SAMPLES	200
#define BOUND_GAP_US	10000

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return x < y ? -1 : x > y;
}

/* The narrowest half-bracket of 5 x 25 PTP_SYS_OFFSET_EXTENDED reads. */
static int64_t best_phc_half_width(int ptp_fd)
{
	struct ptp_sys_offset_extended ext;
	int64_t best = INT64_MAX, w;
	unsigned int i, round;

	for (round = 0; round < 5; round++) {
		memset(&ext, 0, sizeof(ext));
		ext.n_samples = 25;
		if (ioctl(ptp_fd, PTP_SYS_OFFSET_EXTENDED, &ext))
			return -1;
		for (i = 0; i < ext.n_samples; i++) {
			w = (ext.ts[i][2].sec - ext.ts[i][0].sec) * 1000000000LL +
			    (ext.ts[i][2].nsec - ext.ts[i][0].nsec);
			if (w >= 0 && w / 2 < best)
				best = w / 2;
		}
	}
	return best == INT64_MAX ? -1 : best;
}

/*
 * The steady bound against the best the PHC itself can be read from here,
 * as "bound-ratio:" (the goal is at most 2x): the median of the
 * bound over 2 s of reads, so that where in the poll period a read falls
 * is averaged, against the best direct read; then what the bound is made
 * of at the newest publish, and the poll period that sets its growth.
 * Printed only where the PHC can be read and the page has a bound.
 */
static void print_bound_ratio(struct ctx *x,
			      const struct ionclock_info *info)
{
	int64_t t, earliest, latest, best, bound[BOUND_SAMPLES], median;
	struct ionclock_config cfg = { 0 };
	struct ionclock_page pg;
	unsigned int i;

	if (x->ptp_fd < 0)
		return;
	for (i = 0; i < BOUND_SAMPLES; i++) {
		if (ionclock_now_bounded(x->c, &t, &earliest, &latest))
			return;
		bound[i] = t - earliest;
		usleep(BOUND_GAP_US);
	}
	best = best_phc_half_width(x->ptp_fd);
	if (best <= 0 || ionclock_page_copy(x->c, &pg) ||
	    ioctl(x->dev_fd, IONCLOCK_IOC_GET_CONFIG, &cfg))
		return;
	qsort(bound, BOUND_SAMPLES, sizeof(bound[0]), cmp_i64);
	median = bound[BOUND_SAMPLES / 2];
	printf("bound-ratio: steady bound %lld ns, best direct PHC read half-width %lld ns, %.2fx (read_method %s, module half-width %u ns; median of %d reads over %d s, least %lld, most %lld; at the newest publish bracket %llu, residual %llu, slew %llu, upstream %llu, anchor %u, then growing %.1f ppm over a poll of %u ms)\n",
	       (long long)median, (long long)best, (double)median / (double)best,
	       ionclock_read_method_name(info->read_method),
	       info->read_half_width_ns, BOUND_SAMPLES,
	       BOUND_SAMPLES * BOUND_GAP_US / 1000000, (long long)bound[0],
	       (long long)bound[BOUND_SAMPLES - 1],
	       (unsigned long long)pg.error_bracket_ns,
	       (unsigned long long)pg.error_residual_ns,
	       (unsigned long long)pg.error_slew_ns,
	       (unsigned long long)pg.error_upstream_ns,
	       IONCLOCK_ANCHOR_AHEAD_NS,
	       (double)pg.error_growth_frac32 * 1e6 / 4294967296.0,
	       cfg.poll_ms);
}

static int cmd_bench(struct ctl *ctl, int argc, char **argv)
{
	struct ionclock_info info;
	struct results res = { 0 };
	uint64_t rounds = DEFAULT_ROUNDS;
	struct ctx x = { .c = ctl->c, .ptp_fd = -1, .ptp_err = -ENXIO };
	char ptp[32];
	unsigned int i;
	int err;

	if (argc && strcmp(argv[0], "ratio"))
		parse_u64("bench", "rounds", argv[0], 1, MAX_ROUNDS, &rounds);
	err = ionclock_info(ctl->c, &info);
	if (err) {
		fail(ctl->dev, ionclock_strerror(err));
		return 1;
	}
	x.dev_fd = ionclock_fd(ctl->c);
	if (info.phc_index >= 0) {
		snprintf(ptp, sizeof(ptp), "/dev/ptp%d", info.phc_index);
		x.ptp_fd = open(ptp, O_RDONLY | O_CLOEXEC);
		if (x.ptp_fd < 0)
			x.ptp_err = -errno;
	}
	if (argc && !strcmp(argv[0], "ratio")) {
		print_bound_ratio(&x, &info);
		if (x.ptp_fd >= 0)
			close(x.ptp_fd);
		return 0;
	}
	err = measure(&x, (unsigned int)rounds, &res);
	if (!err)
		print_bound_ratio(&x, &info);
	if (x.ptp_fd >= 0)
		close(x.ptp_fd);
	if (err) {
		free_results(&res);
		fail("bench", strerror(-err));
		return 1;
	}
	/* The ratios' bases: rows 0 and 1 */
	if (res.ok[0] || res.ok[1]) {
		fail("bench", res.ok[0] ? "the vDSO fails" :
		     ionclock_strerror(res.ok[1]));
		free_results(&res);
		return 1;
	}
	for (i = 0; i < NWAYS; i++) {
		if (res.ok[i]) {
			printf("read-cost: %-30s skipped: %s\n", ways[i].name,
			       ionclock_strerror(res.ok[i]));
			continue;
		}
		printf("read-cost: %-30s median %10.1f ns  p99 %10.1f ns  %7.2fx vdso  %7.2fx ionclock_now\n",
		       ways[i].name, res.ns[i], res.p99[i],
		       res.ns[i] / res.ns[0], res.ns[i] / res.ns[1]);
	}
	print_id_costs(&res);
	free_results(&res);
	return 0;
}

const struct command bench_command = {
	.name = "bench", .args = " [rounds|ratio]",
	.help = "time every way of reading the clock here, ns per call and ratios; ratio: only the steady bound against the best direct PHC read",
	.check = check_bench, .run = cmd_bench,
};
