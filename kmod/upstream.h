/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The upstream state a PTP feed hands in (IONCLOCK_IOC_SET_UPSTREAM):
 * checking it, remembering the leap the domain announces, and what the
 * page says about it.  Plain C like engine.c, so KUnit and the host tests
 * run the same code.
 */
#ifndef IONCLOCK_UPSTREAM_H
#define IONCLOCK_UPSTREAM_H

#include <linux/ionclock.h>

#include "engine.h"
#include "leap.h"

/* The largest error, offset or delay a feed may report: 1000 s, in ns. */
#define IONCLOCK_UPSTREAM_MAX_NS	1000000000000ULL
#define IONCLOCK_UPSTREAM_MIN_TTL_NS	100000000ULL
/* Less than any sync interval ptp4l runs (1/128 s): see the apply. */
#define IONCLOCK_UPSTREAM_RENEW_NS	1000000ULL
#define IONCLOCK_UPSTREAM_MAX_TTL_NS	86400000000000ULL
/*
 * A leap the domain announced is kept at least this long after it, so
 * that a feed still repeating the old offset for a few announce intervals
 * cannot undo it.
 */
#define IONCLOCK_PTP_LEAP_KEEP_S	60

/**
 * struct ionclock_ptp_leap - a leap the PTP domain announced
 * @set: a leap is remembered
 * @base_offset_s: TAI - UTC before it, as the domain said
 * @delta_s: +1 (leap61) or -1 (leap59)
 * @leap_tai_s: TAI second of the UTC midnight ending the announced day
 * @window_s: its smear window: the configured one, shortened to twice
 *	the time left when it was learned too late for all of it
 */
struct ionclock_ptp_leap {
	bool set;
	s32 base_offset_s;
	s32 delta_s;
	u64 leap_tai_s;
	u32 window_s;
};

/**
 * struct ionclock_upstream_state - what the module keeps from a feed
 * @fed: a feed has set the state (and not cleared it)
 * @last: the last struct accepted, as given
 * @set_tai_ns: page TAI time when it was accepted
 * @measured_tai_ns: page TAI time at which its offset was measured
 * @expiry_tai_ns: @set_tai_ns plus its time-to-live
 * @reported_ns: its error model, |offset| + asymmetry + accuracy
 * @updates: accepted calls
 * @gm_changes: changes of grandmaster identity between accepted calls
 * @leap: the leap the domain announced, if any
 */
struct ionclock_upstream_state {
	bool fed;
	struct ionclock_upstream last;
	u64 set_tai_ns;
	u64 measured_tai_ns;
	u64 expiry_tai_ns;
	u64 reported_ns;
	u64 updates;
	u64 gm_changes;
	/* New measurements (not the same one again, aged): see apply. */
	u64 renewals;
	u64 renewed_measured_tai_ns;
	u64 renewed_set_tai_ns;
	struct ionclock_ptp_leap leap;
};

int ionclock_upstream_validate(const struct ionclock_upstream *u);
u64 ionclock_upstream_reported_ns(const struct ionclock_upstream *u);
void ionclock_upstream_apply(struct ionclock_upstream_state *st,
			     const struct ionclock_upstream *u,
			     u64 now_tai_ns, u32 smear_window_s);
bool ionclock_upstream_utc_usable(const struct ionclock_upstream_state *st,
				  u64 now_tai_ns);
void ionclock_upstream_leap_at(struct ionclock_upstream_state *st, u64 tai_s,
			       struct ionclock_leap_state *ls, u32 *window_s);
void ionclock_page_fill_upstream(struct ionclock_page *p,
				 const struct ionclock_upstream_state *st,
				 u64 now_tai_ns);

#endif /* IONCLOCK_UPSTREAM_H */
