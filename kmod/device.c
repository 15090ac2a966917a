// SPDX-License-Identifier: GPL-2.0
/*
 * /dev/ionclockN: read() for one reading, ioctls for what the device is
 * attached to and what changed, poll() for when it did, and mmap() of the
 * read-only page.
 */
#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/poll.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include "compat.h"
#include "ionclock_kmod.h"

/*
 * One open file: which of the device's changes it has taken
 * (IONCLOCK_IOC_GET_EVENT), and what the page said then.  Under
 * idev->event_lock.
 */
struct ionclock_file {
	struct ionclock_dev *idev;
	u64 seen;
	u32 generation;
	u32 state;
	u32 disruptions;
};

static struct ionclock_dev *file_idev(struct file *f)
{
	struct ionclock_file *of = f->private_data;

	return of->idev;
}

/*
 * Nobody opens a device before the module has finished loading (main.c):
 * a load that fails frees its devices, and must find no reader holding one.
 * Each open file starts having seen everything so far: poll() reports
 * only what changes after the open.
 */
static int ionclock_open(struct inode *inode, struct file *f)
{
	struct miscdevice *misc = f->private_data;
	struct ionclock_dev *idev = container_of(misc, struct ionclock_dev,
						 misc);
	struct ionclock_file *of;

	if (!READ_ONCE(idev->open_ok))
		return -ENODEV;
	of = kzalloc(sizeof(*of), GFP_KERNEL);
	if (!of)
		return -ENOMEM;
	of->idev = idev;
	/* misc_open() holds misc_mtx here: no sleeping lock behind a PHC read. */
	spin_lock(&idev->event_lock);
	of->seen = atomic64_read(&idev->event_seq);
	of->generation = idev->event_gen;
	of->state = idev->event_state;
	of->disruptions = idev->event_disruptions;
	spin_unlock(&idev->event_lock);
	f->private_data = of;
	return 0;
}

static int ionclock_release(struct inode *inode, struct file *f)
{
	kfree(f->private_data);
	return 0;
}

/*
 * After each publication (page.c, under idev->lock): a new generation,
 * state or disruption count is one more change, and wakes every poll().
 */
void ionclock_device_notify(struct ionclock_dev *idev)
{
	const struct ionclock_page *p = idev->vpage;

	lockdep_assert_held(&idev->lock);
	if (p->generation == idev->event_gen &&
	    p->state == idev->event_state &&
	    p->disruptions == idev->event_disruptions)
		return;
	spin_lock(&idev->event_lock);
	idev->event_gen = p->generation;
	idev->event_state = p->state;
	idev->event_disruptions = p->disruptions;
	atomic64_inc(&idev->event_seq);
	spin_unlock(&idev->event_lock);
	wake_up_interruptible_poll(&idev->event_wq, EPOLLPRI);
}

/* read() never blocks; EPOLLPRI while this file has a change to take. */
static __poll_t ionclock_poll(struct file *f, poll_table *wait)
{
	struct ionclock_file *of = f->private_data;
	struct ionclock_dev *idev = of->idev;
	__poll_t mask = EPOLLIN | EPOLLRDNORM;

	poll_wait(f, &idev->event_wq, wait);
	if ((u64)atomic64_read(&idev->event_seq) != READ_ONCE(of->seen))
		mask |= EPOLLPRI;
	return mask;
}

static long ionclock_get_event(struct ionclock_file *of, void __user *arg)
{
	struct ionclock_dev *idev = of->idev;
	struct ionclock_event ev;
	unsigned int i;
	u32 flags;
	u64 seq;

	if (copy_from_user(&ev, arg, sizeof(ev)))
		return -EFAULT;
	if ((ev.flags & ~IONCLOCK_EVENT_PEEK) || ev.pad)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(ev.reserved); i++)
		if (ev.reserved[i])
			return -EINVAL;
	flags = ev.flags;
	memset(&ev, 0, sizeof(ev));

	spin_lock(&idev->event_lock);
	seq = atomic64_read(&idev->event_seq);
	ev.events = seq - of->seen;
	ev.events_total = seq;
	ev.generation = idev->event_gen;
	ev.state = idev->event_state;
	ev.disruptions = idev->event_disruptions;
	ev.old_generation = of->generation;
	ev.old_state = of->state;
	ev.page_flags = READ_ONCE(idev->vpage->flags);
	ev.disruption_cause = READ_ONCE(idev->vpage->disruption_cause);
	if (ev.generation != of->generation)
		ev.changed |= IONCLOCK_EVENT_GENERATION;
	if (ev.state != of->state)
		ev.changed |= IONCLOCK_EVENT_STATE;
	if (ev.disruptions != of->disruptions)
		ev.changed |= IONCLOCK_EVENT_DISRUPTION;
	if (!(flags & IONCLOCK_EVENT_PEEK)) {
		WRITE_ONCE(of->seen, seq);
		of->generation = ev.generation;
		of->state = ev.state;
		of->disruptions = ev.disruptions;
	}
	spin_unlock(&idev->event_lock);
	return copy_to_user(arg, &ev, sizeof(ev)) ? -EFAULT : 0;
}

/*
 * Each reading is strictly greater than every one handed out before, by
 * anyone: take the clock's value, or one more than the last value returned
 * if the clock has not moved past it yet.
 */
static ssize_t ionclock_read(struct file *f, char __user *buf, size_t count,
			     loff_t *pos)
{
	struct ionclock_dev *idev = file_idev(f);
	struct ionclock_reading r;
	s64 last, next;
	int err;

	if (count < sizeof(r))
		return -EINVAL;
	err = ionclock_page_read(idev, &r);
	if (err)
		return err;
	last = atomic64_read(&idev->last_unique);
	do {
		next = max_t(s64, (s64)r.tai_ns, last + 1);
	} while (!atomic64_try_cmpxchg(&idev->last_unique, &last, next));
	r.latest_ns += (u64)next - r.tai_ns;
	r.tai_ns = next;
	if (copy_to_user(buf, &r, sizeof(r)))
		return -EFAULT;
	return sizeof(r);
}

static long ionclock_get_info(struct ionclock_dev *idev, void __user *arg)
{
	struct ionclock_info info;
	unsigned int i;

	if (copy_from_user(&info, arg, sizeof(info)))
		return -EFAULT;
	if (info.flags || info.read_method || info.read_half_width_ns)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(info.reserved); i++)
		if (info.reserved[i])
			return -EINVAL;

	memset(&info, 0, sizeof(info));
	mutex_lock(&idev->lock);
	info.phc_index = idev->phc.gone ? -1 : idev->phc.index;
	info.state = READ_ONCE(idev->vpage->state);
	strscpy(info.phc_name, idev->phc.name, sizeof(info.phc_name));
	strscpy(info.ifname, idev->phc.ifname, sizeof(info.ifname));
	info.read_method = idev->phc.method;
	info.read_half_width_ns = idev->phc.half_width_ns;
	mutex_unlock(&idev->lock);
	info.abi_version = IONCLOCK_ABI_VERSION;
	info.counter_id = ionclock_counter_id();
	info.phc_timescale = ionclock_phc_timescale;
	return copy_to_user(arg, &info, sizeof(info)) ? -EFAULT : 0;
}

static long ionclock_ioctl(struct file *f, unsigned int cmd, unsigned long arg)
{
	struct ionclock_dev *idev = file_idev(f);

	switch (cmd) {
	case IONCLOCK_IOC_GET_INFO:
		return ionclock_get_info(idev, (void __user *)arg);
	case IONCLOCK_IOC_GET_CONFIG:
		return ionclock_ioctl_get_config(idev, (void __user *)arg);
	case IONCLOCK_IOC_SET_CONFIG:
		return ionclock_ioctl_set_config(idev, (void __user *)arg);
	case IONCLOCK_IOC_GET_LEAPS:
		return ionclock_ioctl_get_leaps(idev, (void __user *)arg);
	case IONCLOCK_IOC_SET_LEAPS:
		return ionclock_ioctl_set_leaps(idev, (void __user *)arg);
	case IONCLOCK_IOC_NEXT_ID:
		return ionclock_ioctl_next_id(idev, (void __user *)arg);
	case IONCLOCK_IOC_SET_UPSTREAM:
		return ionclock_ioctl_set_upstream(idev, (void __user *)arg);
	case IONCLOCK_IOC_GET_UPSTREAM:
		return ionclock_ioctl_get_upstream(idev, (void __user *)arg);
	case IONCLOCK_IOC_GET_EVENT:
		return ionclock_get_event(f->private_data, (void __user *)arg);
	default:
		return -ENOTTY;
	}
}

/*
 * Exactly one page at offset 0, read-only for good: VM_MAYWRITE is cleared
 * so mprotect(PROT_WRITE) fails too.  The mapping holds its own reference
 * to the page.
 */
static int ionclock_mmap(struct file *f, struct vm_area_struct *vma)
{
	struct ionclock_dev *idev = file_idev(f);

	if (vma->vm_pgoff || vma->vm_end - vma->vm_start != PAGE_SIZE)
		return -EINVAL;
	if (vma->vm_flags & (VM_WRITE | VM_EXEC))
		return -EPERM;
	/* A MAP_SHARED mapping of a read-only file only has VM_MAYSHARE. */
	if (!(vma->vm_flags & VM_MAYSHARE))
		return -EINVAL;
	ionclock_vma_deny_write(vma);
	return vm_insert_page(vma, vma->vm_start, idev->page);
}

static const struct file_operations ionclock_fops = {
	.owner = THIS_MODULE,
	.open = ionclock_open,
	.release = ionclock_release,
	.read = ionclock_read,
	.poll = ionclock_poll,
	.unlocked_ioctl = ionclock_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = ionclock_mmap,
	.llseek = noop_llseek,
};

int ionclock_device_register(struct ionclock_dev *idev)
{
	snprintf(idev->devname, sizeof(idev->devname), "ionclock%d",
		 idev->id);
	init_waitqueue_head(&idev->event_wq);
	spin_lock_init(&idev->event_lock);
	idev->misc.minor = MISC_DYNAMIC_MINOR;
	idev->misc.name = idev->devname;
	idev->misc.fops = &ionclock_fops;
	idev->misc.groups = ionclock_groups;
	/* Reading time needs no privilege. */
	idev->misc.mode = 0444;
	return misc_register(&idev->misc);
}

void ionclock_device_unregister(struct ionclock_dev *idev)
{
	misc_deregister(&idev->misc);
}
