/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Kernel API differences, in one place.  Each IONCLOCK_HAVE_* comes from Kbuild,
 * which looks for the feature in the headers being built against: Debian
 * backports some of them, so LINUX_VERSION_CODE would guess wrong.
 */
#ifndef IONCLOCK_COMPAT_H
#define IONCLOCK_COMPAT_H

#include <linux/fs.h>
#include <linux/mm.h>
#include <linux/posix-clock.h>
#include <linux/ptp_clock_kernel.h>
#include <linux/string.h>
#include <linux/timekeeping.h>

/*
 * What an open /dev/ptpN keeps in file->private_data: a posix_clock_context
 * since the 6.7 rework (backported to Debian's 6.1.162+), the posix_clock
 * itself before.
 */
static inline struct posix_clock *ionclock_file_posix_clock(struct file *f)
{
#ifdef IONCLOCK_HAVE_POSIX_CLOCK_CONTEXT
	struct posix_clock_context *ctx = f->private_data;

	return ctx ? ctx->clk : NULL;
#else
	return f->private_data;
#endif
}

/*
 * Ask the driver for CLOCK_MONOTONIC_RAW pre/post stamps where the kernel
 * supports choosing (6.11+); returns whether it will honour the request.
 */
static inline bool ionclock_sts_request_raw(struct ptp_system_timestamp *sts)
{
	memset(sts, 0, sizeof(*sts));
#ifdef IONCLOCK_HAVE_STS_CLOCKID
	sts->clockid = CLOCK_MONOTONIC_RAW;
	return true;
#else
	return false;
#endif
}

/*
 * A clocksource snapshot: the counter with CLOCK_REALTIME and
 * CLOCK_MONOTONIC_RAW taken at once.  Newer kernels take it for a chosen
 * clock id (ktime_get_snapshot_id(), fields systime and monoraw).
 */
static inline void ionclock_snapshot(struct system_time_snapshot *snap)
{
#ifdef IONCLOCK_HAVE_SNAPSHOT_ID
	ktime_get_snapshot_id(CLOCK_REALTIME, snap);
#else
	ktime_get_snapshot(snap);
#endif
}

static inline ktime_t ionclock_snapshot_real(const struct system_time_snapshot *s)
{
#ifdef IONCLOCK_HAVE_SNAPSHOT_ID
	return s->systime;
#else
	return s->real;
#endif
}

static inline ktime_t ionclock_snapshot_raw(const struct system_time_snapshot *s)
{
#ifdef IONCLOCK_HAVE_SNAPSHOT_ID
	return s->monoraw;
#else
	return s->raw;
#endif
}

/**
 * struct ionclock_stamps - a driver's system stamps around its PHC latch
 * @pre: the stamp before, on CLOCK_MONOTONIC_RAW if @raw, else REALTIME
 * @post: the stamp after
 * @raw: the stamps are CLOCK_MONOTONIC_RAW
 * @cycles: @pre_cycles and @post_cycles hold the TSC itself, read by
 *	the kernel's clocksource with the stamps (newer kernels stamp
 *	with a whole clocksource snapshot)
 * @pre_cycles: the TSC at @pre
 * @post_cycles: the TSC at @post
 */
struct ionclock_stamps {
	struct timespec64 pre, post;
	bool raw, cycles;
	u64 pre_cycles, post_cycles;
};

static inline void ionclock_stamps_get(const struct ptp_system_timestamp *sts,
				       bool raw, struct ionclock_stamps *st)
{
#ifdef IONCLOCK_HAVE_STS_SNAPSHOT
	bool valid = true;

#ifdef IONCLOCK_HAVE_SNAPSHOT_VALID
	valid = sts->pre_sts.valid && sts->post_sts.valid;
#endif
	memset(st, 0, sizeof(*st));
	if (!valid)
		return;
	st->pre = ktime_to_timespec64(sts->pre_sts.monoraw);
	st->post = ktime_to_timespec64(sts->post_sts.monoraw);
	st->raw = true;
	st->cycles = sts->pre_sts.cs_id == CSID_X86_TSC &&
		     sts->post_sts.cs_id == CSID_X86_TSC;
	st->pre_cycles = sts->pre_sts.cycles;
	st->post_cycles = sts->post_sts.cycles;
#else
	st->pre = sts->pre_ts;
	st->post = sts->post_ts;
	st->raw = raw;
	st->cycles = false;
#endif
}

static inline void ionclock_vma_deny_write(struct vm_area_struct *vma)
{
#ifdef IONCLOCK_HAVE_VM_FLAGS_CLEAR
	vm_flags_clear(vma, VM_MAYWRITE | VM_MAYEXEC);
	vm_flags_set(vma, VM_DONTEXPAND | VM_DONTDUMP);
#else
	vma->vm_flags &= ~(VM_MAYWRITE | VM_MAYEXEC);
	vma->vm_flags |= VM_DONTEXPAND | VM_DONTDUMP;
#endif
}

#endif /* IONCLOCK_COMPAT_H */
