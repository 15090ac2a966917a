/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Keeping one interposed clock from going backward in a process while the
 * drop-in moves between its sources.
 *
 * A clock such as CLOCK_REALTIME is read from one of several sources: the
 * system clock (before set-up is done, when there is no device, or when the
 * page has no time yet), ionclock's page, or ionclock's TAI less
 * IONCLOCK_PRELOAD_TAI_OFFSET.  Each source is monotonic on its own, but
 * they disagree, so a switch can go backward.  Each source therefore keeps
 * a floor: a value at or above everything it has returned in this process,
 * kept ORDER_AHEAD_NS ahead of its latest value so that it is raised at
 * most about once per ORDER_AHEAD_NS (a hot cache line written once a
 * millisecond, not once a call).  A value from one source is raised to the
 * other sources' floors: after a switch to a source that is behind, the
 * clock stands still (at most ORDER_AHEAD_NS plus how far it was behind)
 * instead of going back.
 *
 * Plain atomics, no lock and no wait: safe from any context the clock may
 * be read in (signal handlers, allocators, constructors).
 */
#ifndef IONCLOCK_PRELOAD_ORDER_H
#define IONCLOCK_PRELOAD_ORDER_H

#include <stdbool.h>
#include <stdint.h>

#define ORDER_AHEAD_NS	1000000

enum order_source {
	ORDER_SYSTEM,	/* the kernel's clock */
	ORDER_PAGE,	/* ionclock's page, with its own TAI - UTC offset */
	ORDER_ENV,	/* ionclock's TAI less IONCLOCK_PRELOAD_TAI_OFFSET */
	ORDER_SOURCES,
};

/* Floors start at INT64_MIN: a fresh source holds nothing back. */
struct order {
	int64_t floor_ns[ORDER_SOURCES];	/* atomic */
};

#define ORDER_INIT { .floor_ns = { INT64_MIN, INT64_MIN, INT64_MIN } }

/* Returns @t_ns from @src, raised so that the clock never goes back. */
static inline int64_t order_keep(struct order *o, enum order_source src,
				 int64_t t_ns)
{
	bool held = false;
	int64_t floor, want;
	unsigned int i;

	for (i = 0; i < ORDER_SOURCES; i++) {
		if (i == src)
			continue;
		/* pairs with the release in the raise below, in any thread */
		floor = __atomic_load_n(&o->floor_ns[i], __ATOMIC_ACQUIRE);
		if (t_ns < floor) {
			t_ns = floor;
			held = true;
		}
	}
	floor = __atomic_load_n(&o->floor_ns[src], __ATOMIC_RELAXED);
	if (floor >= t_ns)
		return t_ns;
	/*
	 * A value held at another source's floor raises this one's to it
	 * exactly: ahead again, floors would ratchet each other up.
	 */
	want = held || t_ns > INT64_MAX - ORDER_AHEAD_NS ? t_ns :
	       t_ns + ORDER_AHEAD_NS;
	/* Only ever up: a thread that read the time earlier may store last. */
	while (floor < want &&
	       !__atomic_compare_exchange_n(&o->floor_ns[src], &floor, want,
					    true, __ATOMIC_RELEASE,
					    __ATOMIC_RELAXED))
		;
	return t_ns;
}

#endif /* IONCLOCK_PRELOAD_ORDER_H */
