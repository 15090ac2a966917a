// SPDX-License-Identifier: GPL-2.0
/*
 * What the page says, given the engine: the mapping, the state, the error
 * bound and the counters.  Plain C like engine.c, so the host tests publish
 * pages exactly as the module does; the sequence count around it is the
 * caller's (page.c).
 */
#ifdef __KERNEL__
#include <linux/types.h>
#endif
#include <linux/ionclock.h>

#include "disruption.h"
#include "engine.h"

void ionclock_page_fill(struct ionclock_page *p,
			const struct ionclock_engine *e,
			const struct ionclock_bound *b, bool phc_gone)
{
	/* The UTC flags are page.c's, from the device's state, after this. */
	u32 flags = 0;

	if (e->published)
		flags |= IONCLOCK_FLAG_VALID | IONCLOCK_FLAG_BOUND_VALID;
	if (phc_gone)
		flags |= IONCLOCK_FLAG_PHC_GONE;
	if (e->slew_frac40)
		flags |= IONCLOCK_FLAG_SLEWING;
	if (e->bound_degraded)
		flags |= IONCLOCK_FLAG_BOUND_DEGRADED;
	if (e->counter_unsynced)
		flags |= IONCLOCK_FLAG_COUNTER_UNSYNCED;
	if (e->disrupted)
		flags |= IONCLOCK_FLAG_DISRUPTED;
	p->flags = flags;
	p->state = e->state;
	p->generation = e->generation;
	p->counter_base = e->map.counter_base;
	p->time_base_ns = e->map.time_base_ns;
	p->time_mult = e->map.mult;
	p->time_shift = e->map.shift;
	p->error_bound_ns = b->total_ns;
	p->error_growth_frac32 = b->growth_frac32;
	p->error_bracket_ns = b->bracket_ns;
	p->error_residual_ns = b->residual_ns;
	p->error_slew_ns = b->slew_ns;
	p->error_upstream_ns = b->upstream_ns;
	p->phc_freq_ppb = ionclock_engine_freq_ppb(e);
	p->phc_offset_ns = e->offset_ns;
	p->last_sample_counter = e->n ? e->win[e->n - 1].counter : 0;
	p->samples_taken = e->samples_taken;
	p->samples_rejected = e->samples_rejected;
	p->steps_detected = e->steps_detected;
	p->disruptions = e->disruptions;
	p->disruption_cause = e->disruption_cause;
}

/*
 * The vmclock fields: @state (IONCLOCK_VMCLOCK_*), and with FOLLOWED what
 * the last good look at the vmclock said.
 */
void ionclock_page_fill_vmclock(struct ionclock_page *p, u8 state,
				const struct ionclock_vmclock_look *v)
{
	static const struct ionclock_vmclock_look none;

	if (state != IONCLOCK_VMCLOCK_FOLLOWED)
		v = &none;
	p->vmclock_state = state;
	p->vmclock_status = v->status;
	p->vmclock_flags = v->flags;
	p->vmclock_disruption_marker = v->marker;
	p->vmclock_generation = v->generation;
	p->vmclock_maxerror_ns = v->maxerror_ns;
	p->vmclock_esterror_ns = v->esterror_ns;
}
