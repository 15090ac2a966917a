// SPDX-License-Identifier: GPL-2.0
/*
 * ionclock following QEMU's vmclock device (-device vmclock, on a kernel
 * with <linux/vmclock-abi.h>): the test plays the hypervisor.  QEMU backs
 * the vmclock page with ordinary guest RAM, so root in the guest can
 * write it through /dev/mem, under the page's own sequence protocol, as
 * the hypervisor does on a migration: each change of the disruption
 * marker (or of the generation counter) must become one disruption with
 * cause vmclock, the maintenance flags and the error figures must reach
 * the page, and no read may go back meanwhile.
 *
 * The real hypervisor's write (QEMU's restore bumping the marker) is
 * make check-migration's (selftests/vm/migration.sh).
 *
 * The page's offsets are the ABI's (<linux/vmclock-abi.h>, struct
 * vmclock_abi), written here because the host that builds the selftests
 * may have older headers than the guest's kernel.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define VMC_MAGIC		0x4b4c4356	/* "VCLK" */
#define VMC_OFF_MAGIC		0
#define VMC_OFF_SEQ		12
#define VMC_OFF_MARKER		16
#define VMC_OFF_FLAGS		24
#define VMC_OFF_STATUS		34
#define VMC_OFF_MAXERROR	96
#define VMC_OFF_GENERATION	104
#define VMC_FLAG_IMMINENT	(1ULL << 2)
#define VMC_FLAG_MAXERROR_VALID	(1ULL << 6)
#define VMC_FLAG_GEN_PRESENT	(1ULL << 8)
#define VMC_STATUS_FREERUNNING	3

/* The vmclock's physical address, from the platform device in /proc/iomem. */
static long long vmclock_phys(void)
{
	unsigned long long start, end;
	char line[256];
	long long phys = -1;
	FILE *f;

	f = fopen("/proc/iomem", "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if ((strstr(line, "AMZNC10C") || strstr(line, "VMCLOCK")) &&
		    sscanf(line, " %llx-%llx", &start, &end) == 2 && start) {
			phys = start;
			break;
		}
	fclose(f);
	return phys;
}

FIXTURE(vmclock) {
	struct ionclock *c;
	const volatile struct ionclock_page *p;
	volatile uint8_t *vmc;
	int mem;
};

FIXTURE_SETUP(vmclock)
{
	long long phys = vmclock_phys();

	self->vmc = NULL;
	self->mem = -1;
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	self->p = ionclock_page(self->c);
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 30));
	/* The plan asks for this test only where QEMU has the device. */
	ASSERT_LT(0, phys) TH_LOG("no vmclock in /proc/iomem");
	self->mem = open("/dev/mem", O_RDWR);
	ASSERT_LE(0, self->mem) TH_LOG("/dev/mem: %s", strerror(errno));
	self->vmc = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED,
			 self->mem, phys);
	ASSERT_NE(MAP_FAILED, self->vmc) TH_LOG("mmap: %s", strerror(errno));
	ASSERT_EQ(VMC_MAGIC, *(volatile uint32_t *)(self->vmc + VMC_OFF_MAGIC));
}

FIXTURE_TEARDOWN(vmclock)
{
	if (self->vmc && self->vmc != MAP_FAILED)
		munmap((void *)self->vmc, 4096);
	if (self->mem >= 0)
		close(self->mem);
	ionclock_close(self->c);
}

static volatile uint64_t *u64_at(volatile uint8_t *vmc, size_t off)
{
	return (volatile uint64_t *)(vmc + off);
}

/*
 * The hypervisor's side of the sequence protocol: odd while the fields
 * change, even again after.
 */
static void vmc_begin(volatile uint8_t *vmc)
{
	volatile uint32_t *seq = (volatile uint32_t *)(vmc + VMC_OFF_SEQ);

	*seq = *seq | 1;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
}

static void vmc_end(volatile uint8_t *vmc)
{
	volatile uint32_t *seq = (volatile uint32_t *)(vmc + VMC_OFF_SEQ);

	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	*seq = *seq + 1;
}

/*
 * Wait up to @limit_s for the page to count a disruption after @dis0,
 * reading the time all along: returns the reads that went backward, or -1
 * on a timeout.
 */
static int wait_disruption(struct ionclock *c,
			   const volatile struct ionclock_page *p,
			   uint32_t dis0, int limit_s)
{
	int64_t end = test_mono_ns() + limit_s * 1000000000LL, prev = 0, t;
	int backward = 0;

	while (p->disruptions == dis0) {
		if (test_mono_ns() > end)
			return -1;
		if (!ionclock_now(c, &t)) {
			if (t < prev)
				backward++;
			prev = t;
		}
	}
	return backward;
}

TEST_F(vmclock, followed)
{
	EXPECT_EQ(IONCLOCK_VMCLOCK_FOLLOWED, self->p->vmclock_state);
	EXPECT_EQ(*u64_at(self->vmc, VMC_OFF_MARKER),
		  self->p->vmclock_disruption_marker);
	EXPECT_EQ(self->vmc[VMC_OFF_STATUS], self->p->vmclock_status);
}

TEST_F(vmclock, marker_is_a_disruption)
{
	const volatile struct ionclock_page *p = self->p;
	uint32_t dis0 = p->disruptions, gen0 = p->generation;
	uint64_t marker;
	int i;

	vmc_begin(self->vmc);
	marker = ++*u64_at(self->vmc, VMC_OFF_MARKER);
	vmc_end(self->vmc);
	EXPECT_EQ(0, wait_disruption(self->c, p, dis0, 3));
	EXPECT_EQ(dis0 + 1, p->disruptions);
	EXPECT_TRUE(p->disruption_cause & IONCLOCK_DISRUPTION_VMCLOCK);
	EXPECT_NE(gen0, p->generation);
	EXPECT_EQ(marker, p->vmclock_disruption_marker);
	TH_LOG("marker %llu: disruptions %u -> %u, cause 0x%x, generation %u -> %u, bound %llu ns",
	       (unsigned long long)marker, dis0, p->disruptions,
	       p->disruption_cause, gen0, p->generation,
	       (unsigned long long)p->error_bound_ns);
	/* Re-fitted within a few samples, and only one disruption. */
	for (i = 0; i < 100 && (p->flags & IONCLOCK_FLAG_DISRUPTED); i++)
		usleep(100000);
	EXPECT_FALSE(p->flags & IONCLOCK_FLAG_DISRUPTED);
	EXPECT_EQ(IONCLOCK_STATE_TRACKING, p->state);
	EXPECT_EQ(dis0 + 1, p->disruptions);
}

TEST_F(vmclock, generation_is_a_disruption)
{
	const volatile struct ionclock_page *p = self->p;
	volatile uint64_t *flags = u64_at(self->vmc, VMC_OFF_FLAGS);
	uint64_t flags0 = *flags;
	uint32_t dis0;
	int i;

	/* A device that starts counting generations: no disruption yet. */
	vmc_begin(self->vmc);
	*flags = flags0 | VMC_FLAG_GEN_PRESENT;
	vmc_end(self->vmc);
	for (i = 0; i < 20 && !(p->vmclock_flags &
				IONCLOCK_VMCLOCK_F_GENERATION_PRESENT); i++)
		usleep(50000);
	EXPECT_TRUE(p->vmclock_flags & IONCLOCK_VMCLOCK_F_GENERATION_PRESENT);
	dis0 = p->disruptions;
	usleep(300000);
	EXPECT_EQ(dis0, p->disruptions);
	/* A snapshot restored: the generation moves, the marker not. */
	vmc_begin(self->vmc);
	++*u64_at(self->vmc, VMC_OFF_GENERATION);
	vmc_end(self->vmc);
	EXPECT_EQ(0, wait_disruption(self->c, p, dis0, 3));
	EXPECT_TRUE(p->disruption_cause & IONCLOCK_DISRUPTION_VMCLOCK);
	EXPECT_EQ(*u64_at(self->vmc, VMC_OFF_GENERATION),
		  p->vmclock_generation);
	vmc_begin(self->vmc);
	*flags = flags0;
	vmc_end(self->vmc);
}

TEST_F(vmclock, announcement_and_errors_reach_the_page)
{
	const volatile struct ionclock_page *p = self->p;
	volatile uint64_t *flags = u64_at(self->vmc, VMC_OFF_FLAGS);
	uint64_t flags0 = *flags;
	uint8_t status0 = self->vmc[VMC_OFF_STATUS];
	uint32_t dis0 = p->disruptions;
	int i;

	vmc_begin(self->vmc);
	*flags = flags0 | VMC_FLAG_IMMINENT | VMC_FLAG_MAXERROR_VALID;
	*u64_at(self->vmc, VMC_OFF_MAXERROR) = 12345;
	self->vmc[VMC_OFF_STATUS] = VMC_STATUS_FREERUNNING;
	vmc_end(self->vmc);
	for (i = 0; i < 20 && !(p->vmclock_flags &
				IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT); i++)
		usleep(50000);
	EXPECT_TRUE(p->vmclock_flags & IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT);
	EXPECT_TRUE(p->vmclock_flags & IONCLOCK_VMCLOCK_F_MAXERROR_VALID);
	EXPECT_EQ(12345, p->vmclock_maxerror_ns);
	EXPECT_EQ(IONCLOCK_VMCLOCK_STATUS_FREERUNNING, p->vmclock_status);
	/* An announcement is not a disruption. */
	EXPECT_EQ(dis0, p->disruptions);
	TH_LOG("announced: page vmclock_flags 0x%x status %u max error %llu ns",
	       p->vmclock_flags, p->vmclock_status,
	       (unsigned long long)p->vmclock_maxerror_ns);
	/* The stage's ionclockctl status checks these lines; then undone. */
	if (system("ionclockctl status | grep '^vmclock' >&2"))
		TH_LOG("ionclockctl status failed");
	EXPECT_EQ(0, system("ionclockctl status | grep -qx 'vmclock_disruption_announced imminent'"));
	EXPECT_EQ(0, system("ionclockctl status | grep -qx 'vmclock_max_error_ns 12345'"));
	EXPECT_EQ(0, system("ionclockctl prometheus | grep -q '^ionclock_vmclock_disruption_announced{.*} 2$'"));
	vmc_begin(self->vmc);
	*flags = flags0;
	*u64_at(self->vmc, VMC_OFF_MAXERROR) = 0;
	self->vmc[VMC_OFF_STATUS] = status0;
	vmc_end(self->vmc);
	for (i = 0; i < 20 && (p->vmclock_flags &
			       IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT); i++)
		usleep(50000);
	EXPECT_FALSE(p->vmclock_flags & IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT);
}

TEST_HARNESS_MAIN
