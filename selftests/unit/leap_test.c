// SPDX-License-Identifier: GPL-2.0
/*
 * kmod/leap.c's decisions seen through the library's UTC clock: a leap
 * table loaded while a smear runs, a PHC that runs UTC, and a page that
 * cannot know TAI.  Pages are frozen at one TAI instant (rate 0), filled
 * by the module's own page_fill code, and read through ionclock_gettime().
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "leap.h"
#include "utc_source.h"
#include "unit.h"

#define NS		1000000000LL
/* 2017-01-01 00:00:00 UTC, the midnight after the leap of 2016-12-31. */
#define MIDNIGHT_2017	1483228800ULL
#define LEAP_TAI_2017	(MIDNIGHT_2017 + 37)

/* A table whose last leap is 2016-12-31's, or one that stops before it. */
static void table_fill(struct ionclock_leap_table *t, bool with_2017)
{
	memset(t, 0, sizeof(*t));
	t->leaps[0].utc_s = 63072000;		/* 1972-01-01 */
	t->leaps[0].tai_utc_offset_s = 10;
	t->leaps[1].utc_s = 1435708800;		/* 2015-07-01 */
	t->leaps[1].tai_utc_offset_s = 36;
	t->leaps[2].utc_s = MIDNIGHT_2017;
	t->leaps[2].tai_utc_offset_s = 37;
	t->count = with_2017 ? 3 : 2;
	t->expiry_utc_s = MIDNIGHT_2017 + 400 * 86400ULL;
}

struct page_handle {
	struct ionclock_page *p;
	struct ionclock c;
};

static void handle_new(struct page_handle *h)
{
	h->p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (h->p == MAP_FAILED)
		abort();
	h->p->magic = IONCLOCK_PAGE_MAGIC;
	h->p->size = IONCLOCK_PAGE_SIZE;
	h->p->version = IONCLOCK_ABI_VERSION;
	h->p->counter_id = IONCLOCK_COUNTER_MONOTONIC_RAW;
	memset(&h->c, 0, sizeof(h->c));
	h->c.fd = -1;		/* a fallback to read() would fail */
	h->c.counter_id = h->p->counter_id;
	h->c.page = h->p;
}

/*
 * The page at TAI @tai_ns as page.c fills it: from table @t, or with none
 * from the kernel's offset @off_s (valid if not 0).  Returns smeared UTC
 * there, or INT64_MIN if the library publishes none.
 */
static int64_t smeared_utc(struct page_handle *h,
			   const struct ionclock_leap_table *t, int32_t off_s,
			   uint64_t tai_ns, uint32_t window_s)
{
	struct ionclock_utc_inputs in = { 0 };
	struct ionclock_utc_choice c;
	struct timespec ts;

	memset((char *)h->p + 16, 0, IONCLOCK_PAGE_SIZE - 16);
	h->p->flags = IONCLOCK_FLAG_VALID | IONCLOCK_FLAG_BOUND_VALID;
	h->p->time_base_ns = tai_ns;
	in.tai_s = tai_ns / NS;
	in.smear_window_s = window_s;
	in.table = t;
	in.kernel = off_s != 0;
	in.kernel_offset_s = off_s;
	ionclock_utc_choose(&in, &c);
	ionclock_page_fill_utc(h->p, &c);
	if (ionclock_gettime(&h->c, IONCLOCK_UTC, &ts, NULL))
		return INT64_MIN;
	return ts.tv_sec * NS + ts.tv_nsec;
}

/* What one sweep saw. */
struct load_sweep {
	unsigned long taken, refused, would_go_back;
	int64_t worst_back;
};

/*
 * One load of @new over @old (or, with none, the kernel offset @old_off_s)
 * at TAI @now: if the module takes it, smeared UTC must not go back.
 */
static void try_load(struct unit *u, struct page_handle *h,
		     struct load_sweep *sw,
		     const struct ionclock_leap_table *old, int32_t old_off_s,
		     const struct ionclock_leap_table *new, uint64_t now,
		     uint32_t window_s)
{
	int64_t before = smeared_utc(h, old, old_off_s, now, window_s);
	int64_t after = smeared_utc(h, new, 37, now, window_s);
	int err;

	if (before != INT64_MIN && after < before) {
		sw->would_go_back++;
		if (before - after > sw->worst_back)
			sw->worst_back = before - after;
	}
	err = ionclock_leaps_may_replace(old, old_off_s, old_off_s != 0, new,
					 now, window_s);
	if (err) {
		UNIT_EXPECT(u, err == -EBUSY, "err %d", err);
		sw->refused++;
		return;
	}
	sw->taken++;
	UNIT_EXPECT(u, before == INT64_MIN || after >= before,
		    "window %u, %lld ns from the leap, old table %s (offset %d), new %u entries: smeared UTC back %lld ns",
		    window_s, (long long)(now - LEAP_TAI_2017 * NS),
		    old ? "yes" : "no", old_off_s, new->count,
		    (long long)(before - after));
}

/*
 * ---- every table load the module would take keeps smeared UTC from
 * going back; some loads in the middle of a smear would move it back
 * (about half a second, with the default window) and are refused.
 */
static void test_load_mid_smear(struct unit *u)
{
	static const uint32_t windows[] = { 86400, 3, 0 };
	struct ionclock_leap_table with, without;
	const struct ionclock_leap_table *olds[4], *news[2];
	struct load_sweep sw = { 0 };
	struct page_handle h;
	int32_t old_off[4];
	size_t w, o, n;
	int64_t dt;

	handle_new(&h);
	table_fill(&with, true);
	table_fill(&without, false);
	/* No table (kernel offset 36, or none at all), or either table. */
	olds[0] = NULL;
	olds[1] = NULL;
	olds[2] = &without;
	olds[3] = &with;
	old_off[0] = 36;
	old_off[1] = 0;
	old_off[2] = 36;
	old_off[3] = 36;
	news[0] = &with;
	news[1] = &without;

	for (w = 0; w < ARRAY_SIZE(windows); w++) {
		int64_t half = (int64_t)windows[w] * NS / 2 + 2 * NS;

		for (dt = -half - 3 * NS; dt <= half + 3 * NS;
		     dt += half / 50 + 7777777)
			for (o = 0; o < ARRAY_SIZE(olds); o++)
				for (n = 0; n < ARRAY_SIZE(news); n++)
					try_load(u, &h, &sw, olds[o],
						 old_off[o], news[n],
						 LEAP_TAI_2017 * NS + dt,
						 windows[w]);
	}
	printf("# %lu loads taken, %lu refused; %lu would have moved smeared UTC back (up to %lld ns)\n",
	       sw.taken, sw.refused, sw.would_go_back,
	       (long long)sw.worst_back);
	/* The sweep reaches the case the check exists for. */
	UNIT_EXPECT(u, sw.would_go_back > 0 && sw.worst_back > NS / 4,
		    "%lu, %lld", sw.would_go_back, (long long)sw.worst_back);
	UNIT_EXPECT(u, sw.refused >= sw.would_go_back, "%lu < %lu",
		    sw.refused, sw.would_go_back);
	/* Outside any smear, loading a table is never refused. */
	UNIT_EXPECT(u, !ionclock_leaps_may_replace(NULL, 37, true, &with,
						   (LEAP_TAI_2017 + 86400) * NS,
						   86400),
		    "refused a day after the leap");
	UNIT_EXPECT(u, !ionclock_leaps_may_replace(&without, 36, true, &with,
						   (LEAP_TAI_2017 - 86400) * NS,
						   86400),
		    "refused a day before the leap");
	munmap(h.p, IONCLOCK_PAGE_SIZE);
}

/*
 * ---- a PHC on UTC: the offset that makes it TAI is the one in effect at
 * its UTC time, right from the midnight after the leap.  The page's own
 * tai_utc_offset_s keeps the pre-leap offset until the smear is over (12 h
 * with the default window): taking that one was 1 s off for 12 h.
 */
static void test_utc_phc_offset(struct unit *u)
{
	static const struct {
		const char *name;
		int64_t from_midnight_s;
		int32_t offset_s;
	} points[] = {
		{ "a day before", -86400, 36 },
		{ "23:59:59", -1, 36 },
		{ "00:00:00, the midnight after the leap", 0, 37 },
		{ "1 h after", 3600, 37 },
		{ "11:59:59 after, smear still running", 43199, 37 },
		{ "a year after", 365 * 86400, 37 },
	};
	struct ionclock_leap_table t;
	struct ionclock_leap_state st;
	size_t i;

	table_fill(&t, true);
	for (i = 0; i < ARRAY_SIZE(points); i++) {
		uint64_t utc_s = MIDNIGHT_2017 + points[i].from_midnight_s;
		int32_t off = ionclock_leaps_offset_at_utc(&t, utc_s);

		UNIT_EXPECT(u, off == points[i].offset_s, "%s: %d, not %d",
			    points[i].name, off, points[i].offset_s);
	}
	/* What the old conversion took, an hour after the leap. */
	ionclock_leaps_at(&t, MIDNIGHT_2017 + 3600 + 37, 86400, &st);
	UNIT_EXPECT(u, st.tai_utc_offset_s == 36 && st.delta_s == 1,
		    "the page's offset 1 h after: %d (delta %d)",
		    st.tai_utc_offset_s, st.delta_s);
	UNIT_EXPECT(u, ionclock_leaps_offset_at_utc(&t, 0) == 10,
		    "before the table: %d", ionclock_leaps_offset_at_utc(&t, 0));
}

/*
 * ---- a PHC on UTC with no TAI - UTC offset known: the page's time is
 * UTC under TAI's name, so it claims no bound (and no UTC either).
 */
static void test_utc_phc_no_offset(struct unit *u)
{
	int64_t t, earliest, latest;
	struct page_handle h;
	struct timespec ts;
	int err;

	handle_new(&h);
	smeared_utc(&h, NULL, 0, MIDNIGHT_2017 * NS, 86400);
	ionclock_page_fill_timescale(h.p, true);
	err = ionclock_now_bounded(&h.c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == -ENODATA, "UTC PHC, no offset: bounded read %d",
		    err);
	err = ionclock_gettime(&h.c, IONCLOCK_UTC, &ts, NULL);
	UNIT_EXPECT(u, err == -ENODATA, "UTC PHC, no offset: UTC read %d",
		    err);
	err = ionclock_now(&h.c, &t);
	UNIT_EXPECT(u, err == 0, "the time itself: %d", err);

	/* With an offset known, or a PHC on TAI, the bound stays. */
	smeared_utc(&h, NULL, 37, MIDNIGHT_2017 * NS, 86400);
	ionclock_page_fill_timescale(h.p, true);
	err = ionclock_now_bounded(&h.c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0, "UTC PHC, offset 37: %d", err);
	smeared_utc(&h, NULL, 0, MIDNIGHT_2017 * NS, 86400);
	ionclock_page_fill_timescale(h.p, false);
	err = ionclock_now_bounded(&h.c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0, "TAI PHC, no offset: %d", err);
	munmap(h.p, IONCLOCK_PAGE_SIZE);
}

const struct unit_case unit_leap_cases[] = {
	{ "leap: a table loaded mid-smear never moves smeared UTC back",
	  test_load_mid_smear },
	{ "leap: a UTC PHC takes the offset in effect at its time",
	  test_utc_phc_offset },
	{ "leap: a UTC PHC with no offset known publishes no bound",
	  test_utc_phc_no_offset },
	{ NULL, NULL },
};
