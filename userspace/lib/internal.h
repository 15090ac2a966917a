/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * What the library's files share, and what the host unit tests reach into:
 * the handle's layout and the page read loop, which works on any mapped
 * page, not only one from a device.
 */
#ifndef IONCLOCK_INTERNAL_H
#define IONCLOCK_INTERNAL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "ionclock.h"

#define IONCLOCK_HIDDEN		__attribute__((visibility("hidden")))

#if defined(__x86_64__) || defined(__i386__)
#define IONCLOCK_HAVE_TSC	1
#endif

/* Read-loop passes before giving up on the page and calling read(). */
#define IONCLOCK_READ_TRIES	1000

/* Read with READ_ONCE-style loads for the sequence count only. */
#define IONCLOCK_READ_ONCE(x)	__atomic_load_n(&(x), __ATOMIC_RELAXED)

#ifdef IONCLOCK_HAVE_TSC
#define IONCLOCK_CPU_RELAX()	__builtin_ia32_pause()
#else
#define IONCLOCK_CPU_RELAX()	do { } while (0)
#endif

/*
 * The page's sequence protocol in a process: C11 fences where the kernel
 * has smp_*() (acquire for smp_rmb(), release for smp_wmb()).  The
 * writers are the host tests' and the benchmark's stand-ins for the module.
 */
#define IONCLOCK_SEQ_LOAD(x)	IONCLOCK_READ_ONCE(x)
#define IONCLOCK_SEQ_STORE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define IONCLOCK_SEQ_RMB()	__atomic_thread_fence(__ATOMIC_ACQUIRE)
#define IONCLOCK_SEQ_WMB()	__atomic_thread_fence(__ATOMIC_RELEASE)
#define IONCLOCK_SEQ_MB()	__atomic_thread_fence(__ATOMIC_SEQ_CST)
#define IONCLOCK_SEQ_RELAX()	IONCLOCK_CPU_RELAX()
#include <linux/ionclock_seq.h>

/*
 * The hypervisor's vmclock page (Linux's <linux/vmclock-abi.h>, which a
 * distribution's headers may not carry yet): where ptp_vmclock serves it,
 * its magic, and where its sequence count and disruption marker are.
 */
#define IONCLOCK_VMCLOCK_DEV		"/dev/vmclock0"
#define IONCLOCK_VMCLOCK_MAGIC		0x4b4c4356	/* "VCLK" */
#define IONCLOCK_VMCLOCK_OFF_SEQ	12
#define IONCLOCK_VMCLOCK_OFF_MARKER	16
#define IONCLOCK_VMCLOCK_MAP_SIZE	4096

/*
 * @max_bound_ns: ionclock_set_max_bound()'s limit, 0 for none.
 * @vmclock: the hypervisor's vmclock page, mapped read-only at open where
 *	the module follows one (IONCLOCK_VMCLOCK_FOLLOWED), else NULL.
 */
struct ionclock {
	int fd;
	uint8_t counter_id;
	const struct ionclock_page *page;
	uint64_t max_bound_ns;
	const volatile uint8_t *vmclock;
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
 * @error_bound_ns: copied by ionclock_page_snap() and _snap_all()
 * @error_growth_frac32: see @error_bound_ns
 * @state: copied by ionclock_page_snap_all() only, as are the two below
 * @generation: see @state
 * @leap_expiry_tai_s: see @state
 * @leap: copied by ionclock_page_snap_utc() and _snap_all()
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
	uint64_t vmclock_marker;
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
IONCLOCK_HIDDEN int ionclock_page_snap_utc(const struct ionclock_page *p,
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
IONCLOCK_HIDDEN int ionclock_read_utc(struct ionclock *c, int clock,
				      int64_t *tai_ns, int64_t *utc_ns,
				      int *leap_flag);
IONCLOCK_HIDDEN int ionclock_init(struct ionclock *c, const char *path);
IONCLOCK_HIDDEN void ionclock_fini(struct ionclock *c);
IONCLOCK_HIDDEN uint64_t ionclock_snap_time(const struct ionclock_snap *s);
IONCLOCK_HIDDEN uint64_t ionclock_snap_bound(const struct ionclock_snap *s,
					     uint64_t tai_ns);
IONCLOCK_HIDDEN int ionclock_parse_max_bound(const char *s, uint64_t *ns);

IONCLOCK_HIDDEN bool ionclock_vmclock_moved(const struct ionclock *c,
					    uint64_t page_marker);

/*
 * A mapping published before a disruption the hypervisor has announced
 * in its vmclock page, which the module takes only at its next sample (at
 * most a poll period later): its bound is not known to hold, so @s is
 * taken as having none.  Inline: without a vmclock it is one test of a
 * field already in cache.
 */
static inline void ionclock_snap_vet(const struct ionclock *c,
				     struct ionclock_snap *s)
{
	if (c->vmclock && ionclock_vmclock_moved(c, s->vmclock_marker))
		s->flags &= ~IONCLOCK_FLAG_BOUND_VALID;
}

/*
 * Fail closed: -IONCLOCK_EBOUND when the handle has a maximum bound and the
 * time read at @tai_ns has none published or one above it.  Inline, so that
 * a handle without a limit pays one test of a field it already has in cache.
 */
static inline int ionclock_bound_check(const struct ionclock *c,
				       const struct ionclock_snap *s,
				       uint64_t tai_ns)
{
	if (!c->max_bound_ns)
		return 0;
	if (!(s->flags & IONCLOCK_FLAG_BOUND_VALID) ||
	    ionclock_snap_bound(s, tai_ns) > c->max_bound_ns)
		return -IONCLOCK_EBOUND;
	return 0;
}

/* ns since the epoch (negative before it) as a normalised timespec. */
static inline void ionclock_ns_to_timespec(int64_t ns, struct timespec *ts)
{
	int64_t sec = ns / 1000000000, nsec = ns % 1000000000;

	if (nsec < 0) {
		nsec += 1000000000;
		sec--;
	}
	ts->tv_sec = sec;
	ts->tv_nsec = nsec;
}

#endif /* IONCLOCK_INTERNAL_H */
