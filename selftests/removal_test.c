// SPDX-License-Identifier: GPL-2.0
/*
 * Destructive: PCI hot-remove of the NIC whose PHC ionclock follows, while
 * a process has the page mapped and is reading it.  Nothing may crash, the
 * page must say the PHC is gone (HOLDOVER), reads keep working and stay
 * monotonic.  Then: ionclock cannot be unloaded under a live mapping and
 * open file, and can be once they are gone.
 *
 * IONCLOCK_PCI names the NIC's sysfs directory.  The tests run in order:
 * remove, rescan, unload.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

TEST(pci_remove_while_mapped)
{
	const char *pci = getenv("IONCLOCK_PCI");
	const volatile struct ionclock_page *p;
	struct ionclock_info info;
	struct test_reader r = {};
	char path[256];
	long before;

	if (!pci)
		SKIP(return, "IONCLOCK_PCI not set");
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &r.c));
	p = ionclock_page(r.c);
	ASSERT_TRUE(test_wait_state(r.c, IONCLOCK_STATE_TRACKING, 10));
	ASSERT_EQ(0, test_reader_start(&r, r.c));
	usleep(500000);

	snprintf(path, sizeof(path), "%s/remove", pci);
	ASSERT_EQ(0, test_write_str(path, "1"));
	ASSERT_TRUE(test_wait_state(r.c, IONCLOCK_STATE_HOLDOVER, 5));
	EXPECT_TRUE(p->flags & IONCLOCK_FLAG_PHC_GONE);
	EXPECT_TRUE(p->flags & IONCLOCK_FLAG_VALID);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, ionclock_info(r.c, &info));
	EXPECT_EQ(-1, info.phc_index);

	before = atomic_load(&r.reads);
	sleep(1);
	EXPECT_GT(atomic_load(&r.reads), before);	/* still reading */
	test_reader_stop(&r);
	TH_LOG("%ld reads across the removal, %ld backward, %ld errors",
	       atomic_load(&r.reads), atomic_load(&r.backward),
	       atomic_load(&r.errors));
	EXPECT_EQ(0, atomic_load(&r.backward));
	EXPECT_EQ(0, atomic_load(&r.errors));
	ionclock_close(r.c);
}

/*
 * The same NIC comes back on rescan, with the same clock name: ionclock
 * finds it by itself, leaves holdover, bumps the generation and follows it
 * again without going backward.
 */
TEST(reattach_after_rescan)
{
	const volatile struct ionclock_page *p;
	struct ionclock_info info;
	struct test_reader r = {};
	uint32_t gen;

	if (!getenv("IONCLOCK_PCI"))
		SKIP(return, "IONCLOCK_PCI not set");
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &r.c));
	p = ionclock_page(r.c);
	ASSERT_EQ(IONCLOCK_STATE_HOLDOVER, p->state);
	gen = p->generation;
	ASSERT_EQ(0, test_reader_start(&r, r.c));
	ASSERT_EQ(0, test_write_str("/sys/bus/pci/rescan", "1"));
	EXPECT_TRUE(test_wait_state(r.c, IONCLOCK_STATE_TRACKING, 20));
	EXPECT_FALSE(p->flags & IONCLOCK_FLAG_PHC_GONE);
	EXPECT_NE(gen, p->generation);
	memset(&info, 0, sizeof(info));
	ASSERT_EQ(0, ionclock_info(r.c, &info));
	EXPECT_LE(0, info.phc_index);
	sleep(2);
	test_reader_stop(&r);
	TH_LOG("back on ptp%d, generation %u -> %u; %ld reads, %ld backward",
	       info.phc_index, gen, p->generation, atomic_load(&r.reads),
	       atomic_load(&r.backward));
	EXPECT_EQ(0, atomic_load(&r.backward));
	EXPECT_EQ(0, atomic_load(&r.errors));
	ionclock_close(r.c);
}

TEST(rmmod_with_live_mapping)
{
	void *page;
	int fd;

	fd = open(test_ionclock_dev(), O_RDONLY);
	ASSERT_LE(0, fd);
	page = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED, fd, 0);
	ASSERT_NE(MAP_FAILED, page);

	/* Open file and mapping pin the module: rmmod must refuse. */
	EXPECT_NE(0, system("rmmod ionclock 2>/dev/null"));
	close(fd);
	/* The mapping alone still pins it, and the page stays readable. */
	EXPECT_NE(0, system("rmmod ionclock 2>/dev/null"));
	EXPECT_EQ(IONCLOCK_PAGE_MAGIC,
		  ((const struct ionclock_page *)page)->magic);
	munmap(page, IONCLOCK_PAGE_SIZE);
	EXPECT_EQ(0, system("rmmod ionclock"));
	EXPECT_NE(0, access(test_ionclock_dev(), F_OK));
}

TEST_HARNESS_MAIN
