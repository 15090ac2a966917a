// SPDX-License-Identifier: GPL-2.0
/*
 * The upstream state from a PTP feed (kmod/upstream.c), its term in the
 * bound (kmod/engine.c), and the choice of UTC source (kmod/utc_source.c),
 * on the host.  Expected values are written out from the rules in the uapi
 * header, not recomputed with the module's formulas.
 */
#include <errno.h>
#include <string.h>
#include <linux/ionclock.h>

#include "engine.h"
#include "leap.h"
#include "upstream.h"
#include "utc_source.h"
#include "unit.h"

#define NS		1000000000ULL
#define DAY		86400ULL
/* 2026-12-02 00:00:00 UTC; TAI - UTC is 37 s then. */
#define D		1796169600ULL
#define NOON_TAI_S	(D + DAY / 2 + 37)
#define MIDNIGHT_TAI_S	(D + DAY + 38)	/* 2026-12-03 00:00:00 UTC after a +1 */

static struct ionclock_upstream good(void)
{
	struct ionclock_upstream u;

	memset(&u, 0, sizeof(u));
	u.flags = IONCLOCK_UPSTREAM_PTP_TIMESCALE |
		  IONCLOCK_UPSTREAM_UTC_OFFSET_VALID |
		  IONCLOCK_UPSTREAM_GM_PRESENT;
	u.port_state = IONCLOCK_PORT_SLAVE;
	u.master_offset_ns = -300;
	u.asymmetry_ns = 1000;
	u.gm_accuracy_ns = 100;
	u.path_delay_ns = 1000;
	u.ttl_ns = 5 * NS;
	u.utc_offset_s = 37;
	u.gm_identity[0] = 0xaa;
	return u;
}

struct bad_case {
	const char *what;
	void (*spoil)(struct ionclock_upstream *u);
	int expect;
};

static void unknown_flag(struct ionclock_upstream *u) { u->flags |= 1u << 20; }
static void pad_set(struct ionclock_upstream *u) { u->pad = 1; }
static void reserved_set(struct ionclock_upstream *u) { u->reserved[4] = 1; }
static void both_leaps(struct ionclock_upstream *u)
{
	u->flags |= IONCLOCK_UPSTREAM_LEAP61 | IONCLOCK_UPSTREAM_LEAP59;
}
static void unknown_but_valued(struct ionclock_upstream *u)
{
	u->flags |= IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN;
}
static void port_0(struct ionclock_upstream *u)
{
	u->port_state = IONCLOCK_PORT_INITIALIZING - 1;
}
static void port_10(struct ionclock_upstream *u) { u->port_state = 10; }
static void offset_big(struct ionclock_upstream *u) { u->master_offset_ns = 1000000000001LL; }
static void offset_big_neg(struct ionclock_upstream *u) { u->master_offset_ns = -1000000000001LL; }
static void asym_big(struct ionclock_upstream *u) { u->asymmetry_ns = 1000000000001ULL; }
static void hop_big(struct ionclock_upstream *u) { u->hop_ns = 1000000000001ULL; }
static void ttl_small(struct ionclock_upstream *u) { u->ttl_ns = 99999999; }
static void ttl_big(struct ionclock_upstream *u) { u->ttl_ns = 86400 * NS + 1; }
static void age_big(struct ionclock_upstream *u) { u->age_ns = 86400 * NS + 1; }
static void utc_neg(struct ionclock_upstream *u) { u->utc_offset_s = -1; }
static void utc_big(struct ionclock_upstream *u) { u->utc_offset_s = 1001; }
static void clear_with_data(struct ionclock_upstream *u) { u->flags = IONCLOCK_UPSTREAM_CLEAR; }
static void clear_alone(struct ionclock_upstream *u)
{
	memset(u, 0, sizeof(*u));
	u->flags = IONCLOCK_UPSTREAM_CLEAR;
}
static void age_at_limit(struct ionclock_upstream *u) { u->age_ns = 86400 * NS; }
static void offset_at_limit(struct ionclock_upstream *u) { u->master_offset_ns = -1000000000000LL; }

static const struct bad_case validate_cases[] = {
	{ "an unknown flag", unknown_flag, -EINVAL },
	{ "padding set", pad_set, -EINVAL },
	{ "a reserved word set", reserved_set, -EINVAL },
	{ "leap61 and leap59", both_leaps, -EINVAL },
	{ "accuracy unknown but given", unknown_but_valued, -EINVAL },
	{ "port state 0", port_0, -ERANGE },
	{ "port state 10", port_10, -ERANGE },
	{ "offset 1000 s + 1 ns", offset_big, -ERANGE },
	{ "offset -(1000 s + 1 ns)", offset_big_neg, -ERANGE },
	{ "asymmetry 1000 s + 1 ns", asym_big, -ERANGE },
	{ "hop 1000 s + 1 ns", hop_big, -ERANGE },
	{ "ttl under 0.1 s", ttl_small, -ERANGE },
	{ "ttl over a day", ttl_big, -ERANGE },
	{ "age over a day", age_big, -ERANGE },
	{ "currentUtcOffset -1", utc_neg, -ERANGE },
	{ "currentUtcOffset 1001", utc_big, -ERANGE },
	{ "clear with other fields set", clear_with_data, -EINVAL },
	{ "clear alone", clear_alone, 0 },
	{ "age of exactly a day", age_at_limit, 0 },
	{ "offset of exactly -1000 s", offset_at_limit, 0 },
};

static void upstream_validate(struct unit *u)
{
	struct ionclock_upstream up = good();
	size_t i;

	UNIT_EXPECT(u, ionclock_upstream_validate(&up) == 0, "a good state");
	for (i = 0; i < ARRAY_SIZE(validate_cases); i++) {
		up = good();
		validate_cases[i].spoil(&up);
		UNIT_EXPECT(u, ionclock_upstream_validate(&up) ==
			    validate_cases[i].expect, "%s", validate_cases[i].what);
	}
	up = good();
	UNIT_EXPECT(u, ionclock_upstream_reported_ns(&up) == 300 + 1000 + 100,
		    "|-300| + 1000 + 100");
	up.hop_ns = 7000;
	UNIT_EXPECT(u, ionclock_upstream_reported_ns(&up) == 300 + 1000 + 100 + 7000,
		    "|-300| + 1000 + 100 + a hop of 7000");
}

/* An engine tracking a perfect PHC, counter in ns, published at @t_ns. */
static void tracking_engine(struct ionclock_engine *e, u64 t_ns)
{
	struct ionclock_sample s = { .half_width = 50 };
	struct ionclock_bound b;
	int i;

	ionclock_engine_init(e, 1ULL << 24, 24, &module_defaults);
	for (i = 0; i < 8; i++) {
		s.counter = t_ns - (7 - i) * 100000000ULL;
		s.phc_ns = s.counter;
		ionclock_engine_add_sample(e, &s);
	}
	ionclock_engine_publish(e, t_ns, &b);
}

static void upstream_term(struct unit *u)
{
	const u64 t = 1000 * NS;
	struct ionclock_engine e;
	struct ionclock_bound b, nofeed;
	u64 growth_nofeed;

	tracking_engine(&e, t);
	ionclock_engine_publish(&e, t + 1000, &nofeed);
	UNIT_EXPECT(u, nofeed.upstream_ns == 0, "no feed, no floor: %llu",
		    (unsigned long long)nofeed.upstream_ns);
	growth_nofeed = nofeed.growth_frac32;

	/* Reported 1400 ns, measured 2 s before: 1400 + 15000 ppb * 2 s. */
	e.upstream_fed = true;
	e.upstream_reported_ns = 1400;
	e.upstream_measured_tai_ns = e.map.time_base_ns + 2000 - 2 * NS;
	ionclock_engine_publish(&e, t + 2000, &b);
	/* (the mapping's rate is the fit's, a few ns off nominal over 2 s) */
	UNIT_EXPECT(u, b.upstream_ns >= 1400 + 30000 - 2 &&
		    b.upstream_ns <= 1400 + 30000 + 2, "aged term %llu",
		    (unsigned long long)b.upstream_ns);
	UNIT_EXPECT(u, b.total_ns >= nofeed.total_ns + 31400 - 10,
		    "the term is in the total: %llu vs %llu",
		    (unsigned long long)b.total_ns,
		    (unsigned long long)nofeed.total_ns);
	/* 15000 ppb more growth: 15000e-9 * 2^32 = 64424.5 */
	UNIT_EXPECT(u, b.growth_frac32 >= growth_nofeed + 64424 &&
		    b.growth_frac32 <= growth_nofeed + 64425,
		    "growth %llu vs %llu", (unsigned long long)b.growth_frac32,
		    (unsigned long long)growth_nofeed);

	/* The static floor wins when it is larger, and only then. */
	e.params.upstream_ns = 100000;
	ionclock_engine_publish(&e, t + 3000, &b);
	UNIT_EXPECT(u, b.upstream_ns == 100000, "floor %llu",
		    (unsigned long long)b.upstream_ns);
	e.params.upstream_ns = 1000;
	ionclock_engine_publish(&e, t + 4000, &b);
	UNIT_EXPECT(u, b.upstream_ns >= 31398 && b.upstream_ns <= 31402,
		    "fed over a lower floor %llu",
		    (unsigned long long)b.upstream_ns);

	/* An hour later with no update: 1400 + 15 ppm * 3602 s = 54.03 ms. */
	ionclock_engine_publish(&e, t + 3600 * NS, &b);
	UNIT_EXPECT(u, b.upstream_ns >= 1400 + 54030000 - 2 &&
		    b.upstream_ns <= 1400 + 54030000 + 2,
		    "an hour on: %llu", (unsigned long long)b.upstream_ns);
}

/*
 * With nothing new from the domain the bound only grows, even when the
 * local terms shrink; a new measurement lets it fall again.
 */
static void upstream_held(struct unit *u)
{
	const u64 t = 1000 * NS;
	struct ionclock_sample s = { .half_width = 50 };
	struct ionclock_engine e;
	struct ionclock_bound wide, held, renewed;
	u64 grown;

	tracking_engine(&e, t);
	e.upstream_fed = true;
	e.upstream_reported_ns = 1400;
	e.upstream_measured_tai_ns = e.map.time_base_ns;
	e.upstream_renewals = 1;
	/* A slow PHC read: a wide bracket, published with fresh news. */
	s.counter = t + 100000000ULL;
	s.phc_ns = s.counter;
	ionclock_engine_add_sample(&e, &s);
	e.bracket_ns = 5000;
	ionclock_engine_publish(&e, s.counter, &wide);
	/* A quick one: the bracket shrinks, but the domain said nothing. */
	s.counter += 100000000ULL;
	s.phc_ns = s.counter;
	ionclock_engine_add_sample(&e, &s);
	e.bracket_ns = 50;
	ionclock_engine_publish(&e, s.counter, &held);
	grown = wide.total_ns + ((100000000ULL * wide.growth_frac32) >> 32);
	UNIT_EXPECT(u, held.bracket_ns < wide.bracket_ns,
		    "the bracket shrank: %llu -> %llu",
		    (unsigned long long)wide.bracket_ns,
		    (unsigned long long)held.bracket_ns);
	UNIT_EXPECT(u, held.total_ns + 1 >= grown,
		    "held: %llu, the last bound grown %llu",
		    (unsigned long long)held.total_ns, (unsigned long long)grown);
	/* A new measurement: the local terms count again. */
	e.upstream_renewals = 2;
	e.upstream_measured_tai_ns = e.map.time_base_ns;
	s.counter += 100000000ULL;
	s.phc_ns = s.counter;
	ionclock_engine_add_sample(&e, &s);
	e.bracket_ns = 50;
	ionclock_engine_publish(&e, s.counter, &renewed);
	UNIT_EXPECT(u, renewed.total_ns < wide.total_ns,
		    "renewed: %llu below %llu",
		    (unsigned long long)renewed.total_ns,
		    (unsigned long long)wide.total_ns);
}

/* The same measurement fed again is not news; a new sync is. */
static void upstream_renewal(struct unit *u)
{
	struct ionclock_upstream_state st;
	struct ionclock_upstream up = good();

	memset(&st, 0, sizeof(st));
	ionclock_upstream_apply(&st, &up, 100 * NS, 0);
	UNIT_EXPECT(u, st.renewals == 1, "first: %llu",
		    (unsigned long long)st.renewals);
	/* 10 s on, the same sync aged 10 s (a few us off): no news. */
	up.age_ns = 10 * NS - 3000;
	ionclock_upstream_apply(&st, &up, 110 * NS, 0);
	UNIT_EXPECT(u, st.renewals == 1, "repeated: %llu",
		    (unsigned long long)st.renewals);
	/* A sync measured 0.25 s ago: news. */
	up.age_ns = NS / 4;
	ionclock_upstream_apply(&st, &up, 111 * NS, 0);
	UNIT_EXPECT(u, st.renewals == 2, "new: %llu",
		    (unsigned long long)st.renewals);
}

static void apply(struct ionclock_upstream_state *st, u32 flags, s32 off,
		  u64 tai_s, u32 window)
{
	struct ionclock_upstream up = good();

	up.flags |= flags;
	up.utc_offset_s = off;
	ionclock_upstream_apply(st, &up, tai_s * NS, window);
}

static void ptp_leap(struct unit *u)
{
	struct ionclock_upstream_state st;
	struct ionclock_leap_state ls;
	u32 w;

	memset(&st, 0, sizeof(st));
	/* leap61 at noon UTC: end of this day, the whole 24 h smear ahead. */
	apply(&st, IONCLOCK_UPSTREAM_LEAP61, 37, NOON_TAI_S - 1, 86400);
	UNIT_EXPECT(u, st.leap.set && st.leap.delta_s == 1 &&
		    st.leap.leap_tai_s == MIDNIGHT_TAI_S &&
		    st.leap.window_s == 86400, "leap at %llu window %u",
		    (unsigned long long)st.leap.leap_tai_s, st.leap.window_s);
	w = 86400;
	ionclock_upstream_leap_at(&st, NOON_TAI_S, &ls, &w);
	UNIT_EXPECT(u, ls.tai_utc_offset_s == 37 && ls.delta_s == 1 &&
		    ls.leap_tai_s == MIDNIGHT_TAI_S && w == 86400,
		    "page fields %d %d %llu %u", ls.tai_utc_offset_s, ls.delta_s,
		    (unsigned long long)ls.leap_tai_s, w);

	/*
	 * During 23:59:60 the grandmaster already says 38, no flags: the
	 * leap stands at its own second, the page still shows 37 + 1.
	 */
	apply(&st, 0, 38, MIDNIGHT_TAI_S - 1, 86400);
	ionclock_upstream_leap_at(&st, MIDNIGHT_TAI_S - 1, &ls, &w);
	UNIT_EXPECT(u, st.leap.set && ls.tai_utc_offset_s == 37 && ls.delta_s == 1 &&
		    ls.leap_tai_s == MIDNIGHT_TAI_S,
		    "early 38: %d %d %llu", ls.tai_utc_offset_s, ls.delta_s,
		    (unsigned long long)ls.leap_tai_s);
	/* The same announcement after midnight (stale) does not move it. */
	apply(&st, IONCLOCK_UPSTREAM_LEAP61, 37, MIDNIGHT_TAI_S + 2, 86400);
	UNIT_EXPECT(u, st.leap.leap_tai_s == MIDNIGHT_TAI_S, "kept at %llu",
		    (unsigned long long)st.leap.leap_tai_s);
	/* The new offset without flags: still in the smear, still shown. */
	apply(&st, 0, 38, MIDNIGHT_TAI_S + 3, 86400);
	ionclock_upstream_leap_at(&st, MIDNIGHT_TAI_S + 3, &ls, &w);
	UNIT_EXPECT(u, ls.tai_utc_offset_s == 37 && ls.delta_s == 1,
		    "mid-smear %d %d", ls.tai_utc_offset_s, ls.delta_s);
	/* Smear over: the domain's offset, no leap. */
	ionclock_upstream_leap_at(&st, MIDNIGHT_TAI_S + 43200, &ls, &w);
	UNIT_EXPECT(u, !st.leap.set && ls.tai_utc_offset_s == 38 &&
		    ls.delta_s == 0, "after %d %d", ls.tai_utc_offset_s,
		    ls.delta_s);

	/* Learned 2 h before: the smear starts now, 4 h long, centred. */
	memset(&st, 0, sizeof(st));
	apply(&st, IONCLOCK_UPSTREAM_LEAP61, 37, MIDNIGHT_TAI_S - 1 - 7200,
	      86400);
	UNIT_EXPECT(u, st.leap.window_s == 2 * 7201, "late window %u",
		    st.leap.window_s);
	/* Withdrawn before it happens: forgotten. */
	apply(&st, 0, 37, MIDNIGHT_TAI_S - 100, 86400);
	UNIT_EXPECT(u, !st.leap.set, "withdrawn");

	/* Announced during 23:59:60 itself: this day, not the next. */
	memset(&st, 0, sizeof(st));
	apply(&st, IONCLOCK_UPSTREAM_LEAP61, 37, MIDNIGHT_TAI_S - 1, 0);
	UNIT_EXPECT(u, st.leap.leap_tai_s == MIDNIGHT_TAI_S, "23:59:60: %llu",
		    (unsigned long long)st.leap.leap_tai_s);
	/* leap59: the day ends 23:59:58, TAI - UTC becomes 36. */
	memset(&st, 0, sizeof(st));
	apply(&st, IONCLOCK_UPSTREAM_LEAP59, 37, NOON_TAI_S, 0);
	UNIT_EXPECT(u, st.leap.delta_s == -1 &&
		    st.leap.leap_tai_s == D + DAY + 36, "leap59 at %llu",
		    (unsigned long long)st.leap.leap_tai_s);
	/* Without ptpTimescale the leap flags mean nothing. */
	memset(&st, 0, sizeof(st));
	{
		struct ionclock_upstream up = good();

		up.flags = IONCLOCK_UPSTREAM_UTC_OFFSET_VALID |
			   IONCLOCK_UPSTREAM_LEAP61;
		ionclock_upstream_apply(&st, &up, NOON_TAI_S * NS, 86400);
		UNIT_EXPECT(u, !st.leap.set, "ARB timescale: no leap");
		UNIT_EXPECT(u, !ionclock_upstream_utc_usable(&st, NOON_TAI_S * NS),
			    "ARB timescale: no UTC source");
	}
	/* Usable until the time-to-live, not after. */
	memset(&st, 0, sizeof(st));
	apply(&st, 0, 37, NOON_TAI_S, 86400);
	UNIT_EXPECT(u, ionclock_upstream_utc_usable(&st, (NOON_TAI_S + 4) * NS),
		    "within ttl");
	UNIT_EXPECT(u, !ionclock_upstream_utc_usable(&st, (NOON_TAI_S + 5) * NS),
		    "at ttl");
}

/* A two-entry table: 36 s, then 37 s from 2017-01-01; expiring @exp. */
static void small_table(struct ionclock_leap_table *t, u64 exp_utc_s)
{
	memset(t, 0, sizeof(*t));
	t->count = 2;
	t->leaps[0].utc_s = 1435708800ULL;	/* 2015-07-01 */
	t->leaps[0].tai_utc_offset_s = 36;
	t->leaps[1].utc_s = 1483228800ULL;	/* 2017-01-01 */
	t->leaps[1].tai_utc_offset_s = 37;
	t->expiry_utc_s = exp_utc_s;
}

static void choose(struct ionclock_utc_inputs *in, struct ionclock_utc_choice *c,
		   struct ionclock_page *p)
{
	ionclock_utc_choose(in, c);
	memset(p, 0, sizeof(*p));
	ionclock_page_fill_utc(p, c);
}

#define SRC(x)	(1u << IONCLOCK_UTC_SOURCE_##x)

static void utc_sources(struct unit *u)
{
	struct ionclock_leap_table cur, old;
	struct ionclock_utc_inputs in;
	struct ionclock_utc_choice c;
	struct ionclock_page p;

	small_table(&cur, D + 200 * DAY);
	small_table(&old, D - 150 * DAY);	/* expired, like tzdata's */

	memset(&in, 0, sizeof(in));
	in.tai_s = NOON_TAI_S;
	in.smear_window_s = 86400;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, c.source == IONCLOCK_UTC_SOURCE_NONE &&
		    !(p.flags & IONCLOCK_FLAG_TAI_OFFSET_VALID), "nothing known");

	in.table = &old;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, c.source == IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE &&
		    p.tai_utc_offset_s == 37 &&
		    (p.flags & IONCLOCK_FLAG_LEAPS_EXPIRED) &&
		    (p.flags & IONCLOCK_FLAG_TAI_OFFSET_VALID) &&
		    !(p.flags & IONCLOCK_FLAG_LEAP_VALID),
		    "expired table last: source %u flags 0x%x", c.source, p.flags);
	UNIT_EXPECT(u, p.utc_source == IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE &&
		    p.utc_sources == SRC(EXPIRED_LEAP_FILE), "page says so");

	in.kernel = true;
	in.kernel_offset_s = 37;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, c.source == IONCLOCK_UTC_SOURCE_KERNEL && !c.disagree &&
		    !(p.flags & IONCLOCK_FLAG_LEAPS_EXPIRED),
		    "the kernel's offset before an expired table");

	in.table = &cur;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, c.source == IONCLOCK_UTC_SOURCE_LEAP_FILE &&
		    (p.flags & IONCLOCK_FLAG_LEAP_VALID) &&
		    c.sources == (SRC(LEAP_FILE) | SRC(KERNEL)),
		    "a current table before the kernel");

	in.ptp = true;
	in.ptp_state.tai_utc_offset_s = 37;
	in.ptp_window_s = 86400;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, c.source == IONCLOCK_UTC_SOURCE_PTP && !c.disagree &&
		    (p.flags & IONCLOCK_FLAG_LEAP_VALID) &&
		    !(p.flags & IONCLOCK_FLAG_UTC_DISAGREE), "the domain first");

	/* The kernel says 36: reported, not resolved. */
	in.kernel_offset_s = 36;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, c.source == IONCLOCK_UTC_SOURCE_PTP &&
		    p.tai_utc_offset_s == 37 && c.disagree == SRC(KERNEL) &&
		    (p.flags & IONCLOCK_FLAG_UTC_DISAGREE) &&
		    p.utc_disagree == SRC(KERNEL), "kernel disagrees: 0x%x",
		    c.disagree);
	in.kernel_offset_s = 37;

	/* The domain announces a leap the current table does not have. */
	in.ptp_state.delta_s = 1;
	in.ptp_state.leap_tai_s = MIDNIGHT_TAI_S;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, c.disagree == SRC(LEAP_FILE) &&
		    p.next_leap_tai_s == MIDNIGHT_TAI_S && p.next_leap_delta_s == 1,
		    "unconfirmed leap: 0x%x", c.disagree);
	/* Within a minute of it, no comparison. */
	in.tai_s = MIDNIGHT_TAI_S + 30;
	in.kernel_offset_s = 38;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, !c.disagree, "grace around the leap: 0x%x", c.disagree);
	/* After it, the kernel at 38 agrees with the passed leap. */
	in.tai_s = MIDNIGHT_TAI_S + 120;
	in.table = NULL;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, !c.disagree && p.tai_utc_offset_s == 37 &&
		    p.next_leap_delta_s == 1, "after the leap: 0x%x", c.disagree);
	/* A short PTP smear window is published as it is. */
	in.ptp_window_s = 14402;
	choose(&in, &c, &p);
	UNIT_EXPECT(u, p.smear_window_s == 14402, "window %u", p.smear_window_s);
}

const struct unit_case unit_upstream_cases[] = {
	{ "upstream: every flag, range and reserved field is checked", upstream_validate },
	{ "upstream: the fed term ages by drift_ppb over its floor", upstream_term },
	{ "upstream: no news from the domain, the bound only grows", upstream_held },
	{ "upstream: a repeated measurement is not news", upstream_renewal },
	{ "upstream: a leap the domain announces ends its UTC day", ptp_leap },
	{ "utc: sources in order, disagreement reported", utc_sources },
	{ NULL, NULL },
};
