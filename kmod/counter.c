// SPDX-License-Identifier: GPL-2.0
/*
 * The counter the published mapping is a function of.  Userspace must be
 * able to read it cheaply and the kernel must read the same thing: the TSC
 * when it is the kernel's clocksource (then the kernel has checked it is
 * synchronised across CPUs, which is what lets readers on different CPUs
 * agree), CLOCK_MONOTONIC_RAW otherwise.
 */
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/string.h>
#include <linux/timekeeping.h>
#include <asm/tsc.h>

#include <linux/ionclock_names.h>

#include "compat.h"
#include "ionclock_kmod.h"

#define IONCLOCK_COUNTER_SHIFT	32

static u8 counter_id;
static u64 nominal_mult;

/*
 * Use the TSC exactly when the kernel's own timekeeping (and so the vDSO)
 * does: it is the current clocksource and has not been marked unstable.
 * The kernel has then checked it is synchronised across CPUs.  The
 * clocksource's name is not exported; a clocksource snapshot taken between
 * two TSC reads lies between them only if the clocksource is the TSC.
 */
static bool tsc_is_clocksource(void)
{
	struct system_time_snapshot snap;
	u64 before, after;

	if (!boot_cpu_has(X86_FEATURE_TSC) || check_tsc_unstable() ||
	    !tsc_khz)
		return false;
	before = rdtsc_ordered();
	ionclock_snapshot(&snap);
	after = rdtsc_ordered();
	return snap.cycles >= before && snap.cycles <= after;
}

int ionclock_counter_init(const char *which)
{
	bool tsc_ok = tsc_is_clocksource();

	if (!strcmp(which, "tsc") && !tsc_ok) {
		pr_err("counter=tsc: the TSC is not the kernel's clocksource\n");
		return -EINVAL;
	}
	if (!strcmp(which, "tsc") || (!strcmp(which, "auto") && tsc_ok)) {
		counter_id = IONCLOCK_COUNTER_TSC;
		nominal_mult = div_u64((u64)NSEC_PER_MSEC << IONCLOCK_COUNTER_SHIFT,
				       tsc_khz);
	} else if (!strcmp(which, "auto") || !strcmp(which, "monotonic_raw")) {
		counter_id = IONCLOCK_COUNTER_MONOTONIC_RAW;
		nominal_mult = 1ULL << IONCLOCK_COUNTER_SHIFT;
	} else {
		pr_err("counter=%s: expected auto, tsc or monotonic_raw\n",
		       which);
		return -EINVAL;
	}
	pr_info("counter: %s\n", ionclock_counter_name(counter_id));
	return 0;
}

/*
 * Whether the kernel still vouches for the counter across CPUs: for the
 * TSC, whether it is still the clocksource, which the watchdog changes
 * when it finds it unstable (and an administrator can change through
 * sysfs).  The sampler asks at every poll: no notifier tells modules.
 */
bool ionclock_counter_synced(void)
{
	return counter_id != IONCLOCK_COUNTER_TSC || tsc_is_clocksource();
}

u8 ionclock_counter_id(void)
{
	return counter_id;
}

u64 ionclock_counter_read(void)
{
	if (counter_id == IONCLOCK_COUNTER_TSC)
		return rdtsc_ordered();
	return ktime_get_raw_ns();
}

/*
 * A system timestamp a PHC driver took right around its register read
 * (ptp_read_system_prets/postts), put on our counter's scale through a
 * clocksource snapshot taken just before: the stamps are CLOCK_REALTIME,
 * or CLOCK_MONOTONIC_RAW where the kernel lets us ask (@raw).  They sit
 * closer to the hardware read than our own counter reads around the whole
 * driver call, which also cover its locking.  Over the microseconds
 * between snapshot and stamp, treating REALTIME's rate as RAW's (at most
 * 500 ppm apart) costs well under a nanosecond.
 */
bool ionclock_counter_from_stamp(const struct system_time_snapshot *snap,
				 bool raw, const struct timespec64 *ts,
				 u64 *out)
{
	s64 d;

	if (!ts->tv_sec && !ts->tv_nsec)
		return false;	/* the driver does not stamp */
	d = timespec64_to_ns(ts) -
	    ktime_to_ns(raw ? ionclock_snapshot_raw(snap) :
			      ionclock_snapshot_real(snap));
	if (d < -(s64)NSEC_PER_SEC || d > (s64)NSEC_PER_SEC)
		return false;
	if (counter_id == IONCLOCK_COUNTER_TSC)
		*out = snap->cycles + div_s64(d * (s64)tsc_khz, USEC_PER_SEC);
	else
		*out = ktime_to_ns(ionclock_snapshot_raw(snap)) + d;
	return true;
}

/* @ns as counter ticks at the nominal rate, rounded up. */
u64 ionclock_counter_ticks(u64 ns)
{
	if (counter_id == IONCLOCK_COUNTER_TSC)
		return DIV_ROUND_UP_ULL(ns * tsc_khz, USEC_PER_SEC);
	return ns;
}

u64 ionclock_counter_nominal_mult(void)
{
	return nominal_mult;
}

u32 ionclock_counter_shift(void)
{
	return IONCLOCK_COUNTER_SHIFT;
}
