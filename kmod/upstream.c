// SPDX-License-Identifier: GPL-2.0
/*
 * The upstream state from a PTP feed.  The module trusts nothing in it that
 * it can check: every flag, range and padding byte is validated before any
 * of it is kept.  The error model is written here once (the uapi header
 * states it): |master offset| + asymmetry allowance + grandmaster accuracy,
 * measured age_ns before the call; engine.c ages it in the bound.
 *
 * Leaps: IEEE 1588's leap61/leap59 say the last minute of the current UTC
 * day has 61/59 seconds, and are meaningful only on the PTP timescale with
 * a valid currentUtcOffset.  The day is fixed when the announcement is
 * first seen and the leap is remembered by its offset and direction, so a
 * feed that repeats a stale announcement after midnight does not move it to
 * the next day; an announcement withdrawn before the leap is forgotten.
 */
#ifdef __KERNEL__
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#else
#include <errno.h>
#include <string.h>
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#include <linux/ionclock.h>

#include "upstream.h"

#define NSEC_PER_SEC_U	1000000000ULL
#define SECS_PER_DAY	86400ULL

static u64 magnitude(s64 v)
{
	return v < 0 ? -(u64)v : (u64)v;
}

int ionclock_upstream_validate(const struct ionclock_upstream *u)
{
	size_t i;

	if (u->flags & ~IONCLOCK_UPSTREAM_ALL || u->pad)
		return -EINVAL;
	for (i = 0; i < ARRAY_SIZE(u->reserved); i++)
		if (u->reserved[i])
			return -EINVAL;
	if (u->flags & IONCLOCK_UPSTREAM_CLEAR) {
		struct ionclock_upstream clear;

		memset(&clear, 0, sizeof(clear));
		clear.flags = IONCLOCK_UPSTREAM_CLEAR;
		return memcmp(&clear, u, sizeof(clear)) ? -EINVAL : 0;
	}
	if ((u->flags & IONCLOCK_UPSTREAM_LEAP61) &&
	    (u->flags & IONCLOCK_UPSTREAM_LEAP59))
		return -EINVAL;
	if ((u->flags & IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN) && u->gm_accuracy_ns)
		return -EINVAL;
	if (u->port_state < IONCLOCK_PORT_INITIALIZING ||
	    u->port_state > IONCLOCK_PORT_SLAVE)
		return -ERANGE;
	if (magnitude(u->master_offset_ns) > IONCLOCK_UPSTREAM_MAX_NS ||
	    u->asymmetry_ns > IONCLOCK_UPSTREAM_MAX_NS ||
	    u->gm_accuracy_ns > IONCLOCK_UPSTREAM_MAX_NS ||
	    u->path_delay_ns > IONCLOCK_UPSTREAM_MAX_NS ||
	    u->hop_ns > IONCLOCK_UPSTREAM_MAX_NS)
		return -ERANGE;
	if (u->ttl_ns < IONCLOCK_UPSTREAM_MIN_TTL_NS ||
	    u->ttl_ns > IONCLOCK_UPSTREAM_MAX_TTL_NS ||
	    u->age_ns > IONCLOCK_UPSTREAM_MAX_TTL_NS)
		return -ERANGE;
	if (u->utc_offset_s < 0 || u->utc_offset_s > 1000)
		return -ERANGE;
	return 0;
}

u64 ionclock_upstream_reported_ns(const struct ionclock_upstream *u)
{
	return ionclock_upstream_error_ns(u);
}

static bool domain_utc(const struct ionclock_upstream *u)
{
	return (u->flags & IONCLOCK_UPSTREAM_PTP_TIMESCALE) &&
	       (u->flags & IONCLOCK_UPSTREAM_UTC_OFFSET_VALID);
}

/* A leap stays remembered until its smear, and the keep time, are over. */
static bool leap_over(const struct ionclock_ptp_leap *l, u64 tai_s)
{
	u64 keep = l->window_s / 2;

	if (keep < IONCLOCK_PTP_LEAP_KEEP_S)
		keep = IONCLOCK_PTP_LEAP_KEEP_S;
	return tai_s >= l->leap_tai_s + keep;
}

static void remember_leap(struct ionclock_ptp_leap *l,
			  const struct ionclock_upstream *u, u64 tai_s,
			  u32 smear_window_s)
{
	s32 delta = (u->flags & IONCLOCK_UPSTREAM_LEAP61) ? 1 : -1;
	u64 utc_s, day_end, left;

	if (l->set && l->base_offset_s == u->utc_offset_s &&
	    l->delta_s == delta)
		return;		/* the same announcement again */
	/*
	 * UTC on the announced day.  During an inserted 23:59:60, TAI minus
	 * the old offset already reads as the next midnight: count it in
	 * the day it ends.
	 */
	utc_s = tai_s - (u64)u->utc_offset_s - (delta > 0 ? 1 : 0);
	day_end = (utc_s / SECS_PER_DAY + 1) * SECS_PER_DAY;
	l->set = true;
	l->base_offset_s = u->utc_offset_s;
	l->delta_s = delta;
	l->leap_tai_s = day_end + (u64)(u->utc_offset_s + delta);
	left = l->leap_tai_s > tai_s ? l->leap_tai_s - tai_s : 0;
	/* Learned inside its smear: start the smear now, centred still. */
	l->window_s = smear_window_s / 2 > left ? (u32)(2 * left) :
						  smear_window_s;
}

void ionclock_upstream_apply(struct ionclock_upstream_state *st,
			     const struct ionclock_upstream *u,
			     u64 now_tai_ns, u32 smear_window_s)
{
	u64 tai_s = now_tai_ns / NSEC_PER_SEC_U, measured, step;

	if (u->flags & IONCLOCK_UPSTREAM_CLEAR) {
		u64 updates = st->updates, changes = st->gm_changes;

		memset(st, 0, sizeof(*st));
		st->updates = updates;
		st->gm_changes = changes;
		return;
	}
	if (st->fed && memcmp(st->last.gm_identity, u->gm_identity,
			      sizeof(u->gm_identity)))
		st->gm_changes++;
	measured = now_tai_ns > u->age_ns ? now_tai_ns - u->age_ns : 0;
	/*
	 * A feed repeats its last measurement, aged, until ptp4l takes in
	 * another sync; what it then says was measured moves with the time
	 * between the two clocks (the feed's monotonic clock, this TAI) only,
	 * a small part of the time elapsed.  A new sync moves it by about all
	 * of that time, and by at least one sync interval (7.8 ms at most
	 * 128 a second).
	 */
	step = (now_tai_ns - st->renewed_set_tai_ns) / 16;
	if (step < IONCLOCK_UPSTREAM_RENEW_NS)
		step = IONCLOCK_UPSTREAM_RENEW_NS;
	if (!st->fed || measured > st->renewed_measured_tai_ns + step) {
		st->renewals++;
		st->renewed_measured_tai_ns = measured;
		st->renewed_set_tai_ns = now_tai_ns;
	}
	st->fed = true;
	st->last = *u;
	st->set_tai_ns = now_tai_ns;
	st->measured_tai_ns = measured;
	st->expiry_tai_ns = now_tai_ns + u->ttl_ns;
	st->reported_ns = ionclock_upstream_reported_ns(u);
	st->updates++;

	if (domain_utc(u) &&
	    (u->flags & (IONCLOCK_UPSTREAM_LEAP61 | IONCLOCK_UPSTREAM_LEAP59)))
		remember_leap(&st->leap, u, tai_s, smear_window_s);
	else if (st->leap.set && tai_s < st->leap.leap_tai_s &&
		 u->utc_offset_s != st->leap.base_offset_s + st->leap.delta_s)
		st->leap.set = false;	/* withdrawn before it happened */
	/*
	 * The offset after the leap, before its moment (a grandmaster that
	 * counts 23:59:60 already): the leap stands, at its own second; the
	 * new offset alone would move UTC back by the leap.
	 */
}

bool ionclock_upstream_utc_usable(const struct ionclock_upstream_state *st,
				  u64 now_tai_ns)
{
	return st->fed && now_tai_ns < st->expiry_tai_ns &&
	       domain_utc(&st->last);
}

/*
 * The domain's leap fields at @tai_s: a remembered leap until it is over,
 * else the offset it reports, with no leap.
 */
void ionclock_upstream_leap_at(struct ionclock_upstream_state *st, u64 tai_s,
			       struct ionclock_leap_state *ls, u32 *window_s)
{
	struct ionclock_ptp_leap *l = &st->leap;

	if (l->set && leap_over(l, tai_s))
		l->set = false;
	memset(ls, 0, sizeof(*ls));
	ls->valid = true;
	ls->expiry_tai_s = st->expiry_tai_ns / NSEC_PER_SEC_U;
	if (l->set) {
		ls->tai_utc_offset_s = l->base_offset_s;
		ls->delta_s = l->delta_s;
		ls->leap_tai_s = l->leap_tai_s;
		*window_s = l->window_s;
	} else {
		ls->tai_utc_offset_s = st->last.utc_offset_s;
	}
}

void ionclock_page_fill_upstream(struct ionclock_page *p,
				 const struct ionclock_upstream_state *st,
				 u64 now_tai_ns)
{
	const struct ionclock_upstream *u = &st->last;

	p->flags &= ~(IONCLOCK_FLAG_UPSTREAM_FED | IONCLOCK_FLAG_UPSTREAM_STALE |
		      IONCLOCK_FLAG_UPSTREAM_UNTRACEABLE);
	p->upstream_updates = st->updates;
	p->upstream_gm_changes = st->gm_changes;
	if (!st->fed) {
		p->upstream_measured_tai_ns = 0;
		p->upstream_expiry_tai_ns = 0;
		p->upstream_reported_ns = 0;
		p->upstream_master_offset_ns = 0;
		p->upstream_asymmetry_ns = 0;
		p->upstream_gm_accuracy_ns = 0;
		p->upstream_path_delay_ns = 0;
		memset(p->upstream_gm_identity, 0, sizeof(p->upstream_gm_identity));
		p->upstream_port_state = 0;
		p->upstream_flags = 0;
		p->upstream_utc_offset_s = 0;
		p->upstream_gm_clock_class = 0;
		p->upstream_gm_clock_accuracy = 0;
		return;
	}
	p->flags |= IONCLOCK_FLAG_UPSTREAM_FED;
	if (now_tai_ns >= st->expiry_tai_ns)
		p->flags |= IONCLOCK_FLAG_UPSTREAM_STALE;
	if (u->flags & IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN)
		p->flags |= IONCLOCK_FLAG_UPSTREAM_UNTRACEABLE;
	p->upstream_measured_tai_ns = st->measured_tai_ns;
	p->upstream_expiry_tai_ns = st->expiry_tai_ns;
	p->upstream_reported_ns = st->reported_ns;
	p->upstream_master_offset_ns = u->master_offset_ns;
	p->upstream_asymmetry_ns = u->asymmetry_ns;
	p->upstream_gm_accuracy_ns = u->gm_accuracy_ns;
	p->upstream_path_delay_ns = u->path_delay_ns;
	memcpy(p->upstream_gm_identity, u->gm_identity,
	       sizeof(p->upstream_gm_identity));
	p->upstream_port_state = u->port_state;
	p->upstream_flags = u->flags;
	p->upstream_utc_offset_s = u->utc_offset_s;
	p->upstream_gm_clock_class = u->gm_clock_class;
	p->upstream_gm_clock_accuracy = u->gm_clock_accuracy;
}
