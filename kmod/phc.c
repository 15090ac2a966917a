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
#include <linux/fs_struct.h>
#include <linux/kdev_t.h>
#include <linux/netdevice.h>
#include <linux/platform_device.h>
#include <linux/rtnetlink.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/timekeeping.h>
#include <linux/cred.h>
#include <net/net_namespace.h>

#include "compat.h"
#include "ionclock_kmod.h"

/*
 * The leading members of the PTP core's private struct ptp_clock, identical
 * in every supported kernel.  Every use is checked against the device model
 * and against ptp_clock_index() (see phc_validate()) before it is trusted.
 */
struct ionclock_ptp_prefix {
	struct posix_clock clock;
	struct device dev;
	struct ptp_clock_info *info;
};

/*
 * A test build of the module (selftests/vm/run.sh) sets this to make the
 * mirror look wrong, to see the check below refuse the PHC.
 */
#ifndef IONCLOCK_TEST_MIRROR_SKEW
#define IONCLOCK_TEST_MIRROR_SKEW 0
#endif

static struct ionclock_ptp_prefix *to_prefix(struct posix_clock *clk)
{
	return container_of(clk, struct ionclock_ptp_prefix, clock);
}

static bool is_ptp_device(const struct device *dev)
{
	return dev->class && !strcmp(dev->class->name, "ptp");
}

static int match_ptp_child(struct device *dev, void *data)
{
	int *index = data;

	if (is_ptp_device(dev) && sscanf(dev_name(dev), "ptp%d", index) == 1)
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
 * The first registered "ptp" class device that @match accepts, with a
 * reference held, or NULL.  The PTP core keeps its class to itself, so
 * the walk goes over every device (every struct device sits in the one
 * devices kset, platform_bus's), under the kset's lock, taking a
 * reference only on a device whose kobject is still live, as
 * kset_find_obj() does.  No file is opened here: this is how a path is
 * judged before open(), and how a vanished PHC is looked for.
 */
static struct device *ptp_device_find(bool (*match)(struct device *dev,
						    const void *data),
				      const void *data)
{
	struct kset *devices = platform_bus.kobj.kset;
	struct device *found = NULL;
	struct kobject *k;

	if (!devices)
		return NULL;
	spin_lock(&devices->list_lock);
	list_for_each_entry(k, &devices->list, entry) {
		struct device *dev = kobj_to_dev(k);

		if (is_ptp_device(dev) && match(dev, data) &&
		    kobject_get_unless_zero(k)) {
			found = dev;
			break;
		}
	}
	spin_unlock(&devices->list_lock);
	return found;
}

static bool match_devt(struct device *dev, const void *data)
{
	return dev->devt == *(const dev_t *)data;
}

/*
 * What stays the same when a PHC goes and comes back (PCI rescan, driver
 * reload), and differs between two PHCs that share a clock name (mlx5,
 * bnxt, tg3 and vclocks name every clock alike): the device the PHC
 * belongs to, by bus and bus address ("pci:0000:03:00.0").  A PHC without
 * a parent device (ptp_kvm) has nothing better than its clock name.
 */
static void phc_identity(struct device *ptp_dev, const char *clock_name,
			 char *buf, size_t size)
{
	struct device *parent = ptp_dev->parent;

	if (parent && parent->bus)
		snprintf(buf, size, "%s:%s", parent->bus->name,
			 dev_name(parent));
	else if (parent)
		snprintf(buf, size, "dev:%s", dev_name(parent));
	else
		snprintf(buf, size, "name:%s", clock_name);
}

/*
 * Is @f, opened on the inode of @dev, that PHC?  Walk from the inode's
 * cdev to the device it was added under (cdev_device_add() makes that
 * device the cdev's kobject parent), and accept it only if that is @dev,
 * whose posix_clock is the one the file was opened on.  The mirror of the
 * PTP core's private struct ptp_clock is then checked against what the
 * core itself exports: ptp_clock_index() of the object we take for a
 * ptp_clock must be the minor of its device, or the mirror is wrong.
 */
static struct posix_clock *phc_validate(struct file *f, struct device *dev)
{
	struct inode *inode = file_inode(f);
	struct ionclock_ptp_prefix *h;
	struct posix_clock *clk;
	int index;

	if (!S_ISCHR(inode->i_mode) || !inode->i_cdev ||
	    inode->i_rdev != dev->devt ||
	    inode->i_cdev->kobj.parent != &dev->kobj ||
	    sscanf(dev_name(dev), "ptp%d", &index) != 1 ||
	    MINOR(dev->devt) != index)
		return NULL;
	clk = container_of(inode->i_cdev, struct posix_clock, cdev);
	if (clk->dev != dev || ionclock_file_posix_clock(f) != clk)
		return NULL;
	h = to_prefix(clk);
	if (&h->dev != dev || dev_get_drvdata(dev) != h)
		return NULL;
	index = ptp_clock_index((struct ptp_clock *)h) +
		IONCLOCK_TEST_MIRROR_SKEW;
	if (index != MINOR(dev->devt)) {
		pr_err("%s: the PTP core says index %d, the device ptp%u: this kernel's struct ptp_clock is not the one ionclock was written for\n",
		       dev_name(dev), index, MINOR(dev->devt));
		return NULL;
	}
	return clk;
}

/* The ABI keeps its size: the read method took reserved words. */
static_assert(sizeof(struct ionclock_info) == 136);

/*
 * The cross-timestamp's uncertainty on our counter: sys_monoraw is whole
 * ns (1 ns), the conversion from the snapshot just before adds one tick of
 * rounding and, over the distance @d_ns between them, the nominal rate's
 * error (tsc_khz is whole kHz: under 1 ppm).
 */
static u64 cross_half_width(s64 d_ns)
{
	u64 d = d_ns < 0 ? -d_ns : d_ns;

	return ionclock_counter_ticks(1 + div_u64(d, 1000000)) + 1;
}

/*
 * One cross-timestamp: the PHC and CLOCK_MONOTONIC_RAW latched together by
 * the hardware (PTM, ART), put on our counter through a snapshot taken
 * right before.
 */
static int phc_read_cross(struct ptp_clock_info *info,
			  struct ionclock_sample *s)
{
	struct system_device_crosststamp xt;
	struct system_time_snapshot snap;
	struct timespec64 raw;
	u64 at;
	int err;

	memset(&xt, 0, sizeof(xt));	/* clock_id, where there is one: REALTIME */
	ionclock_snapshot(&snap);
	err = info->getcrosststamp(info, &xt);
	if (err)
		return err;
	raw = ktime_to_timespec64(xt.sys_monoraw);
	if (!ionclock_counter_from_stamp(&snap, true, &raw, &at) ||
	    ktime_to_ns(xt.device) < 0)
		return -EIO;
	s->counter = at;
	s->half_width = cross_half_width(ktime_to_ns(xt.sys_monoraw) -
					 ktime_to_ns(ionclock_snapshot_raw(&snap)));
	s->phc_ns = ktime_to_ns(xt.device);
	return 0;
}

/*
 * One read through gettimex64 (or gettime64, where @method says so),
 * bracketed by our own counter reads and narrowed to the driver's stamps
 * when they lie within them.
 */
static int phc_read_x(struct ptp_clock_info *info, u32 method,
		      const struct system_time_snapshot *snap,
		      struct ionclock_sample *s)
{
	struct ptp_system_timestamp sts;
	struct ionclock_stamps st;
	struct timespec64 ts;
	bool raw = ionclock_sts_request_raw(&sts);
	u64 before, after, pre, post;
	int err;

	before = ionclock_counter_read();
	if (method == IONCLOCK_READ_GETTIME64)
		err = info->gettime64(info, &ts);
	else
		err = info->gettimex64(info, &ts, &sts);
	after = ionclock_counter_read();
	if (err)
		return err;
	if (method != IONCLOCK_READ_GETTIME64) {
		ionclock_stamps_get(&sts, raw, &st);
		if (st.cycles && ionclock_counter_id() == IONCLOCK_COUNTER_TSC) {
			pre = st.pre_cycles;
			post = st.post_cycles;
		} else if (!ionclock_counter_from_stamp(snap, st.raw, &st.pre,
							&pre) ||
			   !ionclock_counter_from_stamp(snap, st.raw, &st.post,
							&post)) {
			pre = before;
			post = after;
		}
		if (pre >= before && post <= after && pre <= post) {
			before = pre;
			after = post;
		}
	}
	if (after < before || ts.tv_sec < 0)
		return -EIO;
	s->counter = before + (after - before) / 2;
	s->half_width = (after - before + 1) / 2;
	s->phc_ns = timespec64_to_ns(&ts);
	return 0;
}

static bool phc_gone_err(int err)
{
	return err == -ENODEV || err == -ESHUTDOWN;
}

/*
 * The most precise method the driver supports (see IONCLOCK_READ_* in the
 * uapi header).  A driver may offer getcrosststamp and still refuse it
 * (e1000e and igc without PTM or ART say -EOPNOTSUPP): it is tried once,
 * when @cross.
 * Called under the rwsem, the clock not a zombie.
 */
static u32 phc_probe_method(struct ptp_clock_info *info, bool cross)
{
	struct ionclock_sample s;

	if (cross && info->getcrosststamp && !phc_read_cross(info, &s))
		return IONCLOCK_READ_CROSSTSTAMP;
	if (info->gettimex64) {
		struct ptp_system_timestamp sts;

		return ionclock_sts_request_raw(&sts) ?
		       IONCLOCK_READ_GETTIMEX64_RAW : IONCLOCK_READ_GETTIMEX64;
	}
	return info->gettime64 ? IONCLOCK_READ_GETTIME64 : IONCLOCK_READ_NONE;
}


/* Close what phc_open() opened; @phc's root stays. */
static void phc_close(struct ionclock_phc *phc)
{
	if (phc->file)
		filp_close(phc->file, NULL);
	phc->file = NULL;
	phc->clk = NULL;
}

/*
 * Open the PHC at @path, looked up from @phc's root.  The inode is judged
 * first, without opening it: the path is resolved into an O_PATH file
 * (which calls no driver's open()), and it must be a character device
 * whose number belongs to a registered "ptp" class device, so a FIFO, a
 * regular file, /dev/watchdog or any other device is refused before its
 * open() could block or act.  The file is then opened from the very
 * path that was judged, so nothing can be swapped in between.
 */
static int phc_open(struct ionclock_phc *phc, const char *path)
{
	struct ionclock_ptp_prefix *h;
	struct file *fpath, *f;
	struct device *dev;
	struct inode *inode;

	fpath = file_open_root(&phc->root, path, O_PATH, 0);
	if (IS_ERR(fpath))
		return PTR_ERR(fpath);
	inode = d_backing_inode(fpath->f_path.dentry);
	if (!S_ISCHR(inode->i_mode)) {
		fput(fpath);
		return -ENOTTY;
	}
	dev = ptp_device_find(match_devt, &inode->i_rdev);
	if (!dev) {
		fput(fpath);
		return -ENODEV;
	}
	f = dentry_open(&fpath->f_path, O_RDONLY, current_cred());
	fput(fpath);
	if (IS_ERR(f)) {
		put_device(dev);
		return PTR_ERR(f);
	}
	phc->clk = phc_validate(f, dev);
	if (!phc->clk) {
		put_device(dev);
		filp_close(f, NULL);
		return -ENODEV;
	}
	h = to_prefix(phc->clk);
	phc->file = f;
	phc->index = MINOR(dev->devt);
	phc->devt = dev->devt;
	phc->gone = false;

	down_read(&phc->clk->rwsem);
	if (phc->clk->zombie) {
		up_read(&phc->clk->rwsem);
		put_device(dev);
		phc_close(phc);
		return -ESHUTDOWN;
	}
	strscpy(phc->name, h->info->name, sizeof(phc->name));
	phc->method = phc_probe_method(h->info, true);
	up_read(&phc->clk->rwsem);
	phc_identity(dev, phc->name, phc->identity, sizeof(phc->identity));
	find_ifname(phc, dev);
	put_device(dev);
	return 0;
}

static const char *const method_names[] = {
	[IONCLOCK_READ_NONE] = "none",
	[IONCLOCK_READ_GETTIME64] = "gettime64",
	[IONCLOCK_READ_GETTIMEX64] = "gettimex64 (CLOCK_REALTIME stamps)",
	[IONCLOCK_READ_GETTIMEX64_RAW] = "gettimex64 (CLOCK_MONOTONIC_RAW stamps)",
	[IONCLOCK_READ_CROSSTSTAMP] = "cross-timestamp",
};

int ionclock_phc_attach(struct ionclock_phc *phc, const char *spec)
{
	char path[32];
	int index, err;

	if (!spec || !*spec) {
		pr_err("phc=: an empty entry: give an interface name, /dev/ptpN or N\n");
		return -EINVAL;
	}
	if (!strncmp(spec, "/dev/", 5)) {
		if (strscpy(path, spec, sizeof(path)) < 0) {
			pr_err("phc=%s: path too long\n", spec);
			return -ENAMETOOLONG;
		}
	} else if (isdigit(*spec)) {
		err = kstrtoint(spec, 10, &index);
		if (err || index < 0 || index >= MINORMASK) {
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

	/* Paths are the loader's, now and when the sampler looks again. */
	get_fs_root(current->fs, &phc->root);
	err = phc_open(phc, path);
	if (err) {
		path_put(&phc->root);
		phc->root = (struct path){};
	}
	if (err == -ENOTTY)
		pr_err("phc=%s: %s is not a character device, so not a PTP hardware clock\n",
		       spec, path);
	else if (err == -ENODEV)
		pr_err("phc=%s: %s is not a PTP hardware clock\n", spec, path);
	else if (err == -ESHUTDOWN)
		pr_err("phc=%s: the PHC is being removed\n", spec);
	else if (err)
		pr_err("phc=%s: cannot open %s: %d\n", spec, path, err);
	else
		pr_info("phc=%s: %s is read with %s\n", spec, path,
			method_names[phc->method]);
	return err == -ENOTTY ? -ENODEV : err;
}

static bool match_identity(struct device *dev, const void *data)
{
	char id[sizeof_field(struct ionclock_phc, identity)];

	phc_identity(dev, "", id, sizeof(id));
	return !strcmp(id, data);
}

/* Open @path into @phc if it is the PHC whose identity @phc holds. */
static int phc_open_same(struct ionclock_phc *phc, const char *path)
{
	struct ionclock_phc found = { .root = phc->root };

	if (phc_open(&found, path))
		return -ENODEV;
	if (strcmp(found.identity, phc->identity)) {
		phc_close(&found);
		return -ENODEV;
	}
	phc_close(phc);
	*phc = found;
	return 0;
}

/*
 * After the PHC went away, look for one with the same identity (see
 * phc_identity()): PCI rescan or a driver reload brings the same hardware
 * back, possibly as another /dev/ptpN.  Another PHC that merely shares
 * the clock name is not it.  A PHC known by its device is looked up in
 * the device model; one known only by its clock name has to be opened to
 * learn that, so /dev/ptp0..31 are tried.
 */
int ionclock_phc_reattach(struct ionclock_phc *phc)
{
	struct device *dev;
	char path[32];
	int i;

	if (strncmp(phc->identity, "name:", 5)) {
		dev = ptp_device_find(match_identity, phc->identity);
		if (!dev)
			return -ENODEV;
		snprintf(path, sizeof(path), "/dev/%s", dev_name(dev));
		put_device(dev);
		return phc_open_same(phc, path);
	}
	for (i = 0; i < 32; i++) {
		snprintf(path, sizeof(path), "/dev/ptp%d", i);
		if (!phc_open_same(phc, path))
			return 0;
	}
	return -ENODEV;
}

void ionclock_phc_detach(struct ionclock_phc *phc)
{
	phc_close(phc);
	if (phc->root.mnt)
		path_put(&phc->root);
	phc->root = (struct path){};
}

/*
 * Take @reads readings with the PHC's method and keep the one with the
 * smallest bracket: its midpoint is the best estimate of when the PHC was
 * latched.
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
	ionclock_snapshot(&snap);
	for (i = 0; i < reads; i++) {
		struct ionclock_sample s;

		if (phc->method == IONCLOCK_READ_CROSSTSTAMP) {
			err = phc_read_cross(info, &s);
			/* Refused after all: the next method from now on. */
			if (err == -EOPNOTSUPP) {
				phc->method = phc_probe_method(info, false);
				pr_warn("ptp%d refuses cross-timestamps now: read with %s\n",
					phc->index, method_names[phc->method]);
			}
		} else if (phc->method != IONCLOCK_READ_NONE) {
			err = phc_read_x(info, phc->method, &snap, &s);
		} else {
			err = -EOPNOTSUPP;
		}
		/* One failed read spoils only itself; a vanished PHC, all. */
		if (phc_gone_err(err))
			break;
		if (err)
			continue;
		if (2 * s.half_width < best_width) {
			best_width = 2 * s.half_width;
			*best = s;
		}
	}
	up_read(&clk->rwsem);
	if (phc_gone_err(err)) {
		phc->gone = true;
		return err;
	}
	if (best_width == U64_MAX)
		return err ? err : -EIO;
	phc->half_width_ns = (u32)min_t(u64, U32_MAX,
					mul_u64_u64_shr(best->half_width,
							ionclock_counter_nominal_mult(),
							ionclock_counter_shift()));
	return 0;
}
