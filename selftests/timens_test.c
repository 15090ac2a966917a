// SPDX-License-Identifier: GPL-2.0
/*
 * Readers inside a time namespace.  The namespace shifts CLOCK_MONOTONIC
 * and CLOCK_MONOTONIC_RAW for its processes, not for the kernel, so a page
 * on the MONOTONIC_RAW counter must be read with the shift taken off:
 * each page read there must lie between the read()s (which the kernel
 * serves on its own clock) just before and after it.  The TSC counter is
 * not shifted; on it the same checks hold trivially.
 *
 * The test makes the namespace itself (unshare(CLONE_NEWTIME), its
 * monotonic offset set to +1000 s in /proc/self/timens_offsets before the
 * first child enters it), and the child does the reading.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"
#include <linux/ionclock_seq.h>	/* IONCLOCK_ANCHOR_AHEAD_NS */

#ifndef CLONE_NEWTIME
#define CLONE_NEWTIME	0x00000080
#endif
#define SHIFT_S		1000
#define ROUNDS		100000
/*
 * read() lifts each reading 1 ns past the last one handed out, which a
 * page read can trail while the time stands at a new mapping's anchor
 * (see the uapi header): out of order means by more than that.
 */
#define LIFT_NS		IONCLOCK_ANCHOR_AHEAD_NS

static int64_t raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * In the namespace: each page read sandwiched between two read()s, which
 * the kernel serves on its own clock: read() <= page <= read().  Exit
 * status 0 if every one holds, 1-4 for what failed.
 */
static int reader(int64_t parent_raw)
{
	int64_t u1, t, u2, worst = 0;
	struct ionclock *c;
	long outside = 0;
	int i;

	/* The namespace is really there: this child's clock is shifted. */
	if (raw_ns() - parent_raw < (SHIFT_S - 10) * 1000000000LL) {
		fprintf(stderr, "# not shifted: %lld\n",
			(long long)(raw_ns() - parent_raw));
		return 1;
	}
	if (ionclock_open(test_ionclock_dev(), &c))
		return 2;
	for (i = 0; i < ROUNDS; i++) {
		int64_t err;

		if (ionclock_unique(c, &u1) || ionclock_now(c, &t) ||
		    ionclock_unique(c, &u2))
			return 3;
		err = t + LIFT_NS < u1 ? u1 - t : t > u2 + LIFT_NS ? t - u2 : 0;
		if (err && outside++ < 3)
			fprintf(stderr, "# read() %lld, page %lld, read() %lld\n",
				(long long)u1, (long long)t, (long long)u2);
		if (err > worst)
			worst = err;
	}
	fprintf(stderr, "# in a +%d s time namespace, counter %s: %d sandwiches, %ld with the page outside read()'s (worst by %lld ns)\n",
		SHIFT_S, ionclock_page(c)->counter_id == IONCLOCK_COUNTER_TSC ?
		"tsc" : "monotonic_raw", ROUNDS, outside, (long long)worst);
	ionclock_close(c);
	return outside ? 4 : 0;
}

TEST(page_and_read_agree_in_a_time_namespace)
{
	char offsets[64];
	int64_t raw;
	int status;
	pid_t pid;

	if (unshare(CLONE_NEWTIME))
		SKIP(return, "unshare(CLONE_NEWTIME): %s", strerror(errno));
	snprintf(offsets, sizeof(offsets), "monotonic %d 0", SHIFT_S);
	ASSERT_EQ(0, test_write_str("/proc/self/timens_offsets", offsets));
	raw = raw_ns();
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		_exit(reader(raw));
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

TEST_HARNESS_MAIN
