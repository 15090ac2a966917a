// SPDX-License-Identifier: GPL-2.0
/*
 * IONCLOCK_IOC_NEXT_ID: ordered 64-bit IDs, unique machine-wide (the ORDERED
 * IDS section of uapi/linux/ionclock.h).  The allocator is one atomic word,
 * the next free (millisecond, sequence) pair, advanced by compare-exchange:
 * no lock, so callers on every CPU only contend on that word, and a caller
 * that has to wait for the next millisecond sleeps holding nothing.
 */
#include <linux/delay.h>
#include <linux/math64.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>

#include "ionclock_kmod.h"

#define NSEC_PER_MSEC_ULL	1000000ULL
#define ID_SEQS			(IONCLOCK_ID_SEQ_MASK + 1)
/* Milliseconds fit in the ID's top 42 bits. */
#define ID_MS_LIMIT		(1ULL << (64 - IONCLOCK_ID_MS_SHIFT))
/* idev->id_next is ms << ID_SLOT_SHIFT | next sequence (0 .. ID_SEQS). */
#define ID_SLOT_SHIFT		13

static_assert(IONCLOCK_MACHINE_ID_MAX == IONCLOCK_ID_MACHINE_MASK);
static_assert(IONCLOCK_ID_MAX_COUNT == ID_SEQS);

/* The device's time as ms since the ID epoch; @tai_ns gets the time. */
static int id_now_ms(struct ionclock_dev *idev, u64 *ms, u64 *tai_ns)
{
	const u64 epoch_ns = IONCLOCK_ID_EPOCH_TAI_S * NSEC_PER_SEC;
	struct ionclock_reading r;
	int err;

	err = ionclock_page_read(idev, &r);
	if (err)
		return err;
	if (r.tai_ns < epoch_ns)
		return -EOVERFLOW;
	*tai_ns = r.tai_ns;
	*ms = div_u64(r.tai_ns - epoch_ns, NSEC_PER_MSEC_ULL);
	return *ms < ID_MS_LIMIT ? 0 : -EOVERFLOW;
}

/*
 * Sleep until the device's time is past millisecond @ms.  The time always
 * moves on (every mapping has a positive rate), so this ends; a signal
 * ends it early.
 */
static int id_wait_past(struct ionclock_dev *idev, u64 ms)
{
	const u64 epoch_ns = IONCLOCK_ID_EPOCH_TAI_S * NSEC_PER_SEC;
	u64 now_ms, tai_ns, left_us;
	int err;

	for (;;) {
		err = id_now_ms(idev, &now_ms, &tai_ns);
		if (err)
			return err;
		if (now_ms > ms)
			return 0;
		if (signal_pending(current))
			return -EINTR;
		left_us = div_u64(epoch_ns + (ms + 1) * NSEC_PER_MSEC_ULL -
				  tai_ns, NSEC_PER_USEC) + 1;
		usleep_range(left_us, left_us + 20);
	}
}

long ionclock_ioctl_next_id(struct ionclock_dev *idev, void __user *arg)
{
	struct ionclock_id_request req;
	u64 ms, tai_ns, seq, grant;
	s64 old, next;
	u32 machine;
	int err;

	if (copy_from_user(&req, arg, sizeof(req)))
		return -EFAULT;
	if (req.flags || req.reserved[0] || req.reserved[1])
		return -EINVAL;
	if (!req.count || req.count > IONCLOCK_ID_MAX_COUNT)
		return -EINVAL;
	machine = READ_ONCE(idev->id_machine);
	if (!(machine & IONCLOCK_ID_MACHINE_SET))
		return -EADDRNOTAVAIL;
	machine &= IONCLOCK_ID_MACHINE_MASK;

	err = id_now_ms(idev, &ms, &tai_ns);
	if (err)
		return err;
	old = atomic64_read(&idev->id_next);
	for (;;) {
		/*
		 * A caller on another CPU may have read a slightly later time
		 * and taken its millisecond first: never go back from it.
		 */
		u64 old_ms = (u64)old >> ID_SLOT_SHIFT;

		seq = (u64)old & (BIT_ULL(ID_SLOT_SHIFT) - 1);

		if (ms > old_ms) {
			seq = 0;
		} else {
			ms = old_ms;
			if (seq == ID_SEQS) {
				/* This millisecond is used up. */
				err = id_wait_past(idev, ms);
				if (err)
					return err;
				err = id_now_ms(idev, &ms, &tai_ns);
				if (err)
					return err;
				old = atomic64_read(&idev->id_next);
				continue;
			}
		}
		grant = min_t(u64, req.count, ID_SEQS - seq);
		next = (s64)(ms << ID_SLOT_SHIFT | (seq + grant));
		if (atomic64_try_cmpxchg(&idev->id_next, &old, next))
			break;
	}
	req.count = grant;
	req.first_id = ms << IONCLOCK_ID_MS_SHIFT |
		       (u64)machine << IONCLOCK_ID_MACHINE_SHIFT | seq;
	return copy_to_user(arg, &req, sizeof(req)) ? -EFAULT : 0;
}
