// SPDX-License-Identifier: GPL-2.0
/*
 * The sampler: every poll period, read the PHC a few times against the
 * counter, feed the best reading to the engine and publish the result.
 * It runs from a workqueue because reading a PHC may sleep (the posix_clock
 * rwsem, and drivers that talk to their hardware over a bus).
 */
#include <linux/jiffies.h>
#include <linux/math64.h>
#include <linux/ratelimit.h>
#include <linux/time64.h>
#include <linux/timekeeping.h>

#include <linux/ionclock_names.h>

#include "ionclock_kmod.h"

static void report_state(struct ionclock_dev *idev)
{
	struct ionclock_engine *e = &idev->engine;

	if (idev->state_reported == e->state)
		return;
	idev->state_reported = e->state;
	if (e->state == IONCLOCK_STATE_HOLDOVER && !idev->phc.gone)
		pr_warn("%s: ptp%d keeps failing: holdover on the last frequency\n",
			idev->devname, idev->phc.index);
	else if (e->state == IONCLOCK_STATE_UNRELIABLE)
		pr_warn("%s: ptp%d runs at an implausible rate (%lld ppb from nominal): not followed\n",
			idev->devname, idev->phc.index,
			div_s64(e->fit_freq_frac40 * 1000, 1LL << 30));
	else if (e->state == IONCLOCK_STATE_HOLDOVER)
		pr_warn("%s: ptp%d is gone: holdover on the last frequency\n",
			idev->devname, idev->phc.index);
	else
		pr_info("%s: ptp%d: %s\n", idev->devname, idev->phc.index,
			ionclock_state_name(e->state));
}

/*
 * CLOCK_TAI - CLOCK_REALTIME, as phc2sys -a or chrony set it; 0 means
 * nobody set it (adjtimex ADJ_TAI), not that TAI == UTC.  Taken at every
 * sample: it may be set, or change at a leap, after the module loaded.
 */
static s32 kernel_tai_offset_s(void)
{
	s64 diff = ktime_get_clocktai_ns() - ktime_get_real_ns();

	return (s32)div_s64(diff + NSEC_PER_SEC / 2, NSEC_PER_SEC);
}

/*
 * TAI - UTC at the UTC time a PHC on UTC reads: from the leap table as of
 * that moment (the page's offset stays the pre-leap one through the
 * smear), else the offset the page publishes from its best source, else
 * the kernel's (before the first publish).
 */
static s32 utc_phc_offset_s(struct ionclock_dev *idev, u64 phc_ns)
{
	if (idev->leaps)
		return ionclock_leaps_offset_at_utc(idev->leaps,
						    div_u64(phc_ns,
							    NSEC_PER_SEC));
	if (idev->tai_offset_valid)
		return idev->tai_offset_s;
	return idev->kernel_tai_offset_s;
}

static void ionclock_sample_work(struct work_struct *work)
{
	struct ionclock_dev *idev =
		container_of(to_delayed_work(work), struct ionclock_dev, work);
	struct ionclock_sample s;
	bool synced;
	int err;

	mutex_lock(&idev->lock);
	synced = ionclock_counter_synced();
	if (synced == idev->engine.counter_unsynced) {
		if (synced)
			pr_info("%s: the TSC is the kernel's clocksource again\n",
				idev->devname);
		else
			pr_warn("%s: the kernel no longer uses the TSC (unstable, or another clocksource): readers go through read()\n",
				idev->devname);
		ionclock_engine_counter_synced(&idev->engine, synced);
	}
	if (idev->phc.gone && time_after(jiffies, idev->last_reattach + HZ)) {
		idev->last_reattach = jiffies;
		if (!ionclock_phc_reattach(&idev->phc)) {
			pr_info("%s: %s is back as ptp%d\n", idev->devname,
				idev->phc.name, idev->phc.index);
			ionclock_disruption_note(idev,
						 IONCLOCK_DISRUPTION_PHC_CHANGED);
		}
	}
	/*
	 * What the hypervisor says goes first: a sample taken after a
	 * migration must not join the window of the samples before it.
	 */
	ionclock_disruption_check(idev, ionclock_vmclock_check(idev));
	idev->kernel_tai_offset_s = kernel_tai_offset_s();
	err = idev->phc.gone ? -ENODEV :
	      ionclock_phc_sample(&idev->phc, ionclock_reads_per_sample, &s);
	if (!err) {
		if (ionclock_phc_timescale == IONCLOCK_TIMESCALE_UTC)
			s.phc_ns += (u64)utc_phc_offset_s(idev, s.phc_ns) *
				    NSEC_PER_SEC;
		ionclock_engine_add_sample(&idev->engine, &s);
		idev->last_good = jiffies;
	} else if (err == -ENODEV || idev->phc.gone) {
		idev->phc.gone = true;
		if (idev->engine.state != IONCLOCK_STATE_HOLDOVER)
			ionclock_engine_lost(&idev->engine);
	} else {
		idev->engine.samples_rejected++;
		pr_warn_ratelimited("%s: reading ptp%d failed: %d\n",
				    idev->devname, idev->phc.index, err);
		/*
		 * A PHC that keeps failing is not followed: holdover until
		 * it has given IONCLOCK_MIN_FIT good samples again.
		 */
		if (++idev->failed_in_row >= IONCLOCK_FAILS_FOR_HOLDOVER &&
		    idev->engine.state != IONCLOCK_STATE_HOLDOVER)
			ionclock_engine_lost(&idev->engine);
	}
	if (!err)
		idev->failed_in_row = 0;
	ionclock_page_publish(idev);
	report_state(idev);
	mutex_unlock(&idev->lock);

	queue_delayed_work(system_unbound_wq, &idev->work,
			   msecs_to_jiffies(READ_ONCE(idev->poll_ms)));
}

void ionclock_sampler_start(struct ionclock_dev *idev)
{
	idev->state_reported = -1;
	idev->last_good = jiffies;
	idev->last_reattach = jiffies;
	INIT_DELAYED_WORK(&idev->work, ionclock_sample_work);
	queue_delayed_work(system_unbound_wq, &idev->work, 0);
}

void ionclock_sampler_stop(struct ionclock_dev *idev)
{
	cancel_delayed_work_sync(&idev->work);
}
