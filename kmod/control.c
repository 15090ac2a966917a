// SPDX-License-Identifier: GPL-2.0
/*
 * The ioctls that change how a device behaves: the engine's policies and
 * the leap table.  Reading them needs nothing; changing them needs
 * CAP_SYS_TIME, as setting the system clock does.  Every argument is
 * checked whole before anything changes.
 */
#include <linux/capability.h>
#include <linux/math64.h>
#include <linux/minmax.h>
#include <linux/stddef.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <linux/uaccess.h>

#include <linux/ionclock_tunables.h>

#include "ionclock_kmod.h"

static bool reserved_zero(const __u64 *r, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r[i])
			return false;
	return true;
}

long ionclock_ioctl_get_config(struct ionclock_dev *idev, void __user *arg)
{
	struct ionclock_config cfg;
	const struct ionclock_params *pp = &idev->engine.params;

	if (copy_from_user(&cfg, arg, sizeof(cfg)))
		return -EFAULT;
	if (cfg.flags || !reserved_zero(cfg.reserved, ARRAY_SIZE(cfg.reserved)))
		return -EINVAL;
	memset(&cfg, 0, sizeof(cfg));
	mutex_lock(&idev->lock);
	cfg.poll_ms = idev->poll_ms;
	cfg.max_slew_ppb = pp->max_slew_ppb;
	cfg.step_threshold_ns = pp->step_threshold_ns;
	cfg.step_forward = pp->step_forward;
	cfg.max_freq_ppb = pp->max_freq_ppb;
	cfg.drift_ppb = pp->drift_ppb;
	cfg.upstream_error_ns = pp->upstream_ns;
	cfg.smear_window_s = idev->smear_window_s;
	cfg.machine_id = idev->id_machine & IONCLOCK_ID_MACHINE_SET ?
			 idev->id_machine & IONCLOCK_ID_MACHINE_MASK :
			 IONCLOCK_MACHINE_ID_UNSET;
	mutex_unlock(&idev->lock);
	return copy_to_user(arg, &cfg, sizeof(cfg)) ? -EFAULT : 0;
}

#define TUNABLE(name)							\
	{								\
		.field = #name,						\
		.bit = IONCLOCK_TUNABLE_BIT(name),			\
		.offset = offsetof(struct ionclock_config, name),	\
		.size = sizeof_field(struct ionclock_config, name),	\
		.min = IONCLOCK_TUNABLE_MIN(name),			\
		.max = IONCLOCK_TUNABLE_MAX(name),			\
		.param = IONCLOCK_TUNABLE_PARAM(name) ? #name : NULL,	\
	}

/*
 * Every setting's range, in the ioctl's units, from the one table of
 * <linux/ionclock_tunables.h>.  The module parameters of the same names
 * are checked against the same rows (main.c).
 */
const struct ionclock_tunable ionclock_tunables[] = {
	TUNABLE(poll_ms),
	TUNABLE(max_slew_ppb),
	TUNABLE(step_threshold_ns),
	TUNABLE(step_forward),
	TUNABLE(max_freq_ppb),
	TUNABLE(drift_ppb),
	TUNABLE(upstream_error_ns),
	TUNABLE(smear_window_s),
	TUNABLE(machine_id),
};

const unsigned int ionclock_tunables_count = ARRAY_SIZE(ionclock_tunables);

const struct ionclock_tunable *ionclock_tunable(u32 bit)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ionclock_tunables); i++)
		if (ionclock_tunables[i].bit == bit)
			return &ionclock_tunables[i];
	return NULL;
}

static u64 config_field(const struct ionclock_config *cfg,
			const struct ionclock_tunable *t)
{
	const void *field = (const u8 *)cfg + t->offset;

	return t->size == sizeof(u64) ? *(const u64 *)field :
					*(const u32 *)field;
}

/* -ERANGE if any field that @cfg->set names is out of its documented range. */
static int check_config(const struct ionclock_config *cfg)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(ionclock_tunables); i++) {
		const struct ionclock_tunable *t = &ionclock_tunables[i];
		u64 v = config_field(cfg, t);

		/* The one value outside a range: no machine id, no IDs. */
		if (t->bit == IONCLOCK_CONFIG_MACHINE_ID &&
		    v == IONCLOCK_MACHINE_ID_UNSET)
			continue;
		if ((cfg->set & t->bit) && (v < t->min || v > t->max))
			return -ERANGE;
	}
	return 0;
}

/*
 * Changing the smear window while a smear runs would step the smeared UTC
 * clock: is a leap within half of @window of now?
 */
static bool smear_running(struct ionclock_dev *idev, u32 window)
{
	struct ionclock_leap_state st;
	u64 now_s;

	if (!idev->leaps || !idev->engine.published)
		return false;
	now_s = div_u64(ionclock_mapping_eval(&idev->engine.map,
					      ionclock_counter_read()),
			NSEC_PER_SEC);
	ionclock_leaps_at(idev->leaps, now_s, window, &st);
	return st.delta_s && now_s + window / 2 + 1 >= st.leap_tai_s &&
	       now_s <= st.leap_tai_s + window / 2 + 1;
}

long ionclock_ioctl_set_config(struct ionclock_dev *idev, void __user *arg)
{
	struct ionclock_params *pp = &idev->engine.params;
	struct ionclock_config cfg;
	int err;

	if (!capable(CAP_SYS_TIME))
		return -EPERM;
	if (copy_from_user(&cfg, arg, sizeof(cfg)))
		return -EFAULT;
	if (cfg.flags || (cfg.set & ~IONCLOCK_CONFIG_ALL) ||
	    !reserved_zero(cfg.reserved, ARRAY_SIZE(cfg.reserved)))
		return -EINVAL;
	err = check_config(&cfg);
	if (err)
		return err;

	mutex_lock(&idev->lock);
	if ((cfg.set & IONCLOCK_CONFIG_SMEAR_WINDOW) &&
	    smear_running(idev, max(cfg.smear_window_s, idev->smear_window_s))) {
		mutex_unlock(&idev->lock);
		return -EBUSY;
	}
	if (cfg.set & IONCLOCK_CONFIG_POLL)
		idev->poll_ms = cfg.poll_ms;
	if (cfg.set & IONCLOCK_CONFIG_MAX_SLEW)
		pp->max_slew_ppb = cfg.max_slew_ppb;
	if (cfg.set & IONCLOCK_CONFIG_STEP_THRESHOLD)
		pp->step_threshold_ns = cfg.step_threshold_ns;
	if (cfg.set & IONCLOCK_CONFIG_STEP_FORWARD)
		pp->step_forward = cfg.step_forward;
	if (cfg.set & IONCLOCK_CONFIG_MAX_FREQ)
		pp->max_freq_ppb = cfg.max_freq_ppb;
	if (cfg.set & IONCLOCK_CONFIG_DRIFT)
		pp->drift_ppb = cfg.drift_ppb;
	if (cfg.set & IONCLOCK_CONFIG_UPSTREAM_ERROR)
		pp->upstream_ns = cfg.upstream_error_ns;
	if (cfg.set & IONCLOCK_CONFIG_SMEAR_WINDOW)
		idev->smear_window_s = cfg.smear_window_s;
	/* ids.c reads it without the lock. */
	if (cfg.set & IONCLOCK_CONFIG_MACHINE_ID)
		WRITE_ONCE(idev->id_machine,
			   cfg.machine_id == IONCLOCK_MACHINE_ID_UNSET ? 0 :
			   IONCLOCK_ID_MACHINE_SET | (u32)cfg.machine_id);
	/* Show the new bound and leap fields now, not at the next sample. */
	ionclock_page_publish(idev);
	mutex_unlock(&idev->lock);
	return 0;
}

long ionclock_ioctl_get_leaps(struct ionclock_dev *idev, void __user *arg)
{
	struct ionclock_leap_table *t;
	long ret = 0;

	t = memdup_user(arg, sizeof(*t));
	if (IS_ERR(t))
		return PTR_ERR(t);
	if (t->flags || !reserved_zero(t->reserved, ARRAY_SIZE(t->reserved))) {
		kfree(t);
		return -EINVAL;
	}
	mutex_lock(&idev->lock);
	if (idev->leaps)
		memcpy(t, idev->leaps, sizeof(*t));
	else
		ret = -ENODATA;
	mutex_unlock(&idev->lock);
	if (!ret && copy_to_user(arg, t, sizeof(*t)))
		ret = -EFAULT;
	kfree(t);
	return ret;
}

long ionclock_ioctl_set_leaps(struct ionclock_dev *idev, void __user *arg)
{
	struct ionclock_leap_table *t, *old;
	u32 count;
	s32 offset_s;
	u64 expiry_s;
	int err;

	if (!capable(CAP_SYS_TIME))
		return -EPERM;
	t = memdup_user(arg, sizeof(*t));
	if (IS_ERR(t))
		return PTR_ERR(t);
	err = ionclock_leaps_validate(t);
	if (err) {
		kfree(t);
		return err;
	}
	/*
	 * What the log line says is taken while the table is ours: once the
	 * lock is dropped a concurrent SET_LEAPS may replace and free it.
	 */
	count = t->count;
	offset_s = t->leaps[count - 1].tai_utc_offset_s;
	expiry_s = t->expiry_utc_s;
	mutex_lock(&idev->lock);
	/* Smeared UTC must not go back (a table loaded mid-smear). */
	if (idev->engine.published)
		err = ionclock_leaps_may_replace(idev->leaps,
				idev->tai_offset_s, idev->tai_offset_valid,
				t, ionclock_mapping_eval(&idev->engine.map,
							 ionclock_counter_read()),
				idev->smear_window_s);
	if (err) {
		mutex_unlock(&idev->lock);
		kfree(t);
		return err;
	}
	old = idev->leaps;
	idev->leaps = t;
	ionclock_page_publish(idev);
	mutex_unlock(&idev->lock);
	kfree(old);
	pr_info("%s: leap table loaded: %u entries, TAI-UTC %d s, expires %llu\n",
		idev->devname, count, offset_s, expiry_s);
	return 0;
}

/* The page's TAI time now: 0, or -EAGAIN while the device has none yet. */
static int tai_now(struct ionclock_dev *idev, u64 *tai_ns)
{
	if (!idev->engine.published)
		return -EAGAIN;
	*tai_ns = ionclock_mapping_eval(&idev->engine.map,
					ionclock_counter_read());
	return 0;
}

long ionclock_ioctl_set_upstream(struct ionclock_dev *idev, void __user *arg)
{
	struct ionclock_upstream u;
	struct ionclock_engine *e = &idev->engine;
	u64 now;
	int err;

	if (!capable(CAP_SYS_TIME))
		return -EPERM;
	if (copy_from_user(&u, arg, sizeof(u)))
		return -EFAULT;
	err = ionclock_upstream_validate(&u);
	if (err)
		return err;
	mutex_lock(&idev->lock);
	err = tai_now(idev, &now);
	if (!err) {
		bool was_fed = idev->upstream.fed;
		u64 changes = idev->upstream.gm_changes;

		ionclock_upstream_apply(&idev->upstream, &u, now,
					idev->smear_window_s);
		e->upstream_fed = idev->upstream.fed;
		e->upstream_reported_ns = idev->upstream.reported_ns;
		e->upstream_measured_tai_ns = idev->upstream.measured_tai_ns;
		e->upstream_renewals = idev->upstream.renewals;
		ionclock_page_publish(idev);
		if (!was_fed && idev->upstream.fed)
			pr_info("%s: upstream fed from the PTP domain\n",
				idev->devname);
		else if (idev->upstream.gm_changes != changes)
			pr_info("%s: grandmaster changed to %8phN\n",
				idev->devname, u.gm_identity);
		else if (!idev->upstream.fed)
			pr_info("%s: upstream feed cleared: upstream_error_ns again\n",
				idev->devname);
	}
	mutex_unlock(&idev->lock);
	return err;
}

long ionclock_ioctl_get_upstream(struct ionclock_dev *idev, void __user *arg)
{
	struct ionclock_upstream u;
	u64 now;
	int err;

	mutex_lock(&idev->lock);
	err = idev->upstream.fed ? tai_now(idev, &now) : -ENODATA;
	if (!err) {
		u = idev->upstream.last;
		u.age_ns = now > idev->upstream.measured_tai_ns ?
			   now - idev->upstream.measured_tai_ns : 0;
	}
	mutex_unlock(&idev->lock);
	if (err)
		return err;
	return copy_to_user(arg, &u, sizeof(u)) ? -EFAULT : 0;
}
