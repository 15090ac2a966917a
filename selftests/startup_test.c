// SPDX-License-Identifier: GPL-2.0
/*
 * The error bound from the very first read: the fake PHC (selftests/fakephc)
 * runs off-rate before ionclock is loaded, and a reader checks the truth
 * against the bound from its first valid reading on, while the engine has
 * one sample, then two, and no trusted rate.  Until two samples have
 * measured the rate, the bound must allow for any plausible one
 * (max_freq_ppb); each check is a sandwich: ionclock's reading and bound,
 * the fake's true time, ionclock again.
 *
 * The test loads the module itself, so its first read comes within the
 * first poll period.  Environment: IONCLOCK_MODULE, the .ko;
 * IONCLOCK_MODULE_ARGS, its parameters (phc=<the fake>); IONCLOCK_FAKE,
 * fakephc's parameter directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define WATCH_MS	3000

static int run(const char *cmd)
{
	int rc = system(cmd);

	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

FIXTURE(startup) {
	int truth_fd;
	bool loaded;
	struct ionclock *c;	/* closed before rmmod, whatever failed */
};

FIXTURE_VARIANT(startup) {
	long long rate_ppb;	/* the fake's rate error before the load */
	const char *args;	/* more module parameters */
};

FIXTURE_VARIANT_ADD(startup, plus_80ppm_tsc) {
	.rate_ppb = 80000, .args = "",
};

FIXTURE_VARIANT_ADD(startup, minus_100ppm_tsc) {
	.rate_ppb = -100000, .args = "",
};

FIXTURE_VARIANT_ADD(startup, plus_30ppm_monotonic_raw) {
	.rate_ppb = 30000, .args = "counter=monotonic_raw",
};

FIXTURE_SETUP(startup)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/now_ns", test_fake_dir());
	self->truth_fd = open(path, O_RDONLY);
	if (self->truth_fd < 0)
		SKIP(return, "%s: %s (fakephc not loaded)", path,
		     strerror(errno));
	if (!getenv("IONCLOCK_MODULE"))
		SKIP(return, "IONCLOCK_MODULE not set");
	/* The rate it has from the first read ionclock takes. */
	ASSERT_EQ(0, test_fake_set("rate_ppb", variant->rate_ppb));
}

FIXTURE_TEARDOWN(startup)
{
	ionclock_close(self->c);
	if (self->loaded)
		EXPECT_EQ(0, run("rmmod ionclock"));
	if (self->truth_fd >= 0) {
		test_fake_set("rate_ppb", 0);
		close(self->truth_fd);
	}
}

TEST_F(startup, bound_from_first_read)
{
	int64_t end, b, e1, l1, a, e2, l2, truth, err, worst = 0;
	long checks = 0, outside = 0, starting = 0, first_samples = -1;
	const volatile struct ionclock_page *p;
	int64_t widest = 0, first_bound = -1;
	struct ionclock *c = NULL;
	char cmd[512];
	int i;

	snprintf(cmd, sizeof(cmd), "insmod %s %s %s",
		 getenv("IONCLOCK_MODULE"),
		 test_env("IONCLOCK_MODULE_ARGS", ""), variant->args);
	ASSERT_EQ(0, run(cmd));
	self->loaded = true;
	for (i = 0; i < 1000 && ionclock_open(test_ionclock_dev(), &c); i++)
		usleep(1000);
	ASSERT_NE(NULL, c);
	self->c = c;
	p = ionclock_page(c);
	/* The first published sample: spin, do not sleep past it. */
	end = test_mono_ns() + 2000000000LL;
	while (!(p->flags & IONCLOCK_FLAG_VALID) && test_mono_ns() < end)
		;
	ASSERT_TRUE(p->flags & IONCLOCK_FLAG_VALID);

	end = test_mono_ns() + WATCH_MS * 1000000LL;
	while (test_mono_ns() < end) {
		uint32_t state = p->state;
		uint64_t taken = p->samples_taken;

		ASSERT_EQ(0, ionclock_now_bounded(c, &b, &e1, &l1));
		truth = test_fake_truth_ns(self->truth_fd);
		ASSERT_EQ(0, ionclock_now_bounded(c, &a, &e2, &l2));
		ASSERT_NE(INT64_MIN, truth);
		err = truth < e1 ? e1 - truth : truth > l2 ? truth - l2 : 0;
		if (first_bound < 0) {
			first_bound = b - e1;
			first_samples = (long)taken;
		}
		if (b - e1 > widest)
			widest = b - e1;
		/* The follower's own error: truth outside [before, after]. */
		if ((truth < b ? b - truth : truth > a ? truth - a : 0) > worst)
			worst = truth < b ? b - truth : truth > a ? truth - a : 0;
		checks++;
		starting += state == IONCLOCK_STATE_STARTING;
		if (err && outside++ < 5)
			TH_LOG("outside by %lld ns: [%lld, %lld] truth %lld, state %u, %llu samples",
			       (long long)err, (long long)e1, (long long)l2,
			       (long long)truth, state,
			       (unsigned long long)taken);
		usleep(200);
	}
	TH_LOG("fake at %+lld ppb: %ld checks (%ld while starting), %ld outside the bound; first check after %ld samples, bound %lld ns; worst error %lld ns, widest bound %lld ns; rate now %lld ppb",
	       variant->rate_ppb, checks, starting, outside, first_samples,
	       (long long)first_bound, (long long)worst, (long long)widest,
	       (long long)p->phc_freq_ppb);
	EXPECT_EQ(0, outside);
	/* Checks did cover the start: before any rate was trusted. */
	EXPECT_LT(0, starting);
	EXPECT_LE(first_samples, 3);
	EXPECT_EQ(IONCLOCK_STATE_TRACKING, p->state);
}

TEST_HARNESS_MAIN
