// SPDX-License-Identifier: GPL-2.0
/*
 * Following the hypervisor's vmclock device (<linux/vmclock-abi.h>, 6.13+):
 * a page the hypervisor writes under a sequence count, whose
 * disruption_marker changes whenever the guest's counter was disrupted (a
 * live migration, a snapshot restore) and whose vm_generation_counter
 * changes on each restore.  ionclock reads it before every sample and
 * treats a change as a disruption (disruption.c); its maintenance flags,
 * status and error figures go into the page for whoever watches.
 *
 * The page is reached as ptp_vmclock reaches it, not through that driver:
 * /dev/vmclock0's read() copies to user memory, so from here the device's
 * own memory resource is mapped read-only instead.  The device is the
 * platform device the firmware describes: ACPI HID "AMZNC10C" or CID
 * "VMCLOCK" (QEMU's -device vmclock), or devicetree "amazon,vmclock".
 * Whether ptp_vmclock is loaded does not matter.
 *
 * One mapping serves every /dev/ionclockN; each keeps its own last look.
 * Without the header (6.1, 6.12) all of this compiles out and the page
 * says "unsupported".
 */
#include <linux/err.h>
#include <linux/io.h>
#include <linux/string.h>
#include <asm/barrier.h>
#include <asm/byteorder.h>

#include "ionclock_kmod.h"

#ifdef IONCLOCK_HAVE_VMCLOCK_ABI
#include <linux/acpi.h>
#include <linux/device.h>
#include <linux/of.h>
#include <linux/of_platform.h>
#include <linux/platform_device.h>
#include <linux/stddef.h>
#include <linux/vmclock-abi.h>

/* Bounded retries of a read that keeps meeting an update in progress. */
#define VMCLOCK_READ_TRIES	1000

static struct {
	struct device *dev;
	const struct vmclock_abi *clk;
	resource_size_t size;
	phys_addr_t phys;
} vmc;

/* Whether the device's page is large enough to hold @field. */
#define VMCLOCK_HAS(size, field)					\
	((size) >= offsetof(struct vmclock_abi, field) +		\
		   sizeof(((struct vmclock_abi *)0)->field))

/*
 * The firmware's vmclock device, with a reference, or NULL: "auto", a
 * platform device's name, or its path under /sys (the last component).
 */
static struct device *find_device(const char *name)
{
	struct device *dev = NULL;

	if (!strncmp(name, "/sys/", 5))
		name = kbasename(name);
	if (strcmp(name, "auto"))
		return bus_find_device_by_name(&platform_bus_type, NULL, name);
#ifdef CONFIG_ACPI
	{
		static const char *const ids[] = { "AMZNC10C", "VMCLOCK" };
		struct acpi_device *adev;
		unsigned int i;

		for (i = 0; i < ARRAY_SIZE(ids) && !dev; i++) {
			adev = acpi_dev_get_first_match_dev(ids[i], NULL, -1);
			if (!adev)
				continue;
			dev = get_device(acpi_get_first_physical_node(adev));
			acpi_dev_put(adev);
		}
	}
#endif
#ifdef CONFIG_OF
	if (!dev) {
		struct device_node *np;
		struct platform_device *pdev;

		np = of_find_compatible_node(NULL, NULL, "amazon,vmclock");
		if (np) {
			pdev = of_find_device_by_node(np);
			of_node_put(np);
			if (pdev)
				dev = &pdev->dev;
		}
	}
#endif
	return dev;
}

/*
 * Map the device's page read-only (write-back, as the hypervisor shares
 * ordinary memory; decrypted, as ptp_vmclock maps it for confidential
 * guests) and check its constant header.
 */
static int map_device(struct device *dev)
{
	const struct vmclock_abi *clk;
	struct resource *res;
	u32 size;

	if (!dev_is_platform(dev))
		return -ENODEV;
	res = platform_get_resource(to_platform_device(dev), IORESOURCE_MEM, 0);
	if (!res || resource_size(res) < offsetof(struct vmclock_abi, pad))
		return -ENODEV;
	clk = memremap(res->start, resource_size(res),
		       MEMREMAP_WB | MEMREMAP_DEC);
	if (!clk)
		return -ENOMEM;
	size = le32_to_cpu(READ_ONCE(clk->size));
	if (le32_to_cpu(READ_ONCE(clk->magic)) != VMCLOCK_MAGIC ||
	    le16_to_cpu(READ_ONCE(clk->version)) != 1 ||
	    size > resource_size(res) ||
	    size < offsetof(struct vmclock_abi, pad)) {
		memunmap((void *)clk);
		return -EINVAL;
	}
	vmc.clk = clk;
	vmc.size = size;
	vmc.phys = res->start;
	return 0;
}

int ionclock_vmclock_init(const char *which)
{
	struct device *dev;
	int err;

	if (!strcmp(which, "off")) {
		pr_info("vmclock: off (vmclock=off)\n");
		return 0;
	}
	/* Its driver does not link /dev/vmclockN to the device it serves. */
	if (!strncmp(which, "/dev/", 5)) {
		pr_err("vmclock=%s: name the platform device (AMZNC10C:00) or its /sys path instead\n",
		       which);
		return -EINVAL;
	}
	dev = find_device(which);
	if (!dev) {
		if (strcmp(which, "auto")) {
			pr_err("vmclock=%s: no such platform device\n", which);
			return -ENODEV;
		}
		return 0;
	}
	err = map_device(dev);
	if (err) {
		pr_err("vmclock: %s: cannot map its page: %d\n", dev_name(dev),
		       err);
		put_device(dev);
		/* One found but unusable fails only a load that asked for it. */
		return strcmp(which, "auto") ? err : 0;
	}
	vmc.dev = dev;
	pr_info("vmclock: following %s (page at %pa, %llu bytes)\n",
		dev_name(dev), &vmc.phys, (unsigned long long)vmc.size);
	return 0;
}

void ionclock_vmclock_exit(void)
{
	if (vmc.clk)
		memunmap((void *)vmc.clk);
	vmc.clk = NULL;
	put_device(vmc.dev);
	vmc.dev = NULL;
}

u8 ionclock_vmclock_state(const char *which)
{
	if (!strcmp(which, "off"))
		return IONCLOCK_VMCLOCK_OFF;
	return vmc.clk ? IONCLOCK_VMCLOCK_FOLLOWED : IONCLOCK_VMCLOCK_ABSENT;
}

static u32 translate_flags(u64 f, resource_size_t size)
{
	u32 out = 0;

	if (f & VMCLOCK_FLAG_DISRUPTION_SOON)
		out |= IONCLOCK_VMCLOCK_F_DISRUPTION_SOON;
	if (f & VMCLOCK_FLAG_DISRUPTION_IMMINENT)
		out |= IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT;
	if ((f & VMCLOCK_FLAG_TIME_MAXERROR_VALID) &&
	    VMCLOCK_HAS(size, time_maxerror_nanosec))
		out |= IONCLOCK_VMCLOCK_F_MAXERROR_VALID;
	if ((f & VMCLOCK_FLAG_TIME_ESTERROR_VALID) &&
	    VMCLOCK_HAS(size, time_esterror_nanosec))
		out |= IONCLOCK_VMCLOCK_F_ESTERROR_VALID;
	if ((f & VMCLOCK_FLAG_VM_GEN_COUNTER_PRESENT) &&
	    VMCLOCK_HAS(size, vm_generation_counter))
		out |= IONCLOCK_VMCLOCK_F_GENERATION_PRESENT;
	return out;
}

/*
 * One consistent look at the page, under its sequence count: an odd count
 * is an update in progress, a changed one an update that raced the copy.
 * A page that never settles leaves @look invalid (it then says nothing).
 */
void ionclock_vmclock_read(struct ionclock_vmclock_look *look)
{
	const struct vmclock_abi *clk = vmc.clk;
	unsigned int tries;
	u32 seq;

	memset(look, 0, sizeof(*look));
	if (!clk)
		return;
	for (tries = 0; tries < VMCLOCK_READ_TRIES; tries++) {
		seq = le32_to_cpu(READ_ONCE(clk->seq_count));
		if (seq & 1) {
			cpu_relax();
			continue;
		}
		/* Pairs with the hypervisor's write barrier before the fields. */
		virt_rmb();
		look->marker = le64_to_cpu(READ_ONCE(clk->disruption_marker));
		look->flags = translate_flags(le64_to_cpu(READ_ONCE(clk->flags)),
					      vmc.size);
		if (VMCLOCK_HAS(vmc.size, clock_status))
			look->status = READ_ONCE(clk->clock_status);
		if (look->flags & IONCLOCK_VMCLOCK_F_MAXERROR_VALID)
			look->maxerror_ns =
				le64_to_cpu(READ_ONCE(clk->time_maxerror_nanosec));
		if (look->flags & IONCLOCK_VMCLOCK_F_ESTERROR_VALID)
			look->esterror_ns =
				le64_to_cpu(READ_ONCE(clk->time_esterror_nanosec));
		if (look->flags & IONCLOCK_VMCLOCK_F_GENERATION_PRESENT)
			look->generation =
				le64_to_cpu(READ_ONCE(clk->vm_generation_counter));
		/* Pairs with the hypervisor's write barrier after them. */
		virt_rmb();
		if (le32_to_cpu(READ_ONCE(clk->seq_count)) == seq) {
			look->valid = true;
			return;
		}
	}
	memset(look, 0, sizeof(*look));
}
#else
int ionclock_vmclock_init(const char *which)
{
	if (strcmp(which, "auto") && strcmp(which, "off")) {
		pr_err("vmclock=%s: this kernel has no vmclock ABI\n", which);
		return -EOPNOTSUPP;
	}
	return 0;
}

void ionclock_vmclock_exit(void)
{
}

u8 ionclock_vmclock_state(const char *which)
{
	return strcmp(which, "off") ? IONCLOCK_VMCLOCK_UNSUPPORTED :
	       IONCLOCK_VMCLOCK_OFF;
}

void ionclock_vmclock_read(struct ionclock_vmclock_look *look)
{
	memset(look, 0, sizeof(*look));
}
#endif

/*
 * Before each sample (and so each poll period): look at the vmclock, and
 * return IONCLOCK_DISRUPTION_VMCLOCK if it moved since the last look.
 */
u32 ionclock_vmclock_check(struct ionclock_dev *idev)
{
	struct ionclock_vmclock_look now;
	bool moved;

	lockdep_assert_held(&idev->lock);
	ionclock_vmclock_read(&now);
	if (!now.valid) {
		/* A page that did not settle keeps the last look's values. */
		return 0;
	}
	moved = ionclock_vmclock_disrupted(&idev->vmclock, &now);
	if (moved)
		pr_warn("%s: vmclock: disruption marker %llu -> %llu, generation %llu -> %llu\n",
			idev->devname,
			(unsigned long long)idev->vmclock.marker,
			(unsigned long long)now.marker,
			(unsigned long long)idev->vmclock.generation,
			(unsigned long long)now.generation);
	if (now.flags != idev->vmclock.flags && (now.flags &
	    (IONCLOCK_VMCLOCK_F_DISRUPTION_SOON |
	     IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT)))
		pr_info("%s: vmclock: the hypervisor announces a disruption %s\n",
			idev->devname,
			now.flags & IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT ?
			"within about an hour" : "within about a day");
	idev->vmclock = now;
	return moved ? IONCLOCK_DISRUPTION_VMCLOCK : 0;
}
