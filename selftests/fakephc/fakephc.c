// SPDX-License-Identifier: GPL-2.0
/*
 * fakephc: a PTP hardware clock whose faults a test controls, for the
 * ionclock fault tests.  Test-only; never load it on a machine that matters.
 *
 * The clock is CLOCK_MONOTONIC_RAW scaled by a rate error and moved by
 * steps: PHC = base_phc + d + d * (rate_ppb + servo_ppb) / 10^9, with d the
 * raw time since the last change, so every change is continuous unless it
 * is meant to be a step.  It starts at CLOCK_TAI (as ptp4l would set it).
 *
 * The controls are module parameters, writable at run time under
 * /sys/module/fakephc/parameters/ (and settable at load): they need nothing
 * mounted (debugfs is not in the test VM's initramfs, and lockdown can
 * close it), the module parameter lock serialises writers, and the same
 * names work on the insmod line.
 *
 *   rate_ppb	rate error, -10^8 .. 10^8 ppb; a change is a frequency jump;
 *		given at load, the clock runs at it from its first read
 *   step_ns	writing N steps the clock by N ns (either sign)
 *   latency_us	delay around the "register read" in gettimex64: half
 *		before the clock is latched, half after (at least; fsleep())
 *   jitter_us	a random extra delay of 0 .. jitter_us, split at random
 *		between the two sides of the latch
 *   fail_every	gettimex64 fails with -EIO on every Nth call, counted from
 *		the write (0: never)
 *   fail_all	every gettimex64 fails with -EIO
 *   present	0 unregisters the clock (as a NIC that is removed), 1
 *		registers it again under the same clock name
 *   method	at load only: how the clock can be read.  "gettimex64" (the
 *		default): gettimex64 with system stamps around the latch;
 *		"gettime64": gettime64 only, no stamps (a driver without
 *		gettimex64); "crosststamp": also getcrosststamp, the PHC and
 *		CLOCK_MONOTONIC_RAW latched at one instant as PCIe PTM
 *		gives; "crosststamp_refused": getcrosststamp is there but
 *		says -EOPNOTSUPP, as e1000e's does on a CPU without ART
 *   clocks	at load only: how many clocks to register, 1 .. 4.  Each
 *		belongs to a platform device of its own (fakephc.0, .1, ...)
 *		and all have the clock name "fakephc", as the clocks of two
 *		mlx5 or bnxt NICs do.  They share the clock model above;
 *		present removes and brings back clock 0 only.
 *   now_ns	read-only: the clock's time now, through none of the faults
 *		and not counted as a read: the truth a test compares with
 *   reads	read-only: reads (of any method) so far
 *   fails	read-only: those of them failed on purpose
 *
 * The pre/post system stamps are taken around the whole delayed read, so
 * the latch is always inside the bracket a caller sees: the bracket is
 * wide, never wrong.  adjfine, adjtime and settime64 work as a servo
 * (ptp4l, phc_ctl) expects.
 */
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/kernel.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>
#include <linux/platform_device.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/random.h>
#include <linux/spinlock.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

#define FAKEPHC_MAX_PPB		100000000L	/* 10%: rate_ppb and adjfine */
#define FAKEPHC_MAX_CLOCKS	4

/* The clock model; all under fakephc_lock. */
static DEFINE_SPINLOCK(fakephc_lock);
static u64 base_raw_ns;		/* CLOCK_MONOTONIC_RAW at the last change */
static s64 base_phc_ns;		/* the clock's time then */
static long rate_ppb;		/* injected rate error */
static long servo_ppb;		/* set through adjfine */

/* Registration; under fakephc_mutex. */
static DEFINE_MUTEX(fakephc_mutex);
static struct platform_device *fakephc_parent[FAKEPHC_MAX_CLOCKS];
static struct ptp_clock_info fakephc_infos[FAKEPHC_MAX_CLOCKS];
static struct ptp_clock *fakephc_clocks[FAKEPHC_MAX_CLOCKS];
static bool fakephc_live;	/* module init done, exit not begun */
static bool present = true;
static unsigned int clocks = 1;
static char *method = "gettimex64";

static unsigned int latency_us;
static unsigned int jitter_us;
static unsigned int fail_every;
static bool fail_all;
static s64 step_ns;
static atomic_t fail_count;	/* calls since fail_every was written */
static atomic_t reads;
static atomic_t fails;

static s64 fakephc_at_locked(u64 raw)
{
	u64 d = raw - base_raw_ns;
	long ppb = rate_ppb + servo_ppb;
	u64 corr = mul_u64_u64_div_u64(d, ppb < 0 ? -ppb : ppb, NSEC_PER_SEC);

	return base_phc_ns + (s64)d + (ppb < 0 ? -(s64)corr : (s64)corr);
}

/* Start a new segment here, so that what changes next applies from now. */
static void fakephc_rebase_locked(void)
{
	u64 now = ktime_get_raw_ns();

	base_phc_ns = fakephc_at_locked(now);
	base_raw_ns = now;
}

static void fakephc_step(s64 delta)
{
	spin_lock(&fakephc_lock);
	fakephc_rebase_locked();
	base_phc_ns += delta;
	spin_unlock(&fakephc_lock);
}

static int fakephc_adjfine(struct ptp_clock_info *info, long scaled_ppm)
{
	spin_lock(&fakephc_lock);
	fakephc_rebase_locked();
	servo_ppb = scaled_ppm_to_ppb(scaled_ppm);
	spin_unlock(&fakephc_lock);
	return 0;
}

static int fakephc_adjtime(struct ptp_clock_info *info, s64 delta)
{
	fakephc_step(delta);
	return 0;
}

static int fakephc_settime64(struct ptp_clock_info *info,
			     const struct timespec64 *ts)
{
	spin_lock(&fakephc_lock);
	base_raw_ns = ktime_get_raw_ns();
	base_phc_ns = timespec64_to_ns(ts);
	spin_unlock(&fakephc_lock);
	return 0;
}

/* Count a read; true if it is one to fail on purpose. */
static bool fakephc_read_fails(void)
{
	unsigned int every = READ_ONCE(fail_every);
	u32 n = (u32)atomic_inc_return(&fail_count);

	atomic_inc(&reads);
	if (READ_ONCE(fail_all) || (every && n % every == 0)) {
		atomic_inc(&fails);
		return true;
	}
	return false;
}

static int fakephc_gettimex64(struct ptp_clock_info *info,
			      struct timespec64 *ts,
			      struct ptp_system_timestamp *sts)
{
	unsigned int latency = READ_ONCE(latency_us);
	unsigned int jitter = READ_ONCE(jitter_us);
	unsigned int extra = 0, before;
	s64 ns;

	if (fakephc_read_fails())
		return -EIO;
	if (jitter)
		extra = get_random_u32_inclusive(0, jitter);
	before = latency / 2 + (extra ? get_random_u32_inclusive(0, extra) : 0);

	ptp_read_system_prets(sts);
	if (before)
		fsleep(before);
	spin_lock(&fakephc_lock);
	ns = fakephc_at_locked(ktime_get_raw_ns());
	spin_unlock(&fakephc_lock);
	if (latency + extra > before)
		fsleep(latency + extra - before);
	ptp_read_system_postts(sts);

	*ts = ns_to_timespec64(ns);
	return 0;
}

/* The same read, delays and faults included, with no stamps. */
static int fakephc_gettime64(struct ptp_clock_info *info,
			     struct timespec64 *ts)
{
	return fakephc_gettimex64(info, ts, NULL);
}

/*
 * The clock and CLOCK_MONOTONIC_RAW latched at one instant, as PTM gives
 * them: the clock's time is computed from that very raw reading, so the
 * pair is exact.  The system time is that of the clock id asked for,
 * taken right after, where the kernel asks for one (else CLOCK_REALTIME).
 * Faults apply; delays do not move the latch, so they are left out.
 */
static int fakephc_getcrosststamp(struct ptp_clock_info *info,
				  struct system_device_crosststamp *xt)
{
	u64 raw;
	s64 ns;

	if (fakephc_read_fails())
		return -EIO;
	spin_lock(&fakephc_lock);
	raw = ktime_get_raw_ns();
	ns = fakephc_at_locked(raw);
	spin_unlock(&fakephc_lock);
	xt->device = ns_to_ktime(ns);
	xt->sys_monoraw = ns_to_ktime(raw);
#ifdef FAKEPHC_HAVE_SYS_SYSTIME
	switch (xt->clock_id) {
	case CLOCK_REALTIME:
		xt->sys_systime = ktime_get_real();
		break;
	case CLOCK_MONOTONIC_RAW:
		xt->sys_systime = xt->sys_monoraw;
		break;
	case CLOCK_MONOTONIC:
		xt->sys_systime = ktime_get();
		break;
	default:
		return -EOPNOTSUPP;
	}
#else
	xt->sys_realtime = ktime_get_real();
#endif
	return 0;
}

static int fakephc_crosststamp_refused(struct ptp_clock_info *info,
				       struct system_device_crosststamp *xt)
{
	atomic_inc(&reads);
	return -EOPNOTSUPP;
}

static int fakephc_enable(struct ptp_clock_info *info,
			  struct ptp_clock_request *rq, int on)
{
	return -EOPNOTSUPP;
}

static struct ptp_clock_info fakephc_info = {
	.owner		= THIS_MODULE,
	.name		= "fakephc",
	.max_adj	= FAKEPHC_MAX_PPB,
	.adjfine	= fakephc_adjfine,
	.adjtime	= fakephc_adjtime,
	.gettimex64	= fakephc_gettimex64,
	.settime64	= fakephc_settime64,
	.enable		= fakephc_enable,
};

static int fakephc_register(unsigned int i)
{
	struct ptp_clock *clock;

	if (fakephc_clocks[i])
		return 0;
	clock = ptp_clock_register(&fakephc_infos[i], &fakephc_parent[i]->dev);
	if (IS_ERR_OR_NULL(clock))
		return clock ? PTR_ERR(clock) : -ENODEV;
	fakephc_clocks[i] = clock;
	pr_info("clock %u registered as ptp%d\n", i, ptp_clock_index(clock));
	return 0;
}

static void fakephc_unregister(unsigned int i)
{
	if (!fakephc_clocks[i])
		return;
	pr_info("clock %u, ptp%d, removed\n", i,
		ptp_clock_index(fakephc_clocks[i]));
	ptp_clock_unregister(fakephc_clocks[i]);
	fakephc_clocks[i] = NULL;
}

static int rate_set(const char *val, const struct kernel_param *kp)
{
	long v;
	int err = kstrtol(val, 0, &v);

	if (err)
		return err;
	if (v < -FAKEPHC_MAX_PPB || v > FAKEPHC_MAX_PPB)
		return -ERANGE;
	spin_lock(&fakephc_lock);
	fakephc_rebase_locked();
	rate_ppb = v;
	spin_unlock(&fakephc_lock);
	return 0;
}

static const struct kernel_param_ops rate_ops = {
	.set = rate_set,
	.get = param_get_long,
};
module_param_cb(rate_ppb, &rate_ops, &rate_ppb, 0644);
MODULE_PARM_DESC(rate_ppb, "Rate error of the clock, ppb (-100000000 .. 100000000)");

/* At load, step_ns is the clock's initial offset from CLOCK_TAI. */
static int step_set(const char *val, const struct kernel_param *kp)
{
	s64 v;
	int err = kstrtos64(val, 0, &v);

	if (err)
		return err;
	mutex_lock(&fakephc_mutex);
	if (fakephc_live)
		fakephc_step(v);
	step_ns = v;
	mutex_unlock(&fakephc_mutex);
	return 0;
}

static int s64_get(char *buffer, const struct kernel_param *kp)
{
	return sprintf(buffer, "%lld\n", *(s64 *)kp->arg);
}

static const struct kernel_param_ops step_ops = {
	.set = step_set,
	.get = s64_get,
};
module_param_cb(step_ns, &step_ops, &step_ns, 0644);
MODULE_PARM_DESC(step_ns, "Write N to step the clock by N ns; reads back the last step");

module_param(latency_us, uint, 0644);
MODULE_PARM_DESC(latency_us, "Delay of a clock read, us, half on each side of the latch");

module_param(jitter_us, uint, 0644);
MODULE_PARM_DESC(jitter_us, "Random extra delay of a clock read, 0 .. jitter_us us");

static int fail_every_set(const char *val, const struct kernel_param *kp)
{
	int err = param_set_uint(val, kp);

	if (!err)
		atomic_set(&fail_count, 0);
	return err;
}

static const struct kernel_param_ops fail_every_ops = {
	.set = fail_every_set,
	.get = param_get_uint,
};
module_param_cb(fail_every, &fail_every_ops, &fail_every, 0644);
MODULE_PARM_DESC(fail_every, "Fail every Nth clock read with -EIO, counted from this write (0: never)");

module_param(fail_all, bool, 0644);
MODULE_PARM_DESC(fail_all, "Fail every clock read with -EIO");

static int present_set(const char *val, const struct kernel_param *kp)
{
	bool on;
	int err = kstrtobool(val, &on);

	if (err)
		return err;
	mutex_lock(&fakephc_mutex);
	if (fakephc_live) {
		if (on)
			err = fakephc_register(0);
		else
			fakephc_unregister(0);
	}
	if (!err)
		present = on;
	mutex_unlock(&fakephc_mutex);
	return err;
}

static const struct kernel_param_ops present_ops = {
	.set = present_set,
	.get = param_get_bool,
};
module_param_cb(present, &present_ops, &present, 0644);
MODULE_PARM_DESC(present, "0: remove the clock; 1: register it again under the same name");

static int now_get(char *buffer, const struct kernel_param *kp)
{
	s64 ns;

	spin_lock(&fakephc_lock);
	ns = fakephc_at_locked(ktime_get_raw_ns());
	spin_unlock(&fakephc_lock);
	return sprintf(buffer, "%lld\n", ns);
}

static const struct kernel_param_ops now_ops = {
	.get = now_get,
};
module_param_cb(now_ns, &now_ops, NULL, 0444);
MODULE_PARM_DESC(now_ns, "The clock's time now, ns, free of faults: the truth for tests");

static int counter_get(char *buffer, const struct kernel_param *kp)
{
	return sprintf(buffer, "%u\n", (u32)atomic_read((atomic_t *)kp->arg));
}

static const struct kernel_param_ops counter_ops = {
	.get = counter_get,
};
module_param_cb(reads, &counter_ops, &reads, 0444);
MODULE_PARM_DESC(reads, "Clock reads (gettimex64 calls) so far");
module_param_cb(fails, &counter_ops, &fails, 0444);
MODULE_PARM_DESC(fails, "Clock reads failed on purpose so far");

module_param(method, charp, 0444);
MODULE_PARM_DESC(method, "At load: gettimex64 (default), gettime64 (no gettimex64), crosststamp or crosststamp_refused");

/* The driver's read callbacks for method=, into @info. */
static int fakephc_set_method(struct ptp_clock_info *info)
{
	if (!strcmp(method, "gettimex64"))
		return 0;
	if (!strcmp(method, "gettime64")) {
		info->gettimex64 = NULL;
		info->gettime64 = fakephc_gettime64;
	} else if (!strcmp(method, "crosststamp")) {
		info->getcrosststamp = fakephc_getcrosststamp;
	} else if (!strcmp(method, "crosststamp_refused")) {
		info->getcrosststamp = fakephc_crosststamp_refused;
	} else {
		pr_err("method=%s: expected gettimex64, gettime64, crosststamp or crosststamp_refused\n",
		       method);
		return -EINVAL;
	}
	return 0;
}

module_param(clocks, uint, 0444);
MODULE_PARM_DESC(clocks, "Clocks to register, 1 .. 4, each under its own platform device, all named fakephc");

static void fakephc_remove_all(void)
{
	unsigned int i;

	for (i = 0; i < FAKEPHC_MAX_CLOCKS; i++) {
		fakephc_unregister(i);
		if (fakephc_parent[i])
			platform_device_unregister(fakephc_parent[i]);
		fakephc_parent[i] = NULL;
	}
}

static int __init fakephc_init(void)
{
	unsigned int i;
	int err = 0;

	if (!clocks || clocks > FAKEPHC_MAX_CLOCKS)
		return -EINVAL;
	err = fakephc_set_method(&fakephc_info);
	if (err)
		return err;
	spin_lock(&fakephc_lock);
	base_raw_ns = ktime_get_raw_ns();
	base_phc_ns = ktime_get_clocktai_ns() + step_ns;
	spin_unlock(&fakephc_lock);

	mutex_lock(&fakephc_mutex);
	for (i = 0; i < clocks && !err; i++) {
		fakephc_infos[i] = fakephc_info;
		fakephc_parent[i] =
			platform_device_register_simple("fakephc", i, NULL, 0);
		if (IS_ERR(fakephc_parent[i])) {
			err = PTR_ERR(fakephc_parent[i]);
			fakephc_parent[i] = NULL;
		} else if (i > 0 || present) {
			err = fakephc_register(i);
		}
	}
	if (err)
		fakephc_remove_all();
	else
		fakephc_live = true;
	mutex_unlock(&fakephc_mutex);
	return err;
}

static void __exit fakephc_exit(void)
{
	mutex_lock(&fakephc_mutex);
	fakephc_live = false;
	fakephc_remove_all();
	mutex_unlock(&fakephc_mutex);
}

module_init(fakephc_init);
module_exit(fakephc_exit);

MODULE_DESCRIPTION("Test-only PTP hardware clock with controllable faults");
MODULE_LICENSE("GPL");
