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
