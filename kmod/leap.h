/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Leap-second tables: validating one and finding, for a TAI time, the offset
 * and the leap the page should describe.  Plain C like engine.c, so the host
 * tests replay real tables through the same code.
 */
#ifndef IONCLOCK_LEAP_H
#define IONCLOCK_LEAP_H

#include "engine.h"

struct ionclock_leap_table;

/* 1972-01-01, where TAI - UTC starts at 10 s, and 2200-01-01 (sanity). */
#define IONCLOCK_LEAP_FIRST_UTC_S	63072000ULL
#define IONCLOCK_LEAP_LAST_UTC_S	7258118400ULL

/**
 * struct ionclock_leap_state - what the page says about leap seconds
 * @tai_utc_offset_s: TAI - UTC before @leap_tai_s
 * @delta_s: the change at @leap_tai_s (+1, -1), 0 if none is scheduled
 * @leap_tai_s: TAI second of the UTC midnight ending the leap day, or 0
 * @expiry_tai_s: the table's expiry on the TAI scale
 * @valid: the table has not expired
 */
struct ionclock_leap_state {
	s32 tai_utc_offset_s;
	s32 delta_s;
	u64 leap_tai_s;
	u64 expiry_tai_s;
	bool valid;
};

int ionclock_leaps_validate(const struct ionclock_leap_table *t);
void ionclock_leaps_at(const struct ionclock_leap_table *t, u64 tai_s,
		       u32 smear_window_s, struct ionclock_leap_state *st);
s32 ionclock_leaps_offset_at_utc(const struct ionclock_leap_table *t,
				 u64 utc_s);
int ionclock_leaps_may_replace(const struct ionclock_leap_table *old,
			       s32 old_off_s, bool old_off_valid,
			       const struct ionclock_leap_table *new,
			       u64 now_ns, u32 window_s);
void ionclock_page_fill_timescale(struct ionclock_page *p, bool phc_on_utc);

#endif /* IONCLOCK_LEAP_H */
