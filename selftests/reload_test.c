// SPDX-License-Identifier: GPL-2.0
/*
 * ionclock.ko unloaded and loaded again under readers that reopen.
 *
 * A reader holding the device open or mapped keeps rmmod from succeeding
 * (removal_test and init.sh check that).  Readers that want to live
 * through an upgrade of the module must therefore let go: here READERS
 * processes, spread over the CPUs, read through libionclock as fast as
 * they can, and when the test asks, close the device, wait for it to come
 * back (ionclock_open() failing meanwhile), and go on.  Each remembers its
 * last value across the gap: time must never go back, also from the old
 * module instance to the new one.
 *
 * That last part does not hold by construction: a new instance knows
 * nothing of the old one and starts from the PHC's time.  It holds when
 * the old instance was no further ahead of the PHC than the reload took
 * (tens of ms here); an old instance still slewing away a backward PHC
 * step could be ahead by up to that step.  The scenario starts settled,
 * as a planned module upgrade would.
 *
 * Per reload: time from insmod to TRACKING, and sandwich checks against
 * the fake PHC's true time (selftests/fakephc) once tracking.
 *
 * Environment: IONCLOCK_DEV; IONCLOCK_FAKE (fakephc's parameters);
 * IONCLOCK_MODULE, the .ko; IONCLOCK_MODULE_ARGS, its parameters;
 * FAULT_SOAK_SECONDS (make soak): go on reloading for that long.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define READERS		4
#define RELOADS		3
#define RUN_MS		1500	/* reading between reloads */
#define TRACKING_S	20
#define CHECKS		200
#define MIN_READS	10000000L
/* fault_test's limit too: make soak keeps FAULT_SOAK_SECONDS below it. */
#define RELOAD_TIMEOUT_S	1800

/* Shared between the test and its reader processes. */
struct shared {
	atomic_int release;	/* readers: close the device and wait */
	atomic_int closed;	/* readers that have closed it */
	atomic_int quit;
	struct {
		atomic_long reads;
		atomic_long backward;
		atomic_long reopens;
		atomic_long errors;	/* reads failing while open, not -EAGAIN */
		int64_t worst_back_ns;
	} r[READERS];
};

static void reader(struct shared *sh, int id)
{
	int64_t last = 0, now;
	struct ionclock *c = NULL;
	int err;

	while (!atomic_load(&sh->quit)) {
		if (atomic_load(&sh->release)) {
			if (c) {
				ionclock_close(c);
				c = NULL;
				atomic_fetch_add(&sh->closed, 1);
			}
			usleep(100);
			continue;
		}
		if (!c) {
			if (ionclock_open(test_ionclock_dev(), &c)) {
				c = NULL;	/* not back yet */
				usleep(100);
				continue;
			}
			atomic_fetch_add(&sh->r[id].reopens, 1);
		}
		err = ionclock_now(c, &now);
		if (err == -EAGAIN)
			continue;	/* a new instance, not sampled yet */
		if (err) {
			atomic_fetch_add(&sh->r[id].errors, 1);
			continue;
		}
		if (now < last) {
			atomic_fetch_add(&sh->r[id].backward, 1);
			if (last - now > sh->r[id].worst_back_ns)
				sh->r[id].worst_back_ns = last - now;
		}
		last = now;
		atomic_fetch_add(&sh->r[id].reads, 1);
	}
	ionclock_close(c);
}

static int run(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

static int64_t truth_ns(void)
{
	char path[256], buf[32];
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "%s/now_ns",
		 test_env("IONCLOCK_FAKE", "/sys/module/fakephc/parameters"));
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return INT64_MIN;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return INT64_MIN;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

/* Sandwich checks: how many found the truth outside the bound. */
static int outside_bound(struct ionclock *c, int checks, int64_t *worst)
{
	int64_t b, e1, l1, a, e2, l2, truth, err;
	int i, bad = 0;

	for (i = 0; i < checks; i++) {
		if (ionclock_now_bounded(c, &b, &e1, &l1))
			return checks;
		truth = truth_ns();
		if (ionclock_now_bounded(c, &a, &e2, &l2) || truth == INT64_MIN)
			return checks;
		err = truth < e1 ? e1 - truth : truth > l2 ? truth - l2 : 0;
		if (err)
			bad++;
		if (truth < b && b - truth > *worst)
			*worst = b - truth;
		if (truth > a && truth - a > *worst)
			*worst = truth - a;
		usleep(2000);
	}
	return bad;
}

/* A fixture only for the time limit: a soak reloads for many minutes. */
FIXTURE(reload) {
	int unused;
};

FIXTURE_SETUP(reload)
{
}

FIXTURE_TEARDOWN(reload)
{
}

TEST_F_TIMEOUT(reload, under_reopening_readers, RELOAD_TIMEOUT_S)
{
	const char *ko = test_env("IONCLOCK_MODULE", "/modules/ionclock.ko");
	const char *args = test_env("IONCLOCK_MODULE_ARGS", "");
	long reads = 0, backward = 0, reopens = 0, errors = 0;
	int64_t soak_end = test_mono_ns() + test_soak_seconds() * 1000000000LL;
	double tracking, fastest = 1e9, slowest = 0, sum = 0;
	int64_t worst_err = 0, worst_back = 0, t0;
	pid_t pids[READERS];
	struct ionclock *c;
	struct shared *sh;
	char cmd[512];
	int i, k, bad = 0;

	if (access(ko, R_OK))
		SKIP(return, "%s: %s", ko, strerror(errno));
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
		  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, sh);
	memset(sh, 0, sizeof(*sh));
	for (i = 0; i < READERS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			/* A failed assertion must not leave them spinning. */
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			reader(sh, i);
			_exit(0);
		}
	}

	for (k = 0; k < RELOADS || test_mono_ns() < soak_end; k++) {
		usleep(RUN_MS * 1000);
		/* Let go, then unload: it must succeed now. */
		atomic_store(&sh->closed, 0);
		atomic_store(&sh->release, 1);
		for (i = 0; i < 5000 && atomic_load(&sh->closed) < READERS; i++)
			usleep(1000);
		ASSERT_EQ(READERS, atomic_load(&sh->closed));
		ASSERT_EQ(0, run("rmmod ionclock"));
		ASSERT_NE(0, access(test_ionclock_dev(), F_OK));
		snprintf(cmd, sizeof(cmd), "insmod %s %s", ko, args);
		t0 = test_mono_ns();
		ASSERT_EQ(0, run(cmd));
		atomic_store(&sh->release, 0);

		ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &c));
		ASSERT_TRUE(test_wait_state(c, IONCLOCK_STATE_TRACKING,
					    TRACKING_S));
		tracking = (test_mono_ns() - t0) / 1e9;
		fastest = tracking < fastest ? tracking : fastest;
		slowest = tracking > slowest ? tracking : slowest;
		sum += tracking;
		bad += outside_bound(c, CHECKS, &worst_err);
		ionclock_close(c);
	}
	usleep(RUN_MS * 1000);
	atomic_store(&sh->quit, 1);
	for (i = 0; i < READERS; i++) {
		waitpid(pids[i], NULL, 0);
		reads += atomic_load(&sh->r[i].reads);
		backward += atomic_load(&sh->r[i].backward);
		reopens += atomic_load(&sh->r[i].reopens);
		errors += atomic_load(&sh->r[i].errors);
		if (sh->r[i].worst_back_ns > worst_back)
			worst_back = sh->r[i].worst_back_ns;
	}
	TH_LOG("reload x%d: %ld reads by %d reopening processes, %ld backward (worst %lld ns), %ld reopens, %ld errors, %d checks, %d outside the bound (worst error %lld ns), insmod to tracking %.2f-%.2f s (mean %.2f)",
	       k, reads, READERS, backward, (long long)worst_back,
	       reopens, errors, k * CHECKS, bad, (long long)worst_err,
	       fastest, slowest, sum / k);
	EXPECT_EQ(0, backward);
	EXPECT_EQ(0, errors);
	EXPECT_EQ(0, bad);
	/* Every reader came back after every reload, and read a lot. */
	EXPECT_LE((long)READERS * (k + 1), reopens);
	EXPECT_LE(MIN_READS, reads);
	munmap(sh, sizeof(*sh));
}

TEST_HARNESS_MAIN
