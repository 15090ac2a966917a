/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Telling a disruption (suspend, a stopped or moved VM, a counter that
 * jumped) from the gaps between two samples: plain C, shared with the host
 * unit tests like engine.c.
 */
#ifndef IONCLOCK_DISRUPTION_H
#define IONCLOCK_DISRUPTION_H

#include "engine.h"

/*
 * CLOCK_BOOTTIME ahead of CLOCK_MONOTONIC by more than this over one gap
 * means the machine was suspended: the two differ by nothing else.
 */
#define IONCLOCK_SUSPEND_MIN_NS		10000000LL
/* The counter may leave CLOCK_MONOTONIC_RAW by this, plus its rate error. */
#define IONCLOCK_COUNTER_JUMP_MIN_NS	1000000LL
/* A gap this much longer than the poll period (or one period more) is a stall. */
#define IONCLOCK_STALL_MIN_NS		2000000000LL

/**
 * struct ionclock_gap - how far each clock moved between two looks, ns
 * @counter_ns: the counter, at its nominal rate (signed: it may go back)
 * @raw_ns: CLOCK_MONOTONIC_RAW
 * @mono_ns: CLOCK_MONOTONIC
 * @boot_ns: CLOCK_BOOTTIME
 */
struct ionclock_gap {
	s64 counter_ns;
	s64 raw_ns;
	s64 mono_ns;
	s64 boot_ns;
};

/**
 * struct ionclock_vmclock_look - what a vmclock page said at one look
 * @valid: the page was there and read consistently
 * @status: its clock_status
 * @flags: IONCLOCK_VMCLOCK_F_* (the page's terms, translated)
 * @marker: its disruption_marker
 * @generation: its vm_generation_counter
 * @maxerror_ns: its time_maxerror_nanosec
 * @esterror_ns: its time_esterror_nanosec
 */
struct ionclock_vmclock_look {
	bool valid;
	u8 status;
	u32 flags;
	u64 marker;
	u64 generation;
	u64 maxerror_ns;
	u64 esterror_ns;
};

bool ionclock_vmclock_disrupted(const struct ionclock_vmclock_look *last,
				const struct ionclock_vmclock_look *now);

struct ionclock_page;
void ionclock_page_fill_vmclock(struct ionclock_page *p, u8 state,
				const struct ionclock_vmclock_look *v);

u32 ionclock_disruption_judge(const struct ionclock_gap *g, u64 poll_ns,
			      u32 max_freq_ppb);

#endif /* IONCLOCK_DISRUPTION_H */
