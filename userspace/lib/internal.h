/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the library's files share, and what the host unit tests reach into:
 * the handle's layout and the page read loop, which works on any mapped
 * page, not only one from a device.
 */
#ifndef IONCLOCK_INTERNAL_H
#define IONCLOCK_INTERNAL_H

#include <stdint.h>

#include "ionclock.h"

#define IONCLOCK_HIDDEN		__attribute__((visibility("hidden")))

#if defined(__x86_64__) || defined(__i386__)
#define IONCLOCK_HAVE_TSC	1
#endif

/* Read-loop passes before giving up on the page and calling read(). */
#define IONCLOCK_READ_TRIES	1000

/* Read with READ_ONCE-style loads for the sequence count only. */
#define IONCLOCK_READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

struct ionclock {
	int fd;
	uint8_t counter_id;
	const struct ionclock_page *page;
};

/**
 * struct ionclock_snap_leap - the page's leap-second fields
 * @tai_utc_offset_s: as in struct ionclock_page
 * @next_leap_delta_s: as in struct ionclock_page
 * @next_leap_tai_s: as in struct ionclock_page
 * @smear_window_s: as in struct ionclock_page
 */
struct ionclock_snap_leap {
	int32_t tai_utc_offset_s;
	int32_t next_leap_delta_s;
	uint64_t next_leap_tai_s;
	uint32_t smear_window_s;
};

/**
 * struct ionclock_snap - one consistent copy of the fields a reader needs
 * @counter: the counter, read inside the same sequence window
 * @counter_base: the rest as in struct ionclock_page
 * @state: copied by ionclock_page_snap_all() only, as are the fields below
 * @generation: see @state
 * @leap_expiry_tai_s: see @state
 * @leap: see @state
 */
struct ionclock_snap {
	uint64_t counter;
	uint64_t counter_base;
	uint64_t time_base_ns;
	uint64_t time_mult;
	uint32_t time_shift;
	uint32_t flags;
	uint64_t error_bound_ns;
	uint64_t error_growth_frac32;
	uint32_t state;
	uint32_t generation;
	uint64_t leap_expiry_tai_s;
	struct ionclock_snap_leap leap;
};

/*
 * What this process's time namespace adds to CLOCK_MONOTONIC_RAW, ns
 * (/proc/self/timens_offsets): the page's MONOTONIC_RAW counter is the
 * kernel's, so readers take it off.  Set by ionclock_init().
 */
IONCLOCK_HIDDEN extern uint64_t ionclock_timens_raw_offset_ns;
IONCLOCK_HIDDEN int ionclock_timens_offset(uint64_t *raw_ns);

IONCLOCK_HIDDEN int ionclock_page_snap(const struct ionclock_page *p,
				       uint8_t counter_id,
				       struct ionclock_snap *s);
IONCLOCK_HIDDEN int ionclock_page_snap_all(const struct ionclock_page *p,
					   uint8_t counter_id,
					   struct ionclock_snap *s);
IONCLOCK_HIDDEN int ionclock_page_leap_racy(const struct ionclock_page *p,
					    struct ionclock_snap_leap *l);
IONCLOCK_HIDDEN int ionclock_fallback(struct ionclock *c, int64_t *tai_ns,
				      int64_t *earliest, int64_t *latest,
				      struct ionclock_reading *r);
IONCLOCK_HIDDEN int ionclock_utc_from_tai(int64_t tai_ns, uint32_t flags,
					  const struct ionclock_snap_leap *l,
					  int clock, int64_t *utc_ns,
					  int *leap_flag);
IONCLOCK_HIDDEN int ionclock_init(struct ionclock *c, const char *path);
IONCLOCK_HIDDEN void ionclock_fini(struct ionclock *c);
IONCLOCK_HIDDEN uint64_t ionclock_snap_time(const struct ionclock_snap *s);
IONCLOCK_HIDDEN uint64_t ionclock_snap_bound(const struct ionclock_snap *s,
					     uint64_t tai_ns);

#endif /* IONCLOCK_INTERNAL_H */
