// SPDX-License-Identifier: GPL-2.0
/*
 * The drop-in's ordering across sources (userspace/preload/order.h): each
 * source monotonic on its own, the sources apart by offsets, the result
 * never going back, and never held back by more than the gap it closes.
 */
#include <pthread.h>
#include <time.h>

#include "order.h"
#include "unit.h"

#define NS		1000000000LL
#define MS		1000000LL
#define STEPS		200000
#define THREAD_STEPS	300000

static void test_switches(struct unit *u)
{
	struct order o = ORDER_INIT;
	int64_t r;

	/* A fresh clock holds nothing back, not even a negative time. */
	UNIT_EXPECT(u, order_keep(&o, ORDER_SYSTEM, -5 * NS) == -5 * NS,
		    "a first value was changed");
	UNIT_EXPECT(u, order_keep(&o, ORDER_SYSTEM, 100 * NS) == 100 * NS,
		    "a later one too");
	/* Page 2 s behind the system clock: it stands still, then moves. */
	r = order_keep(&o, ORDER_PAGE, 98 * NS);
	UNIT_EXPECT(u, r >= 100 * NS && r <= 100 * NS + ORDER_AHEAD_NS,
		    "behind: %lld", (long long)r);
	r = order_keep(&o, ORDER_PAGE, 100 * NS + 2 * ORDER_AHEAD_NS);
	UNIT_EXPECT(u, r == 100 * NS + 2 * ORDER_AHEAD_NS,
		    "caught up, yet held: %lld", (long long)r);
	/* Back to the system, which is now behind what the page gave. */
	r = order_keep(&o, ORDER_SYSTEM, 100 * NS + ORDER_AHEAD_NS);
	UNIT_EXPECT(u, r >= 100 * NS + 2 * ORDER_AHEAD_NS,
		    "system after page went back: %lld", (long long)r);
	/* A source ahead is taken at once. */
	UNIT_EXPECT(u, order_keep(&o, ORDER_ENV, 500 * NS) == 500 * NS,
		    "a source ahead was held back");
	/* Each source's own steps back pass (strict UTC repeats a second). */
	order_keep(&o, ORDER_ENV, 600 * NS);
	UNIT_EXPECT(u, order_keep(&o, ORDER_ENV, 599 * NS) == 599 * NS,
		    "a source's own step back was changed");
	/* The floor saturates instead of wrapping. */
	UNIT_EXPECT(u, order_keep(&o, ORDER_PAGE, INT64_MAX - 1) == INT64_MAX - 1,
		    "near the end of time");
	UNIT_EXPECT(u, order_keep(&o, ORDER_SYSTEM, 0) >= INT64_MAX - 1,
		    "went back after the end of time");
}

/* Random switches between sources that run at one rate, offsets apart. */
static void test_random(struct unit *u)
{
	const int64_t offset[ORDER_SOURCES] = { 0, -3 * MS, 40 * MS };
	struct unit_rng rng = { unit_seed() };
	struct order o = ORDER_INIT;
	int64_t now = 1000 * NS, last = INT64_MIN, r, held, most_held = 0;
	unsigned int i, src;

	for (i = 0; i < STEPS; i++) {
		now += unit_range(&rng, 0, 2 * MS);
		src = unit_rand(&rng) % ORDER_SOURCES;
		r = order_keep(&o, src, now + offset[src]);
		if (!UNIT_EXPECT(u, r >= last, "step %u: %lld after %lld", i,
				 (long long)r, (long long)last))
			break;
		held = r - (now + offset[src]);
		if (held > most_held)
			most_held = held;
		last = r;
	}
	/* Held back at most by the widest gap between sources, plus the lead. */
	UNIT_EXPECT(u, most_held <= 43 * MS + ORDER_AHEAD_NS,
		    "held back %lld ns", (long long)most_held);
	UNIT_EXPECT(u, most_held > 0, "never held back: the test saw no switch");
}

struct racer {
	struct order *o;
	int64_t *published;
	unsigned int seed;
	unsigned int failures;
};

static int64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

/*
 * A result seen by another thread (published after it was returned) is
 * never above a result returned after that was seen.
 */
static void *race(void *arg)
{
	const int64_t offset[ORDER_SOURCES] = { 0, -2 * MS, 1 * MS };
	struct racer *r = arg;
	struct unit_rng rng = { r->seed };
	int64_t seen, got, cur;
	unsigned int i, src;

	for (i = 0; i < THREAD_STEPS; i++) {
		seen = __atomic_load_n(r->published, __ATOMIC_ACQUIRE);
		src = unit_rand(&rng) % ORDER_SOURCES;
		got = order_keep(r->o, src, mono_ns() + offset[src]);
		if (got < seen)
			r->failures++;
		cur = seen;
		while (cur < got &&
		       !__atomic_compare_exchange_n(r->published, &cur, got,
						    true, __ATOMIC_RELEASE,
						    __ATOMIC_ACQUIRE))
			;
	}
	return NULL;
}

static void test_threads(struct unit *u)
{
	struct order o = ORDER_INIT;
	int64_t published = INT64_MIN;
	struct racer r[2] = {
		{ &o, &published, (unsigned int)unit_seed(), 0 },
		{ &o, &published, (unsigned int)unit_seed() + 1, 0 },
	};
	pthread_t t;

	pthread_create(&t, NULL, race, &r[1]);
	race(&r[0]);
	pthread_join(t, NULL);
	UNIT_EXPECT(u, !r[0].failures && !r[1].failures,
		    "%u and %u results below one already seen", r[0].failures,
		    r[1].failures);
}

const struct unit_case unit_order_cases[] = {
	{ "order: switches between sources hold the clock, never back",
	  test_switches },
	{ "order: random switches, offsets apart: never back, held <= gap",
	  test_random },
	{ "order: two threads switching sources: no result below one seen",
	  test_threads },
	{ NULL, NULL },
};
