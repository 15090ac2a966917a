// SPDX-License-Identifier: GPL-2.0
/*
 * Leap-second tables.  An entry says "from UTC midnight utc_s on, TAI - UTC
 * is tai_utc_offset_s", as leap-seconds.list does; entry i's leap happens at
 * the TAI second utc_s + offset (the same instant on both scales).  A leap
 * stays the page's "next" leap until its smear is over, so that readers in
 * the second half of the smear still know where it was.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#else
#include <errno.h>
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#include <linux/ionclock.h>

#include "leap.h"

#define SECS_PER_DAY	86400ULL

/*
 * A table past its expiry is accepted: its leaps up to then are still
 * right, and utc_source.c uses it last, flagged.
 */
int ionclock_leaps_validate(const struct ionclock_leap_table *t)
{
	u32 i;

	if (t->flags)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(t->reserved); i++)
		if (t->reserved[i])
			return -EINVAL;
	if (!t->count || t->count > IONCLOCK_MAX_LEAPS)
		return -EINVAL;
	for (i = 0; i < t->count; i++) {
		const struct ionclock_leap *l = &t->leaps[i];

		if (l->reserved)
			return -EINVAL;
		if (l->utc_s % SECS_PER_DAY || l->utc_s < IONCLOCK_LEAP_FIRST_UTC_S ||
		    l->utc_s > IONCLOCK_LEAP_LAST_UTC_S)
			return -ERANGE;
		if (l->tai_utc_offset_s < 0 || l->tai_utc_offset_s > 1000)
			return -ERANGE;
		if (i && (l->utc_s <= t->leaps[i - 1].utc_s ||
			  (l->tai_utc_offset_s - t->leaps[i - 1].tai_utc_offset_s != 1 &&
			   l->tai_utc_offset_s - t->leaps[i - 1].tai_utc_offset_s != -1)))
			return -EINVAL;
	}
	if (t->expiry_utc_s <= t->leaps[t->count - 1].utc_s ||
	    t->expiry_utc_s > IONCLOCK_LEAP_LAST_UTC_S)
		return -ERANGE;
	return 0;
}

void ionclock_leaps_at(const struct ionclock_leap_table *t, u64 tai_s,
		       u32 smear_window_s, struct ionclock_leap_state *st)
{
	const struct ionclock_leap *last = &t->leaps[t->count - 1];
	u32 i;

	st->tai_utc_offset_s = last->tai_utc_offset_s;
	st->delta_s = 0;
	st->leap_tai_s = 0;
	for (i = 1; i < t->count; i++) {
		const struct ionclock_leap *l = &t->leaps[i];
		u64 at = l->utc_s + (u64)l->tai_utc_offset_s;

		if (tai_s < at + smear_window_s / 2) {
			st->tai_utc_offset_s = t->leaps[i - 1].tai_utc_offset_s;
			st->delta_s = l->tai_utc_offset_s - st->tai_utc_offset_s;
			st->leap_tai_s = at;
			break;
		}
	}
	if (tai_s < t->leaps[0].utc_s + (u64)t->leaps[0].tai_utc_offset_s)
		st->tai_utc_offset_s = t->leaps[0].tai_utc_offset_s;
	st->expiry_tai_s = t->expiry_utc_s + (u64)last->tai_utc_offset_s;
	st->valid = tai_s < st->expiry_tai_s;
}
