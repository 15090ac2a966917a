// SPDX-License-Identifier: GPL-2.0
/*
 * TAI - UTC from the best source available, in the order the uapi header
 * gives: the PTP domain, a current leap table, the kernel's TAI offset, an
 * expired leap table.  Every available source is compared with the one in
 * use, by the offset each says holds now, and a PTP leap by whether a
 * current table has the same one; a difference is reported in the page,
 * never settled by picking a winner silently.
 */
#ifdef __KERNEL__
#include <linux/string.h>
#else
#include <string.h>
#endif
#include <linux/ionclock.h>

#include "utc_source.h"

#define BIT_OF(source)	(1u << (source))

/* TAI - UTC that @st says holds at @tai_s, a passed leap counted. */
static s32 offset_now(const struct ionclock_leap_state *st, u64 tai_s)
{
	if (st->delta_s && st->leap_tai_s && tai_s >= st->leap_tai_s)
		return st->tai_utc_offset_s + st->delta_s;
	return st->tai_utc_offset_s;
}

static bool near_leap(const struct ionclock_leap_state *st, u64 tai_s)
{
	if (!st->delta_s || !st->leap_tai_s)
		return false;
	return tai_s + IONCLOCK_UTC_LEAP_GRACE_S >= st->leap_tai_s &&
	       tai_s <= st->leap_tai_s + IONCLOCK_UTC_LEAP_GRACE_S;
}

void ionclock_utc_choose(const struct ionclock_utc_inputs *in,
			 struct ionclock_utc_choice *out)
{
	struct ionclock_leap_state states[IONCLOCK_UTC_SOURCES];
	struct ionclock_leap_state table = { 0 };
	bool grace = false;
	u32 s;

	memset(out, 0, sizeof(*out));
	memset(states, 0, sizeof(states));
	out->window_s = in->smear_window_s;
	if (in->ptp) {
		out->sources |= BIT_OF(IONCLOCK_UTC_SOURCE_PTP);
		states[IONCLOCK_UTC_SOURCE_PTP] = in->ptp_state;
	}
	if (in->table) {
		ionclock_leaps_at(in->table, in->tai_s, in->smear_window_s,
				  &table);
		s = table.valid ? IONCLOCK_UTC_SOURCE_LEAP_FILE :
				  IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE;
		out->sources |= BIT_OF(s);
		states[s] = table;
	}
	if (in->kernel) {
		out->sources |= BIT_OF(IONCLOCK_UTC_SOURCE_KERNEL);
		states[IONCLOCK_UTC_SOURCE_KERNEL].tai_utc_offset_s =
			in->kernel_offset_s;
	}
	/* The order of the IONCLOCK_UTC_SOURCE_* values is the preference. */
	for (s = IONCLOCK_UTC_SOURCE_PTP; s < IONCLOCK_UTC_SOURCES; s++)
		if (out->sources & BIT_OF(s))
			break;
	if (s == IONCLOCK_UTC_SOURCES)
		return;
	out->source = s;
	out->st = states[s];
	if (s == IONCLOCK_UTC_SOURCE_PTP)
		out->window_s = in->ptp_window_s;

	for (s = IONCLOCK_UTC_SOURCE_PTP; s < IONCLOCK_UTC_SOURCES; s++)
		if ((out->sources & BIT_OF(s)) && near_leap(&states[s], in->tai_s))
			grace = true;
	if (grace)
		return;
	for (s = IONCLOCK_UTC_SOURCE_PTP; s < IONCLOCK_UTC_SOURCES; s++)
		if (s != out->source && (out->sources & BIT_OF(s)) &&
		    offset_now(&states[s], in->tai_s) !=
		    offset_now(&out->st, in->tai_s))
			out->disagree |= BIT_OF(s);
	/*
	 * A leap the domain announces that a current table, which reaches
	 * past it, does not have (or has the other way).
	 */
	if (out->source == IONCLOCK_UTC_SOURCE_PTP && table.valid &&
	    in->ptp_state.delta_s && table.expiry_tai_s > in->ptp_state.leap_tai_s &&
	    (table.leap_tai_s != in->ptp_state.leap_tai_s ||
	     table.delta_s != in->ptp_state.delta_s))
		out->disagree |= BIT_OF(IONCLOCK_UTC_SOURCE_LEAP_FILE);
}

void ionclock_page_fill_utc(struct ionclock_page *p,
			    const struct ionclock_utc_choice *c)
{
	p->flags &= ~(IONCLOCK_FLAG_TAI_OFFSET_VALID | IONCLOCK_FLAG_LEAP_VALID |
		      IONCLOCK_FLAG_LEAPS_EXPIRED | IONCLOCK_FLAG_UTC_DISAGREE);
	p->utc_source = c->source;
	p->utc_sources = c->sources;
	p->utc_disagree = c->disagree;
	p->smear_window_s = c->window_s;
	if (c->source == IONCLOCK_UTC_SOURCE_NONE) {
		p->tai_utc_offset_s = 0;
		p->next_leap_delta_s = 0;
		p->next_leap_tai_s = 0;
		p->leap_expiry_tai_s = 0;
		return;
	}
	p->tai_utc_offset_s = c->st.tai_utc_offset_s;
	p->next_leap_delta_s = c->st.delta_s;
	p->next_leap_tai_s = c->st.leap_tai_s;
	p->leap_expiry_tai_s = c->st.expiry_tai_s;
	p->flags |= IONCLOCK_FLAG_TAI_OFFSET_VALID;
	if (c->source == IONCLOCK_UTC_SOURCE_PTP ||
	    c->source == IONCLOCK_UTC_SOURCE_LEAP_FILE)
		p->flags |= IONCLOCK_FLAG_LEAP_VALID;
	if (c->source == IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE)
		p->flags |= IONCLOCK_FLAG_LEAPS_EXPIRED;
	if (c->disagree)
		p->flags |= IONCLOCK_FLAG_UTC_DISAGREE;
}
