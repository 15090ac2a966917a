// SPDX-License-Identifier: GPL-2.0
/*
 * The anchor probe (anchor_probe.h).  Why a lead can exist at all: the
 * reader's "lfence; rdtsc" keeps the counter read below the page loads,
 * but nothing keeps the sequence count's re-read below the counter read,
 * so the CPU may satisfy that re-read first, before the writer's odd count
 * reached it, and take the counter a little later.  The writer's full
 * barrier makes its odd count visible before it reads the counter that
 * becomes the next mapping's base; the lead is therefore how long a
 * reader's counter read may trail its own re-read, plus however far the
 * reader's CPU's counter runs ahead of the writer's.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "anchor_probe.h"
#include <linux/ionclock_names.h>

/* Mappings one run may publish: the log's and the reader's table's size. */
#define PROBE_MAX_UPDATES	(1u << 21)
/* The longest pause between two updates, ns. */
#define PROBE_MAX_PAUSE_NS	2000

struct probe {
	struct ionclock_page *w;
	const struct ionclock_page *r;
	uint8_t counter_id;
	uint64_t *start;		/* the writer's: update k's base */
	uint64_t *latest;		/* the reader's: latest counter per k */
	uint64_t updates;
	uint64_t reads;
	uint64_t behind;		/* counter units */
	uint64_t end_ns;		/* CLOCK_MONOTONIC */
	uint64_t max_pause;		/* PROBE_MAX_PAUSE_NS, counter units */
	volatile bool stop;
	pthread_barrier_t go;
};

static uint64_t mono_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* The counter as the module reads it after its full barrier. */
static inline uint64_t counter_read(uint8_t counter_id)
{
#ifdef IONCLOCK_HAVE_TSC
	if (counter_id == IONCLOCK_COUNTER_TSC) {
		uint32_t lo, hi;

		asm volatile("lfence; rdtsc" : "=a" (lo), "=d" (hi) : : "memory");
		return (uint64_t)hi << 32 | lo;
	}
#endif
	return mono_ns(CLOCK_MONOTONIC_RAW);
}

/* Counter units per ns, against CLOCK_MONOTONIC_RAW over 50 ms. */
static double counter_per_ns(uint8_t counter_id)
{
	uint64_t c0, c1, t0, t1;
	struct timespec pause = { .tv_nsec = 50000000 };

	if (counter_id != IONCLOCK_COUNTER_TSC)
		return 1.0;
	t0 = mono_ns(CLOCK_MONOTONIC_RAW);
	c0 = counter_read(counter_id);
	nanosleep(&pause, NULL);
	t1 = mono_ns(CLOCK_MONOTONIC_RAW);
	c1 = counter_read(counter_id);
	return t1 > t0 ? (double)(c1 - c0) / (double)(t1 - t0) : 1.0;
}

static int pin(unsigned int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

static void *writer(void *arg)
{
	struct probe *p = arg;
	struct ionclock_page *w = p->w;
	uint32_t rnd = 2463534242u;
	uint64_t k, c0, pause;

	pin(0);
	pthread_barrier_wait(&p->go);
	for (k = 1; k < PROBE_MAX_UPDATES; k++) {
		/*
		 * Often: where both vCPUs share one host thread (QEMU's
		 * single-threaded TCG) an update may take a whole timeslice.
		 */
		if ((k & 15) == 0 && mono_ns(CLOCK_MONOTONIC) >= p->end_ns)
			break;
		/* As kmod/page.c: count odd, full barrier, then the base. */
		ionclock_seq_write_begin(w);
		c0 = counter_read(p->counter_id);
		p->start[k] = c0;
		w->counter_base = c0;
		w->time_base_ns = k;
		w->error_bound_ns = k;
		ionclock_seq_write_end(w);
		/*
		 * A varying pause of up to PROBE_MAX_PAUSE_NS, so reads land
		 * at every phase of an update; timed on the counter, not made
		 * of pause instructions, which TCG takes as a cue to run
		 * another vCPU.
		 */
		rnd ^= rnd << 13;
		rnd ^= rnd >> 17;
		rnd ^= rnd << 5;
		pause = rnd % p->max_pause;
		while (counter_read(p->counter_id) - c0 < pause)
			;
	}
	p->updates = k;
	p->stop = true;
	return NULL;
}

static void *reader(void *arg)
{
	struct probe *p = arg;
	struct ionclock_snap s;
	uint64_t k, reads = 0, behind = 0;

	pin(1);
	pthread_barrier_wait(&p->go);
	while (!p->stop) {
		if (ionclock_page_snap(p->r, p->counter_id, &s))
			continue;
		reads++;
		k = s.time_base_ns;
		if (k == 0 || k >= PROBE_MAX_UPDATES)
			continue;	/* the page before the first update */
		if (s.counter > p->latest[k])
			p->latest[k] = s.counter;
		if (s.counter < s.counter_base &&
		    s.counter_base - s.counter > behind)
			behind = s.counter_base - s.counter;
	}
	p->reads = reads;
	p->behind = behind;
	return NULL;
}

int anchor_probe_run(unsigned int ms, uint8_t counter_id,
		     struct anchor_probe *out)
{
	size_t table = PROBE_MAX_UPDATES * sizeof(uint64_t);
	struct probe p = { .counter_id = counter_id };
	uint64_t k, lead = 0, late = 0;
	pthread_t wt, rt;
	double per_ns;
	void *page;
	int ret = 0;

	memset(out, 0, sizeof(*out));
	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		return -ENODEV;
	per_ns = counter_per_ns(counter_id);
	p.max_pause = (uint64_t)(PROBE_MAX_PAUSE_NS * per_ns) + 1;
	page = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p.start = calloc(PROBE_MAX_UPDATES, sizeof(uint64_t));
	p.latest = calloc(PROBE_MAX_UPDATES, sizeof(uint64_t));
	if (page == MAP_FAILED || !p.start || !p.latest) {
		ret = -ENOMEM;
		goto out;
	}
	/* Touch both tables now, not inside the timed loops. */
	memset(p.start, 0, table);
	memset(p.latest, 0, table);
	p.w = page;
	p.r = page;
	p.w->magic = IONCLOCK_PAGE_MAGIC;
	p.w->counter_id = counter_id;
	p.w->time_mult = 1;
	p.w->time_shift = 0;
	p.end_ns = mono_ns(CLOCK_MONOTONIC) + (uint64_t)ms * 1000000u;
	pthread_barrier_init(&p.go, NULL, 2);
	if (pthread_create(&wt, NULL, writer, &p)) {
		ret = -EAGAIN;
		goto out_barrier;
	}
	if (pthread_create(&rt, NULL, reader, &p)) {
		p.end_ns = 0;
		pthread_barrier_wait(&p.go);	/* the writer's half */
		pthread_join(wt, NULL);
		ret = -EAGAIN;
		goto out_barrier;
	}
	pthread_join(wt, NULL);
	pthread_join(rt, NULL);

	for (k = 1; k + 1 < p.updates; k++) {
		if (p.latest[k] > p.start[k + 1]) {
			late++;
			if (p.latest[k] - p.start[k + 1] > lead)
				lead = p.latest[k] - p.start[k + 1];
		}
	}
	out->updates = p.updates > 0 ? p.updates - 1 : 0;
	out->reads = p.reads;
	out->late_reads = late;
	out->lead_ns = (uint64_t)((double)lead / per_ns + 0.999);
	out->behind_ns = (uint64_t)((double)p.behind / per_ns + 0.999);
out_barrier:
	pthread_barrier_destroy(&p.go);
out:
	if (page != MAP_FAILED)
		munmap(page, IONCLOCK_PAGE_SIZE);
	free(p.start);
	free(p.latest);
	return ret;
}

bool anchor_probe_counter_usable(uint8_t counter_id)
{
	char name[32] = "";
	FILE *f;

	if (counter_id != IONCLOCK_COUNTER_TSC)
		return true;
	f = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource",
		  "r");
	if (!f)
		return false;
	if (!fgets(name, sizeof(name), f))
		name[0] = 0;
	fclose(f);
	return !strcmp(name, "tsc\n");
}

void anchor_probe_print(FILE *f, const char *prefix, uint8_t counter_id,
			const struct anchor_probe *r)
{
	fprintf(f, "%sanchor-need: counter %s, %llu updates, %llu reads, %llu read past the next update's start, lead at most %llu ns (anchor %u ns), reader behind the base by up to %llu ns\n",
		prefix, ionclock_counter_name(counter_id),
		(unsigned long long)r->updates, (unsigned long long)r->reads,
		(unsigned long long)r->late_reads,
		(unsigned long long)r->lead_ns, IONCLOCK_ANCHOR_AHEAD_NS,
		(unsigned long long)r->behind_ns);
	fflush(f);
}
