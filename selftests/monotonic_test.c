// SPDX-License-Identifier: GPL-2.0
/*
 * ionclock_now() never decreases: on each CPU, over many consecutive reads,
 * and across CPUs, where a read that starts after another CPU's read has
 * returned must not report an earlier time.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define READS_PER_CPU	1000000
#define WINDOW		8

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return sched_setaffinity(0, sizeof(set), &set);
}

/* Like inconsistency-check: keep the last reads to show around a failure. */
static void dump_window(const int64_t *ring, unsigned long at)
{
	unsigned long i = at >= WINDOW ? at - WINDOW + 1 : 0;

	for (; i <= at; i++)
		fprintf(stderr, "# read %lu: %lld\n", i,
			(long long)ring[i % WINDOW]);
}

TEST(per_cpu)
{
	int cpus = sysconf(_SC_NPROCESSORS_ONLN), cpu;
	struct ionclock *c;

	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &c));
	for (cpu = 0; cpu < cpus; cpu++) {
		int64_t ring[WINDOW], now;
		unsigned long i;

		ASSERT_EQ(0, pin(cpu));
		ASSERT_EQ(0, ionclock_now(c, &ring[0]));
		for (i = 1; i < READS_PER_CPU; i++) {
			ASSERT_EQ(0, ionclock_now(c, &now));
			ring[i % WINDOW] = now;
			if (now < ring[(i - 1) % WINDOW]) {
				dump_window(ring, i);
				ASSERT_GE(now, ring[(i - 1) % WINDOW]);
			}
		}
		TH_LOG("cpu %d: %d reads, none backward", cpu, READS_PER_CPU);
	}
	ionclock_close(c);
}

struct cross {
	struct ionclock *c;
	atomic_llong latest;	/* largest time any thread has returned */
	atomic_long failures;
};

struct cross_reader_arg {
	struct cross *x;
	int cpu;
};

/*
 * Each thread loads the latest time returned by any thread, then reads the
 * clock: the read started after that time was returned, so it must not be
 * earlier.
 */
static void *cross_reader(void *arg)
{
	struct cross_reader_arg *a = arg;
	struct cross *x = a->x;
	long i;

	pin(a->cpu);
	for (i = 0; i < READS_PER_CPU; i++) {
		long long seen = atomic_load(&x->latest), cur;
		int64_t now;

		if (ionclock_now(x->c, &now)) {
			atomic_fetch_add(&x->failures, 1);
			break;
		}
		if (now < seen) {
			fprintf(stderr, "# cpu %d read %lld after another CPU returned %lld\n",
				a->cpu, (long long)now, (long long)seen);
			atomic_fetch_add(&x->failures, 1);
		}
		cur = atomic_load(&x->latest);
		while (cur < now &&
		       !atomic_compare_exchange_weak(&x->latest, &cur, now))
			;
	}
	return NULL;
}

TEST(across_cpus)
{
	struct cross_reader_arg args[2];
	struct cross x;
	pthread_t t[2];
	int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "needs two CPUs");
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &x.c));
	atomic_store(&x.latest, 0);
	atomic_store(&x.failures, 0);
	for (i = 0; i < 2; i++) {
		args[i].x = &x;
		args[i].cpu = i;
		ASSERT_EQ(0, pthread_create(&t[i], NULL, cross_reader,
					    &args[i]));
	}
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	EXPECT_EQ(0, atomic_load(&x.failures));
	TH_LOG("2 CPUs x %d reads against a shared compare", READS_PER_CPU);
	ionclock_close(x.c);
}

TEST_HARNESS_MAIN
