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
#define NSEC_PER_SEC_S	1000000000LL

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

/*
 * TAI - UTC in effect at Unix time @utc_s, for a PHC that runs on UTC:
 * the offset of the last entry at or before it.  (ionclock_leaps_at()
 * keeps the offset from before a leap until its smear is over, which is
 * what the page's smeared UTC needs, not what converts a UTC reading.)
 */
s32 ionclock_leaps_offset_at_utc(const struct ionclock_leap_table *t,
				 u64 utc_s)
{
	s32 off = t->leaps[0].tai_utc_offset_s;
	u32 i;

	for (i = 1; i < t->count && t->leaps[i].utc_s <= utc_s; i++)
		off = t->leaps[i].tai_utc_offset_s;
	return off;
}

/*
 * TAI - smeared UTC at TAI @t_ns, ns, as the library computes it (see
 * ionclock_utc_from_tai()): @off_s, moving by the leap's delta across
 * the window centred on it.
 */
static s64 smeared_offset_ns(const struct ionclock_leap_state *st, u64 t_ns,
			     u32 window_s)
{
	s64 off = (s64)st->tai_utc_offset_s * NSEC_PER_SEC_S;
	u64 leap, start;

	if (!st->delta_s || !st->leap_tai_s)
		return off;
	leap = st->leap_tai_s * NSEC_PER_SEC_S;
	/* No window: a step, and an inserted second repeats the one before. */
	if (!window_s)
		return t_ns >= leap || (st->delta_s > 0 &&
					t_ns >= leap - NSEC_PER_SEC_S) ?
		       off + st->delta_s * NSEC_PER_SEC_S : off;
	start = leap - (u64)window_s * (NSEC_PER_SEC_S / 2);
	if (t_ns < start)
		return off;
	if (t_ns >= start + (u64)window_s * NSEC_PER_SEC_S)
		return off + st->delta_s * NSEC_PER_SEC_S;
	return off + st->delta_s * (s64)((t_ns - start) / window_s);
}

/*
 * Whether @new may replace what the page's smeared UTC follows now: the
 * table @old, or with none the offset @old_off_s (if @old_off_valid).
 * A new table that puts smeared UTC at TAI @now_ns behind where it stands
 * (a table loaded in the middle of a smear, or one that disagrees with
 * the running smear) would move it backward: -EBUSY.  Later leaps it
 * adds are smeared as they come.
 */
int ionclock_leaps_may_replace(const struct ionclock_leap_table *old,
			       s32 old_off_s, bool old_off_valid,
			       const struct ionclock_leap_table *new,
			       u64 now_ns, u32 window_s)
{
	struct ionclock_leap_state was = { .tai_utc_offset_s = old_off_s };
	struct ionclock_leap_state will;
	u64 now_s = now_ns / NSEC_PER_SEC_S;

	if (old)
		ionclock_leaps_at(old, now_s, window_s, &was);
	else if (!old_off_valid)
		return 0;	/* no UTC was published */
	ionclock_leaps_at(new, now_s, window_s, &will);
	/* UTC = TAI - offset: a larger offset is an earlier UTC. */
	if (smeared_offset_ns(&will, now_ns, window_s) >
	    smeared_offset_ns(&was, now_ns, window_s))
		return -EBUSY;
	return 0;
}

/*
 * The page's time is TAI only if the PHC runs TAI or the offset that
 * turns its UTC into TAI is known: a UTC PHC with no offset gives UTC
 * under TAI's name, some 37 s off, and then the page claims no bound.
 */
void ionclock_page_fill_timescale(struct ionclock_page *p, bool phc_on_utc)
{
	if (phc_on_utc && !(p->flags & IONCLOCK_FLAG_TAI_OFFSET_VALID))
		p->flags &= ~IONCLOCK_FLAG_BOUND_VALID;
}
