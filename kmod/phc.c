// SPDX-License-Identifier: GPL-2.0
/*
 * Reaching a PHC from inside the kernel.  No exported API reads a PHC, so
 * ionclock opens /dev/ptpN like any user would, keeps the file (which keeps
 * the posix_clock allocated) and calls the driver under the posix_clock's
 * rwsem after checking that the clock is not a zombie: ptp_clock_unregister()
 * marks it a zombie under the write lock before the driver frees its
 * ptp_clock_info, so nothing of the driver is touched once it is gone.
 */
#include <linux/ctype.h>
#include <linux/device.h>
#include <linux/err.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/kdev_t.h>
#include <linux/netdevice.h>
#include <linux/rtnetlink.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "ionclock.h"

/*
 * The leading members of the PTP core's private struct ptp_clock, identical
 * in every supported kernel.  Every use is checked against the device model
 * (see phc_validate()) before it is trusted.
 */
struct ionclock_ptp_prefix {
	struct posix_clock clock;
	struct device dev;
	struct ptp_clock_info *info;
};

static struct ionclock_ptp_prefix *to_prefix(struct posix_clock *clk)
{
	return container_of(clk, struct ionclock_ptp_prefix, clock);
}

static int match_ptp_child(struct device *dev, void *data)
{
	int *index = data;

	if (dev->class && !strcmp(dev->class->name, "ptp") &&
	    sscanf(dev_name(dev), "ptp%d", index) == 1)
		return 1;
	return 0;
}

/* The PHC of a network interface is a "ptp" class child of its device. */
static int ifname_to_index(const char *ifname, int *index)
{
	struct net_device *nd = dev_get_by_name(&init_net, ifname);
	int found = 0;

	if (!nd)
		return -ENODEV;
	if (nd->dev.parent)
		found = device_for_each_child(nd->dev.parent, index,
					      match_ptp_child);
	dev_put(nd);
	return found ? 0 : -EOPNOTSUPP;
}

static void find_ifname(struct ionclock_phc *phc, struct device *ptp_dev)
{
	struct net_device *nd;

	phc->ifname[0] = '\0';
	if (!ptp_dev->parent)
		return;
	rcu_read_lock();
	for_each_netdev_rcu(&init_net, nd) {
		if (nd->dev.parent == ptp_dev->parent) {
			strscpy(phc->ifname, nd->name, sizeof(phc->ifname));
			break;
		}
	}
	rcu_read_unlock();
}

/*
 * Is @f an open PHC?  Walk from the inode's cdev to the device it was added
 * under (cdev_device_add() makes that device the cdev's kobject parent),
 * and accept it only if that device is a "ptp" class device for this very
 * device number whose posix_clock is the one the file was opened on.
 */
static struct posix_clock *phc_validate(struct file *f)
{
	struct inode *inode = file_inode(f);
	struct ionclock_ptp_prefix *h;
	struct kobject *parent;
	struct posix_clock *clk;
	struct device *dev;
	int index;

	if (!S_ISCHR(inode->i_mode) || !inode->i_cdev)
		return NULL;
	parent = inode->i_cdev->kobj.parent;
	if (!parent || !kobject_name(parent) ||
	    sscanf(kobject_name(parent), "ptp%d", &index) != 1)
		return NULL;
	dev = kobj_to_dev(parent);
	if (!dev->class || strcmp(dev->class->name, "ptp") ||
	    dev->devt != inode->i_rdev || MINOR(dev->devt) != index)
		return NULL;
	clk = container_of(inode->i_cdev, struct posix_clock, cdev);
	if (clk->dev != dev || ionclock_file_posix_clock(f) != clk)
		return NULL;
	h = to_prefix(clk);
	if (&h->dev != dev || dev_get_drvdata(dev) != h)
		return NULL;
	return clk;
}

/* Open @path, check that it is a PHC that is not going away, note its names. */
static int phc_open(struct ionclock_phc *phc, const char *path)
{
	struct ionclock_ptp_prefix *h;
	struct file *f;

	f = filp_open(path, O_RDONLY, 0);
	if (IS_ERR(f))
		return PTR_ERR(f);
	phc->clk = phc_validate(f);
	if (!phc->clk) {
		filp_close(f, NULL);
		return -ENODEV;
	}
	h = to_prefix(phc->clk);
	phc->file = f;
	phc->index = MINOR(h->dev.devt);
	phc->gone = false;

	down_read(&phc->clk->rwsem);
	if (phc->clk->zombie) {
		up_read(&phc->clk->rwsem);
		ionclock_phc_detach(phc);
		return -ESHUTDOWN;
	}
	strscpy(phc->name, h->info->name, sizeof(phc->name));
	up_read(&phc->clk->rwsem);
	find_ifname(phc, &h->dev);
	return 0;
}

int ionclock_phc_attach(struct ionclock_phc *phc, const char *spec)
{
	char path[32];
	int index, err;

	if (!spec || !*spec) {
		pr_err("no PHC given: load with phc=<ifname>, phc=/dev/ptpN or phc=N\n");
		return -EINVAL;
	}
	if (!strncmp(spec, "/dev/", 5)) {
		if (strscpy(path, spec, sizeof(path)) < 0)
			return -ENAMETOOLONG;
	} else if (isdigit(*spec)) {
		err = kstrtoint(spec, 10, &index);
		if (err || index < 0) {
			pr_err("phc=%s: not a PHC index\n", spec);
			return -EINVAL;
		}
		snprintf(path, sizeof(path), "/dev/ptp%d", index);
	} else {
		err = ifname_to_index(spec, &index);
		if (err == -ENODEV)
			pr_err("phc=%s: no such network interface\n", spec);
		else if (err)
			pr_err("phc=%s: the interface has no PTP hardware clock\n",
			       spec);
		if (err)
			return err;
		snprintf(path, sizeof(path), "/dev/ptp%d", index);
	}

	err = phc_open(phc, path);
	if (err == -ENODEV)
		pr_err("phc=%s: %s is not a PTP hardware clock\n", spec, path);
	else if (err == -ESHUTDOWN)
		pr_err("phc=%s: the PHC is being removed\n", spec);
	else if (err)
		pr_err("phc=%s: cannot open %s: %d\n", spec, path, err);
	return err;
}

/*
 * After the PHC went away, look for one with the same clock name (for a
 * NIC, its MAC address): PCI rescan or a driver reload brings the same
 * hardware back, possibly as another /dev/ptpN.
 */
int ionclock_phc_reattach(struct ionclock_phc *phc)
{
	struct ionclock_phc found = {};
	char path[32];
	int i;

	for (i = 0; i < 32; i++) {
		snprintf(path, sizeof(path), "/dev/ptp%d", i);
		if (phc_open(&found, path))
			continue;
		if (phc->name[0] && !strcmp(found.name, phc->name)) {
			ionclock_phc_detach(phc);
			*phc = found;
			return 0;
		}
		ionclock_phc_detach(&found);
	}
	return -ENODEV;
}

void ionclock_phc_detach(struct ionclock_phc *phc)
{
	if (phc->file)
		filp_close(phc->file, NULL);
	phc->file = NULL;
	phc->clk = NULL;
}

/*
 * Take @reads bracketed readings and keep the one with the smallest bracket:
 * its midpoint is the best estimate of when the PHC was latched.
 */
int ionclock_phc_sample(struct ionclock_phc *phc, unsigned int reads,
			struct ionclock_sample *best)
{
	struct posix_clock *clk = phc->clk;
	struct system_time_snapshot snap;
	struct ptp_clock_info *info;
	u64 best_width = U64_MAX;
	unsigned int i;
	int err = 0;

	if (!clk)
		return -ENODEV;
	down_read(&clk->rwsem);
	if (clk->zombie) {
		up_read(&clk->rwsem);
		return -ENODEV;
	}
	info = to_prefix(clk)->info;
	ktime_get_snapshot(&snap);
	for (i = 0; i < reads; i++) {
		struct ptp_system_timestamp sts;
		struct timespec64 ts;
		bool raw = ionclock_sts_request_raw(&sts);
		u64 before, after, pre, post;

		before = ionclock_counter_read();
		if (info->gettimex64)
			err = info->gettimex64(info, &ts, &sts);
		else
			err = info->gettime64(info, &ts);
		after = ionclock_counter_read();
		/* One failed read spoils only itself; a vanished PHC, all. */
		if (err == -ENODEV || err == -ESHUTDOWN)
			break;
		if (err)
			continue;
		/* The driver's own stamps, when they narrow the bracket. */
		if (info->gettimex64 &&
		    ionclock_counter_from_stamp(&snap, raw, &sts.pre_ts, &pre) &&
		    ionclock_counter_from_stamp(&snap, raw, &sts.post_ts,
						&post) &&
		    pre >= before && post <= after && pre <= post) {
			before = pre;
			after = post;
		}
		if (after < before || ts.tv_sec < 0) {
			err = -EIO;
			continue;
		}
		if (after - before < best_width) {
			best_width = after - before;
			best->counter = before + (after - before) / 2;
			best->half_width = (after - before + 1) / 2;
			best->phc_ns = timespec64_to_ns(&ts);
		}
	}
	up_read(&clk->rwsem);
	if (err == -ENODEV || err == -ESHUTDOWN) {
		phc->gone = true;
		return err;
	}
	return best_width == U64_MAX ? (err ? err : -EIO) : 0;
}
