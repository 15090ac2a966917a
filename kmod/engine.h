/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The time engine: turns PHC samples into a counter-to-TAI mapping that never
 * goes backward.  Plain C with no kernel-only dependency, so the same file
 * builds into the module and into the host unit tests.
 */
#ifndef IONCLOCK_ENGINE_H
#define IONCLOCK_ENGINE_H

#ifdef __KERNEL__
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stdint.h>
typedef uint64_t u64;
typedef int64_t s64;
typedef uint32_t u32;
typedef int32_t s32;
typedef uint8_t u8;
#endif
#include <linux/ionclock.h>	/* IONCLOCK_STATE_*: the engine's states */
#include <linux/ionclock_seq.h>	/* IONCLOCK_ANCHOR_AHEAD_NS */

/* How many samples the frequency fit looks back over. */
#define IONCLOCK_WINDOW		16
/* Samples needed before the PHC's rate is judged and followed. */
#define IONCLOCK_MIN_FIT	4
/*
 * A sample whose counter is this far behind the one before (nominal ns)
 * means the counter itself went back (a TSC reset over suspend), not a
 * reordering: the engine starts again from it.
 */
#define IONCLOCK_COUNTER_RESET_NS	1000000
/* The newest samples whose own rate is compared with the window's. */
#define IONCLOCK_RECENT		IONCLOCK_MIN_FIT

/**
 * struct ionclock_mapping - counter to TAI ns: base + (delta * mult) >> shift
 * @counter_base: counter value the mapping is anchored at
 * @time_base_ns: TAI ns at @counter_base
 * @mult: ns per counter unit, scaled by 2^@shift
 * @shift: fixed-point shift of @mult
 */
struct ionclock_mapping {
	u64 counter_base;
	u64 time_base_ns;
	u64 mult;
	u32 shift;
};

/**
 * struct ionclock_sample - one bracketed PHC reading
 * @counter: counter midway between the reads before and after the PHC read
 * @half_width: half the distance between those reads, counter units
 * @phc_ns: the PHC's time, already on the TAI scale
 */
struct ionclock_sample {
	u64 counter;
	u64 half_width;
	u64 phc_ns;
};

/**
 * struct ionclock_params - the engine's policies
 * @max_slew_ppb: largest rate difference used to close an offset
 * @slew_time_ms: an offset is closed over about this long, then at most at
 *	@max_slew_ppb
 * @step_threshold_ns: a sample further than this from the prediction is a
 *	step of the PHC
 * @step_forward: forward steps are applied at once (never backward ones)
 * @max_freq_ppb: a PHC whose rate differs more than this from the counter's
 *	nominal rate is implausible and not followed
 * @drift_ppb: how fast the counter's rate may wander, for the error bound
 * @upstream_ns: the PHC's own error against its reference, for the bound
 */
struct ionclock_params {
	u32 max_slew_ppb;
	u32 slew_time_ms;
	u64 step_threshold_ns;
	bool step_forward;
	u32 max_freq_ppb;
	u32 drift_ppb;
	u64 upstream_ns;
};

/**
 * struct ionclock_bound - error bound components, ns, at the mapping's base
 * @bracket_ns: the newest sample's read bracket, half width
 * @residual_ns: what the fit's line does not explain
 * @slew_ns: the offset to the PHC still being slewed away
 * @upstream_ns: the PHC's own error against its reference
 * @rate_ns: how far the rate run on may have carried the time from the
 *	last trusted sample: its uncertainty times that sample's age
 * @total_ns: everything above, the drift term and the anchor
 * @growth_frac32: ns per ns << 32 from the mapping's base on: drift, slew
 *	and rate uncertainty
 */
struct ionclock_bound {
	u64 bracket_ns;
	u64 residual_ns;
	u64 slew_ns;
	u64 upstream_ns;
	u64 rate_ns;
	u64 total_ns;
	u64 growth_frac32;
};

/**
 * struct ionclock_engine - state of one PHC follower
 *
 * Frequencies are dimensionless rate errors against the counter's nominal
 * rate, in parts per 2^40 ("frac40"), so that sub-ppb resolution survives
 * integer arithmetic.
 */
struct ionclock_engine {
	struct ionclock_params params;
	u64 nominal_mult;
	u32 shift;
	u64 anchor_ticks;

	u32 state;		/* IONCLOCK_STATE_*, as the page shows it */
	bool published;
	struct ionclock_mapping map;
	u32 generation;

	/* Recent samples, oldest first; n in use. */
	struct ionclock_sample win[IONCLOCK_WINDOW];
	u32 n;

	/*
	 * The fit: PHC time at fit_counter; the trusted rate error that the
	 * publisher follows, and the latest fitted one (which may be
	 * implausible and then is not followed).
	 */
	u64 fit_phc_ns;
	u64 fit_counter;
	s64 freq_frac40;
	s64 fit_freq_frac40;
	/*
	 * How far the PHC's rate may be from freq_frac40, frac40: from the
	 * fit's own statistics once two samples have measured it
	 * (rate_measured); until then the publisher assumes max_freq_ppb.
	 */
	u64 rate_unc_frac40;
	bool rate_measured;
	u64 residual_ns;
	u64 bracket_ns;
	bool have_freq;
	/* The trusted rate a window ago and two (see remember_rate()). */
	s64 freq_mark_frac40;
	s64 freq_older_frac40;
	u32 trusted_in_window;

	/*
	 * PHC minus published time at the last publication (kept through
	 * holdover, for the bound), the slew it set, and the counter of the
	 * last sample trusted (the age of the PHC's news, for the bound: a
	 * PHC judged implausible brings none).
	 */
	s64 offset_ns;
	s64 slew_frac40;
	u64 last_good_counter;

	u32 rejected_in_row;
	bool just_stepped;	/* the window restarted at a step */
	bool counter_reset;	/* the counter went back: re-anchor on the PHC */
	/*
	 * The bound of the last publication, and whether a sample since
	 * found the PHC outside it, or the rate moving faster than drift_ppb
	 * allows, with the fit not caught up yet.
	 */
	struct ionclock_bound bound;
	bool bound_degraded;
	/* The kernel no longer vouches for the counter across CPUs. */
	bool counter_unsynced;
	/*
	 * A disruption (disruption.c) left the window empty and the rate
	 * unmeasured; cleared once IONCLOCK_MIN_FIT samples have re-fitted
	 * it.  How many there were, and the cause of the last.
	 */
	bool disrupted;
	u32 disruptions;
	u32 disruption_cause;

	u64 samples_taken;
	u64 samples_rejected;
	u64 steps_detected;

	/*
	 * The upstream error a feed reported, and the TAI time it was
	 * measured at: the bound ages it from there (see the uapi header).
	 */
	bool upstream_fed;
	u64 upstream_reported_ns;
	u64 upstream_measured_tai_ns;
	/*
	 * How many new measurements the feed has brought, and how many the
	 * last publication had seen: between two, the bound only grows.
	 */
	u64 upstream_renewals;
	u64 bound_renewals;
};

void ionclock_engine_init(struct ionclock_engine *e, u64 nominal_mult,
			  u32 shift, const struct ionclock_params *params);
u64 ionclock_mapping_eval(const struct ionclock_mapping *m, u64 counter);
u64 ionclock_engine_anchor(const struct ionclock_engine *e, u64 counter);
u64 ionclock_counter_to_ns(const struct ionclock_engine *e, u64 delta);
void ionclock_engine_add_sample(struct ionclock_engine *e,
				const struct ionclock_sample *s);
void ionclock_engine_lost(struct ionclock_engine *e);
void ionclock_engine_counter_synced(struct ionclock_engine *e, bool synced);
void ionclock_engine_disrupted(struct ionclock_engine *e, u32 cause);
void ionclock_engine_publish(struct ionclock_engine *e, u64 now,
			     struct ionclock_bound *bound);
s64 ionclock_engine_freq_ppb(const struct ionclock_engine *e);

/* page_fill.c */
struct ionclock_page;
void ionclock_page_fill(struct ionclock_page *p,
			const struct ionclock_engine *e,
			const struct ionclock_bound *b, bool phc_gone);

#endif /* IONCLOCK_ENGINE_H */
