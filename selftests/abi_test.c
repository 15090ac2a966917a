// SPDX-License-Identifier: GPL-2.0
/*
 * The device's ABI: what mmap, ioctl and read accept and refuse, and the
 * page's constant header.
 */
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

FIXTURE(dev) {
	int fd;
};

FIXTURE_SETUP(dev)
{
	self->fd = open(test_ionclock_dev(), O_RDWR);
	if (self->fd < 0)
		SKIP(return, "%s: %s", test_ionclock_dev(), strerror(errno));
}

FIXTURE_TEARDOWN(dev)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F(dev, page_header)
{
	const struct ionclock_page *p;

	p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED, self->fd, 0);
	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(IONCLOCK_PAGE_MAGIC, p->magic);
	EXPECT_EQ(IONCLOCK_PAGE_SIZE, p->size);
	EXPECT_EQ(IONCLOCK_ABI_VERSION, p->version);
	EXPECT_TRUE(p->counter_id == IONCLOCK_COUNTER_TSC ||
		    p->counter_id == IONCLOCK_COUNTER_MONOTONIC_RAW);
	EXPECT_EQ(0, p->seq_count & 1);
	EXPECT_TRUE(p->flags & IONCLOCK_FLAG_VALID);
	/* Where the vmclock is not followed its fields stay 0. */
	EXPECT_LT(p->vmclock_state, IONCLOCK_VMCLOCK_STATES);
	if (p->vmclock_state != IONCLOCK_VMCLOCK_FOLLOWED)
		EXPECT_EQ(0, p->vmclock_flags | p->vmclock_status |
			  p->vmclock_disruption_marker);
	TH_LOG("vmclock %u", p->vmclock_state);
	munmap((void *)p, IONCLOCK_PAGE_SIZE);
}

/* The layout userspace was built against is the module's (page.c). */
_Static_assert(offsetof(struct ionclock_page, vmclock_state) == 304,
	       "vmclock_state moved");
_Static_assert(offsetof(struct ionclock_page, vmclock_disruption_marker) == 312,
	       "vmclock_disruption_marker moved");
_Static_assert(sizeof(struct ionclock_page) == 344, "the page's size changed");

TEST_F(dev, mmap_writable_refused)
{
	void *p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE,
		       MAP_SHARED, self->fd, 0);

	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EPERM, errno);
}

TEST_F(dev, mmap_exec_refused)
{
	void *p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_EXEC,
		       MAP_SHARED, self->fd, 0);

	ASSERT_EQ(MAP_FAILED, p);
}

TEST_F(dev, mprotect_write_refused)
{
	void *p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED,
		       self->fd, 0);

	ASSERT_NE(MAP_FAILED, p);
	EXPECT_EQ(-1, mprotect(p, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE));
	EXPECT_EQ(EACCES, errno);
	munmap(p, IONCLOCK_PAGE_SIZE);
}

TEST_F(dev, mmap_two_pages_refused)
{
	void *p = mmap(NULL, 2 * IONCLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED,
		       self->fd, 0);

	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, mmap_offset_refused)
{
	void *p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED,
		       self->fd, IONCLOCK_PAGE_SIZE);

	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, mmap_private_refused)
{
	void *p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ, MAP_PRIVATE,
		       self->fd, 0);

	ASSERT_EQ(MAP_FAILED, p);
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, ioctl_info)
{
	struct ionclock_info info;

	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_GET_INFO, &info));
	EXPECT_GE(info.phc_index, 0);
	EXPECT_EQ(IONCLOCK_ABI_VERSION, info.abi_version);
	EXPECT_NE(0, info.phc_name[0]);
	EXPECT_NE(0, info.counter_id);
	TH_LOG("ptp%d name=%s if=%s state=%u counter=%u", info.phc_index,
	       info.phc_name, info.ifname, info.state, info.counter_id);
}

TEST_F(dev, ioctl_unknown_flags_refused)
{
	struct ionclock_info info;

	memset(&info, 0, sizeof(info));
	info.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_GET_INFO, &info));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, ioctl_reserved_refused)
{
	struct ionclock_info info;
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(info.reserved); i++) {
		memset(&info, 0, sizeof(info));
		info.reserved[i] = 1;
		EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_GET_INFO, &info));
		EXPECT_EQ(EINVAL, errno);
	}
}

TEST_F(dev, ioctl_bad_size_refused)
{
	char buf[sizeof(struct ionclock_info) + 8] = {};

	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(IONCLOCK_IOC_MAGIC, 1, buf), buf));
	EXPECT_EQ(ENOTTY, errno);
	EXPECT_EQ(-1, ioctl(self->fd, _IOWR(IONCLOCK_IOC_MAGIC, 99,
					    struct ionclock_info), buf));
	EXPECT_EQ(ENOTTY, errno);
}

TEST_F(dev, read_short_refused)
{
	char buf[sizeof(struct ionclock_reading) - 1];

	EXPECT_EQ(-1, read(self->fd, buf, sizeof(buf)));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(dev, read_strictly_increasing)
{
	struct ionclock_reading r;
	uint64_t prev = 0;
	int i;

	for (i = 0; i < 10000; i++) {
		ASSERT_EQ(sizeof(r), read(self->fd, &r, sizeof(r)));
		ASSERT_GT(r.tai_ns, prev);
		ASSERT_LE(r.earliest_ns, r.tai_ns);
		ASSERT_GE(r.latest_ns, r.tai_ns);
		prev = r.tai_ns;
	}
}

TEST(write_open_does_not_grant_write_mapping)
{
	int fd = open(test_ionclock_dev(), O_RDONLY);
	void *p;

	ASSERT_LE(0, fd);
	p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		 fd, 0);
	EXPECT_EQ(MAP_FAILED, p);
	close(fd);
}

TEST_HARNESS_MAIN
