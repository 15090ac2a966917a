/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Choosing where TAI - UTC and the next leap come from, and saying when the
 * sources disagree.  Plain C like engine.c.
 */
#ifndef IONCLOCK_UTC_SOURCE_H
#define IONCLOCK_UTC_SOURCE_H

#include "leap.h"

/* Sources are not compared this close to a leap any of them knows, s. */
#define IONCLOCK_UTC_LEAP_GRACE_S	60

/**
 * struct ionclock_utc_inputs - every source of TAI - UTC at one moment
 * @tai_s: the moment, TAI seconds
 * @smear_window_s: the configured smear window
 * @table: the loaded leap table, or NULL
 * @ptp: the PTP domain's leap fields are usable (fresh feed, ptpTimescale,
 *	currentUtcOffsetValid)
 * @ptp_state: those fields (ionclock_upstream_leap_at())
 * @ptp_window_s: the smear window of a leap the domain announced
 * @kernel: CLOCK_TAI - CLOCK_REALTIME was set by someone
 * @kernel_offset_s: that offset
 */
struct ionclock_utc_inputs {
	u64 tai_s;
	u32 smear_window_s;
	const struct ionclock_leap_table *table;
	bool ptp;
	struct ionclock_leap_state ptp_state;
	u32 ptp_window_s;
	bool kernel;
	s32 kernel_offset_s;
};

/**
 * struct ionclock_utc_choice - what the page says about UTC
 * @source: IONCLOCK_UTC_SOURCE_*
 * @sources: bit (1 << source) for each source available
 * @disagree: bit (1 << source) for each that disagrees with @source
 * @st: the chosen source's leap fields
 * @window_s: the smear window to publish
 */
struct ionclock_utc_choice {
	u32 source;
	u32 sources;
	u32 disagree;
	struct ionclock_leap_state st;
	u32 window_s;
};

void ionclock_utc_choose(const struct ionclock_utc_inputs *in,
			 struct ionclock_utc_choice *out);
void ionclock_page_fill_utc(struct ionclock_page *p,
			    const struct ionclock_utc_choice *c);

#endif /* IONCLOCK_UTC_SOURCE_H */
