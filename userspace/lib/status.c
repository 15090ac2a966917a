// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Commit-wait (is a time certainly past, and waiting until it is) and the
 * status snapshot for monitoring.
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "internal.h"

#define NSEC_PER_SEC	1000000000LL

int ionclock_after(struct ionclock *c, int64_t tai_ns)
{
	int64_t t, earliest, latest;
	int err;

	err = ionclock_now_bounded(c, &t, &earliest, &latest);
	if (err)
		return err;
	return earliest > tai_ns;
}

int ionclock_wait_until_after(struct ionclock *c, int64_t tai_ns)
{
	int64_t t, earliest, latest, left;
	struct timespec ts;
	int err;

	for (;;) {
		err = ionclock_now_bounded(c, &t, &earliest, &latest);
		if (err)
			return err;
		if (earliest > tai_ns)
			return 0;
		/*
		 * earliest advances at about CLOCK_MONOTONIC's rate (less the
		 * slew and the bound's growth), so sleeping the distance gets
		 * close; what is left over is slept in the next round.
		 */
		left = tai_ns - earliest;
		left = left >= IONCLOCK_WAIT_CHUNK_NS ?
		       IONCLOCK_WAIT_CHUNK_NS : left + 1;
		ts.tv_sec = left / NSEC_PER_SEC;
		ts.tv_nsec = left % NSEC_PER_SEC;
		err = clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
		if (err && err != EINTR)
			return -err;
	}
}

static void ionclock_copy_name(char *dst, const char *src, size_t size)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

int ionclock_status(struct ionclock *c, struct ionclock_status *st)
{
	struct ionclock_info info;
	struct ionclock_reading r;
	struct ionclock_snap s;
	int64_t t, earliest, latest;
	uint64_t bound;
	int err;

	memset(st, 0, sizeof(*st));
	err = ionclock_info(c, &info);
	if (err)
		return err;
	st->counter_id = c->counter_id;
	st->phc_index = info.phc_index;
	st->phc_timescale = info.phc_timescale;
	ionclock_copy_name(st->phc_name, info.phc_name, sizeof(st->phc_name));
	ionclock_copy_name(st->ifname, info.ifname, sizeof(st->ifname));
	st->bound_ns = -1;

	if (!ionclock_page_snap_all(c->page, c->counter_id, &s)) {
		ionclock_snap_vet(c, &s);
		st->state = s.state;
		st->flags = s.flags;
		st->generation = s.generation;
		st->leap_expiry_tai_s = s.leap_expiry_tai_s;
		if (s.flags & IONCLOCK_FLAG_VALID) {
			t = (int64_t)ionclock_snap_time(&s);
			st->tai_ns = t;
			if (s.flags & IONCLOCK_FLAG_BOUND_VALID) {
				bound = ionclock_snap_bound(&s, (uint64_t)t);
				st->bound_ns = bound > INT64_MAX ? INT64_MAX :
					       (int64_t)bound;
			}
		}
	} else {
		/* The page stays mid-update: the kernel's reading instead. */
		err = ionclock_fallback(c, &t, &earliest, &latest, &r);
		if (err && err != -EAGAIN && err != -ENODATA)
			return err;
		st->state = r.state;
		st->flags = r.flags;
		st->generation = r.generation;
		if (err != -EAGAIN)
			st->tai_ns = t;
		if (!err)
			st->bound_ns = latest - t;
		st->leap_expiry_tai_s = IONCLOCK_READ_ONCE(c->page->leap_expiry_tai_s);
		err = ionclock_page_leap_racy(c->page, &s.leap);
		if (err)
			return err;
	}
	st->tai_utc_offset_s = s.leap.tai_utc_offset_s;
	st->next_leap_delta_s = s.leap.next_leap_delta_s;
	st->next_leap_tai_s = s.leap.next_leap_tai_s;
	st->smear_window_s = s.leap.smear_window_s;
	return 0;
}
