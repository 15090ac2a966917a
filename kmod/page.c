// SPDX-License-Identifier: GPL-2.0
/*
 * The page userspace maps, and its writer side of the sequence counter.
 * Only the sampler writes it (under idev->lock); any number of readers in
 * userspace and in read() follow the protocol in uapi/linux/ionclock.h.
 */
#include <linux/build_bug.h>
#include <linux/gfp.h>
#include <linux/math64.h>
#include <linux/mm.h>
#include <linux/stddef.h>

#include "ionclock_kmod.h"
#include "utc_source.h"

/*
 * The page's sequence protocol, with the kernel's barriers as its hooks;
 * <linux/ionclock_seq.h> says which barrier pairs with which.
 */
#define IONCLOCK_SEQ_LOAD(x)		READ_ONCE(x)
#define IONCLOCK_SEQ_STORE(x, v)	WRITE_ONCE(x, v)
#define IONCLOCK_SEQ_RMB()		smp_rmb()	/* pairs: see above */
#define IONCLOCK_SEQ_WMB()		smp_wmb()	/* pairs: see above */
#define IONCLOCK_SEQ_MB()		smp_mb()	/* pairs: see above */
#define IONCLOCK_SEQ_RELAX()		cpu_relax()
#include <linux/ionclock_seq.h>

static_assert(sizeof(struct ionclock_page) <= IONCLOCK_PAGE_SIZE);
static_assert(IONCLOCK_PAGE_SIZE == PAGE_SIZE);
static_assert(offsetof(struct ionclock_page, seq_count) == 16);
static_assert(offsetof(struct ionclock_page, counter_base) == 32);
static_assert(offsetof(struct ionclock_page, upstream_measured_tai_ns) == 192);
static_assert(offsetof(struct ionclock_page, vmclock_state) == 304);
static_assert(offsetof(struct ionclock_page, vmclock_disruption_marker) == 312);
static_assert(sizeof(struct ionclock_page) == 344);
static_assert(sizeof(struct ionclock_upstream) == 120);
static_assert(sizeof(struct ionclock_event) == 88);

int ionclock_page_alloc(struct ionclock_dev *idev)
{
	struct ionclock_page *p;

	idev->page = alloc_page(GFP_KERNEL | __GFP_ZERO);
	if (!idev->page)
		return -ENOMEM;
	p = page_address(idev->page);
	idev->vpage = p;
	p->magic = IONCLOCK_PAGE_MAGIC;
	p->size = IONCLOCK_PAGE_SIZE;
	p->version = IONCLOCK_ABI_VERSION;
	p->counter_id = ionclock_counter_id();
	return 0;
}

/* A mapping still in place keeps its own reference to the page. */
void ionclock_page_free(struct ionclock_dev *idev)
{
	if (idev->page)
		put_page(idev->page);
	idev->page = NULL;
	idev->vpage = NULL;
}

/* Where TAI - UTC comes from at @tai_ns, and what the page says of it. */
static void fill_utc(struct ionclock_dev *idev, struct ionclock_page *p,
		     u64 tai_ns)
{
	struct ionclock_utc_inputs in = {
		.tai_s = div_u64(tai_ns, NSEC_PER_SEC),
		.smear_window_s = idev->smear_window_s,
		.table = idev->leaps,
		.kernel = idev->kernel_tai_offset_s != 0,
		.kernel_offset_s = idev->kernel_tai_offset_s,
		.ptp_window_s = idev->smear_window_s,
	};
	struct ionclock_utc_choice c;

	in.ptp = ionclock_upstream_utc_usable(&idev->upstream, tai_ns);
	if (in.ptp)
		ionclock_upstream_leap_at(&idev->upstream, in.tai_s,
					  &in.ptp_state, &in.ptp_window_s);
	ionclock_utc_choose(&in, &c);
	ionclock_page_fill_utc(p, &c);
	/* What the sampler and SET_LEAPS go on, kept here, not in the page. */
	idev->tai_offset_valid = c.source != IONCLOCK_UTC_SOURCE_NONE;
	idev->tai_offset_s = idev->tai_offset_valid ? c.st.tai_utc_offset_s : 0;
}

/*
 * Publish the engine's next mapping.  The mapping is anchored shortly after
 * a counter value read once the sequence count has gone odd, so a reader
 * whose counter read comes later than the anchor cannot have seen the old
 * mapping and an even count: it retries (ionclock_engine_anchor() says why
 * "shortly after").  That, and each mapping starting where the previous
 * one stands at the anchor, is what keeps the published time from going
 * backward.
 */
void ionclock_page_publish(struct ionclock_dev *idev)
{
	struct ionclock_engine *e = &idev->engine;
	struct ionclock_page *p = idev->vpage;
	struct ionclock_bound b = {};
	u64 now;

	lockdep_assert_held(&idev->lock);
	/* Readers spin while the count is odd: do not get preempted here. */
	preempt_disable();
	ionclock_seq_write_begin(p);
	now = ionclock_engine_anchor(e, ionclock_counter_read());
	ionclock_engine_publish(e, now, &b);
	ionclock_page_fill(p, e, &b, idev->phc.gone);
	fill_utc(idev, p, e->map.time_base_ns);
	ionclock_page_fill_timescale(p, ionclock_phc_timescale ==
				     IONCLOCK_TIMESCALE_UTC);
	ionclock_page_fill_upstream(p, &idev->upstream, e->map.time_base_ns);
	ionclock_page_fill_vmclock(p,
				   ionclock_vmclock_state(ionclock_vmclock_param),
				   &idev->vmclock);
	ionclock_seq_write_end(p);
	preempt_enable();
	ionclock_device_notify(idev);
}

/* A consistent copy of the page, for sysfs. */
void ionclock_page_snapshot(struct ionclock_dev *idev, struct ionclock_page *copy)
{
	const struct ionclock_page *p = idev->vpage;
	u32 seq;

	do {
		seq = ionclock_seq_read_begin(p);
		memcpy(copy, p, sizeof(*copy));
	} while (ionclock_seq_read_retry(p, seq));
}

/* The reader side, for read(): the same loop as userspace's. */
int ionclock_page_read(struct ionclock_dev *idev, struct ionclock_reading *r)
{
	const struct ionclock_page *p = idev->vpage;
	struct ionclock_mapping m;
	u64 counter, bound, growth, elapsed;
	u32 seq, flags, state, gen;

	do {
		seq = ionclock_seq_read_begin(p);
		if (seq & 1)
			continue;
		flags = p->flags;
		state = p->state;
		gen = p->generation;
		m.counter_base = p->counter_base;
		m.time_base_ns = p->time_base_ns;
		m.mult = p->time_mult;
		m.shift = p->time_shift;
		bound = p->error_bound_ns;
		growth = p->error_growth_frac32;
		counter = ionclock_counter_read();
	} while (ionclock_seq_read_retry(p, seq));

	if (!(flags & IONCLOCK_FLAG_VALID))
		return -EAGAIN;
	memset(r, 0, sizeof(*r));
	r->tai_ns = ionclock_mapping_eval(&m, counter);
	elapsed = r->tai_ns - m.time_base_ns;
	bound += ionclock_bound_growth_ns(elapsed, growth);
	r->earliest_ns = r->tai_ns - min(bound, r->tai_ns);
	r->latest_ns = r->tai_ns + bound;
	r->state = state;
	r->flags = flags;
	r->generation = gen;
	return 0;
}
