// SPDX-License-Identifier: GPL-2.0
/*
 * The fault matrix on a PHC that fails on command: selftests/fakephc's
 * fakephc.ko.  Each variant injects one fault while a reader thread reads
 * ionclock as fast as it can, and checks how the engine reacts:
 *
 *   reader	every read counted; a read below the one before is a backward
 *		step, and there must be none
 *   sandwich	ionclock (with its bound), the fake PHC's true time, ionclock
 *		again: the truth must lie inside [earliest before, latest
 *		after]; each miss is a bound violation
 *   converge	time from the fault (or its end) until ionclock is TRACKING
 *		within CONVERGED_NS of the truth (and, after a frequency
 *		jump, has the new rate within FREQ_TOLERANCE_PPB)
 *
 * The truth is the fake's now_ns parameter: its time computed outside every
 * fault (no latency, no failure) and not counted as a PHC read, so the test
 * never disturbs the fault pattern ionclock sees.
 *
 * A step or a frequency jump of the PHC is outside what the bound assumes
 * (the PHC is the reference; only the counter may drift, at drift_ppb):
 * until ionclock has seen and confirmed it, the truth can lie outside the
 * bound.  Misses in that window are counted apart as "transient" and
 * logged; after convergence, and in every other scenario, there must be
 * none.
 *
 * One test injects no PHC fault: starve.cpu_hog starves the sampler itself
 * (see hog_start()), so that the published time runs on with no news from
 * the PHC while the bound must keep covering the truth.
 *
 * Environment (the VM's init sets it): IONCLOCK_DEV, the ionclock device
 * following the fake; IONCLOCK_FAKE, fakephc's parameter directory;
 * FAULT_SOAK_SECONDS, if set, makes every fault last (or be watched) that
 * long and asks for at least SOAK_MIN_READS reads per scenario.
 */
#define _GNU_SOURCE	/* CPU affinity */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define CONVERGED_NS	100000
#define SETTLED_NS	5000	/* offset still being slewed, at the start */
#define FREQ_TOLERANCE_PPB	5000	/* 1% of the jumps below */
#define SOAK_MIN_READS	10000000L
/* A soak scenario lasts FAULT_SOAK_SECONDS plus convergence: keep it below. */
#define FAULT_TIMEOUT_S	1800
#define ST(s)		(1u << IONCLOCK_STATE_##s)

/* What the sandwich checks saw over one phase. */
struct watch {
	bool transient;		/* misses now count as transient */
	long checks;
	long violations;
	long transient_violations;
	int64_t worst_err_ns;	/* truth outside ionclock's sandwich */
	int64_t worst_err_bound_ns; /* the bound at that check */
	int64_t max_bound_ns;
	unsigned int states;	/* ST() of every state seen */
	unsigned int flags;	/* IONCLOCK_FLAG_* seen */
	/* The longest wait for a new sample: how starved the sampler was. */
	uint64_t last_taken;
	int64_t last_taken_ns;
	int64_t max_sample_gap_ns;
	/* Why converge() turned checks down, for the log when it fails. */
	long unread;		/* a read failed */
	long wide;		/* sandwich too wide to judge */
	long far;		/* truth CONVERGED_NS or more away */
	long untracked;		/* not TRACKING */
	long off_rate;		/* rate not yet the PHC's */
	int64_t min_width_ns;	/* the narrowest of the wide ones; 0: none */
};

static long long read_ll(const char *path)
{
	long long v = -1;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

static long long fake_get(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", test_fake_dir(), name);
	return read_ll(path);
}

static long long ionclock_param(const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "/sys/module/ionclock/parameters/%s",
		 name);
	return read_ll(path);
}

/* What the sandwich checks look at. */
struct target {
	struct ionclock *c;
	const volatile struct ionclock_page *p;
	int truth_fd;
};

FIXTURE(fault) {
	struct target t;
	struct test_reader r;
	struct ionclock_config saved;
	bool config_changed;
	int64_t bound_ns;	/* the bound before the fault */
	int64_t freq_ppb;	/* the PHC's rate then, as ionclock has it */
};

/* The sampler starved (see hog_start()), with no PHC fault. */
FIXTURE(starve) {
	struct target t;
	struct test_reader r;
	int64_t bound_ns;	/* the bound before the hogs */
};

FIXTURE_VARIANT(fault) {
	const char *param;	/* the fakephc parameter that makes the fault */
	long long value;	/* written to it */
	int hold_ms;		/* the fault ends after this; 0: it stays */
	long long revert;	/* written to end it */
	unsigned int during;	/* ST() allowed while it lasts; 0: any */
	unsigned int reach;	/* ST() it must lead to; 0: none */
	unsigned int flag;	/* IONCLOCK_FLAG_* that must show meanwhile */
	unsigned int no_flag;	/* IONCLOCK_FLAG_* that must not */
	bool transient;		/* moves the PHC's time or rate (see top) */
	bool rate;		/* changes the rate by value ppb */
	bool rejects;		/* samples_rejected must grow */
	bool wider_bound;	/* the bound must grow while it lasts */
	bool new_generation;	/* the page's generation must change */
	bool new_step;		/* steps_detected must grow */
	int converge_s;		/* limit to converge after the fault or its end */
	double min_converge_s;	/* faster is wrong (a step where a slew is due) */
	unsigned int max_slew_ppb; /* config for the scenario; 0: as loaded */
};

/*
 * One sandwich check: ionclock's reading and bound, the truth, ionclock
 * again.  Returns how far the truth lies outside the two readings (0 when
 * inside), or INT64_MIN if a read failed; *@width is the sandwich's width.
 */
static int64_t check(struct target *t, struct watch *w, int64_t *width)
{
	int64_t b, e1, l1, a, e2, l2, truth, err = 0, bound = 0;
	uint32_t state = t->p->state;

	uint64_t taken = t->p->samples_taken;
	int64_t now = test_mono_ns();

	w->states |= state < 32 ? 1u << state : 0;
	w->flags |= t->p->flags;
	if (taken != w->last_taken || !w->last_taken_ns) {
		w->last_taken = taken;
		w->last_taken_ns = now;
	} else if (now - w->last_taken_ns > w->max_sample_gap_ns) {
		w->max_sample_gap_ns = now - w->last_taken_ns;
	}
	if (ionclock_now_bounded(t->c, &b, &e1, &l1))
		return INT64_MIN;
	truth = test_fake_truth_ns(t->truth_fd);
	if (ionclock_now_bounded(t->c, &a, &e2, &l2) || truth == INT64_MIN)
		return INT64_MIN;
	w->checks++;
	if (width)
		*width = a - b;
	if (truth < b) {
		err = b - truth;
		bound = b - e1;
	} else if (truth > a) {
		err = truth - a;
		bound = l2 - a;
	}
	if (err > bound && w->transient) {
		w->transient_violations++;
	} else if (err > bound) {
		if (w->violations++ < 5)
			fprintf(stderr, "# outside the bound by %lld ns: earliest %lld truth %lld latest %lld (state %u)\n",
				(long long)(err - bound), (long long)e1,
				(long long)truth, (long long)l2, state);
	}
	if (err >= w->worst_err_ns) {
		w->worst_err_ns = err;
		w->worst_err_bound_ns = bound;
	}
	if (b - e1 > w->max_bound_ns)
		w->max_bound_ns = b - e1;
	return err;
}

static void observe(struct target *t, struct watch *w, int64_t ms)
{
	int64_t end = test_mono_ns() + ms * 1000000;

	while (test_mono_ns() < end) {
		check(t, w, NULL);
		usleep(1000);
	}
}

/*
 * Whether one judged check (@err from check()) finds ionclock converged;
 * if not, counts why in @w.
 */
static bool converged(struct target *t, struct watch *w, int64_t err,
		      int64_t freq_ppb)
{
	if (err >= CONVERGED_NS)
		w->far++;
	else if (t->p->state != IONCLOCK_STATE_TRACKING)
		w->untracked++;
	else if (freq_ppb != INT64_MIN &&
		 llabs(t->p->phc_freq_ppb - freq_ppb) >= FREQ_TOLERANCE_PPB)
		w->off_rate++;
	else
		return true;
	return false;
}

/*
 * Seconds until ionclock is TRACKING within CONVERGED_NS of the truth on
 * three checks in a row and, if @freq_ppb is not INT64_MIN, estimates the
 * PHC's rate within FREQ_TOLERANCE_PPB of it; -1 after @limit_s.  A check
 * whose read failed, or whose sandwich is CONVERGED_NS wide or more (a
 * reader that was preempted proves nothing), neither counts nor breaks a
 * run.  Misses stop counting as transient from then on.
 */
static double converge(struct target *t, struct watch *w, int limit_s,
		       int64_t freq_ppb)
{
	int64_t start = test_mono_ns(), err, width = 0;
	int good = 0;

	do {
		err = check(t, w, &width);
		if (err == INT64_MIN) {
			w->unread++;
		} else if (width >= CONVERGED_NS) {
			w->wide++;
			if (!w->min_width_ns || width < w->min_width_ns)
				w->min_width_ns = width;
		} else if (!converged(t, w, err, freq_ppb)) {
			good = 0;
		} else if (++good == 3) {
			w->transient = false;
			return (test_mono_ns() - start) / 1e9;
		}
		usleep(2000);
	} while (test_mono_ns() - start < limit_s * 1000000000LL);
	return -1;
}

/* Why converge() did not see ionclock converge. */
static void log_unconverged(const struct target *t, const struct watch *w)
{
	fprintf(stderr, "# not converged: of %ld checks, %ld unread, %ld too wide (the narrowest of them %lld ns), %ld too far, %ld not tracking (state %u), %ld off the rate\n",
		w->checks, w->unread, w->wide, (long long)w->min_width_ns,
		w->far, w->untracked, t->p->state, w->off_rate);
}

/* Seconds until the page's state is in @mask, -1 after @limit_ms. */
static double reach(struct target *t, struct watch *w,
		    unsigned int mask, int64_t limit_ms)
{
	int64_t start = test_mono_ns();

	do {
		check(t, w, NULL);
		if (mask & (1u << t->p->state))
			return (test_mono_ns() - start) / 1e9;
		usleep(2000);
	} while (test_mono_ns() - start < limit_ms * 1000000);
	return -1;
}

/*
 * Seconds until the offset ionclock is still slewing away is below
 * SETTLED_NS, -1 after @limit_s: each scenario starts from a settled clock.
 */
static double settle(struct target *t, struct watch *w, int limit_s)
{
	int64_t start = test_mono_ns();

	do {
		check(t, w, NULL);
		if (llabs(t->p->phc_offset_ns) < SETTLED_NS)
			return (test_mono_ns() - start) / 1e9;
		usleep(2000);
	} while (test_mono_ns() - start < limit_s * 1000000000LL);
	return -1;
}

/* The error bound at this moment, ns; -1 if none. */
static int64_t bound_now(struct target *t)
{
	int64_t now, earliest, latest;

	if (ionclock_now_bounded(t->c, &now, &earliest, &latest))
		return -1;
	return now - earliest;
}

/*
 * Seconds until the bound is back within twice @normal_ns (the bound
 * before the fault), -1 after @limit_s: when a fault that only widened the
 * bound is really over.
 */
static double bound_back(struct target *t, struct watch *w, int64_t normal_ns,
			 int limit_s)
{
	int64_t start = test_mono_ns(), b;

	do {
		check(t, w, NULL);
		b = bound_now(t);
		if (b >= 0 && b <= 2 * normal_ns)
			return (test_mono_ns() - start) / 1e9;
		usleep(2000);
	} while (test_mono_ns() - start < limit_s * 1000000000LL);
	return -1;
}

static void fake_reset(void)
{
	test_fake_set("fail_all", 0);
	test_fake_set("fail_every", 0);
	test_fake_set("latency_us", 0);
	test_fake_set("jitter_us", 0);
	test_fake_set("rate_ppb", 0);
	test_fake_set("present", 1);
}

/*
 * The sampler is delayed work on a SCHED_OTHER kworker.  To starve it for
 * HOG_MS, a SCHED_FIFO thread spins on every CPU with RT throttling off
 * (sched_rt_runtime_us -1; the default 95% would leave the kworker 50 ms
 * a second, which delays samples but does not stop them).  Since 6.12 a
 * deadline server does the same for SCHED_OTHER whatever the throttling
 * says (debugfs sched/fair_server/cpuN/runtime, 50 ms a second by
 * default): it is set to 0 for the hog's length, so that 6.12 starves the
 * sampler for the whole hog as 6.1 does, not for a second at a time.
 * The reader thread and this test's checks run at higher RT priorities,
 * so they go on while nothing else does.  HOG_MS stays far below the RCU
 * stall timeout (21 s) and the workqueue watchdog (30 s): RCU's own
 * kthreads and every kworker wait on the CPUs as the sampler does.
 */
#define HOG_MS		5000
#define HOG_CONVERGE_S	10
#define HOG_PRIO	10
#define READER_PRIO	20
#define CHECKER_PRIO	30
#define RT_RUNTIME	"/proc/sys/kernel/sched_rt_runtime_us"
#define DEBUGFS		"/sys/kernel/debug"
#define FAIR_SERVER	DEBUGFS "/sched/fair_server"
#define HOG_MAX_CPUS	64

struct hog {
	int ncpus;
	int cpu[HOG_MAX_CPUS];
	pthread_t threads[HOG_MAX_CPUS];
	long long fair_runtime_ns[HOG_MAX_CPUS]; /* to restore; -1: none */
	atomic_bool stop;
	long long rt_runtime;	/* to restore */
};

static struct hog hogs;

static void *hog_run(void *arg)
{
	(void)arg;
	while (!atomic_load(&hogs.stop))
		;
	return NULL;
}

/* SCHED_FIFO at @prio, or back to SCHED_OTHER for 0. */
static int set_fifo(pthread_t t, int prio)
{
	struct sched_param sp = { .sched_priority = prio };

	return pthread_setschedparam(t, prio ? SCHED_FIFO : SCHED_OTHER, &sp);
}

static void fair_server_path(char *path, size_t len, int cpu)
{
	snprintf(path, len, FAIR_SERVER "/cpu%d/runtime", cpu);
}

/*
 * Take @cpu's fair server away, remembering its runtime: 0 if done or if
 * the kernel has none (before 6.12), -errno if it has one that stays.
 */
static int fair_server_off(int i)
{
	char path[128];

	hogs.fair_runtime_ns[i] = -1;
	if (access(FAIR_SERVER, F_OK) && access(DEBUGFS "/sched", F_OK))
		mount("debugfs", DEBUGFS, "debugfs", 0, NULL);
	if (access(FAIR_SERVER, F_OK))
		return 0;
	fair_server_path(path, sizeof(path), hogs.cpu[i]);
	hogs.fair_runtime_ns[i] = read_ll(path);
	if (hogs.fair_runtime_ns[i] < 0)
		return -ENOENT;
	return test_write_str(path, "0");
}

static void fair_server_restore(int i)
{
	char path[128], v[32];

	if (hogs.fair_runtime_ns[i] < 0)
		return;
	fair_server_path(path, sizeof(path), hogs.cpu[i]);
	snprintf(v, sizeof(v), "%lld", hogs.fair_runtime_ns[i]);
	test_write_str(path, v);
}

/*
 * A hog pinned to each CPU this test may use, with no fair server under
 * it: 0, or -errno.  hog_stop() undoes what was done even on failure.
 */
static int hog_start(void)
{
	struct sched_param sp = { .sched_priority = HOG_PRIO };
	pthread_attr_t attr;
	cpu_set_t allowed, one;
	int cpu, err;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return -errno;
	hogs.rt_runtime = read_ll(RT_RUNTIME);
	err = test_write_str(RT_RUNTIME, "-1");
	if (err)
		return err;
	atomic_store(&hogs.stop, false);
	hogs.ncpus = 0;
	for (cpu = 0; cpu < CPU_SETSIZE && hogs.ncpus < HOG_MAX_CPUS; cpu++) {
		if (!CPU_ISSET(cpu, &allowed))
			continue;
		hogs.cpu[hogs.ncpus] = cpu;
		err = fair_server_off(hogs.ncpus);
		CPU_ZERO(&one);
		CPU_SET(cpu, &one);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(one), &one);
		pthread_attr_setinheritsched(&attr, PTHREAD_EXPLICIT_SCHED);
		pthread_attr_setschedpolicy(&attr, SCHED_FIFO);
		pthread_attr_setschedparam(&attr, &sp);
		if (!err)
			err = -pthread_create(&hogs.threads[hogs.ncpus], &attr,
					      hog_run, NULL);
		pthread_attr_destroy(&attr);
		if (err) {
			fair_server_restore(hogs.ncpus);
			return err;
		}
		hogs.ncpus++;
	}
	return hogs.ncpus ? 0 : -ENODEV;
}

/*
 * The hogs see the flag only once they run: one pinned under the RT
 * reader never would, so the reader goes back to SCHED_OTHER first.
 */
static void hog_stop(pthread_t reader)
{
	char v[32];
	int i;

	atomic_store(&hogs.stop, true);
	for (i = 0; i < hogs.ncpus; i++)
		fair_server_restore(i);
	snprintf(v, sizeof(v), "%lld",
		 hogs.rt_runtime > 0 ? hogs.rt_runtime : 950000LL);
	test_write_str(RT_RUNTIME, v);
	set_fifo(reader, 0);
	for (i = 0; i < hogs.ncpus; i++)
		pthread_join(hogs.threads[i], NULL);
}

/*
 * Open the fake's truth and ionclock on it, then wait until ionclock is
 * TRACKING and settled, whatever the last scenario left behind.  Fills
 * *@bound_ns with the bound once settled, without fault (the last few
 * checks').  0; -ENOENT without fakephc; -1 with a line saying why.
 */
static int target_settle(struct target *t, int64_t *bound_ns)
{
	struct watch w = { .transient = true };
	char path[256];

	t->truth_fd = -1;
	snprintf(path, sizeof(path), "%s/now_ns", test_fake_dir());
	t->truth_fd = open(path, O_RDONLY);
	if (t->truth_fd < 0) {
		fprintf(stderr, "# %s: %s (fakephc not loaded)\n", path,
			strerror(errno));
		return -ENOENT;
	}
	fake_reset();
	if (ionclock_open(test_ionclock_dev(), &t->c)) {
		fprintf(stderr, "# %s: %s\n", test_ionclock_dev(),
			strerror(errno));
		t->c = NULL;
		return -1;
	}
	t->p = ionclock_page(t->c);
	if (!test_wait_state(t->c, IONCLOCK_STATE_TRACKING, 15)) {
		fprintf(stderr, "# not TRACKING within 15 s\n");
		return -1;
	}
	if (converge(t, &w, 15, 0) < 0) {
		log_unconverged(t, &w);
		return -1;
	}
	if (settle(t, &w, 15) < 0) {
		fprintf(stderr, "# offset %lld ns still slewed after 15 s\n",
			(long long)t->p->phc_offset_ns);
		return -1;
	}
	memset(&w, 0, sizeof(w));
	observe(t, &w, 100);
	*bound_ns = w.max_bound_ns;
	return 0;
}

/*
 * After the test: the reader stopped (it must have seen no step back and
 * no error), the fake as loaded, ionclock closed.
 */
static void target_close(struct __test_metadata *_metadata, struct target *t,
			 struct test_reader *r)
{
	test_reader_stop(r);
	EXPECT_EQ(0, atomic_load(&r->backward));
	EXPECT_EQ(0, atomic_load(&r->errors));
	fake_reset();
	if (t->c)
		ionclock_close(t->c);
	close(t->truth_fd);
}

FIXTURE_SETUP(fault)
{
	int err = target_settle(&self->t, &self->bound_ns);

	if (err == -ENOENT)
		SKIP(return, "fakephc not loaded");
	ASSERT_EQ(0, err);
	self->freq_ppb = self->t.p->phc_freq_ppb;

	if (variant->max_slew_ppb) {
		struct ionclock_config cfg = {};
		int fd = ionclock_fd(self->t.c);

		ASSERT_EQ(0, ioctl(fd, IONCLOCK_IOC_GET_CONFIG, &self->saved));
		cfg.set = IONCLOCK_CONFIG_MAX_SLEW;
		cfg.max_slew_ppb = variant->max_slew_ppb;
		ASSERT_EQ(0, ioctl(fd, IONCLOCK_IOC_SET_CONFIG, &cfg));
		self->config_changed = true;
	}
	ASSERT_EQ(0, test_reader_start(&self->r, self->t.c));
}

FIXTURE_TEARDOWN(fault)
{
	if (self->t.truth_fd < 0)
		return;
	if (self->config_changed) {
		self->saved.set = IONCLOCK_CONFIG_MAX_SLEW;
		EXPECT_EQ(0, ioctl(ionclock_fd(self->t.c), IONCLOCK_IOC_SET_CONFIG,
				   &self->saved));
	}
	target_close(_metadata, &self->t, &self->r);
}

FIXTURE_SETUP(starve)
{
	int err = target_settle(&self->t, &self->bound_ns);

	if (err == -ENOENT)
		SKIP(return, "fakephc not loaded");
	ASSERT_EQ(0, err);
	ASSERT_EQ(0, test_reader_start(&self->r, self->t.c));
}

FIXTURE_TEARDOWN(starve)
{
	if (self->t.truth_fd < 0)
		return;
	target_close(_metadata, &self->t, &self->r);
}

/*
 * Failed reads.  ionclock takes reads_per_sample reads per sample and a
 * failed read spoils only itself (kmod/phc.c): with one read in three
 * failing, every sample still has good reads and the clock keeps tracking.
 * Whole samples failing is fail_all_2s.
 */
FIXTURE_VARIANT_ADD(fault, fail_every_3rd_read) {
	.param = "fail_every", .value = 3,
	.hold_ms = 3000, .revert = 0,
	.during = ST(TRACKING), .converge_s = 5,
};

FIXTURE_VARIANT_ADD(fault, fail_all_2s) {
	.param = "fail_all", .value = 1, .hold_ms = 2000, .revert = 0,
	.reach = ST(HOLDOVER), .no_flag = IONCLOCK_FLAG_PHC_GONE,
	.rejects = true, .new_generation = true, .converge_s = 10,
};

FIXTURE_VARIANT_ADD(fault, jitter_200us) {
	.param = "jitter_us", .value = 200, .hold_ms = 3000, .revert = 0,
	.during = ST(TRACKING), .converge_s = 5,
};

FIXTURE_VARIANT_ADD(fault, latency_500us) {
	.param = "latency_us", .value = 500, .hold_ms = 3000, .revert = 0,
	.during = ST(TRACKING), .wider_bound = true, .converge_s = 5,
};

FIXTURE_VARIANT_ADD(fault, rate_plus_500ppm) {
	.param = "rate_ppb", .value = 500000, .rate = true,
	.transient = true, .converge_s = 10,
};

FIXTURE_VARIANT_ADD(fault, rate_minus_500ppm) {
	.param = "rate_ppb", .value = -500000, .rate = true,
	.transient = true, .converge_s = 10,
};

/* Forward: applied at once (step_forward=Y), where slewing takes hours. */
FIXTURE_VARIANT_ADD(fault, step_plus_1h) {
	.param = "step_ns", .value = 3600000000000LL,
	.transient = true, .new_generation = true, .new_step = true,
	.converge_s = 5,
};

/* The same for a step of 1 s, as ptp4l's first correction can be. */
FIXTURE_VARIANT_ADD(fault, step_plus_1s) {
	.param = "step_ns", .value = 1000000000LL,
	.transient = true, .new_generation = true, .new_step = true,
	.converge_s = 5,
};

/* Backward: slewed at 10%, so 1 s takes at least 10 s. */
FIXTURE_VARIANT_ADD(fault, step_minus_1s) {
	.param = "step_ns", .value = -1000000000LL,
	.transient = true, .new_generation = true, .new_step = true,
	.converge_s = 30, .min_converge_s = 9.5, .max_slew_ppb = 100000000,
};

/* The PHC is unregistered, then registered again under the same name. */
FIXTURE_VARIANT_ADD(fault, removal) {
	.param = "present", .value = 0, .hold_ms = 2000, .revert = 1,
	.reach = ST(HOLDOVER), .flag = IONCLOCK_FLAG_PHC_GONE,
	.new_generation = true, .converge_s = 15,
};

TEST_F_TIMEOUT(fault, scenario, FAULT_TIMEOUT_S)
{
	uint64_t rejected = self->t.p->samples_rejected;
	uint64_t steps = self->t.p->steps_detected;
	uint32_t gen = self->t.p->generation;
	struct watch hold = {}, after = {};
	int64_t reached_ns = 0, bound0 = 0, bound1 = 0;
	double left = 0, held_s = 0, conv;
	int soak = test_soak_seconds();
	long long value = variant->value;
	long reads;

	ASSERT_EQ(0, test_fake_set(variant->param, value));
	after.transient = variant->transient;
	if (variant->hold_ms) {
		/* Starving longer would starve RCU too (see HOG_MS). */
		int64_t hold_ms = soak ? soak * 1000LL : variant->hold_ms;
		int64_t start = test_mono_ns();

		reached_ns = start;
		if (variant->reach) {
			left = reach(&self->t, &hold, variant->reach, hold_ms);
			EXPECT_LE(0, left);
			reached_ns = test_mono_ns();
			bound0 = bound_now(&self->t);
		}
		observe(&self->t, &hold,
			hold_ms - (test_mono_ns() - start) / 1000000);
		bound1 = bound_now(&self->t);
		if (variant->reach & ST(HOLDOVER))
			TH_LOG("holdover bound: bracket %llu residual %llu slew %llu upstream %llu ns, growth %llu ns/s",
			       (unsigned long long)self->t.p->error_bracket_ns,
			       (unsigned long long)self->t.p->error_residual_ns,
			       (unsigned long long)self->t.p->error_slew_ns,
			       (unsigned long long)self->t.p->error_upstream_ns,
			       (unsigned long long)((self->t.p->error_growth_frac32 *
						     1000000000ULL) >> 32));
		held_s = (test_mono_ns() - reached_ns) / 1e9;
		ASSERT_EQ(0, test_fake_set(variant->param, variant->revert));
	}
	conv = converge(&self->t, &after, variant->converge_s,
			variant->rate ? value : INT64_MIN);
	if (conv < 0)
		log_unconverged(&self->t, &after);
	/* Settled: now nothing may escape the bound. */
	observe(&self->t, &after, soak && !variant->hold_ms ? soak * 1000LL : 1000);
	test_reader_stop(&self->r);
	reads = atomic_load(&self->r.reads);

	TH_LOG("%s=%lld: %ld reads, %ld backward, %ld checks, %ld outside the bound (+%ld transient), worst error %lld ns (bound %lld ns), widest bound %lld ns (%lld before), converged in %.2f s, rate %lld -> %lld ppb",
	       variant->param, value, reads, atomic_load(&self->r.backward),
	       hold.checks + after.checks,
	       hold.violations + after.violations,
	       after.transient_violations,
	       (long long)(hold.worst_err_ns > after.worst_err_ns ?
			   hold.worst_err_ns : after.worst_err_ns),
	       (long long)(hold.worst_err_ns > after.worst_err_ns ?
			   hold.worst_err_bound_ns : after.worst_err_bound_ns),
	       (long long)(hold.max_bound_ns > after.max_bound_ns ?
			   hold.max_bound_ns : after.max_bound_ns),
	       (long long)self->bound_ns, conv, (long long)self->freq_ppb,
	       (long long)self->t.p->phc_freq_ppb);
	if (variant->hold_ms)
		TH_LOG("during the fault: states 0x%x, flags 0x%x, reached 0x%x after %.2f s; samples rejected %llu -> %llu; generation %u -> %u; fakephc %lld reads, %lld failed",
		       hold.states, hold.flags, variant->reach, left,
		       (unsigned long long)rejected,
		       (unsigned long long)self->t.p->samples_rejected,
		       gen, self->t.p->generation, fake_get("reads"),
		       fake_get("fails"));
	if (variant->reach & ST(HOLDOVER))
		TH_LOG("holdover: bound %lld -> %lld ns over %.2f s; drift_ppb %lld would add %lld ns",
		       (long long)bound0, (long long)bound1, held_s,
		       ionclock_param("drift_ppb"),
		       (long long)(held_s * ionclock_param("drift_ppb")));

	EXPECT_EQ(0, atomic_load(&self->r.backward));
	EXPECT_EQ(0, hold.violations + after.violations);
	EXPECT_LE(0, conv);
	EXPECT_GE(conv, variant->min_converge_s);
	if (variant->during)
		EXPECT_EQ(0, hold.states & ~variant->during);
	if (variant->flag)
		EXPECT_TRUE(hold.flags & variant->flag);
	if (variant->no_flag)
		EXPECT_FALSE(hold.flags & variant->no_flag);
	EXPECT_FALSE(self->t.p->flags & IONCLOCK_FLAG_PHC_GONE);
	if (variant->rejects)
		EXPECT_LT(rejected, self->t.p->samples_rejected);
	if (variant->wider_bound)
		EXPECT_LT(self->bound_ns, hold.max_bound_ns);
	if (variant->new_generation)
		EXPECT_NE(gen, self->t.p->generation);
	if (variant->new_step)
		EXPECT_LT(steps, self->t.p->steps_detected);
	if (soak)
		EXPECT_LE(SOAK_MIN_READS, reads);
}

/*
 * No PHC fault: the sampler starved for HOG_MS by RT hogs on every CPU.
 * The time runs on the last rate and the bound grows by drift x age.  So
 * that the drift term has something to cover, the fake PHC's rate moves by
 * two thirds of drift_ppb as the hogs start: within what the bound assumes
 * (see the uapi header), so every check counts, none is transient; with
 * no growth for the age of the last sample the truth would leave the bound
 * within a second.  Samples must in fact stop: no more than a tenth of
 * the polls (one may slip in while the hogs start), and for three quarters
 * of the hog at a stretch.  Once they are back, ionclock converges and the
 * bound comes back to twice what it was.
 */
TEST_F_TIMEOUT(starve, cpu_hog, 120)
{
	long long drift_ppb = ionclock_param("drift_ppb") * 2 / 3;
	uint64_t taken = self->t.p->samples_taken, taken_during;
	struct watch hold = {}, after = {};
	double held_s, conv, back;
	int64_t start;
	long reads;
	int err;

	/* Checks and reader above the hogs: they must go on. */
	ASSERT_EQ(0, set_fifo(pthread_self(), CHECKER_PRIO));
	ASSERT_EQ(0, set_fifo(self->r.thread, READER_PRIO));
	err = hog_start();
	if (!err)
		err = test_fake_set("rate_ppb", drift_ppb);
	if (err) {
		/* Never leave the machine to the hogs. */
		hog_stop(self->r.thread);
		set_fifo(pthread_self(), 0);
		ASSERT_EQ(0, err);
	}
	start = test_mono_ns();
	observe(&self->t, &hold, HOG_MS);
	held_s = (test_mono_ns() - start) / 1e9;
	taken_during = self->t.p->samples_taken - taken;
	hog_stop(self->r.thread);
	set_fifo(pthread_self(), 0);

	conv = converge(&self->t, &after, HOG_CONVERGE_S, INT64_MIN);
	if (conv < 0)
		log_unconverged(&self->t, &after);
	back = bound_back(&self->t, &after, self->bound_ns, HOG_CONVERGE_S);
	/* Settled: now nothing may escape the bound. */
	observe(&self->t, &after, 1000);
	test_reader_stop(&self->r);
	reads = atomic_load(&self->r.reads);

	TH_LOG("starved: %llu samples in %.2f s on %d hogged CPUs (%lld ms polls, fair server %s), longest wait %.2f s; PHC rate %+lld ppb meanwhile",
	       (unsigned long long)taken_during, held_s, hogs.ncpus,
	       ionclock_param("poll_ms"),
	       hogs.fair_runtime_ns[0] < 0 ? "none" : "off",
	       hold.max_sample_gap_ns / 1e9, drift_ppb);
	TH_LOG("%ld reads, %ld backward, %ld checks, %ld outside the bound, worst error %lld ns (bound %lld ns); bound %lld -> %lld ns; converged in %.2f s, bound back within 2x in %.2f s more",
	       reads, atomic_load(&self->r.backward),
	       hold.checks + after.checks, hold.violations + after.violations,
	       (long long)hold.worst_err_ns, (long long)hold.worst_err_bound_ns,
	       (long long)self->bound_ns, (long long)hold.max_bound_ns, conv,
	       back);

	EXPECT_EQ(0, atomic_load(&self->r.backward));
	EXPECT_EQ(0, hold.violations + after.violations);
	EXPECT_EQ(0, hold.states & ~ST(TRACKING));
	EXPECT_FALSE(self->t.p->flags & IONCLOCK_FLAG_PHC_GONE);
	EXPECT_LT(self->bound_ns, hold.max_bound_ns);
	EXPECT_LE(taken_during * 10 * ionclock_param("poll_ms"),
		  (uint64_t)HOG_MS);
	EXPECT_LE(HOG_MS * 750000LL, hold.max_sample_gap_ns);
	EXPECT_LT(0, hold.worst_err_ns);
	EXPECT_LE(0, conv);
	EXPECT_LE(0, back);
	EXPECT_LE(SOAK_MIN_READS, reads);
}

TEST_HARNESS_MAIN
