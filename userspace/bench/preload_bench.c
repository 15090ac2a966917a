// SPDX-License-Identifier: GPL-2.0
/*
 * The LD_PRELOAD drop-in's own code, for make bench: preload.c compiled in
 * here with its exported names changed, so that it interposes nothing and
 * the program's clock calls stay glibc's.  The bench can then time the
 * drop-in's clock_gettime() against glibc's in one process, on a page of
 * its choosing (the host's in-process page) or on a real device (the VM),
 * and time its set-up from scratch.
 */
#define clock_gettime		preload_clock_gettime
#define __clock_gettime64	preload_clock_gettime64
#define gettimeofday		preload_gettimeofday
#define time			preload_time
#define timespec_get		preload_timespec_get
#include "../preload/preload.c"
#undef clock_gettime
#undef __clock_gettime64
#undef gettimeofday
#undef time
#undef timespec_get

#include "preload_bench.h"

/* <time.h> declared it under the drop-in's name above: glibc's, again. */
extern int clock_gettime(clockid_t id, struct timespec *ts);

int (*const preload_bench_clock_gettime)(clockid_t, struct timespec *) =
	preload_clock_gettime;

/*
 * One whole set-up, as the first call in a process does it (the vDSO
 * lookup, the environment, the device), in ns of CLOCK_MONOTONIC_RAW;
 * @have_dev says whether it found a device.
 */
int64_t preload_bench_setup(bool *have_dev)
{
	struct timespec a, b;

	if (cfg.have_dev)
		ionclock_fini(&cfg.dev);
	cfg.have_dev = false;
	__atomic_store_n(&vdso.looked_up, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&setup_state, SETUP_NONE, __ATOMIC_RELAXED);
	clock_gettime(CLOCK_MONOTONIC_RAW, &a);
	ready();
	clock_gettime(CLOCK_MONOTONIC_RAW, &b);
	*have_dev = cfg.have_dev;
	return (b.tv_sec - a.tv_sec) * NSEC_PER_SEC + b.tv_nsec - a.tv_nsec;
}

void preload_bench_use(const struct ionclock *c)
{
	ready();
	if (cfg.have_dev)
		ionclock_fini(&cfg.dev);
	cfg.dev = *c;
	cfg.have_dev = true;
	cfg.realtime = REALTIME_SMEARED;
}
