// SPDX-License-Identifier: GPL-2.0
/*
 * ionclock: a never-backward TAI counter that follows a PTP hardware clock,
 * served to userspace as a read-only page (see uapi/linux/ionclock.h).
 *
 * Module parameters and the life of the devices.
 */
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/slab.h>
#include <linux/ktime.h>
#include <linux/timekeeping.h>

#include <linux/ionclock_tunables.h>

#include "ionclock_kmod.h"

static char *phc[IONCLOCK_MAX_DEVICES];
static int nphc;
module_param_array(phc, charp, &nphc, 0444);
MODULE_PARM_DESC(phc, "PHCs to follow, one /dev/ionclockN each: interface name (eth0), /dev/ptpN, or index N; comma-separated");

static char *counter = "auto";
module_param(counter, charp, 0444);
MODULE_PARM_DESC(counter, "Counter readers use: auto (TSC if it is the clocksource), tsc, monotonic_raw");

/*
 * The parameters that set a run-time setting have its name, unit, default
 * and range: its row of <linux/ionclock_tunables.h>.  A load out of range
 * says what the range is.
 */
unsigned int ionclock_poll_ms = IONCLOCK_TUNABLE_DEFAULT(poll_ms);
module_param_named(poll_ms, ionclock_poll_ms, uint, 0444);
MODULE_PARM_DESC(poll_ms, "PHC sampling period, ms (default 100)");

/*
 * Not a run-time setting (no row of ionclock_tunables.h): which vmclock
 * device to follow is fixed for the life of the module, as counter= is.
 */
char *ionclock_vmclock_param = "auto";
module_param_named(vmclock, ionclock_vmclock_param, charp, 0444);
MODULE_PARM_DESC(vmclock, "The hypervisor's vmclock device to follow for disruptions: auto (the one the firmware describes, if any), off, or a platform device by name (AMZNC10C:00) or /sys path");

unsigned int ionclock_reads_per_sample = 8;
module_param_named(reads_per_sample, ionclock_reads_per_sample, uint, 0444);
MODULE_PARM_DESC(reads_per_sample, "PHC readings per sample; the one with the tightest bracket is kept (default 8)");

unsigned int ionclock_phc_timescale = IONCLOCK_TIMESCALE_TAI;
module_param_named(phc_timescale, ionclock_phc_timescale, uint, 0444);
MODULE_PARM_DESC(phc_timescale, "0: the PHC runs TAI (as ptp4l sets it); 1: it runs UTC");

static unsigned long max_slew_ppb = IONCLOCK_TUNABLE_DEFAULT(max_slew_ppb);
module_param(max_slew_ppb, ulong, 0444);
MODULE_PARM_DESC(max_slew_ppb, "Largest rate change used to close an offset to the PHC, ppb (default 500000, as adjtime)");

static unsigned long step_threshold_ns =
	IONCLOCK_TUNABLE_DEFAULT(step_threshold_ns);
module_param(step_threshold_ns, ulong, 0444);
MODULE_PARM_DESC(step_threshold_ns, "A PHC reading this far from the prediction is a step, ns (default 1000000)");

static bool step_forward = IONCLOCK_TUNABLE_DEFAULT(step_forward);
module_param(step_forward, bool, 0444);
MODULE_PARM_DESC(step_forward, "Apply forward PHC steps at once instead of slewing (default Y); backward ones are always slewed");

static unsigned long max_freq_ppb = IONCLOCK_TUNABLE_DEFAULT(max_freq_ppb);
module_param(max_freq_ppb, ulong, 0444);
MODULE_PARM_DESC(max_freq_ppb, "A PHC further than this from the counter's nominal rate is implausible, ppb (default 1000000)");

static unsigned int drift_ppb = IONCLOCK_TUNABLE_DEFAULT(drift_ppb);
module_param(drift_ppb, uint, 0444);
MODULE_PARM_DESC(drift_ppb, "Assumed counter drift for the error bound, ppb (default 15000, as ClockBound)");

/*
 * Google's and AWS's public NTP smear leap seconds linearly over the 24 h
 * from noon to noon; using the same window keeps ionclock's smeared UTC
 * within a few ms of theirs.  (chrony's 62,500 s rate-limited smear is
 * not linear, so no window matches it exactly.)
 */
static unsigned int smear_window_s = IONCLOCK_TUNABLE_DEFAULT(smear_window_s);
module_param(smear_window_s, uint, 0444);
MODULE_PARM_DESC(smear_window_s, "UTC smear length, centred on the leap, s (default 86400: noon to noon, as Google and AWS)");

/*
 * The old names of three of them, in the units they had: each sets (and
 * shows) the one above in the ioctl's unit, so there is one value and one
 * range check.  No product can wrap: 32 bits times 1000 fit in 64.
 */
struct scaled_param {
	unsigned long *value;
	unsigned int scale;
};

static int scaled_param_set(const char *val, const struct kernel_param *kp)
{
	const struct scaled_param *sp = kp->arg;
	unsigned int v;
	int err;

	err = kstrtouint(val, 0, &v);
	if (err)
		return err;
	*sp->value = (unsigned long)v * sp->scale;
	return 0;
}

static int scaled_param_get(char *buf, const struct kernel_param *kp)
{
	const struct scaled_param *sp = kp->arg;

	return scnprintf(buf, PAGE_SIZE, "%lu\n", *sp->value / sp->scale);
}

static const struct kernel_param_ops scaled_param_ops = {
	.set = scaled_param_set,
	.get = scaled_param_get,
};

static struct scaled_param max_slew_ppm_param = { &max_slew_ppb, 1000 };
module_param_cb(max_slew_ppm, &scaled_param_ops, &max_slew_ppm_param, 0444);
MODULE_PARM_DESC(max_slew_ppm, "max_slew_ppb in ppm (default 500)");

static struct scaled_param step_threshold_us_param = { &step_threshold_ns, 1000 };
module_param_cb(step_threshold_us, &scaled_param_ops, &step_threshold_us_param, 0444);
MODULE_PARM_DESC(step_threshold_us, "step_threshold_ns in us (default 1000)");

static struct scaled_param max_freq_ppm_param = { &max_freq_ppb, 1000 };
module_param_cb(max_freq_ppm, &scaled_param_ops, &max_freq_ppm_param, 0444);
MODULE_PARM_DESC(max_freq_ppm, "max_freq_ppb in ppm (default 1000)");

static struct ionclock_dev *devices[IONCLOCK_MAX_DEVICES];

/*
 * The module parameters that set a run-time setting, each checked against
 * that setting's row of ionclock_tunables[] (control.c): one set of ranges
 * for both ways in.
 */
static const struct {
	u32 bit;
	const unsigned int *value;
	const unsigned long *lvalue;
} tunable_params[] = {
	{ IONCLOCK_CONFIG_POLL, &ionclock_poll_ms },
	{ IONCLOCK_CONFIG_MAX_SLEW, NULL, &max_slew_ppb },
	{ IONCLOCK_CONFIG_STEP_THRESHOLD, NULL, &step_threshold_ns },
	{ IONCLOCK_CONFIG_MAX_FREQ, NULL, &max_freq_ppb },
	{ IONCLOCK_CONFIG_DRIFT, &drift_ppb },
	{ IONCLOCK_CONFIG_SMEAR_WINDOW, &smear_window_s },
};

static int check_params(void)
{
	u32 covered = 0;
	unsigned int i;

	for (i = 0; i < ionclock_tunables_count; i++)
		covered |= ionclock_tunables[i].bit;
	if (covered != IONCLOCK_CONFIG_ALL) {
		pr_err("ionclock_tunables[] lacks a setting of IONCLOCK_CONFIG_ALL\n");
		return -EINVAL;
	}
	for (i = 0; i < ARRAY_SIZE(tunable_params); i++) {
		const struct ionclock_tunable *t =
			ionclock_tunable(tunable_params[i].bit);
		u64 v = tunable_params[i].value ? *tunable_params[i].value :
			*tunable_params[i].lvalue;

		if (v < t->min || v > t->max) {
			pr_err("%s=%llu is out of range: %llu .. %llu\n",
			       t->param, v, t->min, t->max);
			return -ERANGE;
		}
	}
	if (ionclock_phc_timescale > IONCLOCK_TIMESCALE_UTC ||
	    !ionclock_reads_per_sample || ionclock_reads_per_sample > 64) {
		pr_err("a parameter is out of range (see modinfo ionclock)\n");
		return -EINVAL;
	}
	return 0;
}

/* A device attached to its PHC, not yet visible to anyone. */
static struct ionclock_dev *ionclock_create(int id, const char *spec)
{
	struct ionclock_params params = {
		.max_slew_ppb = max_slew_ppb,
		.slew_time_ms = 1000,
		.step_threshold_ns = step_threshold_ns,
		.step_forward = step_forward,
		.max_freq_ppb = max_freq_ppb,
		.drift_ppb = drift_ppb,
	};
	struct ionclock_dev *idev;
	int err;

	idev = kzalloc(sizeof(*idev), GFP_KERNEL);
	if (!idev)
		return ERR_PTR(-ENOMEM);
	idev->id = id;
	idev->poll_ms = ionclock_poll_ms;
	idev->smear_window_s = smear_window_s;
	mutex_init(&idev->lock);
	ionclock_engine_init(&idev->engine, ionclock_counter_nominal_mult(),
			     ionclock_counter_shift(), &params);

	err = ionclock_page_alloc(idev);
	if (err)
		goto err_page;
	err = ionclock_phc_attach(&idev->phc, spec);
	if (err)
		goto err_phc;
	return idev;

err_phc:
	ionclock_page_free(idev);
err_page:
	kfree(idev);
	return ERR_PTR(err);
}

/* Undo ionclock_create(), for a device never registered. */
static void ionclock_free(struct ionclock_dev *idev)
{
	ionclock_phc_detach(&idev->phc);
	ionclock_page_free(idev);
	kfree(idev->leaps);
	kfree(idev);
}

static void ionclock_destroy(struct ionclock_dev *idev)
{
	ionclock_device_unregister(idev);
	ionclock_sampler_stop(idev);
	ionclock_free(idev);
}

static void ionclock_destroy_all(void)
{
	int i;

	for (i = IONCLOCK_MAX_DEVICES - 1; i >= 0; i--) {
		if (devices[i])
			ionclock_destroy(devices[i]);
		devices[i] = NULL;
	}
}

/* Two entries naming one PHC would read it twice as often, for nothing. */
static int check_duplicates(struct ionclock_dev **created, int n)
{
	int i, j;

	for (i = 0; i < n; i++)
		for (j = 0; j < i; j++)
			if (created[i]->phc.devt == created[j]->phc.devt) {
				pr_err("phc=%s: ptp%d is already entry %d (%s)\n",
				       phc[i], created[i]->phc.index, j,
				       phc[j]);
				return -EEXIST;
			}
	return 0;
}

/*
 * Every entry of phc= is attached before any /dev/ionclockN exists, and no
 * device can be opened before all of them are registered: a load that
 * fails, for any entry, never had a reader that could keep a freed device
 * (or the module's code) open.
 */
static int __init ionclock_init(void)
{
	struct ionclock_dev *created[IONCLOCK_MAX_DEVICES] = {};
	int i, err;

	err = check_params();
	if (err)
		return err;
	err = ionclock_counter_init(counter);
	if (err)
		return err;
	if (!nphc) {
		pr_err("no PHC given: load with phc=<ifname>, phc=/dev/ptpN or phc=N\n");
		return -EINVAL;
	}
	err = ionclock_vmclock_init(ionclock_vmclock_param);
	if (err)
		return err;
	for (i = 0; i < nphc; i++) {
		created[i] = ionclock_create(i, phc[i]);
		if (IS_ERR(created[i])) {
			err = PTR_ERR(created[i]);
			created[i] = NULL;
			goto err_created;
		}
	}
	err = check_duplicates(created, nphc);
	if (err)
		goto err_created;
	for (i = 0; i < nphc; i++) {
		err = ionclock_device_register(created[i]);
		if (err)
			goto err_created;
		devices[i] = created[i];
		created[i] = NULL;
		ionclock_sampler_start(devices[i]);
	}
	for (i = 0; i < nphc; i++) {
		struct ionclock_dev *idev = devices[i];

		WRITE_ONCE(idev->open_ok, true);
		pr_info("%s: following ptp%d (%s%s%s, %s)\n", idev->devname,
			idev->phc.index, idev->phc.name,
			idev->phc.ifname[0] ? ", " : "", idev->phc.ifname,
			idev->phc.identity);
	}
	return 0;

err_created:
	for (i = 0; i < nphc; i++)
		if (created[i])
			ionclock_free(created[i]);
	ionclock_destroy_all();
	ionclock_vmclock_exit();
	return err;
}

static void __exit ionclock_exit(void)
{
	ionclock_destroy_all();
	ionclock_vmclock_exit();
}

module_init(ionclock_init);
module_exit(ionclock_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("Never-backward TAI timestamp counter following a PTP hardware clock");
