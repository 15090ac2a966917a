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

u32 ionclock_disruption_judge(const struct ionclock_gap *g, u64 poll_ns,
			      u32 max_freq_ppb);

#endif /* IONCLOCK_DISRUPTION_H */
