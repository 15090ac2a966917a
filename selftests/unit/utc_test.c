// SPDX-License-Identifier: GPL-2.0
/*
 * libionclock's UTC clocks and commit-wait on pages published in this
 * process.  A page whose rate is 0 reads as its time_base_ns whatever the
 * counter says, so each case sets the exact TAI instant it asks about and
 * reads it back through ionclock_gettime(), the real read path.
 *
 * Expected values are written out by hand from the rules in <ionclock.h>,
 * not recomputed with the library's formula; the sweeps check properties
 * (never backward, rate within the smear's) at every step instead.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "internal.h"
#include "unit.h"

#define NS		1000000000LL
/* 2017-01-01 00:00:00 UTC, the midnight after the leap of 2016-12-31. */
#define MIDNIGHT_2017	1483228800LL
#define LEAPFILE	"/usr/share/zoneinfo/leap-seconds.list"
#define NTP_UNIX_DELTA	2208988800LL

struct frozen {
	struct ionclock_page *p;
	struct ionclock c;
};

static void frozen_new(struct frozen *f, uint32_t flags, int32_t offset_s,
		       int32_t delta_s, uint64_t leap_tai_s, uint32_t window_s)
{
	f->p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (f->p == MAP_FAILED)
		abort();
	f->p->magic = IONCLOCK_PAGE_MAGIC;
	f->p->size = IONCLOCK_PAGE_SIZE;
	f->p->version = IONCLOCK_ABI_VERSION;
	f->p->counter_id = IONCLOCK_COUNTER_MONOTONIC_RAW;
	f->p->flags = IONCLOCK_FLAG_VALID | flags;
	f->p->time_mult = 0;	/* frozen at time_base_ns */
	f->p->time_shift = 0;
	f->p->tai_utc_offset_s = offset_s;
	f->p->next_leap_delta_s = delta_s;
	f->p->next_leap_tai_s = leap_tai_s;
	f->p->smear_window_s = window_s;
	/* fd -1: a fallback to read() would fail with -EBADF. */
	f->c = (struct ionclock){ .fd = -1, .counter_id = f->p->counter_id,
				  .page = f->p };
}

static void frozen_free(struct frozen *f)
{
	munmap(f->p, IONCLOCK_PAGE_SIZE);
}

/* ionclock_gettime() at TAI @tai_ns, as ns; the error is returned. */
static int read_at(struct frozen *f, int clock, int64_t tai_ns,
		   int64_t *ns, int *flag)
{
	struct timespec ts = { 0 };
	int err;

	f->p->time_base_ns = (uint64_t)tai_ns;
	*flag = -1;
	err = ionclock_gettime(&f->c, clock, &ts, flag);
	*ns = ts.tv_sec * NS + ts.tv_nsec;
	if (!err && (ts.tv_nsec < 0 || ts.tv_nsec >= NS))
		return -ERANGE;
	return err;
}

/* ---- the leap fields, point by point */

struct point {
	const char *name;
	int64_t from_leap_ns;	/* TAI instant, relative to next_leap_tai_s */
	int64_t tai_minus_utc_ns;
	int flag;
};

struct leap_case {
	const char *name;
	int clock;
	int32_t offset_s, delta_s;
	uint32_t window_s;
	struct point points[12];
};

#define H	(43200 * NS)	/* half of the 86400 s window */

static const struct leap_case leap_cases[] = {
	{ "+1, smeared over 86400 s", IONCLOCK_UTC, 36, 1, 86400, {
		{ "a day before", -2 * H, 36 * NS, 0 },
		{ "1 ns before the smear", -H - 1, 36 * NS, 0 },
		{ "smear start", -H, 36 * NS, 1 },
		{ "86400 ns in: 1 ns slower", -H + 86400, 36 * NS + 1, 1 },
		{ "1 s before the leap", -NS, 36 * NS + 499988425, 1 },
		{ "the leap instant: half way", 0, 36 * NS + 500000000, 1 },
		{ "1 ns before the end", H - 1, 37 * NS - 1, 1 },
		{ "smear end", H, 37 * NS, 0 },
		{ "a day after", 2 * H, 37 * NS, 0 },
		{ NULL } } },
	{ "-1, smeared over 86400 s", IONCLOCK_UTC, 37, -1, 86400, {
		{ "1 ns before the smear", -H - 1, 37 * NS, 0 },
		{ "smear start", -H, 37 * NS, 1 },
		{ "86400 ns in: 1 ns faster", -H + 86400, 37 * NS - 1, 1 },
		{ "the leap instant: half way", 0, 36 * NS + 500000000, 1 },
		{ "1 ns before the end", H - 1, 36 * NS + 1, 1 },
		{ "smear end", H, 36 * NS, 0 },
		{ "a day after", 2 * H, 36 * NS, 0 },
		{ NULL } } },
	{ "+1, odd 3 s window centred", IONCLOCK_UTC, 36, 1, 3, {
		{ "1 ns before", -1500000001, 36 * NS, 0 },
		{ "start", -1500000000, 36 * NS, 1 },
		{ "3 ns in", -1499999997, 36 * NS + 1, 1 },
		{ "the leap instant", 0, 36 * NS + 500000000, 1 },
		{ "1 ns before the end", 1499999999, 37 * NS - 1, 1 },
		{ "end", 1500000000, 37 * NS, 0 },
		{ NULL } } },
	{ "+1, strict: 23:59:60 repeats 23:59:59", IONCLOCK_UTC_STRICT,
	  36, 1, 86400, {
		{ "smear start: no smear", -H, 36 * NS, 0 },
		{ "23:59:59.999999999", -NS - 1, 36 * NS, 0 },
		{ "23:59:60.000000000", -NS, 37 * NS, 1 },
		{ "23:59:60.999999999", -1, 37 * NS, 1 },
		{ "00:00:00", 0, 37 * NS, 0 },
		{ NULL } } },
	{ "-1, strict: 23:59:58 then 00:00:00", IONCLOCK_UTC_STRICT,
	  37, -1, 86400, {
		{ "23:59:58.999999999", -1, 37 * NS, 0 },
		{ "00:00:00", 0, 36 * NS, 0 },
		{ NULL } } },
	{ "+1, window 0: smeared repeats the second", IONCLOCK_UTC,
	  36, 1, 0, {
		{ "23:59:59.999999999", -NS - 1, 36 * NS, 0 },
		{ "23:59:59 again", -NS, 37 * NS, 1 },
		{ "00:00:00", 0, 37 * NS, 0 },
		{ NULL } } },
	{ "-1, window 0: a step forward", IONCLOCK_UTC, 37, -1, 0, {
		{ "just before", -1, 37 * NS, 0 },
		{ "the leap instant", 0, 36 * NS, 0 },
		{ NULL } } },
	{ "TAI ignores the leap", IONCLOCK_TAI, 36, 1, 86400, {
		{ "smear start", -H, 0, 0 },
		{ "the leap instant", 0, 0, 0 },
		{ NULL } } },
	{ "a negative offset is not taken as unsigned", IONCLOCK_UTC, -5, 1,
	  2, {
		{ "before", -2 * NS, -5 * NS, 0 },
		{ "half way", 0, -4 * NS - 500000000, 1 },
		{ "after", NS, -4 * NS, 0 },
		{ NULL } } },
};

static void test_leap_points(struct unit *u)
{
	const uint32_t flags = IONCLOCK_FLAG_TAI_OFFSET_VALID |
			       IONCLOCK_FLAG_LEAP_VALID;
	/* TAI second of 2017-01-01 00:00:00 UTC, as the page says it. */
	const uint64_t leap_s = MIDNIGHT_2017 + 37;
	const struct leap_case *lc;
	const struct point *pt;
	struct frozen f;
	int64_t t, ns;
	int err, flag;

	for (lc = leap_cases; lc < leap_cases + ARRAY_SIZE(leap_cases); lc++) {
		frozen_new(&f, flags, lc->offset_s, lc->delta_s, leap_s,
			   lc->window_s);
		for (pt = lc->points; pt->name; pt++) {
			t = (int64_t)leap_s * NS + pt->from_leap_ns;
			err = read_at(&f, lc->clock, t, &ns, &flag);
			UNIT_EXPECT(u, !err && t - ns == pt->tai_minus_utc_ns &&
				    flag == pt->flag,
				    "%s, %s: err %d, TAI - UTC %lld ns (want %lld), flag %d (want %d)",
				    lc->name, pt->name, err,
				    (long long)(t - ns),
				    (long long)pt->tai_minus_utc_ns, flag,
				    pt->flag);
		}
		frozen_free(&f);
	}
}

/* ---- never backward, and no step, across whole windows */

static void sweep(struct unit *u, const char *what, int clock,
		  int32_t delta_s, uint32_t window_s, int64_t from, int64_t to,
		  int64_t step)
{
	const uint32_t flags = IONCLOCK_FLAG_TAI_OFFSET_VALID |
			       IONCLOCK_FLAG_LEAP_VALID;
	const struct ionclock_snap_leap l = {
		.tai_utc_offset_s = 36, .next_leap_delta_s = delta_s,
		.next_leap_tai_s = MIDNIGHT_2017 + 37,
		.smear_window_s = window_s,
	};
	const int64_t leap_ns = (MIDNIGHT_2017 + 37) * NS;
	int64_t t, prev = 0, ns, d, slack, worst = 0;
	unsigned long n = 0, bad = 0;
	int err, flag;

	/* The rate is 1 - delta / window: per step, that and rounding. */
	slack = window_s ? step / window_s + 1 : 0;
	for (t = leap_ns + from; t <= leap_ns + to; t += step, n++) {
		err = ionclock_utc_from_tai(t, flags, &l, clock, &ns, &flag);
		if (err) {
			bad++;
			continue;
		}
		if (n) {
			d = ns - prev - step;
			if (d < -slack || d > slack) {
				if (!bad++ || llabs(d) > llabs(worst))
					worst = d;
			}
		}
		prev = ns;
	}
	UNIT_EXPECT(u, bad == 0,
		    "%s: %lu of %lu steps of %lld ns off the rate, worst by %lld ns",
		    what, bad, n, (long long)step, (long long)worst);
}

static void test_smear_sweep(struct unit *u)
{
	const int64_t day = 86400 * NS;

	/* The whole 86400 s window and a day either side, every 9.999 ms. */
	sweep(u, "+1 day", IONCLOCK_UTC, 1, 86400, -day, day, 9999999);
	sweep(u, "-1 day", IONCLOCK_UTC, -1, 86400, -day, day, 9999999);
	/* Every ns around the ends and the middle. */
	sweep(u, "+1 start", IONCLOCK_UTC, 1, 86400, -H - 100000, -H + 100000,
	      1);
	sweep(u, "+1 middle", IONCLOCK_UTC, 1, 86400, -100000, 100000, 1);
	sweep(u, "+1 end", IONCLOCK_UTC, 1, 86400, H - 100000, H + 100000, 1);
	sweep(u, "-1 end", IONCLOCK_UTC, -1, 86400, H - 100000, H + 100000, 1);
	/* A 1 s window, every 997 ns: the steepest smear but none. */
	sweep(u, "+1 in 1 s", IONCLOCK_UTC, 1, 1, -NS, NS, 997);
	sweep(u, "-1 in 1 s", IONCLOCK_UTC, -1, 1, -NS, NS, 997);
	/* The largest window the module takes, 48 h, in 1 s steps. */
	sweep(u, "+1 in 48 h", IONCLOCK_UTC, 1, 172800, -2 * day, 2 * day, NS);
	/* Strict and no-smear step: every ns away from the leap is in rate. */
	sweep(u, "strict -1 before", IONCLOCK_UTC_STRICT, -1, 86400,
	      -100000, -1, 1);
	sweep(u, "strict +1 in the leap second", IONCLOCK_UTC_STRICT, 1,
	      86400, -NS, -1, 997);
}

/* The smeared clock read through pages, stepped by random amounts. */
static void test_smear_random(struct unit *u)
{
	const uint32_t flags = IONCLOCK_FLAG_TAI_OFFSET_VALID |
			       IONCLOCK_FLAG_LEAP_VALID;
	const uint64_t leap_s = MIDNIGHT_2017 + 37;
	struct unit_rng rng = { unit_seed() };
	int64_t t, ns, prev_ns = INT64_MIN;
	unsigned long backward = 0;
	struct frozen f;
	int i, err, flag, delta;

	for (delta = -1; delta <= 1; delta += 2) {
		frozen_new(&f, flags, 36, delta, leap_s, 86400);
		t = ((int64_t)leap_s - 50000) * NS;
		prev_ns = INT64_MIN;
		for (i = 0; i < 200000; i++) {
			t += unit_range(&rng, 0, NS);
			err = read_at(&f, IONCLOCK_UTC, t, &ns, &flag);
			UNIT_EXPECT(u, !err, "read: %d", err);
			if (ns < prev_ns && !backward++)
				UNIT_EXPECT(u, false,
					    "delta %d: %lld after %lld at TAI %lld",
					    delta, (long long)ns,
					    (long long)prev_ns, (long long)t);
			prev_ns = ns;
		}
		frozen_free(&f);
	}
	UNIT_EXPECT(u, backward == 0, "%lu backward", backward);
}

/* ---- flags and fields the clocks depend on */

static void test_utc_flags(struct unit *u)
{
	const uint64_t leap_s = MIDNIGHT_2017 + 37;
	const int64_t t = (int64_t)leap_s * NS;	/* mid-smear if used */
	struct timespec ts;
	struct frozen f;
	int64_t ns;
	int err, flag;

	/* A leap in the fields but the table expired: offset only. */
	frozen_new(&f, IONCLOCK_FLAG_TAI_OFFSET_VALID, 36, 1, leap_s, 86400);
	err = read_at(&f, IONCLOCK_UTC, t, &ns, &flag);
	UNIT_EXPECT(u, !err && t - ns == 36 * NS && flag == 0,
		    "no LEAP_VALID, smeared: %d, %lld, %d", err,
		    (long long)(t - ns), flag);
	err = read_at(&f, IONCLOCK_UTC_STRICT, t - 1, &ns, &flag);
	UNIT_EXPECT(u, !err && t - 1 - ns == 36 * NS && flag == 0,
		    "no LEAP_VALID, strict: %d, %lld, %d", err,
		    (long long)(t - 1 - ns), flag);
	frozen_free(&f);

	frozen_new(&f, 0, 36, 1, leap_s, 86400);
	err = read_at(&f, IONCLOCK_UTC, t, &ns, &flag);
	UNIT_EXPECT(u, err == -ENODATA, "no offset, smeared: %d", err);
	err = read_at(&f, IONCLOCK_UTC_STRICT, t, &ns, &flag);
	UNIT_EXPECT(u, err == -ENODATA, "no offset, strict: %d", err);
	err = read_at(&f, IONCLOCK_TAI, t, &ns, &flag);
	UNIT_EXPECT(u, !err && ns == t && flag == 0, "TAI: %d, %lld", err,
		    (long long)(ns - t));
	err = read_at(&f, 3, t, &ns, &flag);
	UNIT_EXPECT(u, err == -EINVAL, "clock 3: %d", err);
	err = read_at(&f, -1, t, &ns, &flag);
	UNIT_EXPECT(u, err == -EINVAL, "clock -1: %d", err);
	f.p->flags = 0;
	err = read_at(&f, IONCLOCK_TAI, t, &ns, &flag);
	UNIT_EXPECT(u, err == -EAGAIN, "TAI, not VALID: %d", err);
	f.p->flags = IONCLOCK_FLAG_TAI_OFFSET_VALID;
	err = read_at(&f, IONCLOCK_UTC, t, &ns, &flag);
	UNIT_EXPECT(u, err == -EAGAIN, "UTC, not VALID: %d", err);
	frozen_free(&f);

	/* A leap of 2 s is not one the ABI has. */
	frozen_new(&f, IONCLOCK_FLAG_TAI_OFFSET_VALID |
		   IONCLOCK_FLAG_LEAP_VALID, 36, 2, leap_s, 86400);
	err = read_at(&f, IONCLOCK_UTC, t, &ns, &flag);
	UNIT_EXPECT(u, err == -EPROTO, "delta 2: %d", err);
	/* No leap scheduled: delta 0 or leap 0. */
	f.p->next_leap_delta_s = 0;
	err = read_at(&f, IONCLOCK_UTC, t, &ns, &flag);
	UNIT_EXPECT(u, !err && t - ns == 36 * NS, "delta 0: %d, %lld", err,
		    (long long)(t - ns));
	f.p->next_leap_delta_s = 1;
	f.p->next_leap_tai_s = 0;
	err = read_at(&f, IONCLOCK_UTC_STRICT, t, &ns, &flag);
	UNIT_EXPECT(u, !err && t - ns == 36 * NS, "leap 0: %d, %lld", err,
		    (long long)(t - ns));
	/* leap_flag may be NULL; tv_nsec is normalised below 0 too. */
	f.p->time_base_ns = 3 * NS / 2;
	f.p->tai_utc_offset_s = 2;
	err = ionclock_gettime(&f.c, IONCLOCK_UTC, &ts, NULL);
	UNIT_EXPECT(u, !err && ts.tv_sec == -1 && ts.tv_nsec == 500000000,
		    "before 1970: %d, %lld.%09ld", err, (long long)ts.tv_sec,
		    ts.tv_nsec);
	frozen_free(&f);
}

/* ---- every leap in the system's leap-seconds.list, labelled */

struct leapfile {
	unsigned int n;
	int64_t utc_s[64];
	int32_t offset_s[64];
};

static int leapfile_read(struct leapfile *lf)
{
	long long ntp, off;
	char line[256];
	FILE *f;

	lf->n = 0;
	f = fopen(LEAPFILE, "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f) && lf->n < ARRAY_SIZE(lf->utc_s)) {
		if (line[0] == '#' ||
		    sscanf(line, "%lld %lld", &ntp, &off) != 2)
			continue;
		lf->utc_s[lf->n] = ntp - NTP_UNIX_DELTA;
		lf->offset_s[lf->n] = (int32_t)off;
		lf->n++;
	}
	fclose(f);
	return 0;
}

/* The UTC calendar label of @tai_ns on @clock, e.g. "2016-12-31 23:59:60". */
static void label(struct frozen *f, int clock, int64_t tai_ns, char *buf,
		  size_t size)
{
	struct timespec ts;
	struct tm tm;
	int flag, err;

	f->p->time_base_ns = (uint64_t)tai_ns;
	err = ionclock_gettime(&f->c, clock, &ts, &flag);
	if (err) {
		snprintf(buf, size, "error %d", err);
		return;
	}
	gmtime_r(&ts.tv_sec, &tm);
	/* Only the strict clock's flag means "second 60". */
	if (clock == IONCLOCK_UTC_STRICT)
		tm.tm_sec += flag;
	snprintf(buf, size, "%04d-%02d-%02d %02d:%02d:%02d.%09ld",
		 tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
		 tm.tm_min, tm.tm_sec, ts.tv_nsec);
}

struct label_case {
	const char *name;
	int clock;
	int64_t from_leap_ns;
	const char *want;
};

/* Around the leap of 2016-12-31, whose TAI instant is 2017-01-01 00:00:37. */
static const struct label_case labels_2016[] = {
	{ "strict, 1.5 s before", IONCLOCK_UTC_STRICT, -3 * NS / 2,
	  "2016-12-31 23:59:59.500000000" },
	{ "strict, 0.5 s before", IONCLOCK_UTC_STRICT, -NS / 2,
	  "2016-12-31 23:59:60.500000000" },
	{ "strict, at the leap", IONCLOCK_UTC_STRICT, 0,
	  "2017-01-01 00:00:00.000000000" },
	{ "smeared, at the leap", IONCLOCK_UTC, 0,
	  "2017-01-01 00:00:00.500000000" },
	{ "smeared, at the start", IONCLOCK_UTC, -43200 * NS,
	  "2016-12-31 12:00:01.000000000" },
	{ "smeared, at the end", IONCLOCK_UTC, 43200 * NS,
	  "2017-01-01 12:00:00.000000000" },
	{ "TAI at the leap", IONCLOCK_TAI, 0,
	  "2017-01-01 00:00:37.000000000" },
};

static void test_leapfile_2016(struct unit *u)
{
	const uint32_t flags = IONCLOCK_FLAG_TAI_OFFSET_VALID |
			       IONCLOCK_FLAG_LEAP_VALID;
	struct leapfile lf;
	unsigned int i, j, found = 0, labelled = 0;
	int64_t leap_ns;
	struct frozen f;
	char got[64];
	int err;

	err = leapfile_read(&lf);
	if (!UNIT_EXPECT(u, !err && lf.n >= 28, "%s: %d, %u entries",
			 LEAPFILE, err, lf.n))
		return;
	for (i = 1; i < lf.n; i++) {
		int32_t delta = lf.offset_s[i] - lf.offset_s[i - 1];
		uint64_t leap_s = (uint64_t)(lf.utc_s[i] + lf.offset_s[i]);

		if (!UNIT_EXPECT(u, delta == 1, "entry %u: delta %d", i, delta))
			continue;
		frozen_new(&f, flags, lf.offset_s[i - 1], delta, leap_s,
			   86400);
		leap_ns = (int64_t)leap_s * NS;
		label(&f, IONCLOCK_UTC_STRICT, leap_ns - NS / 2, got,
		      sizeof(got));
		labelled += strstr(got, " 23:59:60.500000000") != NULL;
		if (lf.utc_s[i] == MIDNIGHT_2017) {
			found++;
			for (j = 0; j < ARRAY_SIZE(labels_2016); j++) {
				const struct label_case *lc = &labels_2016[j];

				label(&f, lc->clock, leap_ns + lc->from_leap_ns,
				      got, sizeof(got));
				UNIT_EXPECT(u, !strcmp(got, lc->want),
					    "%s: %s, want %s", lc->name, got,
					    lc->want);
			}
		}
		frozen_free(&f);
	}
	UNIT_EXPECT(u, found == 1, "2017-01-01 entries: %u", found);
	UNIT_EXPECT(u, labelled == lf.n - 1, "%u of %u leaps read 23:59:60",
		    labelled, lf.n - 1);
}

/* ---- commit-wait */

static int64_t raw_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

static void test_after(struct unit *u)
{
	struct frozen f;
	int64_t t0, start, took;
	int err;

	frozen_new(&f, IONCLOCK_FLAG_BOUND_VALID, 0, 0, 0, 0);
	/* TAI = CLOCK_MONOTONIC_RAW + 1 s, bound 1 ms, not growing. */
	f.p->counter_base = (uint64_t)raw_now();
	f.p->time_base_ns = f.p->counter_base + NS;
	f.p->time_mult = 1ULL << 32;
	f.p->time_shift = 32;
	f.p->error_bound_ns = 1000000;

	t0 = raw_now() + NS;
	err = ionclock_after(&f.c, t0 - 2000000);
	UNIT_EXPECT(u, err == 1, "2 ms ago: %d", err);
	err = ionclock_after(&f.c, t0 - 500000);
	UNIT_EXPECT(u, err == 0, "0.5 ms ago, within the bound: %d", err);
	err = ionclock_after(&f.c, t0 + NS);
	UNIT_EXPECT(u, err == 0, "1 s ahead: %d", err);

	/* Waiting for now + 20 ms takes 21 ms: the bound is 1 ms. */
	start = raw_now();
	err = ionclock_wait_until_after(&f.c, start + NS + 20000000);
	took = raw_now() - start;
	UNIT_EXPECT(u, !err && took >= 21000000 && took < 200000000,
		    "wait 20 ms: %d after %lld ns", err, (long long)took);
	err = ionclock_after(&f.c, start + NS + 20000000);
	UNIT_EXPECT(u, err == 1, "after the wait: %d", err);

	/* A clock at half speed: 10 ms of it takes 20 ms and more rounds. */
	f.p->counter_base = (uint64_t)raw_now();
	f.p->time_base_ns = f.p->counter_base;
	f.p->time_mult = 1ULL << 31;
	f.p->error_bound_ns = 0;
	start = raw_now();
	err = ionclock_wait_until_after(&f.c, start + 10000000);
	took = raw_now() - start;
	UNIT_EXPECT(u, !err && took >= 20000000 && took < 200000000,
		    "half speed: %d after %lld ns", err, (long long)took);

	/* Far in the past returns at once; no bound is no answer. */
	err = ionclock_wait_until_after(&f.c, 0);
	UNIT_EXPECT(u, err == 0, "the past: %d", err);
	f.p->flags &= ~IONCLOCK_FLAG_BOUND_VALID;
	err = ionclock_after(&f.c, 0);
	UNIT_EXPECT(u, err == -ENODATA, "no bound: %d", err);
	err = ionclock_wait_until_after(&f.c, 0);
	UNIT_EXPECT(u, err == -ENODATA, "no bound, wait: %d", err);
	f.p->flags = 0;
	err = ionclock_after(&f.c, 0);
	UNIT_EXPECT(u, err == -EAGAIN, "not valid: %d", err);
	frozen_free(&f);
}

/* ---- status: the ioctl's error comes back, nothing is half filled */

static void test_status_error(struct unit *u)
{
	struct ionclock_status st;
	struct frozen f;
	int err;

	frozen_new(&f, 0, 0, 0, 0, 0);
	memset(&st, 0xff, sizeof(st));
	err = ionclock_status(&f.c, &st);
	UNIT_EXPECT(u, err == -EBADF && st.state == 0 && st.phc_name[0] == 0,
		    "fd -1: %d", err);
	frozen_free(&f);
}

const struct unit_case unit_utc_cases[] = {
	{ "utc: leap fields point by point, +1 and -1, smeared and strict",
	  test_leap_points },
	{ "utc: smear never steps or goes back, whole window and each ns",
	  test_smear_sweep },
	{ "utc: smeared clock through pages at random steps",
	  test_smear_random },
	{ "utc: flags, expired table, no offset, bad fields",
	  test_utc_flags },
	{ "utc: every leap in leap-seconds.list reads 23:59:60; 2016-12-31",
	  test_leapfile_2016 },
	{ "utc: ionclock_after and ionclock_wait_until_after", test_after },
	{ "utc: ionclock_status returns the ioctl's error",
	  test_status_error },
	{ NULL, NULL },
};
