// SPDX-License-Identifier: GPL-2.0
/*
 * Each way of reading a PHC, on the fake PHC (selftests/fakephc) loaded
 * with the method= under test: the module must pick the most precise one
 * the driver offers, say so in struct ionclock_info, and its bound must
 * hold with that method's bracket.  Each check is a sandwich: ionclock's
 * reading and bound, the fake's true time, ionclock again.
 *
 * Environment: IONCLOCK_EXPECT_METHOD, the IONCLOCK_READ_* number the
 * module must report; IONCLOCK_FAKE, fakephc's parameter directory;
 * IONCLOCK_DEV, the device on the fake PHC.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/ptp_clock.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define WATCH_MS	2000

/*
 * The best half-width of a direct read of the PHC from userspace, ns: the
 * narrowest of 5 x 25 PTP_SYS_OFFSET_EXTENDED brackets, halved; -1 if the
 * PHC cannot be read.
 */
static int64_t direct_half_width_ns(int index)
{
	struct ptp_sys_offset_extended ext;
	int64_t best = INT64_MAX;
	char path[32];
	unsigned int i;
	int fd, round;

	snprintf(path, sizeof(path), "/dev/ptp%d", index);
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -1;
	for (round = 0; round < 5; round++) {
		memset(&ext, 0, sizeof(ext));
		ext.n_samples = 25;
		if (ioctl(fd, PTP_SYS_OFFSET_EXTENDED, &ext))
			break;
		for (i = 0; i < ext.n_samples; i++) {
			int64_t w = (ext.ts[i][2].sec - ext.ts[i][0].sec) *
				    1000000000LL +
				    (ext.ts[i][2].nsec - ext.ts[i][0].nsec);

			if (w >= 0 && w / 2 < best)
				best = w / 2;
		}
	}
	close(fd);
	return best == INT64_MAX ? -1 : best;
}

FIXTURE(method) {
	struct ionclock *c;
	int truth_fd;
	struct ionclock_info info;
};

FIXTURE_SETUP(method)
{
	char path[256];
	int fd;

	snprintf(path, sizeof(path), "%s/now_ns", test_fake_dir());
	self->truth_fd = open(path, O_RDONLY);
	if (self->truth_fd < 0)
		SKIP(return, "%s: %s (fakephc not loaded)", path,
		     strerror(errno));
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	fd = open(test_ionclock_dev(), O_RDONLY);
	ASSERT_LE(0, fd);
	memset(&self->info, 0, sizeof(self->info));
	ASSERT_EQ(0, ioctl(fd, IONCLOCK_IOC_GET_INFO, &self->info));
	close(fd);
}

FIXTURE_TEARDOWN(method)
{
	ionclock_close(self->c);
	if (self->truth_fd >= 0)
		close(self->truth_fd);
}

/* The method the driver's callbacks call for, and only that one. */
TEST_F(method, reported)
{
	const char *want = getenv("IONCLOCK_EXPECT_METHOD");

	if (!want)
		SKIP(return, "IONCLOCK_EXPECT_METHOD not set");
	TH_LOG("read_method %u, read_half_width_ns %u", self->info.read_method,
	       self->info.read_half_width_ns);
	EXPECT_EQ(strtoul(want, NULL, 0), self->info.read_method);
}

/* A nonzero info field is refused on input, as the reserved words are. */
TEST_F(method, input_refused)
{
	struct ionclock_info info;
	int fd = open(test_ionclock_dev(), O_RDONLY);

	ASSERT_LE(0, fd);
	memset(&info, 0, sizeof(info));
	info.read_method = 1;
	EXPECT_EQ(-1, ioctl(fd, IONCLOCK_IOC_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	memset(&info, 0, sizeof(info));
	info.read_half_width_ns = 1;
	EXPECT_EQ(-1, ioctl(fd, IONCLOCK_IOC_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
	close(fd);
}

/*
 * Tracking on this method, the truth is inside the bound at every check,
 * and the bracket is the method's: a cross-timestamp's is a conversion's
 * few ns, a read through the driver's call is not zero.
 */
TEST_F(method, bound_holds)
{
	const volatile struct ionclock_page *p;
	int64_t end, b, e1, l1, a, e2, l2, truth, err, worst = 0;
	int64_t bound_sum = 0, narrowest = INT64_MAX, direct;
	long checks = 0, outside = 0;
	struct ionclock_info info;
	int fd;

	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 20));
	/* A few samples past the start, so the bound is the steady one. */
	sleep(2);
	p = ionclock_page(self->c);
	end = test_mono_ns() + WATCH_MS * 1000000LL;
	while (test_mono_ns() < end) {
		ASSERT_EQ(0, ionclock_now_bounded(self->c, &b, &e1, &l1));
		truth = test_fake_truth_ns(self->truth_fd);
		ASSERT_EQ(0, ionclock_now_bounded(self->c, &a, &e2, &l2));
		ASSERT_NE(INT64_MIN, truth);
		err = truth < e1 ? e1 - truth : truth > l2 ? truth - l2 : 0;
		if (err > worst)
			worst = err;
		if (err && outside++ < 5)
			TH_LOG("outside by %lld ns: [%lld, %lld] truth %lld",
			       (long long)err, (long long)e1, (long long)l2,
			       (long long)truth);
		bound_sum += b - e1;
		if (b - e1 < narrowest)
			narrowest = b - e1;
		checks++;
		usleep(500);
	}
	fd = open(test_ionclock_dev(), O_RDONLY);
	ASSERT_LE(0, fd);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, ioctl(fd, IONCLOCK_IOC_GET_INFO, &info));
	close(fd);
	direct = direct_half_width_ns(info.phc_index);
	if (direct > 0)
		TH_LOG("steady bound %lld ns (narrowest), best direct PHC read half-width %lld ns (PTP_SYS_OFFSET_EXTENDED): %.2fx",
		       (long long)narrowest, (long long)direct,
		       (double)narrowest / (double)direct);
	TH_LOG("method %u: %ld checks, %ld outside (worst %lld ns); bound mean %lld ns, narrowest %lld ns; bracket %llu ns, read half-width %u ns",
	       info.read_method, checks, outside, (long long)worst,
	       (long long)(checks ? bound_sum / checks : 0),
	       (long long)narrowest,
	       (unsigned long long)p->error_bracket_ns,
	       info.read_half_width_ns);
	EXPECT_LT(0, checks);
	EXPECT_EQ(0, outside);
	EXPECT_EQ(IONCLOCK_STATE_TRACKING, p->state);
	/* A cross-timestamp's: a few ns; any other: not zero. */
	EXPECT_TRUE(info.read_method == IONCLOCK_READ_CROSSTSTAMP ?
		    info.read_half_width_ns <= 20 :
		    info.read_half_width_ns > 0);
}

TEST_HARNESS_MAIN
