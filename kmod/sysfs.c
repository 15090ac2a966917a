// SPDX-License-Identifier: GPL-2.0
/*
 * /sys/class/misc/ionclockN/: the engine's view for monitoring, taken from
 * a consistent copy of the page so that it always matches what readers see.
 */
#include <linux/device.h>
#include <linux/jiffies.h>
#include <linux/sysfs.h>

#include <linux/ionclock_names.h>

#include "ionclock_kmod.h"

static struct ionclock_dev *dev_idev(struct device *dev)
{
	struct miscdevice *misc = dev_get_drvdata(dev);

	return container_of(misc, struct ionclock_dev, misc);
}

#define IONCLOCK_PAGE_ATTR(_name, _fmt, _expr)				\
static ssize_t _name##_show(struct device *dev,			\
			    struct device_attribute *attr, char *buf)	\
{									\
	struct ionclock_page p;						\
									\
	ionclock_page_snapshot(dev_idev(dev), &p);			\
	return sysfs_emit(buf, _fmt "\n", _expr);			\
}									\
static DEVICE_ATTR_RO(_name)

IONCLOCK_PAGE_ATTR(state, "%s", ionclock_state_name(p.state));
IONCLOCK_PAGE_ATTR(flags, "0x%x", p.flags);
IONCLOCK_PAGE_ATTR(generation, "%u", p.generation);
IONCLOCK_PAGE_ATTR(offset_ns, "%lld", (long long)p.phc_offset_ns);
IONCLOCK_PAGE_ATTR(freq_ppb, "%lld", (long long)p.phc_freq_ppb);
IONCLOCK_PAGE_ATTR(bound_ns, "%llu", (unsigned long long)p.error_bound_ns);
IONCLOCK_PAGE_ATTR(samples_taken, "%llu",
		   (unsigned long long)p.samples_taken);
IONCLOCK_PAGE_ATTR(samples_rejected, "%llu",
		   (unsigned long long)p.samples_rejected);
IONCLOCK_PAGE_ATTR(steps_detected, "%llu",
		   (unsigned long long)p.steps_detected);
IONCLOCK_PAGE_ATTR(disruptions, "%u", p.disruptions);
IONCLOCK_PAGE_ATTR(tai_utc_offset_s, "%d", p.tai_utc_offset_s);
IONCLOCK_PAGE_ATTR(leap_expiry_tai_s, "%llu",
		   (unsigned long long)p.leap_expiry_tai_s);
IONCLOCK_PAGE_ATTR(vmclock, "%s",
		   ionclock_vmclock_state_name(p.vmclock_state));
IONCLOCK_PAGE_ATTR(vmclock_disruption_marker, "%llu",
		   (unsigned long long)p.vmclock_disruption_marker);

/* Seconds since the last good sample, while not following the PHC. */
static ssize_t holdover_s_show(struct device *dev,
			       struct device_attribute *attr, char *buf)
{
	struct ionclock_dev *idev = dev_idev(dev);
	struct ionclock_page p;
	unsigned long s = 0;

	ionclock_page_snapshot(idev, &p);
	if (p.state == IONCLOCK_STATE_HOLDOVER ||
	    p.state == IONCLOCK_STATE_UNRELIABLE)
		s = (jiffies - READ_ONCE(idev->last_good)) / HZ;
	return sysfs_emit(buf, "%lu\n", s);
}
static DEVICE_ATTR_RO(holdover_s);

static ssize_t phc_show(struct device *dev, struct device_attribute *attr,
			char *buf)
{
	struct ionclock_dev *idev = dev_idev(dev);
	ssize_t n;

	mutex_lock(&idev->lock);
	if (idev->phc.gone)
		n = sysfs_emit(buf, "none %s\n", idev->phc.name);
	else
		n = sysfs_emit(buf, "ptp%d %s\n", idev->phc.index,
			       idev->phc.name);
	mutex_unlock(&idev->lock);
	return n;
}
static DEVICE_ATTR_RO(phc);

static struct attribute *ionclock_attrs[] = {
	&dev_attr_state.attr,
	&dev_attr_flags.attr,
	&dev_attr_generation.attr,
	&dev_attr_offset_ns.attr,
	&dev_attr_freq_ppb.attr,
	&dev_attr_bound_ns.attr,
	&dev_attr_samples_taken.attr,
	&dev_attr_samples_rejected.attr,
	&dev_attr_steps_detected.attr,
	&dev_attr_disruptions.attr,
	&dev_attr_tai_utc_offset_s.attr,
	&dev_attr_leap_expiry_tai_s.attr,
	&dev_attr_vmclock.attr,
	&dev_attr_vmclock_disruption_marker.attr,
	&dev_attr_holdover_s.attr,
	&dev_attr_phc.attr,
	NULL,
};

static const struct attribute_group ionclock_group = {
	.attrs = ionclock_attrs,
};

const struct attribute_group *ionclock_groups[] = {
	&ionclock_group,
	NULL,
};
