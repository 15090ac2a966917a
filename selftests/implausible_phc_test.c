// SPDX-License-Identifier: GPL-2.0
/*
 * QEMU's e1000e PHC runs 2.5x fast.  ionclock must not follow it: the device
 * attached to it reports UNRELIABLE, and its time keeps running at the
 * counter's rate instead of the PHC's.
 */
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

TEST(e1000e_not_trusted)
{
	const char *dev = test_env("IONCLOCK_BAD_DEV", "/dev/ionclock1");
	const volatile struct ionclock_page *p;
	int64_t t0, t1, m0, m1;
	struct test_reader r = {};
	struct ionclock *c;
	double rate;

	ASSERT_EQ(0, ionclock_open(dev, &c));
	p = ionclock_page(c);
	ASSERT_TRUE(test_wait_state(c, IONCLOCK_STATE_UNRELIABLE, 15));
	EXPECT_NE(IONCLOCK_STATE_TRACKING, p->state);

	m0 = test_mono_ns();
	ASSERT_EQ(0, ionclock_now(c, &t0));
	/* A reader meanwhile: the time free-running must not go back. */
	ASSERT_EQ(0, test_reader_start(&r, c));
	sleep(2);
	test_reader_stop(&r);
	m1 = test_mono_ns();
	ASSERT_EQ(0, ionclock_now(c, &t1));
	rate = (double)(t1 - t0) / (double)(m1 - m0);
	TH_LOG("state %u, rate against CLOCK_MONOTONIC %.6f; %ld reads, %ld backward",
	       p->state, rate, atomic_load(&r.reads),
	       atomic_load(&r.backward));
	EXPECT_EQ(0, atomic_load(&r.backward));
	EXPECT_EQ(0, atomic_load(&r.errors));
	EXPECT_LT(rate, 1.01);
	EXPECT_GT(rate, 0.99);
	EXPECT_EQ(IONCLOCK_STATE_UNRELIABLE, p->state);
	ionclock_close(c);
}

TEST_HARNESS_MAIN
