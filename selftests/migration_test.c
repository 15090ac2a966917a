// SPDX-License-Identifier: GPL-2.0
/*
 * The guest half of make check-migration (selftests/vm/migration.sh): a
 * reader that checks every read while the host pauses the VM (QEMU's
 * monitor stop, then cont) and stops the whole QEMU process (SIGSTOP,
 * then SIGCONT).  Each check is a sandwich: ionclock (earliest, latest),
 * the PHC read directly, ionclock again; the PHC must lie inside
 * [earliest before, latest after], and no reading may be below one before
 * it.  Gaps the guest itself sees (its CLOCK_MONOTONIC jumping between two
 * checks) are listed; each long one must have made a disruption.
 *
 * On a VM with a vmclock (make check-migration on trixie-backports: the
 * VM saved to a file and restored in a new QEMU, its PHC moved in
 * between) the restore shows no gap at all: QEMU resumes the guest's
 * counter, its CLOCK_MONOTONIC and the igb's PHC where they were saved.
 * Only the vmclock's disruption marker says so, and the PHC's jump
 * against the counter.  Between the restore and ionclock's next sample
 * the page still holds the mapping from before, which the hypervisor has
 * already declared stale: libionclock maps the vmclock too and, seeing
 * the page's vmclock_disruption_marker differ from the live one, gives no
 * bound for such a reading (ionclock_now_bounded() fails with -ENODATA).
 * Those reads are counted ("announced"); every read that does return a
 * bound is held to it, and to the order.
 *
 * Environment: IONCLOCK_DEV, IONCLOCK_PHC (the PHC ionclock follows);
 * MIGRATION_SECONDS, how long to read (guest CLOCK_MONOTONIC, default 60);
 * MIGRATION_MIN_GAPS, how many gaps of MIGRATION_GAP_S seconds (default
 * 8) the guest must see (default 1: the SIGSTOP's; a paused VM's clocks
 * may all stand still); IONCLOCK_VMCLOCK, the vmclock's device, and then
 * MIGRATION_PHC_STEP_NS, how far the host moves the PHC at the restore:
 * a disruption with cause vmclock is then required, and the PHC's jump
 * against CLOCK_MONOTONIC_RAW must be that, within 2 ms.
 * "migration-ready" goes to the console once reading, for the host to
 * start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define MAX_GAPS	8

/* A line on the console at once (the suite's own output is held back). */
static void say(const char *fmt, ...)
{
	char line[256];
	va_list ap;
	int fd, n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fd = open("/dev/console", O_WRONLY | O_NOCTTY);
	if (fd >= 0) {
		if (write(fd, line, n) < 0)
			n = -1;
		close(fd);
	}
}

static int64_t phc_ns(clockid_t clk)
{
	struct timespec ts;

	if (clock_gettime(clk, &ts))
		return INT64_MIN;
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* The vmclock page's sequence count and disruption marker (vmclock-abi.h). */
#define VMC_OFF_SEQ		12
#define VMC_OFF_MARKER		16

/* The vmclock's disruption marker now, under its sequence count. */
static uint64_t vmclock_marker(const volatile uint8_t *vmc)
{
	const volatile uint32_t *seq = (const volatile uint32_t *)(vmc + VMC_OFF_SEQ);
	uint64_t marker;
	uint32_t s;

	do {
		s = *seq;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		marker = *(const volatile uint64_t *)(vmc + VMC_OFF_MARKER);
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
	} while ((s & 1) || s != *seq);
	return marker;
}

struct gap {
	double at_s;		/* guest time of the check after it */
	double len_s;
	uint32_t disruptions;	/* the page's count when reads resumed */
};

FIXTURE(migration) {
};

FIXTURE_SETUP(migration)
{
}

FIXTURE_TEARDOWN(migration)
{
}

/* The harness's alarm runs on guest time, which a paused VM's does not. */
TEST_F_TIMEOUT(migration, reader_across_pauses, 600)
{
	int seconds = atoi(test_env("MIGRATION_SECONDS", "60"));
	int min_gaps = atoi(test_env("MIGRATION_MIN_GAPS", "1"));
	int64_t gap_ns = atoi(test_env("MIGRATION_GAP_S", "8")) * 1000000000LL;
	const char *vmc_dev = test_env("IONCLOCK_VMCLOCK", "");
	int64_t want_step = atoll(test_env("MIGRATION_PHC_STEP_NS", "0"));
	const volatile struct ionclock_page *p;
	int64_t start, end, now, last = 0, prev = 0, worst = INT64_MIN;
	int64_t last_off = 0, jump = 0;
	long checks = 0, outside = 0, backward = 0, errors = 0, announced = 0;
	const volatile uint8_t *vmc = NULL;
	uint32_t causes = 0;
	struct gap gaps[MAX_GAPS];
	int ngaps = 0, long_gaps = 0, i, fd;
	uint32_t gen0, dis0, gen, dis;
	struct ionclock *c;
	clockid_t clk;

	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &c));
	p = ionclock_page(c);
	ASSERT_TRUE(test_wait_state(c, IONCLOCK_STATE_TRACKING, 30));
	fd = open(test_phc_dev(), O_RDONLY);
	ASSERT_LE(0, fd);
	clk = FD_TO_CLOCKID(fd);
	if (vmc_dev[0]) {
		int vfd = open(vmc_dev, O_RDONLY);

		ASSERT_LE(0, vfd) TH_LOG("%s: %s", vmc_dev, strerror(errno));
		vmc = mmap(NULL, 4096, PROT_READ, MAP_SHARED, vfd, 0);
		close(vfd);
		ASSERT_NE(MAP_FAILED, vmc) TH_LOG("mmap %s: %s", vmc_dev,
						   strerror(errno));
		ASSERT_EQ(IONCLOCK_VMCLOCK_FOLLOWED, p->vmclock_state);
	}
	gen0 = gen = p->generation;
	dis0 = dis = p->disruptions;
	start = test_mono_ns();
	end = start + seconds * 1000000000LL;
	say("migration-ready\n");

	while ((now = test_mono_ns()) < end) {
		int64_t t1, e1, l1, t2, e2, l2, truth, raw, off;
		int err;

		if (last && now - last > 1000000000LL && ngaps < MAX_GAPS) {
			gaps[ngaps].at_s = (now - start) / 1e9;
			gaps[ngaps].len_s = (now - last) / 1e9;
			gaps[ngaps].disruptions = 0;
			ngaps++;
			if (now - last >= gap_ns)
				long_gaps++;
			say("migration-gap: %.1f s at %.1f s\n",
				(now - last) / 1e9, (now - start) / 1e9);
		}
		last = now;
		err = ionclock_now_bounded(c, &t1, &e1, &l1);
		truth = phc_ns(clk);
		raw = phc_ns(CLOCK_MONOTONIC_RAW);
		if (!err)
			err = ionclock_now_bounded(c, &t2, &e2, &l2);
		/* The library's refusal of a mapping the vmclock declared stale. */
		if (err == -ENODATA && vmc) {
			if (!announced++)
				say("migration-announced: the vmclock moved before the page at %.3f s: no bound until it follows\n",
				    (now - start) / 1e9);
			continue;
		}
		if (err || truth == INT64_MIN) {
			errors++;
			continue;
		}
		/* The PHC against the counter: a restore's move shows here. */
		off = truth - raw;
		if (last_off && llabs(off - last_off) > llabs(jump))
			jump = off - last_off;
		last_off = off;
		checks++;
		if (t1 < prev || t2 < t1) {
			backward++;
			say("migration-backward: %lld after %lld\n",
				(long long)(t1 < prev ? t1 : t2),
				(long long)(t1 < prev ? prev : t1));
		}
		prev = t2;
		if (truth < e1 || truth > l2) {
			int64_t miss = truth < e1 ? e1 - truth : truth - l2;

			if (!outside++ || miss > worst)
				say("migration-outside: PHC %lld ns outside [%lld, %lld] at %.3f s, state %u flags 0x%x generation %u\n",
					(long long)miss, (long long)(e1 - t1),
					(long long)(l2 - t2),
					(now - start) / 1e9, p->state,
					p->flags, p->generation);
			if (miss > worst)
				worst = miss;
		}
		if (p->generation != gen || p->disruptions != dis) {
			gen = p->generation;
			if (p->disruptions != dis)
				causes |= p->disruption_cause;
			dis = p->disruptions;
			if (ngaps)
				gaps[ngaps - 1].disruptions = dis;
			say("migration-event: at %.3f s generation %u disruptions %u cause 0x%x flags 0x%x state %u bound %llu ns\n",
				(now - start) / 1e9, gen, dis,
				p->disruption_cause, p->flags, p->state,
				(unsigned long long)p->error_bound_ns);
		}
		usleep(500);
	}
	/* Settled again: tracking, the rate re-fitted. */
	for (i = 0; i < 100 && (p->state != IONCLOCK_STATE_TRACKING ||
				(p->flags & IONCLOCK_FLAG_DISRUPTED)); i++)
		usleep(100000);

	TH_LOG("%ld checks, %ld outside the bound (worst %lld ns), %ld backward, %ld errors, %ld announced stale; generation %u -> %u, disruptions %u -> %u (causes 0x%x); %d gaps, %d of %lld s or more; largest PHC jump against the counter %lld ns",
	       checks, outside, (long long)(outside ? worst : 0), backward,
	       errors, announced, gen0, p->generation, dis0, p->disruptions,
	       causes, ngaps, long_gaps, (long long)(gap_ns / 1000000000LL),
	       (long long)jump);
	for (i = 0; i < ngaps; i++)
		TH_LOG("gap %d: %.2f s, reads resumed at %.2f s",
		       i, gaps[i].len_s, gaps[i].at_s);
	say("migration-reader: checks %ld outside %ld backward %ld errors %ld gaps %d long %d disruptions %u causes 0x%x announced %ld phc_jump_ns %lld\n",
		checks, outside, backward, errors, ngaps, long_gaps,
		p->disruptions - dis0, causes, announced, (long long)jump);

	EXPECT_EQ(0, backward);
	EXPECT_EQ(0, outside);
	EXPECT_LT(1000, checks);
	EXPECT_GE(long_gaps, min_gaps);
	/* Every gap that long was a stopped VM: each is a disruption. */
	EXPECT_GE(p->disruptions - dis0, (uint32_t)long_gaps);
	if (long_gaps)
		EXPECT_TRUE(causes & IONCLOCK_DISRUPTION_STALL);
	if (vmc) {
		/* The restore: the hypervisor's word, and the PHC moved. */
		EXPECT_TRUE(causes & IONCLOCK_DISRUPTION_VMCLOCK);
		EXPECT_NE(gen0, p->generation);
		EXPECT_EQ(vmclock_marker(vmc), p->vmclock_disruption_marker);
		EXPECT_GT(2000000, llabs(jump - want_step));
		munmap((void *)vmc, 4096);
	}
	EXPECT_EQ(IONCLOCK_STATE_TRACKING, p->state);
	EXPECT_FALSE(p->flags & IONCLOCK_FLAG_DISRUPTED);
	close(fd);
	ionclock_close(c);
}

TEST_HARNESS_MAIN
