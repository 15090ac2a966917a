// SPDX-License-Identifier: GPL-2.0
/*
 * Not a test: what a read costs, measured in the same run for every way of
 * getting the time, and printed as ns per call and as ratios to the vDSO's
 * CLOCK_MONOTONIC.  Each figure is the median of 31 batches, so a vCPU
 * preempted during one batch does not move it.  Under QEMU TCG only the
 * ratios mean anything.
 *
 *   read_cost [ionclock device] [ptp device]
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/ptp_clock.h>

#include "ionclock_test.h"

#define BATCHES	31

struct ctx {
	struct ionclock *c;
	int ptp_fd;
	int dev_fd;
};

typedef void (*read_fn)(struct ctx *x);

static void do_ionclock_now(struct ctx *x)
{
	int64_t t;

	ionclock_now(x->c, &t);
}

static void do_ionclock_bounded(struct ctx *x)
{
	int64_t t, e, l;

	ionclock_now_bounded(x->c, &t, &e, &l);
}

static void do_vdso_monotonic(struct ctx *x)
{
	struct timespec ts;

	(void)x;
	clock_gettime(CLOCK_MONOTONIC, &ts);
}

static void do_phc_gettime(struct ctx *x)
{
	struct timespec ts;

	clock_gettime(FD_TO_CLOCKID(x->ptp_fd), &ts);
}

static void do_phc_sys_offset_extended(struct ctx *x)
{
	struct ptp_sys_offset_extended ext = { .n_samples = 1 };

	ioctl(x->ptp_fd, PTP_SYS_OFFSET_EXTENDED, &ext);
}

static void do_device_read(struct ctx *x)
{
	struct ionclock_reading r;

	if (read(x->dev_fd, &r, sizeof(r)) != sizeof(r))
		exit(1);
}

static void do_getppid(struct ctx *x)
{
	(void)x;
	getppid();
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median_ns(struct ctx *x, read_fn fn, int calls)
{
	double per[BATCHES];
	int b, i;

	for (b = 0; b < BATCHES; b++) {
		int64_t start = test_mono_ns();

		for (i = 0; i < calls; i++)
			fn(x);
		per[b] = (double)(test_mono_ns() - start) / calls;
	}
	qsort(per, BATCHES, sizeof(per[0]), cmp);
	return per[BATCHES / 2];
}

int main(int argc, char **argv)
{
	static const struct {
		const char *name;
		read_fn fn;
		int calls;
	} ways[] = {
		{ "vdso_clock_gettime_monotonic", do_vdso_monotonic, 20000 },
		{ "ionclock_now", do_ionclock_now, 20000 },
		{ "ionclock_now_bounded", do_ionclock_bounded, 20000 },
		{ "getppid_syscall", do_getppid, 2000 },
		{ "read_dev_ionclock", do_device_read, 2000 },
		{ "phc_clock_gettime", do_phc_gettime, 200 },
		{ "phc_sys_offset_extended", do_phc_sys_offset_extended, 200 },
	};
	const char *dev = argc > 1 ? argv[1] : test_ionclock_dev();
	const char *ptp = argc > 2 ? argv[2] : test_phc_dev();
	double ns[ARRAY_SIZE(ways)];
	struct ctx x;
	unsigned int i;
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
	for (i = 0; i < ARRAY_SIZE(ways); i++)
		ns[i] = median_ns(&x, ways[i].fn, ways[i].calls);
	for (i = 0; i < ARRAY_SIZE(ways); i++) {
		printf("read-cost: %-30s %10.1f ns/call  %7.2fx vdso  %7.2fx ionclock_now\n",
		       ways[i].name, ns[i], ns[i] / ns[0], ns[i] / ns[1]);
	}
	ionclock_close(x.c);
	close(x.ptp_fd);
	return 0;
}
