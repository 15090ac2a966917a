// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The UTC clocks: the page's TAI time seen through its leap-second fields
 * (see the clocks in <ionclock.h> and the leap fields in <linux/ionclock.h>).
 *
 * The arithmetic is exact and signed throughout, in 128 bits: the offsets
 * are signed, the leap instant and window are unsigned on the page, and
 * mixing the two in 64 bits is how a reader ends up 18 s off.  The smear's
 * correction is delta * elapsed_ns / window_s, truncated, which moves by at
 * most 1 ns per ns, so the smeared clock never runs backward and reaches
 * the new offset exactly at the window's end.
 */
#include <errno.h>

#include "internal.h"

#define NSEC_PER_SEC	1000000000LL

/* The Unix-scale time for @tai_ns on @clock, and its leap flag. */
int ionclock_utc_from_tai(int64_t tai_ns, uint32_t flags,
			  const struct ionclock_snap_leap *l, int clock,
			  int64_t *utc_ns, int *leap_flag)
{
	__int128 t = tai_ns, before, after, leap, start, end;
	int32_t delta;

	*leap_flag = 0;
	if (clock == IONCLOCK_TAI) {
		*utc_ns = tai_ns;
		return 0;
	}
	if (clock != IONCLOCK_UTC && clock != IONCLOCK_UTC_STRICT)
		return -EINVAL;
	if (!(flags & (IONCLOCK_FLAG_LEAP_VALID |
		       IONCLOCK_FLAG_TAI_OFFSET_VALID)))
		return -ENODATA;
	delta = l->next_leap_delta_s;
	if (!(flags & IONCLOCK_FLAG_LEAP_VALID) || !delta ||
	    !l->next_leap_tai_s) {
		/*
		 * No leap ahead, the common case, in 64 bits: the offset
		 * (32 bits of seconds) fits, and the difference wraps as the
		 * 128-bit one below would when cut to 64.
		 */
		*utc_ns = (int64_t)((uint64_t)tai_ns -
				    (uint64_t)((int64_t)l->tai_utc_offset_s *
					       NSEC_PER_SEC));
		return 0;
	}
	before = t - (__int128)l->tai_utc_offset_s * NSEC_PER_SEC;
	if (delta != 1 && delta != -1)
		return -EPROTO;
	after = before - (__int128)delta * NSEC_PER_SEC;
	leap = (__int128)l->next_leap_tai_s * NSEC_PER_SEC;

	if (clock == IONCLOCK_UTC && l->smear_window_s) {
		start = leap - (__int128)l->smear_window_s * (NSEC_PER_SEC / 2);
		end = start + (__int128)l->smear_window_s * NSEC_PER_SEC;
		if (t < start) {
			*utc_ns = (int64_t)before;
		} else if (t >= end) {
			*utc_ns = (int64_t)after;
		} else {
			*utc_ns = (int64_t)(before - delta * ((t - start) /
						l->smear_window_s));
			*leap_flag = 1;
		}
		return 0;
	}

	/* Strict, or smeared with no window: the leap is a step. */
	if (t >= leap) {
		*utc_ns = (int64_t)after;
	} else if (delta > 0 && t >= leap - NSEC_PER_SEC) {
		/* 23:59:60, told apart from 23:59:59 only by the flag. */
		*utc_ns = (int64_t)(before - NSEC_PER_SEC);
		*leap_flag = 1;
	} else {
		*utc_ns = (int64_t)before;
	}
	return 0;
}

/*
 * The page's TAI time and @clock's time from it, both in ns.  -ENODATA
 * (the page has no TAI - UTC offset) still gives *tai_ns, so that a caller
 * with an offset of its own (the LD_PRELOAD drop-in) need not read again.
 */
int ionclock_read_utc(struct ionclock *c, int clock, int64_t *tai_ns,
		      int64_t *utc_ns, int *leap_flag)
{
	struct ionclock_snap_leap leap;
	struct ionclock_reading r;
	struct ionclock_snap s;
	int closed = c->max_bound_ns != 0;
	uint32_t flags;
	int err;

	/*
	 * Only a handle with a maximum bound copies the bound (and checks it);
	 * the stores keep the compiler from seeing an uninitialised read.
	 */
	s.error_bound_ns = 0;
	s.error_growth_frac32 = 0;

	if (clock != IONCLOCK_TAI && clock != IONCLOCK_UTC &&
	    clock != IONCLOCK_UTC_STRICT)
		return -EINVAL;
	if (clock == IONCLOCK_TAI) {
		err = ionclock_now(c, tai_ns);
		if (err)
			return err;
		flags = 0;
	} else if (!(closed ?
		     ionclock_page_snap_all(c->page, c->counter_id, &s) :
		     ionclock_page_snap_utc(c->page, c->counter_id, &s))) {
		if (!(s.flags & IONCLOCK_FLAG_VALID))
			return -EAGAIN;
		if (closed)
			ionclock_snap_vet(c, &s);
		*tai_ns = (int64_t)ionclock_snap_time(&s);
		err = ionclock_bound_check(c, &s, (uint64_t)*tai_ns);
		if (err)
			return err;
		flags = s.flags;
		leap = s.leap;
	} else {
		err = ionclock_fallback(c, tai_ns, NULL, NULL, &r);
		if (err)
			return err;
		err = ionclock_page_leap_racy(c->page, &leap);
		if (err)
			return err;
		flags = r.flags;
	}
	return ionclock_utc_from_tai(*tai_ns, flags, &leap, clock, utc_ns,
				     leap_flag);
}

int ionclock_gettime(struct ionclock *c, int clock, struct timespec *ts,
		     int *leap_flag)
{
	int64_t t, u;
	int err, flag;

	err = ionclock_read_utc(c, clock, &t, &u, &flag);
	if (err)
		return err;
	ionclock_ns_to_timespec(u, ts);
	if (leap_flag)
		*leap_flag = flag;
	return 0;
}
