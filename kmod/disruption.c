// SPDX-License-Identifier: GPL-2.0
/*
 * Disruptions the guest can see by itself, without vmclock: before each
 * sample the sampler looks at how far the counter, CLOCK_MONOTONIC_RAW,
 * CLOCK_MONOTONIC and CLOCK_BOOTTIME moved since the last look.
 *
 * - BOOTTIME ran on while MONOTONIC stood: the machine was suspended (S3,
 *   hibernation); the counter may have stopped, reset or run on.
 * - The counter moved away from MONOTONIC_RAW by more than any plausible
 *   rate explains: its offset was changed under the kernel (a TSC that the
 *   hypervisor moved at a migration or restore while the kernel keeps time
 *   on another clocksource, or a TSC reset).
 * - Far more time passed than the poll period can explain: the VM was
 *   paused or its host process stopped, a live migration's downtime, or
 *   the sampler starved.  Nothing was measured meanwhile, and whatever the
 *   host did to the clocks then is not known.
 *
 * A PHC that vanished and came back (sampler.c) is one too: it may be
 * another device at the same address, with its own oscillator and time.
 * So is whatever the hypervisor announces through a vmclock device
 * (vmclock.c): its disruption marker or generation moving.
 *
 * The judgement is plain C (ionclock_disruption_judge(), host-tested in
 * selftests/unit); the rest takes the clocks and tells the engine.
 */
#ifdef __KERNEL__
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/preempt.h>
#include <linux/timekeeping.h>
#endif
#include <linux/ionclock.h>

#include "disruption.h"

static u64 abs_diff_s64(s64 a, s64 b)
{
	return a > b ? (u64)a - (u64)b : (u64)b - (u64)a;
}

/*
 * What the gap @g says, as IONCLOCK_DISRUPTION_* bits (0: nothing), for a
 * sampler due every @poll_ns and a counter whose rate may be off its
 * nominal one by @max_freq_ppb.
 */
u32 ionclock_disruption_judge(const struct ionclock_gap *g, u64 poll_ns,
			      u32 max_freq_ppb)
{
	u64 stall = poll_ns + (poll_ns > IONCLOCK_STALL_MIN_NS ? poll_ns :
			       IONCLOCK_STALL_MIN_NS);
	u64 raw = g->raw_ns > 0 ? (u64)g->raw_ns : 0;
	u64 allowed;
	u32 cause = 0;

	if (g->boot_ns - g->mono_ns > IONCLOCK_SUSPEND_MIN_NS)
		cause |= IONCLOCK_DISRUPTION_SUSPEND;
	/* raw * max_freq_ppb / 10^9, without a 64-bit overflow. */
	allowed = IONCLOCK_COUNTER_JUMP_MIN_NS +
		  (raw / 1000000000ULL) * max_freq_ppb +
		  (raw % 1000000000ULL) * max_freq_ppb / 1000000000ULL;
	if (abs_diff_s64(g->counter_ns, g->raw_ns) > allowed)
		cause |= IONCLOCK_DISRUPTION_COUNTER_JUMP;
	if (g->raw_ns > 0 && raw > stall)
		cause |= IONCLOCK_DISRUPTION_STALL;
	return cause;
}

/*
 * Whether the vmclock says the counter was disrupted between the looks
 * @last and @now: its disruption marker moved, or its generation counter
 * (bumped on a snapshot restore) where the device has one.  A device
 * that was not there, or not readable, at either look says nothing.
 */
bool ionclock_vmclock_disrupted(const struct ionclock_vmclock_look *last,
				const struct ionclock_vmclock_look *now)
{
	if (!last->valid || !now->valid)
		return false;
	if (now->marker != last->marker)
		return true;
	return (now->flags & IONCLOCK_VMCLOCK_F_GENERATION_PRESENT) &&
	       (last->flags & IONCLOCK_VMCLOCK_F_GENERATION_PRESENT) &&
	       now->generation != last->generation;
}

#ifdef __KERNEL__
#include <linux/ionclock_names.h>

#include "ionclock_kmod.h"

static void report(struct ionclock_dev *idev, u32 cause, s64 gap_ns)
{
	char what[64] = "";
	unsigned int i;
	size_t len = 0;

	for (i = 0; i < IONCLOCK_DISRUPTION_CAUSES; i++)
		if (cause & (1u << i))
			len += scnprintf(what + len, sizeof(what) - len, "%s%s",
					 len ? ", " : "",
					 ionclock_disruption_name(i));
	if (gap_ns)
		pr_warn("%s: disruption (%s) after %lld ms without a sample: the fit restarts, the bound widens until the rate is re-fitted\n",
			idev->devname, what, div_s64(gap_ns, NSEC_PER_MSEC));
	else
		pr_warn("%s: disruption (%s): the fit restarts, the bound widens until the rate is re-fitted\n",
			idev->devname, what);
}

/* Tell the engine of a disruption of @cause found by someone else. */
void ionclock_disruption_note(struct ionclock_dev *idev, u32 cause)
{
	lockdep_assert_held(&idev->lock);
	report(idev, cause, 0);
	ionclock_engine_disrupted(&idev->engine, cause);
}

/*
 * Before each sample: the clocks now against the last look, and @also
 * (IONCLOCK_DISRUPTION_* the caller found, the vmclock's), as one
 * disruption.  The first look after load only records the clocks.
 */
void ionclock_disruption_check(struct ionclock_dev *idev, u32 also)
{
	struct ionclock_disruption_look *last = &idev->last_look, now;
	struct ionclock_gap g;
	u64 d, poll_ns;
	u32 cause;

	lockdep_assert_held(&idev->lock);
	preempt_disable();
	now.counter = ionclock_counter_read();
	now.raw_ns = ktime_get_raw_ns();
	now.mono_ns = ktime_get_ns();
	now.boot_ns = ktime_get_boottime_ns();
	preempt_enable();
	now.poll_ns = (u64)READ_ONCE(idev->poll_ms) * NSEC_PER_MSEC;
	if (!last->valid) {
		*last = now;
		last->valid = true;
		if (also) {
			report(idev, also, 0);
			ionclock_engine_disrupted(&idev->engine, also);
		}
		return;
	}
	d = now.counter - last->counter;
	g.counter_ns = now.counter >= last->counter ?
		       (s64)ionclock_counter_to_ns(&idev->engine, d) :
		       -(s64)ionclock_counter_to_ns(&idev->engine, -d);
	g.raw_ns = now.raw_ns - last->raw_ns;
	g.mono_ns = now.mono_ns - last->mono_ns;
	g.boot_ns = now.boot_ns - last->boot_ns;
	/* The gap was due after the longer period, if poll_ms just changed. */
	poll_ns = max(now.poll_ns, last->poll_ns);
	*last = now;
	last->valid = true;
	cause = ionclock_disruption_judge(&g, poll_ns,
					  idev->engine.params.max_freq_ppb) |
		also;
	if (!cause)
		return;
	report(idev, cause, cause & ~also ? g.raw_ns : 0);
	ionclock_engine_disrupted(&idev->engine, cause);
}
#endif
