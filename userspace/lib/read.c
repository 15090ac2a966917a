// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The read path: the READ PROTOCOL of <linux/ionclock.h>.  The loop copies
 * a handful of fields and reads the counter; the arithmetic comes after it,
 * and a page that stays mid-update falls back to read() on the device.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#ifdef IONCLOCK_HAVE_TSC
static inline uint64_t ionclock_rdtsc_ordered(void)
{
	uint32_t lo, hi;

	/*
	 * The lfence keeps the TSC read below the page loads (READ PROTOCOL
	 * step 3), as the vDSO's rdtsc_ordered() does.  rdtsc does not keep
	 * the seq_count re-read below it; the module anchors each mapping
	 * IONCLOCK_ANCHOR_AHEAD_NS in the future so that it need not (see the
	 * uapi header), which saves a second lfence on every read.
	 */
	asm volatile("lfence; rdtsc" : "=a" (lo), "=d" (hi) : : "memory");
	return (uint64_t)hi << 32 | lo;
}
#endif

static inline uint64_t ionclock_counter_read(uint8_t counter_id)
{
	struct timespec ts;

#ifdef IONCLOCK_HAVE_TSC
	if (counter_id == IONCLOCK_COUNTER_TSC)
		return ionclock_rdtsc_ordered();
#else
	(void)counter_id;	/* ionclock_open() refused the TSC */
#endif
	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	/* The kernel's CLOCK_MONOTONIC_RAW, not this time namespace's. */
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec -
	       ionclock_timens_raw_offset_ns;
}

/* What a snapshot copies besides the mapping: constants at each call site. */
enum { SNAP_BOUND = 1, SNAP_LEAP = 2, SNAP_STATUS = 4 };

/*
 * Returns -EBUSY when the page never held still for IONCLOCK_READ_TRIES,
 * -EXDEV when its counter must not be read here; callers then read().
 * @what says which fields beyond the mapping to copy; it is a constant at
 * each call site, so each read copies no more than it uses.  So is
 * @counter_id, see below.
 */
static __always_inline
int ionclock_page_snap_loop(const struct ionclock_page *p, uint8_t counter_id,
			    struct ionclock_snap *s, unsigned int what)
{
	unsigned int tries;
	uint32_t seq;

	for (tries = 0; tries < IONCLOCK_READ_TRIES; tries++) {
		seq = ionclock_seq_read_begin(p);
		if (seq & 1)
			continue;
		s->flags = p->flags;
		s->counter_base = p->counter_base;
		s->time_base_ns = p->time_base_ns;
		s->time_mult = p->time_mult;
		s->time_shift = p->time_shift;
		if (what & (SNAP_BOUND | SNAP_STATUS))
			s->vmclock_marker = p->vmclock_disruption_marker;
		if (what & SNAP_BOUND) {
			s->error_bound_ns = p->error_bound_ns;
			s->error_growth_frac32 = p->error_growth_frac32;
		}
		if (what & SNAP_STATUS) {
			s->state = p->state;
			s->generation = p->generation;
			s->leap_expiry_tai_s = p->leap_expiry_tai_s;
		}
		if (what & SNAP_LEAP) {
			s->leap.tai_utc_offset_s = p->tai_utc_offset_s;
			s->leap.next_leap_delta_s = p->next_leap_delta_s;
			s->leap.next_leap_tai_s = p->next_leap_tai_s;
			s->leap.smear_window_s = p->smear_window_s;
		}
		s->counter = ionclock_counter_read(counter_id);
		if (ionclock_seq_read_retry(p, seq))
			continue;
		/*
		 * A counter the kernel no longer vouches for across CPUs:
		 * read() orders every reading, so take them all through it.
		 */
		if (s->flags & IONCLOCK_FLAG_COUNTER_UNSYNCED)
			return -EXDEV;
		return 0;
	}
	return -EBUSY;
}

/*
 * One loop per counter: with the TSC's a constant, its loop holds no call
 * (the MONOTONIC_RAW one calls clock_gettime()), so the fields it copies
 * stay in registers instead of going to the stack around that call.
 */
static __always_inline
int ionclock_page_snap_common(const struct ionclock_page *p, uint8_t counter_id,
			      struct ionclock_snap *s, unsigned int what)
{
#ifdef IONCLOCK_HAVE_TSC
	if (counter_id == IONCLOCK_COUNTER_TSC)
		return ionclock_page_snap_loop(p, IONCLOCK_COUNTER_TSC, s, what);
#endif
	return ionclock_page_snap_loop(p, counter_id, s, what);
}

int ionclock_page_snap(const struct ionclock_page *p, uint8_t counter_id,
		       struct ionclock_snap *s)
{
	return ionclock_page_snap_common(p, counter_id, s, SNAP_BOUND);
}

int ionclock_page_snap_utc(const struct ionclock_page *p, uint8_t counter_id,
			   struct ionclock_snap *s)
{
	return ionclock_page_snap_common(p, counter_id, s, SNAP_LEAP);
}

int ionclock_page_snap_all(const struct ionclock_page *p, uint8_t counter_id,
			   struct ionclock_snap *s)
{
	return ionclock_page_snap_common(p, counter_id, s,
					 SNAP_BOUND | SNAP_LEAP | SNAP_STATUS);
}

/* A copy has no read() to fall back to: it tries longer than a read. */
#define IONCLOCK_COPY_TRIES	100000

int ionclock_page_copy(struct ionclock *c, struct ionclock_page *out)
{
	const struct ionclock_page *p = c->page;
	unsigned int tries;
	uint32_t seq;

	for (tries = 0; tries < IONCLOCK_COPY_TRIES; tries++) {
		seq = ionclock_seq_read_begin(p);
		if (seq & 1)
			continue;
		memcpy(out, p, sizeof(*out));
		if (!ionclock_seq_read_retry(p, seq))
			return 0;
	}
	return -EBUSY;
}

static void ionclock_leap_copy(const volatile struct ionclock_page *p,
			       struct ionclock_snap_leap *l)
{
	l->tai_utc_offset_s = p->tai_utc_offset_s;
	l->next_leap_delta_s = p->next_leap_delta_s;
	l->next_leap_tai_s = p->next_leap_tai_s;
	l->smear_window_s = p->smear_window_s;
}

/*
 * The leap fields without the sequence count, for when the page stays
 * mid-update: they change once per leap or table load, so two copies in a
 * row that agree are taken as one consistent copy.
 */
int ionclock_page_leap_racy(const struct ionclock_page *p,
			    struct ionclock_snap_leap *l)
{
	struct ionclock_snap_leap again;
	unsigned int tries;

	for (tries = 0; tries < IONCLOCK_READ_TRIES; tries++) {
		ionclock_leap_copy(p, l);
		ionclock_leap_copy(p, &again);
		if (l->tai_utc_offset_s == again.tai_utc_offset_s &&
		    l->next_leap_delta_s == again.next_leap_delta_s &&
		    l->next_leap_tai_s == again.next_leap_tai_s &&
		    l->smear_window_s == again.smear_window_s)
			return 0;
	}
	return -EBUSY;
}

uint64_t ionclock_snap_time(const struct ionclock_snap *s)
{
	return ionclock_map_ns(s->counter, s->counter_base, s->time_base_ns,
			       s->time_mult, s->time_shift);
}

uint64_t ionclock_snap_bound(const struct ionclock_snap *s, uint64_t tai_ns)
{
	uint64_t growth = ionclock_bound_growth_ns(tai_ns - s->time_base_ns,
						   s->error_growth_frac32);
	uint64_t bound = s->error_bound_ns + growth;

	return bound < growth ? UINT64_MAX : bound;
}

static int ionclock_read_one(int fd, struct ionclock_reading *r)
{
	ssize_t n;

	/*
	 * The system call, not read(): a clock read is no thread
	 * cancellation point (the drop-in answers clock_gettime() with it).
	 */
	do {
		n = syscall(SYS_read, fd, r, sizeof(*r));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(*r) ? 0 : -EIO;
}

/*
 * The page stayed mid-update: ask the kernel, which reads the same page.
 * read() lifts tai_ns past every earlier reading and moves latest_ns along
 * with it but not earliest_ns, so earliest_ns + (latest_ns - tai_ns) is the
 * page's time at the read, which keeps this result in order with page
 * reads.  (Were both ends lifted, it would be tai_ns itself.)  @r, if not
 * NULL, receives the reading itself, for its state and flags.
 */
int ionclock_fallback(struct ionclock *c, int64_t *tai_ns, int64_t *earliest,
		      int64_t *latest, struct ionclock_reading *r)
{
	struct ionclock_reading one;
	uint64_t bound, t;
	int err;

	if (!r)
		r = &one;
	err = ionclock_read_one(c->fd, r);
	if (err)
		return err;
	if (!(r->flags & IONCLOCK_FLAG_VALID))
		return -EAGAIN;
	/* The kernel's reading is the page's mapping too (see snap_vet). */
	if (c->vmclock) {
		uint64_t marker =
			IONCLOCK_READ_ONCE(c->page->vmclock_disruption_marker);

		if (ionclock_vmclock_moved(c, marker))
			r->flags &= ~IONCLOCK_FLAG_BOUND_VALID;
	}
	bound = r->latest_ns - r->tai_ns;
	if (c->max_bound_ns && (!(r->flags & IONCLOCK_FLAG_BOUND_VALID) ||
				bound > c->max_bound_ns))
		return -IONCLOCK_EBOUND;
	t = r->earliest_ns + bound;
	*tai_ns = (int64_t)t;
	if (!earliest)
		return 0;
	if (!(r->flags & IONCLOCK_FLAG_BOUND_VALID))
		return -ENODATA;
	*earliest = (int64_t)r->earliest_ns;
	*latest = (int64_t)(t + bound);
	return 0;
}

int ionclock_now(struct ionclock *c, int64_t *tai_ns)
{
	struct ionclock_snap s;
	uint64_t t;
	int err;

	if (ionclock_page_snap(c->page, c->counter_id, &s))
		return ionclock_fallback(c, tai_ns, NULL, NULL, NULL);
	if (!(s.flags & IONCLOCK_FLAG_VALID))
		return -EAGAIN;
	ionclock_snap_vet(c, &s);
	t = ionclock_snap_time(&s);
	err = ionclock_bound_check(c, &s, t);
	if (err)
		return err;
	*tai_ns = (int64_t)t;
	return 0;
}

int ionclock_now_bounded(struct ionclock *c, int64_t *tai_ns,
			 int64_t *earliest, int64_t *latest)
{
	struct ionclock_snap s;
	uint64_t t, bound;
	int err;

	if (ionclock_page_snap(c->page, c->counter_id, &s))
		return ionclock_fallback(c, tai_ns, earliest, latest, NULL);
	if (!(s.flags & IONCLOCK_FLAG_VALID))
		return -EAGAIN;
	ionclock_snap_vet(c, &s);
	t = ionclock_snap_time(&s);
	err = ionclock_bound_check(c, &s, t);
	if (err)
		return err;
	*tai_ns = (int64_t)t;
	if (!(s.flags & IONCLOCK_FLAG_BOUND_VALID))
		return -ENODATA;
	bound = ionclock_snap_bound(&s, t);
	*earliest = (int64_t)(t - (bound < t ? bound : t));
	*latest = t + bound < t || t + bound > INT64_MAX ?
		  INT64_MAX : (int64_t)(t + bound);
	return 0;
}

int ionclock_unique(struct ionclock *c, int64_t *tai_ns)
{
	struct ionclock_reading r;
	int err;

	err = ionclock_read_one(c->fd, &r);
	if (err)
		return err;
	if (!(r.flags & IONCLOCK_FLAG_VALID))
		return -EAGAIN;
	/* read() moves latest_ns along with tai_ns: the difference is the bound. */
	if (c->max_bound_ns && (!(r.flags & IONCLOCK_FLAG_BOUND_VALID) ||
				r.latest_ns - r.tai_ns > c->max_bound_ns))
		return -IONCLOCK_EBOUND;
	*tai_ns = (int64_t)r.tai_ns;
	return 0;
}

int ionclock_set_max_bound(struct ionclock *c, int64_t max_bound_ns)
{
	if (max_bound_ns < 0)
		return -EINVAL;
	c->max_bound_ns = (uint64_t)max_bound_ns;
	return 0;
}

/* A decimal number of ns, 1 .. INT64_MAX, as IONCLOCK_PRELOAD_MAX_BOUND_NS. */
int ionclock_parse_max_bound(const char *s, uint64_t *ns)
{
	uint64_t v = 0;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (INT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s || !v)
		return -EINVAL;
	*ns = v;
	return 0;
}
