// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for ionclock's time core: kmod/engine.c, kmod/leap.c and
 * kmod/page_fill.c, linked unchanged into a UML kernel by
 * selftests/kunit/run-kunit.sh.
 *
 * The engine's cases and the simulated PHC that drives them are shared with
 * the host unit tests (selftests/sim/, copied beside this file); they run
 * here with the unit tests' default seed, SIM_SEED.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/string.h>
#include <linux/ionclock.h>

#include "engine.h"
#include "engine_cases.h"
#include "leap.h"
#include "upstream.h"
#include "utc_source.h"

/*
 * Every case table's entries start with a human name: the cases are
 * parameters of KUNIT_ARRAY_PARAM and are reported under that name.
 */
#define IONCLOCK_CASES(id, array)					\
	static void id##_desc(typeof(&(array)[0]) c, char *desc)	\
	{								\
		strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);		\
	}								\
	KUNIT_ARRAY_PARAM(id, array, id##_desc)

/*
 * The engine cases (selftests/sim/engine_cases.c) and the PHC simulator
 * under them (phc_sim.c) are the host unit tests' too; here are the hooks
 * they report through, and a KUnit parameter for each of their cases.
 */
/* A failed expectation at @file:@line, or with no @file a line of news. */
static void sim_kunit_report(struct kunit *test, const char *file, int line,
			     const char *fmt, va_list ap)
{
	struct va_format vaf;
	va_list aq;

	va_copy(aq, ap);
	vaf.fmt = fmt;
	vaf.va = &aq;
	if (file)
		KUNIT_FAIL(test, "%s:%d: %pV", kbasename(file), line, &vaf);
	else
		kunit_info(test, "%pV\n", &vaf);
	va_end(aq);
}

void sim_hook_fail(const struct sim_env *env, const char *file, int line,
		   const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sim_kunit_report(env->ctx, file, line, fmt, ap);
	va_end(ap);
}

void sim_hook_info(const struct sim_env *env, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sim_kunit_report(env->ctx, NULL, 0, fmt, ap);
	va_end(ap);
}

void *sim_hook_zalloc(const struct sim_env *env, size_t size)
{
	return kunit_kzalloc(env->ctx, size, GFP_KERNEL);
}

void sim_hook_free(const struct sim_env *env, void *p)
{
	kunit_kfree(env->ctx, p);
}

/* The cases of @t one by one, each under its own name. */
static const void *sim_gen_params(const struct sim_test *t, const void *prev,
				  char *desc)
{
	size_t i = 0;

	if (prev)
		i = ((const char *)prev - (const char *)t->cases) /
		    t->case_size + 1;

	if (i >= t->n_cases)
		return NULL;
	strscpy(desc, sim_case_name(t, i), KUNIT_PARAM_DESC_SIZE);
	return sim_case(t, i);
}

static void sim_kunit_run(struct kunit *test, const struct sim_test *t)
{
	struct sim_env env = { .ctx = test, .seed = SIM_SEED };

	t->run(&env, test->param_value);
}

#define SIM_KUNIT(id)							\
	static const void *id##_gen_params(const void *prev, char *desc) \
	{								\
		return sim_gen_params(&sim_test_##id, prev, desc);	\
	}								\
	static void ionclock_##id##_test(struct kunit *test)		\
	{								\
		sim_kunit_run(test, &sim_test_##id);			\
	}

SIM_KUNIT(new_map)
SIM_KUNIT(property)
SIM_KUNIT(slewed_back)
SIM_KUNIT(implausible_start)
SIM_KUNIT(implausible_late)
SIM_KUNIT(confirmed_step)
SIM_KUNIT(slower_reads)
SIM_KUNIT(startup_bound)
SIM_KUNIT(jump_bound)
SIM_KUNIT(counter_reset)
SIM_KUNIT(disruption)
SIM_KUNIT(bound)
SIM_KUNIT(continuity)
SIM_KUNIT(sweep)
SIM_KUNIT(plausibility)
SIM_KUNIT(forward_step)
SIM_KUNIT(backward_step)

/* Leap tables: leap-seconds.list's, as of its 2026-06-28 expiry. */
static const struct ionclock_leap real_leaps[] = {
	{ 63072000ULL, 10 },	/* 1972-01-01 */
	{ 78796800ULL, 11 },	/* 1972-07-01 */
	{ 94694400ULL, 12 },	/* 1973-01-01 */
	{ 126230400ULL, 13 },	/* 1974-01-01 */
	{ 157766400ULL, 14 },	/* 1975-01-01 */
	{ 189302400ULL, 15 },	/* 1976-01-01 */
	{ 220924800ULL, 16 },	/* 1977-01-01 */
	{ 252460800ULL, 17 },	/* 1978-01-01 */
	{ 283996800ULL, 18 },	/* 1979-01-01 */
	{ 315532800ULL, 19 },	/* 1980-01-01 */
	{ 362793600ULL, 20 },	/* 1981-07-01 */
	{ 394329600ULL, 21 },	/* 1982-07-01 */
	{ 425865600ULL, 22 },	/* 1983-07-01 */
	{ 489024000ULL, 23 },	/* 1985-07-01 */
	{ 567993600ULL, 24 },	/* 1988-01-01 */
	{ 631152000ULL, 25 },	/* 1990-01-01 */
	{ 662688000ULL, 26 },	/* 1991-01-01 */
	{ 709948800ULL, 27 },	/* 1992-07-01 */
	{ 741484800ULL, 28 },	/* 1993-07-01 */
	{ 773020800ULL, 29 },	/* 1994-07-01 */
	{ 820454400ULL, 30 },	/* 1996-01-01 */
	{ 867715200ULL, 31 },	/* 1997-07-01 */
	{ 915148800ULL, 32 },	/* 1999-01-01 */
	{ 1136073600ULL, 33 },	/* 2006-01-01 */
	{ 1230768000ULL, 34 },	/* 2009-01-01 */
	{ 1341100800ULL, 35 },	/* 2012-07-01 */
	{ 1435708800ULL, 36 },	/* 2015-07-01 */
	{ 1483228800ULL, 37 },	/* 2017-01-01 */
};

#define REAL_EXPIRY_UTC		1782604800ULL	/* 2026-06-28 */
#define NOW_UTC			1735689600ULL	/* 2025-01-01 */
/* Two leaps that have not been announced: a +1 and then a -1. */
#define PLUS_UTC		1893456000ULL	/* 2030-01-01 */
#define MINUS_UTC		1940630400ULL	/* 2031-07-01 */
#define FUTURE_EXPIRY_UTC	1988150400ULL	/* 2033-01-01 */
/* The leaps' midnights on the TAI scale. */
#define L2016_TAI		(1483228800ULL + 37)
#define PLUS_TAI		(PLUS_UTC + 38)
#define MINUS_TAI		(MINUS_UTC + 37)
#define SMEAR_S			86400
#define HALF_SMEAR_S		(SMEAR_S / 2)

enum leap_table_kind { LEAPS_REAL, LEAPS_FUTURE };

static void leaps_fill(struct ionclock_leap_table *t, enum leap_table_kind k)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->leaps, real_leaps, sizeof(real_leaps));
	t->count = ARRAY_SIZE(real_leaps);
	t->expiry_utc_s = REAL_EXPIRY_UTC;
	if (k == LEAPS_FUTURE) {
		t->leaps[t->count].utc_s = PLUS_UTC;
		t->leaps[t->count++].tai_utc_offset_s = 38;
		t->leaps[t->count].utc_s = MINUS_UTC;
		t->leaps[t->count++].tai_utc_offset_s = 37;
		t->expiry_utc_s = FUTURE_EXPIRY_UTC;
	}
}

enum leap_change {
	LEAP_AS_IS,
	LEAP_FUTURE,
	LEAP_FULL,
	LEAP_ONE,
	LEAP_UNSORTED,
	LEAP_SAME_DAY,
	LEAP_TWO_S,
	LEAP_ZERO_S,
	LEAP_NOT_MIDNIGHT,
	LEAP_BEFORE_1972,
	LEAP_AFTER_2200,
	LEAP_NEGATIVE,
	LEAP_EXPIRY_BEFORE_LAST,
	LEAP_COUNT_0,
	LEAP_COUNT_65,
	LEAP_FLAGS,
	LEAP_RESERVED,
	LEAP_ENTRY_RESERVED,
};

struct validate_case {
	const char *name;
	enum leap_change change;
	int expect;
};

static const struct validate_case validate_cases[] = {
	{ "good: leap-seconds.list, 28 entries, expired 2026-06-28 (flagged by utc_source.c)",
	  LEAP_AS_IS, 0 },
	{ "good: a +1 and a -1 leap ahead", LEAP_FUTURE, 0 },
	{ "good: 64 entries, the most", LEAP_FULL, 0 },
	{ "good: only the 1972 base", LEAP_ONE, 0 },
	{ "unsorted: 2012 and 2015 swapped", LEAP_UNSORTED, -EINVAL },
	{ "two entries on one day", LEAP_SAME_DAY, -EINVAL },
	{ "2 s step in 2017", LEAP_TWO_S, -EINVAL },
	{ "0 s step in 2017", LEAP_ZERO_S, -EINVAL },
	{ "not midnight: 2017-01-01 00:00:01", LEAP_NOT_MIDNIGHT,
	  -ERANGE },
	{ "before 1972", LEAP_BEFORE_1972, -ERANGE },
	{ "after 2200", LEAP_AFTER_2200, -ERANGE },
	{ "negative TAI - UTC", LEAP_NEGATIVE, -ERANGE },
	{ "expiry before the last leap", LEAP_EXPIRY_BEFORE_LAST,
	  -ERANGE },
	{ "count 0", LEAP_COUNT_0, -EINVAL },
	{ "count 65", LEAP_COUNT_65, -EINVAL },
	{ "flags set", LEAP_FLAGS, -EINVAL },
	{ "table reserved word set", LEAP_RESERVED, -EINVAL },
	{ "entry reserved word set", LEAP_ENTRY_RESERVED, -EINVAL },
};

IONCLOCK_CASES(validate, validate_cases);

static void leaps_change(struct ionclock_leap_table *t, enum leap_change c)
{
	struct ionclock_leap *last = &t->leaps[t->count - 1];
	struct ionclock_leap tmp;
	u32 i;

	switch (c) {
	case LEAP_AS_IS:
		break;
	case LEAP_FUTURE:
		leaps_fill(t, LEAPS_FUTURE);
		break;
	case LEAP_FULL:
		/* 36 more, 180 days apart, alternately +1 and -1. */
		for (i = t->count; i < IONCLOCK_MAX_LEAPS; i++) {
			t->leaps[i].utc_s = t->leaps[i - 1].utc_s + 180 * 86400;
			t->leaps[i].tai_utc_offset_s =
				t->leaps[i - 1].tai_utc_offset_s +
				(i % 2 ? 1 : -1);
		}
		t->count = IONCLOCK_MAX_LEAPS;
		t->expiry_utc_s = t->leaps[i - 1].utc_s + 30 * 86400;
		break;
	case LEAP_ONE:
		t->count = 1;
		break;
	case LEAP_UNSORTED:
		tmp = t->leaps[25];
		t->leaps[25] = t->leaps[26];
		t->leaps[26] = tmp;
		break;
	case LEAP_SAME_DAY:
		last->utc_s = t->leaps[t->count - 2].utc_s;
		break;
	case LEAP_TWO_S:
		last->tai_utc_offset_s = 38;
		break;
	case LEAP_ZERO_S:
		last->tai_utc_offset_s = 36;
		break;
	case LEAP_NOT_MIDNIGHT:
		last->utc_s += 1;
		break;
	case LEAP_BEFORE_1972:
		t->leaps[0].utc_s = IONCLOCK_LEAP_FIRST_UTC_S - 86400;
		break;
	case LEAP_AFTER_2200:
		last->utc_s = IONCLOCK_LEAP_LAST_UTC_S + 86400;
		t->expiry_utc_s = IONCLOCK_LEAP_LAST_UTC_S;
		break;
	case LEAP_NEGATIVE:
		t->count = 1;
		t->leaps[0].tai_utc_offset_s = -1;
		break;
	case LEAP_EXPIRY_BEFORE_LAST:
		t->expiry_utc_s = last->utc_s;
		break;
	case LEAP_COUNT_0:
		t->count = 0;
		break;
	case LEAP_COUNT_65:
		t->count = IONCLOCK_MAX_LEAPS + 1;
		break;
	case LEAP_FLAGS:
		t->flags = 1;
		break;
	case LEAP_RESERVED:
		t->reserved[3] = 1;
		break;
	case LEAP_ENTRY_RESERVED:
		t->leaps[5].reserved = 1;
		break;
	}
}

static void ionclock_leap_validate_test(struct kunit *test)
{
	const struct validate_case *c = test->param_value;
	struct ionclock_leap_table *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	leaps_fill(t, LEAPS_REAL);
	leaps_change(t, c->change);
	KUNIT_EXPECT_EQ(test, ionclock_leaps_validate(t),
			c->expect);
}

/*
 * What the page says about leaps at a TAI second: the offset before the
 * next leap, the leap's sign and its TAI midnight.  A leap stays "next"
 * until its smear (centred on it) is over, or, unsmeared, until its
 * midnight.
 */
struct leaps_at_case {
	const char *name;
	enum leap_table_kind table;
	u64 tai_s;
	u32 window_s;
	s32 offset_s;
	s32 delta_s;
	u64 leap_tai_s;
	bool valid;
};

static const struct leaps_at_case leaps_at_cases[] = {
	{ "1970, before the table: 1972-06-30's leap is next", LEAPS_REAL,
	  0, SMEAR_S, 10, 1, 78796800ULL + 11, true },
	{ "2015-01-01: 2015-06-30's leap is next", LEAPS_REAL,
	  1420070400ULL + 35, SMEAR_S, 35, 1, 1435708800ULL + 36, true },
	{ "2016-12-31 11:59:59 UTC, before the 24 h smear", LEAPS_REAL,
	  L2016_TAI - HALF_SMEAR_S - 1, SMEAR_S, 36, 1, L2016_TAI, true },
	{ "2016-12-31 12:00:00 UTC, the 24 h smear starts", LEAPS_REAL,
	  L2016_TAI - HALF_SMEAR_S, SMEAR_S, 36, 1, L2016_TAI, true },
	{ "2016-12-31 23:59:60 UTC, unsmeared", LEAPS_REAL,
	  L2016_TAI - 1, 0, 36, 1, L2016_TAI, true },
	{ "2017-01-01 00:00:00 UTC, unsmeared: leap done", LEAPS_REAL,
	  L2016_TAI, 0, 37, 0, 0, true },
	{ "2017-01-01 00:00:00 UTC, mid-smear", LEAPS_REAL,
	  L2016_TAI, SMEAR_S, 36, 1, L2016_TAI, true },
	{ "2017-01-01 11:59:59 UTC, the smear's last second", LEAPS_REAL,
	  L2016_TAI + HALF_SMEAR_S - 1, SMEAR_S, 36, 1, L2016_TAI, true },
	{ "2017-01-01 12:00:00 UTC, the smear is over", LEAPS_REAL,
	  L2016_TAI + HALF_SMEAR_S, SMEAR_S, 37, 0, 0, true },
	{ "2016-12-31 leap, chrony's 62500 s smear, last second", LEAPS_REAL,
	  L2016_TAI + 31249, 62500, 36, 1, L2016_TAI, true },
	{ "2016-12-31 leap, chrony's 62500 s smear, over", LEAPS_REAL,
	  L2016_TAI + 31250, 62500, 37, 0, 0, true },
	{ "the last second before the table expires", LEAPS_REAL,
	  REAL_EXPIRY_UTC + 37 - 1, SMEAR_S, 37, 0, 0, true },
	{ "the table has expired", LEAPS_REAL,
	  REAL_EXPIRY_UTC + 37, SMEAR_S, 37, 0, 0, false },
	{ "+1 leap: 23:59:60, unsmeared", LEAPS_FUTURE,
	  PLUS_TAI - 1, 0, 37, 1, PLUS_TAI, true },
	{ "+1 leap: midnight, unsmeared: the -1 leap is next", LEAPS_FUTURE,
	  PLUS_TAI, 0, 38, -1, MINUS_TAI, true },
	{ "+1 leap: the smear's last second", LEAPS_FUTURE,
	  PLUS_TAI + HALF_SMEAR_S - 1, SMEAR_S, 37, 1, PLUS_TAI, true },
	{ "+1 leap: smear over, the -1 leap is next", LEAPS_FUTURE,
	  PLUS_TAI + HALF_SMEAR_S, SMEAR_S, 38, -1, MINUS_TAI, true },
	{ "-1 leap: 23:59:58, the last second, unsmeared", LEAPS_FUTURE,
	  MINUS_TAI - 1, 0, 38, -1, MINUS_TAI, true },
	{ "-1 leap: midnight, unsmeared: leap done", LEAPS_FUTURE,
	  MINUS_TAI, 0, 37, 0, 0, true },
	{ "-1 leap: the smear starts", LEAPS_FUTURE,
	  MINUS_TAI - HALF_SMEAR_S, SMEAR_S, 38, -1, MINUS_TAI, true },
	{ "-1 leap: the smear's last second", LEAPS_FUTURE,
	  MINUS_TAI + HALF_SMEAR_S - 1, SMEAR_S, 38, -1, MINUS_TAI, true },
	{ "-1 leap: smear over", LEAPS_FUTURE,
	  MINUS_TAI + HALF_SMEAR_S, SMEAR_S, 37, 0, 0, true },
};

IONCLOCK_CASES(leaps_at, leaps_at_cases);

/* What the page says with a table as the UTC source (utc_source.c). */
static void fill_from_table(struct ionclock_page *page,
			    const struct ionclock_leap_state *st, u32 window_s)
{
	struct ionclock_utc_choice c = {
		.source = st->valid ? IONCLOCK_UTC_SOURCE_LEAP_FILE :
				      IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE,
		.st = *st,
		.window_s = window_s,
	};

	c.sources = 1u << c.source;
	ionclock_page_fill_utc(page, &c);
}

static void ionclock_leaps_at_test(struct kunit *test)
{
	const struct leaps_at_case *c = test->param_value;
	struct ionclock_leap_state st;
	struct ionclock_leap_table *t;
	struct ionclock_page *page;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	leaps_fill(t, c->table);
	KUNIT_ASSERT_EQ(test, ionclock_leaps_validate(t), 0);

	memset(&st, 0xa5, sizeof(st));
	ionclock_leaps_at(t, c->tai_s, c->window_s, &st);
	KUNIT_EXPECT_EQ(test, st.tai_utc_offset_s, c->offset_s);
	KUNIT_EXPECT_EQ(test, st.delta_s, c->delta_s);
	KUNIT_EXPECT_EQ(test, st.leap_tai_s, c->leap_tai_s);
	KUNIT_EXPECT_EQ(test, st.expiry_tai_s, t->expiry_utc_s +
			(u64)t->leaps[t->count - 1].tai_utc_offset_s);
	KUNIT_EXPECT_EQ(test, st.valid, c->valid);

	/* And the page says the same. */
	fill_from_table(page, &st, c->window_s);
	KUNIT_EXPECT_EQ(test, page->tai_utc_offset_s, c->offset_s);
	KUNIT_EXPECT_EQ(test, page->next_leap_delta_s, c->delta_s);
	KUNIT_EXPECT_EQ(test, page->next_leap_tai_s, c->leap_tai_s);
	KUNIT_EXPECT_EQ(test, page->smear_window_s, c->window_s);
	KUNIT_EXPECT_EQ(test, page->flags,
			IONCLOCK_FLAG_TAI_OFFSET_VALID |
			(c->valid ? IONCLOCK_FLAG_LEAP_VALID :
				    IONCLOCK_FLAG_LEAPS_EXPIRED));
}

/*
 * The page's flags and state from the engine (page_fill.c), then the leap
 * fields (leap.c) as page.c applies them after it.
 */
enum leap_fill {
	FILL_NO_LEAPS, FILL_LEAPS_VALID, FILL_LEAPS_EXPIRED, FILL_KERNEL_OFFSET
};

struct page_case {
	const char *name;
	u32 state;
	bool published;
	bool phc_gone;
	s64 offset_ns;
	u32 old_flags;
	enum leap_fill leaps;
	u32 flags;
	u32 page_state;
};

#define F_VALID		IONCLOCK_FLAG_VALID
#define F_GONE		IONCLOCK_FLAG_PHC_GONE
#define F_SLEW		IONCLOCK_FLAG_SLEWING
#define F_BOUND		IONCLOCK_FLAG_BOUND_VALID
#define F_TAI		IONCLOCK_FLAG_TAI_OFFSET_VALID
#define F_LEAP		IONCLOCK_FLAG_LEAP_VALID

static const struct page_case page_cases[] = {
	{ "starting, nothing published", IONCLOCK_STATE_STARTING,
	  false, false, 0, 0, FILL_NO_LEAPS, 0, IONCLOCK_STATE_STARTING },
	{ "starting, first mapping published", IONCLOCK_STATE_STARTING,
	  true, false, 0, 0, FILL_NO_LEAPS, F_VALID | F_BOUND,
	  IONCLOCK_STATE_STARTING },
	{ "tracking, on time", IONCLOCK_STATE_TRACKING, true, false, 0, 0,
	  FILL_NO_LEAPS, F_VALID | F_BOUND, IONCLOCK_STATE_TRACKING },
	{ "tracking, slewing 123 ns back", IONCLOCK_STATE_TRACKING, true,
	  false, -123, 0, FILL_NO_LEAPS, F_VALID | F_BOUND | F_SLEW,
	  IONCLOCK_STATE_TRACKING },
	{ "tracking, slewing forward, stale flags cleared",
	  IONCLOCK_STATE_TRACKING, true, false, 5000, F_GONE | F_LEAP,
	  FILL_NO_LEAPS, F_VALID | F_BOUND | F_SLEW, IONCLOCK_STATE_TRACKING },
	{ "holdover, PHC gone", IONCLOCK_STATE_HOLDOVER, true, true, 0, 0,
	  FILL_NO_LEAPS, F_VALID | F_BOUND | F_GONE, IONCLOCK_STATE_HOLDOVER },
	{ "unreliable PHC", IONCLOCK_STATE_UNRELIABLE, true, false, 0, 0,
	  FILL_NO_LEAPS, F_VALID | F_BOUND, IONCLOCK_STATE_UNRELIABLE },
	{ "TAI offset flag from the kernel's offset, not the old page",
	  IONCLOCK_STATE_TRACKING, true, false, 0, F_TAI | F_SLEW,
	  FILL_KERNEL_OFFSET, F_VALID | F_BOUND | F_TAI,
	  IONCLOCK_STATE_TRACKING },
	{ "stale TAI offset flag cleared", IONCLOCK_STATE_TRACKING, true,
	  false, 0, F_TAI, FILL_NO_LEAPS, F_VALID | F_BOUND,
	  IONCLOCK_STATE_TRACKING },
	{ "tracking with a valid leap table", IONCLOCK_STATE_TRACKING,
	  true, false, 0, F_TAI | F_LEAP, FILL_LEAPS_VALID,
	  F_VALID | F_BOUND | F_TAI | F_LEAP, IONCLOCK_STATE_TRACKING },
	{ "holdover with an expired leap table", IONCLOCK_STATE_HOLDOVER,
	  true, true, 0, F_TAI | F_LEAP, FILL_LEAPS_EXPIRED,
	  F_VALID | F_BOUND | F_GONE | F_TAI | IONCLOCK_FLAG_LEAPS_EXPIRED,
	  IONCLOCK_STATE_HOLDOVER },
};

IONCLOCK_CASES(page, page_cases);

static void ionclock_page_fill_test(struct kunit *test)
{
	const struct page_case *c = test->param_value;
	struct ionclock_bound b = {
		.bracket_ns = 11, .residual_ns = 22, .slew_ns = 33,
		.upstream_ns = 44, .total_ns = 110, .growth_frac32 = 64424,
	};
	struct ionclock_params params;
	struct ionclock_engine *e;
	struct ionclock_page *page;

	e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, e);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	params = sim_module_defaults;
	ionclock_engine_init(e, sim_nominal_mult(&sim_tsc_3ghz), 32, &params);
	e->state = c->state;
	e->published = c->published;
	e->offset_ns = c->offset_ns;
	/* A case with an offset is one the publisher is slewing away. */
	e->slew_frac40 = c->offset_ns < 0 ? -1 : c->offset_ns > 0;
	e->generation = 7;
	e->map.counter_base = 123456789;
	e->map.time_base_ns = SIM_PHC_START_NS;
	e->map.mult = sim_nominal_mult(&sim_tsc_3ghz) + 1;
	e->map.shift = 32;
	page->flags = c->old_flags;

	ionclock_page_fill(page, e, &b, c->phc_gone);
	if (c->leaps == FILL_KERNEL_OFFSET) {
		struct ionclock_utc_choice k = {
			.source = IONCLOCK_UTC_SOURCE_KERNEL,
			.sources = 1u << IONCLOCK_UTC_SOURCE_KERNEL,
			.st.tai_utc_offset_s = 37,
			.window_s = SMEAR_S,
		};

		ionclock_page_fill_utc(page, &k);
	} else if (c->leaps != FILL_NO_LEAPS) {
		struct ionclock_leap_state st = {
			.tai_utc_offset_s = 37,
			.expiry_tai_s = REAL_EXPIRY_UTC + 37,
			.valid = c->leaps == FILL_LEAPS_VALID,
		};

		fill_from_table(page, &st, SMEAR_S);
	}
	KUNIT_EXPECT_EQ(test, page->flags, c->flags);
	KUNIT_EXPECT_EQ(test, page->state, c->page_state);
	KUNIT_EXPECT_EQ(test, page->generation, 7U);
	KUNIT_EXPECT_EQ(test, page->counter_base, e->map.counter_base);
	KUNIT_EXPECT_EQ(test, page->time_base_ns, e->map.time_base_ns);
	KUNIT_EXPECT_EQ(test, page->time_mult, e->map.mult);
	KUNIT_EXPECT_EQ(test, page->time_shift, 32U);
	KUNIT_EXPECT_EQ(test, page->error_bound_ns, 110ULL);
	KUNIT_EXPECT_EQ(test, page->error_slew_ns, 33ULL);
	KUNIT_EXPECT_EQ(test, page->phc_offset_ns, c->offset_ns);
}

static struct kunit_case ionclock_engine_cases[] = {
	KUNIT_CASE_PARAM(ionclock_bound_test, bound_gen_params),
	KUNIT_CASE_PARAM(ionclock_continuity_test, continuity_gen_params),
	KUNIT_CASE_PARAM(ionclock_sweep_test, sweep_gen_params),
	KUNIT_CASE_PARAM(ionclock_plausibility_test, plausibility_gen_params),
	KUNIT_CASE_PARAM(ionclock_forward_step_test, forward_step_gen_params),
	KUNIT_CASE_PARAM(ionclock_backward_step_test, backward_step_gen_params),
	/* The unit tests' cases, run here too. */
	KUNIT_CASE_PARAM(ionclock_new_map_test, new_map_gen_params),
	KUNIT_CASE_PARAM(ionclock_property_test, property_gen_params),
	KUNIT_CASE_PARAM(ionclock_slewed_back_test, slewed_back_gen_params),
	KUNIT_CASE_PARAM(ionclock_implausible_start_test,
			 implausible_start_gen_params),
	KUNIT_CASE_PARAM(ionclock_implausible_late_test,
			 implausible_late_gen_params),
	KUNIT_CASE_PARAM(ionclock_confirmed_step_test,
			 confirmed_step_gen_params),
	KUNIT_CASE_PARAM(ionclock_slower_reads_test, slower_reads_gen_params),
	KUNIT_CASE_PARAM(ionclock_startup_bound_test,
			 startup_bound_gen_params),
	KUNIT_CASE_PARAM(ionclock_jump_bound_test, jump_bound_gen_params),
	KUNIT_CASE_PARAM(ionclock_counter_reset_test,
			 counter_reset_gen_params),
	KUNIT_CASE_PARAM(ionclock_disruption_test, disruption_gen_params),
	{}
};

static struct kunit_suite ionclock_engine_suite = {
	.name = "ionclock_engine",
	.test_cases = ionclock_engine_cases,
};

static struct kunit_case ionclock_leap_cases[] = {
	KUNIT_CASE_PARAM(ionclock_leap_validate_test, validate_gen_params),
	KUNIT_CASE_PARAM(ionclock_leaps_at_test, leaps_at_gen_params),
	{}
};

static struct kunit_suite ionclock_leap_suite = {
	.name = "ionclock_leap",
	.test_cases = ionclock_leap_cases,
};

static struct kunit_case ionclock_page_cases[] = {
	KUNIT_CASE_PARAM(ionclock_page_fill_test, page_gen_params),
	{}
};

static struct kunit_suite ionclock_page_suite = {
	.name = "ionclock_page",
	.test_cases = ionclock_page_cases,
};

/*
 * Where TAI - UTC comes from (utc_source.c), with the PTP domain's fields
 * going through upstream.c as a feed's would: the order of the sources,
 * a leap the domain announces, and disagreements reported.
 */
enum table_use { NO_TABLE, TABLE_REAL, TABLE_FUTURE };

#define PTP_UTC		(IONCLOCK_UPSTREAM_PTP_TIMESCALE |		\
			 IONCLOCK_UPSTREAM_UTC_OFFSET_VALID)
#define NOON_BEFORE_PLUS	(PLUS_TAI - HALF_SMEAR_S - 1)
#define NOON_DAY_BEFORE		(NOON_BEFORE_PLUS - 86400)
#define BIT_SRC(x)		(1u << IONCLOCK_UTC_SOURCE_##x)

struct utc_case {
	const char *name;
	enum table_use table;
	u32 ptp_flags;		/* 0: no feed */
	s32 ptp_offset_s;
	s32 kernel_offset_s;	/* 0: not set */
	u64 tai_s;
	u32 source;
	u32 disagree;
	u64 leap_tai_s;
};

static const struct utc_case utc_cases[] = {
	{ "tzdata's expired table alone: used, flagged", TABLE_REAL, 0, 0, 0,
	  NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE, 0, 0 },
	{ "the kernel's offset before an expired table", TABLE_REAL, 0, 0, 37,
	  NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_KERNEL, 0, 0 },
	{ "the kernel at 36, an expired table at 37: reported", TABLE_REAL, 0,
	  0, 36, NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_KERNEL,
	  BIT_SRC(EXPIRED_LEAP_FILE), 0 },
	{ "a current table before the kernel", TABLE_FUTURE, 0, 0, 37,
	  NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_LEAP_FILE, 0, PLUS_TAI },
	{ "the domain first; its leap61 is the table's", TABLE_FUTURE,
	  PTP_UTC | IONCLOCK_UPSTREAM_LEAP61, 37, 37, NOON_BEFORE_PLUS,
	  IONCLOCK_UTC_SOURCE_PTP, 0, PLUS_TAI },
	{ "the domain's leap61 a day early: the table disagrees", TABLE_FUTURE,
	  PTP_UTC | IONCLOCK_UPSTREAM_LEAP61, 37, 0, NOON_DAY_BEFORE,
	  IONCLOCK_UTC_SOURCE_PTP, BIT_SRC(LEAP_FILE), PLUS_TAI - 86400 },
	{ "the domain at 36, the table at 37: reported", TABLE_FUTURE,
	  PTP_UTC, 36, 0, NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_PTP,
	  BIT_SRC(LEAP_FILE), 0 },
	{ "an ARB timescale is no source of UTC", TABLE_FUTURE,
	  IONCLOCK_UPSTREAM_UTC_OFFSET_VALID | IONCLOCK_UPSTREAM_LEAP61, 37, 0,
	  NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_LEAP_FILE, 0, PLUS_TAI },
	{ "an invalid currentUtcOffset is no source", NO_TABLE,
	  IONCLOCK_UPSTREAM_PTP_TIMESCALE, 37, 37, NOON_BEFORE_PLUS,
	  IONCLOCK_UTC_SOURCE_KERNEL, 0, 0 },
	{ "the domain alone announces a leap59", NO_TABLE,
	  PTP_UTC | IONCLOCK_UPSTREAM_LEAP59, 37, 0, NOON_BEFORE_PLUS,
	  IONCLOCK_UTC_SOURCE_PTP, 0, PLUS_TAI - 2 },
};

IONCLOCK_CASES(utc, utc_cases);

static void ionclock_utc_source_test(struct kunit *test)
{
	const struct utc_case *c = test->param_value;
	struct ionclock_upstream_state *st;
	struct ionclock_leap_table *t;
	struct ionclock_utc_inputs in = {
		.tai_s = c->tai_s, .smear_window_s = SMEAR_S,
		.ptp_window_s = SMEAR_S,
	};
	struct ionclock_utc_choice ch;
	struct ionclock_page *page;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, st);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	if (c->table != NO_TABLE) {
		leaps_fill(t, c->table == TABLE_REAL ? LEAPS_REAL : LEAPS_FUTURE);
		KUNIT_ASSERT_EQ(test, ionclock_leaps_validate(t), 0);
		in.table = t;
	}
	if (c->ptp_flags) {
		struct ionclock_upstream u = {
			.flags = c->ptp_flags, .port_state = IONCLOCK_PORT_SLAVE,
			.ttl_ns = 5 * NSEC_PER_SEC, .utc_offset_s = c->ptp_offset_s,
		};

		KUNIT_ASSERT_EQ(test, ionclock_upstream_validate(&u), 0);
		ionclock_upstream_apply(st, &u, (c->tai_s - 1) * NSEC_PER_SEC,
					SMEAR_S);
		in.ptp = ionclock_upstream_utc_usable(st, c->tai_s * NSEC_PER_SEC);
		if (in.ptp)
			ionclock_upstream_leap_at(st, c->tai_s, &in.ptp_state,
						  &in.ptp_window_s);
	}
	in.kernel = c->kernel_offset_s != 0;
	in.kernel_offset_s = c->kernel_offset_s;
	ionclock_utc_choose(&in, &ch);
	ionclock_page_fill_utc(page, &ch);

	KUNIT_EXPECT_EQ(test, page->utc_source, c->source);
	KUNIT_EXPECT_EQ(test, page->utc_disagree, c->disagree);
	KUNIT_EXPECT_EQ(test, page->next_leap_tai_s, c->leap_tai_s);
	KUNIT_EXPECT_EQ(test, !!(page->flags & IONCLOCK_FLAG_UTC_DISAGREE),
			!!c->disagree);
	KUNIT_EXPECT_EQ(test, !!(page->flags & IONCLOCK_FLAG_LEAPS_EXPIRED),
			c->source == IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE);
	KUNIT_EXPECT_TRUE(test, page->flags & IONCLOCK_FLAG_TAI_OFFSET_VALID);
	KUNIT_EXPECT_TRUE(test, page->utc_sources & (1u << c->source));
}

static struct kunit_case ionclock_utc_source_cases[] = {
	KUNIT_CASE_PARAM(ionclock_utc_source_test, utc_gen_params),
	{}
};

static struct kunit_suite ionclock_utc_source_suite = {
	.name = "ionclock_utc_source",
	.test_cases = ionclock_utc_source_cases,
};

kunit_test_suites(&ionclock_engine_suite, &ionclock_leap_suite,
		  &ionclock_page_suite, &ionclock_utc_source_suite);

MODULE_DESCRIPTION("KUnit tests for ionclock's time core");
MODULE_LICENSE("GPL");
