// SPDX-License-Identifier: GPL-2.0
/*
 * Re-attach follows the same hardware, not the same clock name: mlx5, bnxt,
 * tg3 and vclocks give every clock one name.  fakephc loaded with clocks=2
 * registers two clocks named "fakephc" under the platform devices
 * fakephc.0 and fakephc.1; the device follows clock 0.  When clock 0 is
 * removed, the device must stay in holdover beside its twin, and follow
 * clock 0 again once it is back.
 *
 * Environment: IONCLOCK_DEV, the device following fakephc's clock 0;
 * IONCLOCK_FAKE, fakephc's parameter directory.
 */
#include <dirent.h>
#include <sys/ioctl.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

/* N of the ptpN registered under platform device fakephc.<clock>, or -1. */
static int fake_index(int clock)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int n = -1;

	snprintf(path, sizeof(path), "/sys/devices/platform/fakephc.%d/ptp",
		 clock);
	dir = opendir(path);
	if (!dir)
		return -1;
	while ((d = readdir(dir)))
		if (sscanf(d->d_name, "ptp%d", &n) == 1)
			break;
	closedir(dir);
	return n;
}

static int phc_index(int fd)
{
	struct ionclock_info info;

	memset(&info, 0, sizeof(info));
	if (ioctl(fd, IONCLOCK_IOC_GET_INFO, &info))
		return -2;
	return info.phc_index;
}

FIXTURE(twin) {
	struct ionclock *c;
	int fd;
};

FIXTURE_SETUP(twin)
{
	if (fake_index(0) < 0 || fake_index(1) < 0)
		SKIP(return, "needs fakephc loaded with clocks=2");
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	self->fd = ionclock_fd(self->c);
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 20));
}

FIXTURE_TEARDOWN(twin)
{
	test_fake_set("present", 1);
	if (self->c)
		ionclock_close(self->c);
}

TEST_F_TIMEOUT(twin, same_name_is_not_the_same_clock, 120)
{
	const volatile struct ionclock_page *p = ionclock_page(self->c);
	int64_t end;
	int twin = fake_index(1), back = -1;

	ASSERT_EQ(fake_index(0), phc_index(self->fd));
	ASSERT_EQ(0, test_fake_set("present", 0));
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_HOLDOVER, 10));
	/* Re-attach is tried once a second: give it three tries. */
	end = test_mono_ns() + 3500000000LL;
	while (test_mono_ns() < end) {
		ASSERT_EQ(-1, phc_index(self->fd)) {
			TH_LOG("followed ptp%d; the twin is ptp%d",
			       phc_index(self->fd), twin);
		}
		ASSERT_EQ(IONCLOCK_STATE_HOLDOVER, p->state);
		usleep(100000);
	}
	ASSERT_EQ(0, test_fake_set("present", 1));
	end = test_mono_ns() + 10000000000LL;
	while (test_mono_ns() < end && back < 0) {
		back = phc_index(self->fd);
		usleep(100000);
	}
	TH_LOG("clock 0 came back as ptp%d, the twin is ptp%d; followed ptp%d",
	       fake_index(0), twin, back);
	EXPECT_EQ(fake_index(0), back);
	EXPECT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 20));
}

TEST_HARNESS_MAIN
