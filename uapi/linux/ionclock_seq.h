/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-2-Clause) */
/*
 * The page's READ PROTOCOL (<linux/ionclock.h>) written once, for every
 * reader and writer of a struct ionclock_page: the module (kmod/page.c),
 * libionclock (userspace/lib/read.c) and the in-process writers of the
 * benchmark and the host unit tests.  Plain C, as lib/vdso/ keeps its read
 * loop: what differs between the kernel and a process is only how a word
 * is loaded and stored and which barrier is which, and the includer says
 * that with these hooks, defined before including this file:
 *
 *   IONCLOCK_SEQ_LOAD(x)	one untorn load of the u32 @x (READ_ONCE)
 *   IONCLOCK_SEQ_STORE(x, v)	one untorn store of @v to @x (WRITE_ONCE)
 *   IONCLOCK_SEQ_RMB()		a read barrier (smp_rmb)
 *   IONCLOCK_SEQ_WMB()		a write barrier (smp_wmb)
 *   IONCLOCK_SEQ_MB()		a full barrier (smp_mb)
 *   IONCLOCK_SEQ_RELAX()	what to do while a writer is mid-update
 *				(cpu_relax)
 *
 * A reader's loop is
 *
 *	do {
 *		seq = ionclock_seq_read_begin(page);
 *		... copy the fields, then read the counter (step 3) ...
 *	} while (ionclock_seq_read_retry(page, seq));
 *
 * with a bound on the passes where it can fall back (the library's
 * read()).  The counter read is the reader's own, as it differs by counter
 * and by side.  A file that needs only the arithmetic (the engine)
 * includes this one without the hooks and gets ionclock_map_ns() and
 * ionclock_bound_growth_ns() alone.
 *
 * Not installed: it is how this package reads its page, not an interface.
 */
#ifndef _UAPI_LINUX_IONCLOCK_SEQ_H
#define _UAPI_LINUX_IONCLOCK_SEQ_H

#include <linux/types.h>
#include <linux/ionclock.h>

/*
 * How far ahead of the counter read that follows the write sequence's full
 * barrier a writer anchors its new mapping (kmod/engine.c's
 * ionclock_engine_anchor() says why); the error bound includes it.  What
 * it must cover is how far a reader's counter read may trail its re-read
 * of the sequence count, plus how far its CPU's counter may run ahead of
 * the writer's; selftests/anchor_probe.c measures that, on the host and
 * in every VM, and fails if it ever reaches this.  The first is at most
 * an rdtsc's latency (about 40 cycles: 50 ns even at 800 MHz), the second
 * a few ns where the kernel trusts the TSC across CPUs; the probe has seen
 * neither (a lead of 0 over tens of millions of racing reads), and a
 * writer without the full barrier leads by over 1 us there, so it would
 * see them.
 */
#define IONCLOCK_ANCHOR_AHEAD_NS	250

/*
 * READ PROTOCOL step 5: TAI ns at @counter under the mapping anchored at
 * @counter_base.  A counter behind the base (another CPU's TSC a hair
 * slow) counts as the base itself.
 */
static inline __u64 ionclock_map_ns(__u64 counter, __u64 counter_base,
				    __u64 time_base_ns, __u64 mult,
				    __u32 shift)
{
	__u64 delta = counter - counter_base;

	if ((__s64)delta < 0)
		delta = 0;
	return time_base_ns +
	       (__u64)(((__uint128_t)delta * mult) >> shift);
}

/* What a bound grows by over @elapsed_ns at @growth_frac32 (ns/ns << 32). */
static inline __u64 ionclock_bound_growth_ns(__u64 elapsed_ns,
					     __u64 growth_frac32)
{
	return (__u64)(((__uint128_t)elapsed_ns * growth_frac32) >> 32);
}

#endif /* _UAPI_LINUX_IONCLOCK_SEQ_H */

#if defined(IONCLOCK_SEQ_LOAD) && !defined(_UAPI_LINUX_IONCLOCK_SEQ_LOOP)
#define _UAPI_LINUX_IONCLOCK_SEQ_LOOP

#if !defined(IONCLOCK_SEQ_STORE) || !defined(IONCLOCK_SEQ_RMB) || \
	!defined(IONCLOCK_SEQ_WMB) || !defined(IONCLOCK_SEQ_MB) || \
	!defined(IONCLOCK_SEQ_RELAX)
#error "ionclock_seq.h: define every IONCLOCK_SEQ_* hook, or none"
#endif

/*
 * READ PROTOCOL steps 1 and 2.  An odd count (a writer mid-update) is
 * returned as it is, after IONCLOCK_SEQ_RELAX(): ionclock_seq_read_retry()
 * then fails, and a reader may skip its copy as soon as it sees one.
 */
static inline __u32 ionclock_seq_read_begin(const struct ionclock_page *p)
{
	__u32 seq = IONCLOCK_SEQ_LOAD(p->seq_count);

	if (seq & 1) {
		IONCLOCK_SEQ_RELAX();
		return seq;
	}
	/*
	 * pairs with IONCLOCK_SEQ_WMB() in ionclock_seq_write_end(); also
	 * keeps the compiler from hoisting the reader's plain loads above it
	 */
	IONCLOCK_SEQ_RMB();
	return seq;
}

/* READ PROTOCOL step 4: whether the copy since @seq must be done again. */
static inline int ionclock_seq_read_retry(const struct ionclock_page *p,
					  __u32 seq)
{
	if (seq & 1)
		return 1;
	IONCLOCK_SEQ_RMB(); /* pairs with IONCLOCK_SEQ_MB() in _write_begin() */
	return IONCLOCK_SEQ_LOAD(p->seq_count) != seq;
}

/*
 * The writer's side, one writer at a time (the caller's lock).  The count
 * goes odd before anything else is written, and the full barrier keeps the
 * writer's own counter read (the next mapping's anchor) below it: a reader
 * whose counter read comes after that anchor cannot have seen the old
 * mapping with an even count.
 */
static inline void ionclock_seq_write_begin(struct ionclock_page *p)
{
	IONCLOCK_SEQ_STORE(p->seq_count, p->seq_count + 1);
	IONCLOCK_SEQ_MB(); /* pairs with the RMB in ionclock_seq_read_retry() */
}

static inline void ionclock_seq_write_end(struct ionclock_page *p)
{
	IONCLOCK_SEQ_WMB(); /* pairs with the RMB in ionclock_seq_read_begin() */
	IONCLOCK_SEQ_STORE(p->seq_count, p->seq_count + 1);
}

#endif /* IONCLOCK_SEQ_LOAD */
