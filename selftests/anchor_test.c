// SPDX-License-Identifier: GPL-2.0
/*
 * The anchor's safety on this (virtual) CPU, the VM half of
 * selftests/unit/anchor_test.c: a writer and a reader race on a private
 * page through the library's own read loop (anchor_probe.c), and no read
 * may hold a mapping at a counter further past the next update's start
 * than the module anchors updates ahead (IONCLOCK_ANCHOR_AHEAD_NS).
 * Under TCG each vCPU is a host thread, so the race is the host CPU's,
 * seen through QEMU's translation.  Needs no device.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "anchor_probe.h"
#include "ionclock_test.h"
#include "kselftest_harness.h"
#include <linux/ionclock_seq.h>	/* IONCLOCK_ANCHOR_AHEAD_NS */

#define ANCHOR_PROBE_MS		3000

static void probe(struct __test_metadata *_metadata, uint8_t counter_id)
{
	struct anchor_probe r;
	int err = anchor_probe_run(ANCHOR_PROBE_MS, counter_id, &r);

	if (err == -ENODEV)
		SKIP(return, "one CPU: no race to measure");
	ASSERT_EQ(0, err);
	/* The form make bench's report reads. */
	anchor_probe_print(stdout, "", counter_id, &r);
	EXPECT_GT(r.updates, 1000);
	EXPECT_GT(r.reads, 1000);
	EXPECT_LT(r.lead_ns, IONCLOCK_ANCHOR_AHEAD_NS);
}

TEST(tsc)
{
	if (!anchor_probe_counter_usable(IONCLOCK_COUNTER_TSC))
		SKIP(return, "the TSC is not the clocksource");
	probe(_metadata, IONCLOCK_COUNTER_TSC);
}

TEST(monotonic_raw)
{
	probe(_metadata, IONCLOCK_COUNTER_MONOTONIC_RAW);
}

TEST_HARNESS_MAIN
