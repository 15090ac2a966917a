/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * The run-time settings of struct ionclock_config, one row each: the
 * ioctl bit, the unit, the default after load, the range, and whether a
 * module parameter of the same name and unit sets it at load.  The
 * module's ioctl checks and parameters (kmod/control.c, kmod/main.c) and
 * ionclockctl config (userspace/ctl_config.c) are all made from these
 * rows; the prose of struct ionclock_config in <linux/ionclock.h> and
 * ionclockctl(8) say the same ranges in words, and make check holds them
 * to these rows (selftests/tunables_doc_test.py).
 *
 * Not installed: it is this package's table, not an interface.
 */
#ifndef _UAPI_LINUX_IONCLOCK_TUNABLES_H
#define _UAPI_LINUX_IONCLOCK_TUNABLES_H

#include <linux/ionclock.h>

/*
 * IONCLOCK_TUNABLE_<field>: bit, default, min, max, whether a module
 * parameter sets it (1) or not (0), unit.
 */
#define IONCLOCK_TUNABLE_poll_ms \
	IONCLOCK_CONFIG_POLL, 100, 10, 10000, 1, "ms"
#define IONCLOCK_TUNABLE_max_slew_ppb \
	IONCLOCK_CONFIG_MAX_SLEW, 500000, 1000, 100000000, 1, "ppb"
#define IONCLOCK_TUNABLE_step_threshold_ns \
	IONCLOCK_CONFIG_STEP_THRESHOLD, 1000000, 1000, 1000000000000ULL, 1, "ns"
#define IONCLOCK_TUNABLE_step_forward \
	IONCLOCK_CONFIG_STEP_FORWARD, 1, 0, 1, 1, ""
#define IONCLOCK_TUNABLE_max_freq_ppb \
	IONCLOCK_CONFIG_MAX_FREQ, 1000000, 1000, 100000000, 1, "ppb"
#define IONCLOCK_TUNABLE_drift_ppb \
	IONCLOCK_CONFIG_DRIFT, 15000, 0, 1000000, 1, "ppb"
#define IONCLOCK_TUNABLE_upstream_error_ns \
	IONCLOCK_CONFIG_UPSTREAM_ERROR, 0, 0, 1000000000000ULL, 0, "ns"
#define IONCLOCK_TUNABLE_smear_window_s \
	IONCLOCK_CONFIG_SMEAR_WINDOW, 86400, 0, 172800, 1, "s"
/* The default is "unset", the one value outside the range. */
#define IONCLOCK_TUNABLE_machine_id \
	IONCLOCK_CONFIG_MACHINE_ID, IONCLOCK_MACHINE_ID_UNSET, 0, \
	IONCLOCK_MACHINE_ID_MAX, 0, ""

/*
 * A table made of the rows lists them in the order above, as kmod/control.c
 * and userspace/ctl_config.c do (a list macro would be a macro checkpatch
 * refuses); the module checks at load that its table has every
 * IONCLOCK_CONFIG_* bit.
 */
/* A row's columns, by the name of its struct ionclock_config field. */
#define IONCLOCK_TUNABLE_BIT(name)	__IONCLOCK_COL(0, IONCLOCK_TUNABLE_##name)
#define IONCLOCK_TUNABLE_UNIT(name)	__IONCLOCK_COL(1, IONCLOCK_TUNABLE_##name)
#define IONCLOCK_TUNABLE_DEFAULT(name)	__IONCLOCK_COL(2, IONCLOCK_TUNABLE_##name)
#define IONCLOCK_TUNABLE_MIN(name)	__IONCLOCK_COL(3, IONCLOCK_TUNABLE_##name)
#define IONCLOCK_TUNABLE_MAX(name)	__IONCLOCK_COL(4, IONCLOCK_TUNABLE_##name)
#define IONCLOCK_TUNABLE_PARAM(name)	__IONCLOCK_COL(5, IONCLOCK_TUNABLE_##name)

/* The extra level expands the row into its six columns first. */
#define __IONCLOCK_COL(i, row)		__IONCLOCK_COL_(i, row)
#define __IONCLOCK_COL_(i, ...)		__IONCLOCK_COL##i(__VA_ARGS__)
#define __IONCLOCK_COL0(b, d, lo, hi, p, u)	(b)
#define __IONCLOCK_COL1(b, d, lo, hi, p, u)	u
#define __IONCLOCK_COL2(b, d, lo, hi, p, u)	(d)
#define __IONCLOCK_COL3(b, d, lo, hi, p, u)	(lo)
#define __IONCLOCK_COL4(b, d, lo, hi, p, u)	(hi)
#define __IONCLOCK_COL5(b, d, lo, hi, p, u)	(p)

#endif /* _UAPI_LINUX_IONCLOCK_TUNABLES_H */
