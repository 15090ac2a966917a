/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * The names the module and ionclockctl give the page's enumerations, each
 * written once: in sysfs and dmesg, in status, watch, record and the
 * Prometheus labels, and in the counter= module parameter.
 *
 * Not installed: it is this package's wording, not an interface.
 */
#ifndef _UAPI_LINUX_IONCLOCK_NAMES_H
#define _UAPI_LINUX_IONCLOCK_NAMES_H

#include <linux/ionclock.h>

/* How many IONCLOCK_STATE_* there are, for tables of one row per state. */
#define IONCLOCK_STATES		(IONCLOCK_STATE_UNRELIABLE + 1)

/* "starting", "tracking", "holdover", "unreliable", else "unknown". */
static inline const char *ionclock_state_name(__u32 state)
{
	static const char *const names[IONCLOCK_STATES] = {
		[IONCLOCK_STATE_STARTING] = "starting",
		[IONCLOCK_STATE_TRACKING] = "tracking",
		[IONCLOCK_STATE_HOLDOVER] = "holdover",
		[IONCLOCK_STATE_UNRELIABLE] = "unreliable",
	};

	return state < IONCLOCK_STATES ? names[state] : "unknown";
}

/* "tsc", "monotonic_raw", else "unknown". */
static inline const char *ionclock_counter_name(__u32 id)
{
	if (id == IONCLOCK_COUNTER_TSC)
		return "tsc";
	return id == IONCLOCK_COUNTER_MONOTONIC_RAW ? "monotonic_raw" : "unknown";
}

/* "utc" for IONCLOCK_TIMESCALE_UTC, "tai" otherwise. */
static inline const char *ionclock_timescale_name(__u32 timescale)
{
	return timescale == IONCLOCK_TIMESCALE_UTC ? "utc" : "tai";
}

/* "none", "ptp", "leap_file", "kernel", "expired_leap_file", else "unknown". */
static inline const char *ionclock_utc_source_name(__u32 source)
{
	static const char *const names[IONCLOCK_UTC_SOURCES] = {
		[IONCLOCK_UTC_SOURCE_NONE] = "none", [IONCLOCK_UTC_SOURCE_PTP] = "ptp",
		[IONCLOCK_UTC_SOURCE_LEAP_FILE] = "leap_file",
		[IONCLOCK_UTC_SOURCE_KERNEL] = "kernel",
		[IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE] = "expired_leap_file",
	};

	return source < IONCLOCK_UTC_SOURCES ? names[source] : "unknown";
}

/*
 * "none", "gettime64", "gettimex64", "gettimex64_raw", "crosststamp", else
 * "unknown": struct ionclock_info's read_method.
 */
#define IONCLOCK_READ_METHODS	(IONCLOCK_READ_CROSSTSTAMP + 1)
static inline const char *ionclock_read_method_name(__u32 method)
{
	static const char *const names[IONCLOCK_READ_METHODS] = {
		[IONCLOCK_READ_NONE] = "none",
		[IONCLOCK_READ_GETTIME64] = "gettime64",
		[IONCLOCK_READ_GETTIMEX64] = "gettimex64",
		[IONCLOCK_READ_GETTIMEX64_RAW] = "gettimex64_raw",
		[IONCLOCK_READ_CROSSTSTAMP] = "crosststamp",
	};

	return method < IONCLOCK_READ_METHODS ? names[method] : "unknown";
}

/* The page's vmclock_state: "unsupported", "off", "absent", "followed". */
static inline const char *ionclock_vmclock_state_name(__u32 state)
{
	static const char *const names[IONCLOCK_VMCLOCK_STATES] = {
		[IONCLOCK_VMCLOCK_UNSUPPORTED] = "unsupported",
		[IONCLOCK_VMCLOCK_OFF] = "off",
		[IONCLOCK_VMCLOCK_ABSENT] = "absent",
		[IONCLOCK_VMCLOCK_FOLLOWED] = "followed",
	};

	return state < IONCLOCK_VMCLOCK_STATES ? names[state] : "unknown";
}

/* The vmclock's clock_status, as its ABI names it; else "unknown". */
static inline const char *ionclock_vmclock_status_name(__u32 status)
{
	static const char *const names[IONCLOCK_VMCLOCK_STATUS_UNRELIABLE + 1] = {
		[IONCLOCK_VMCLOCK_STATUS_UNKNOWN] = "unknown",
		[IONCLOCK_VMCLOCK_STATUS_INITIALIZING] = "initializing",
		[IONCLOCK_VMCLOCK_STATUS_SYNCHRONIZED] = "synchronized",
		[IONCLOCK_VMCLOCK_STATUS_FREERUNNING] = "freerunning",
		[IONCLOCK_VMCLOCK_STATUS_UNRELIABLE] = "unreliable",
	};

	return status <= IONCLOCK_VMCLOCK_STATUS_UNRELIABLE ? names[status] :
	       "unknown";
}

/*
 * IONCLOCK_DISRUPTION_* bit i's name, for dmesg, status and the metrics:
 * "suspend", "stall", "counter_jump", "phc_changed", "vmclock".
 */
static inline const char *ionclock_disruption_name(unsigned int bit)
{
	static const char *const names[IONCLOCK_DISRUPTION_CAUSES] = {
		"suspend", "stall", "counter_jump", "phc_changed", "vmclock",
	};

	return bit < IONCLOCK_DISRUPTION_CAUSES ? names[bit] : "unknown";
}

#endif /* _UAPI_LINUX_IONCLOCK_NAMES_H */
