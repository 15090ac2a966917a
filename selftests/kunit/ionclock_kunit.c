// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit suite for ionclock's time core: kmod/engine.c, kmod/leap.c and
 * kmod/page_fill.c, linked unchanged into a UML kernel by
 * selftests/kunit/run-kunit.sh.
 *
 * The engine is driven by a simulated PHC that is also the reference model:
 * it knows the true PHC time at every counter value.  Each poll period the
 * simulation takes one bracketed sample, publishes at a counter read after
 * it (as kmod/sampler.c does) and reads the published mapping at increasing
 * counter values, as readers would.  Inputs are deterministic: the only
 * "noise" comes from a fixed-seed linear congruential generator.
 */
#include <kunit/test.h>
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/string.h>
#include <linux/ionclock.h>

#include "engine.h"
#include "leap.h"
#include "upstream.h"
#include "utc_source.h"

/* 2023-11-14 in TAI ns: PHC times near today's. */
#define PHC_START_NS	1700000000000000000ULL
#define POLL_NS		(100 * NSEC_PER_MSEC)
/* Readers per poll period, spread over it. */
#define READS_PER_POLL	4
/* The publisher's time constant and its slack when judging convergence. */
#define SETTLE_NS	(15 * NSEC_PER_SEC)
/*
 * Poll periods to lock on: the offset left from the first samples closes
 * by a tenth per period (slew_time_ms 1000), so after 15 s it is gone.
 */
#define LOCK_POLLS	150

/* Counter rates, kHz; 0 means the counter counts ns (monotonic_raw). */
#define TSC_3GHZ	3000000ULL
#define TSC_2_4GHZ	2400000ULL
#define CTR_25MHZ	25000ULL
#define CTR_NS		0ULL

/*
 * Every case table's entries start with a human name: the cases are
 * parameters of KUNIT_ARRAY_PARAM and are reported under that name.
 */
#define IONCLOCK_CASES(id, array)					\
	static void id##_desc(typeof(&(array)[0]) c, char *desc)	\
	{								\
		strscpy(desc, c->name, KUNIT_PARAM_DESC_SIZE);		\
	}								\
	KUNIT_ARRAY_PARAM(id, array, id##_desc)

static u64 mag(s64 v)
{
	return v < 0 ? -(u64)v : (u64)v;
}

static void default_params(struct ionclock_params *p)
{
	memset(p, 0, sizeof(*p));
	p->max_slew_ppb = 500000;
	p->slew_time_ms = 1000;
	p->step_threshold_ns = 1000000;
	p->step_forward = true;
	p->max_freq_ppb = 1000000;
	p->drift_ppb = 15000;
}

/* The simulated PHC and the readers' view of the engine's mapping. */
struct ic_sim {
	struct kunit *test;
	u64 khz;
	struct ionclock_engine e;
	struct ionclock_bound b;
	u64 start;		/* counter at the start */
	u64 now;		/* counter: where the simulation stands */

	/* Reference model: the PHC reads phc0 at c0 and runs ppb fast. */
	u64 c0;
	u64 phc0;
	s64 ppb;

	/* Sample bracket half-width; with jitter the PHC latches anywhere. */
	u32 hw_ns;
	bool jitter;
	u32 lcg;

	/* What readers and publications saw. */
	u64 last_read;
	u64 reads;
	u64 backward;
	u64 publishes;
	u64 discontinuities;
	u64 bad_rate;
	s64 last_jump;

	/* Accuracy, once settled after the last disturbance. */
	bool check_accuracy;
	u64 tolerance_ns;
	u64 disturbed_at;
	u64 budget_ns;
	u64 steady_reads;
	u64 worst_steady_ns;

	/*
	 * The truth against the published bound, at every read.  With
	 * flagged_ok, a read outside it passes if the page said
	 * BOUND_DEGRADED, or if nothing was published since the PHC changed
	 * beyond what the bound assumes (unseen); both are counted.
	 */
	bool check_bound;
	bool flagged_ok;
	bool unseen;
	u64 unseen_until;	/* a sample a poll after the change shows it */
	bool degraded;
	u64 bound_checks;
	u64 outside_bound;
	u64 flagged_outside;
	u64 unseen_outside;
	u64 flagged_publishes;
	u64 widest_bound_ns;
};

static u32 sim_rand(struct ic_sim *s)
{
	s->lcg = s->lcg * 1664525u + 1013904223u;
	return s->lcg >> 8;
}

static u64 ticks_from_ns(const struct ic_sim *s, u64 ns)
{
	if (!s->khz)
		return ns;
	return mul_u64_u64_div_u64(ns, s->khz, NSEC_PER_MSEC);
}

static u64 ns_from_ticks(const struct ic_sim *s, u64 ticks)
{
	if (!s->khz)
		return ticks;
	return mul_u64_u64_div_u64(ticks, NSEC_PER_MSEC, s->khz);
}

static u64 nominal_mult(u64 khz)
{
	if (!khz)
		return 1ULL << 32;
	return div64_u64(NSEC_PER_MSEC << 32, khz);
}

/* The true PHC time at counter @c (c >= c0). */
static u64 sim_truth(const struct ic_sim *s, u64 c)
{
	u64 d = ns_from_ticks(s, c - s->c0);
	u64 adj = mul_u64_u64_div_u64(d, mag(s->ppb), NSEC_PER_SEC);

	return s->phc0 + d + (s->ppb < 0 ? -adj : adj);
}

static u64 sim_published(const struct ic_sim *s, u64 c)
{
	return ionclock_mapping_eval(&s->e.map, c);
}

static s64 sim_error(const struct ic_sim *s, u64 c)
{
	return (s64)(sim_published(s, c) - sim_truth(s, c));
}

/* Seconds of simulated time so far, for messages. */
static u64 sim_secs(const struct ic_sim *s)
{
	return div64_u64(ns_from_ticks(s, s->now - s->start), NSEC_PER_SEC);
}

/* The rate of the published mapping against nominal, ppb. */
static s64 sim_map_ppb(const struct ic_sim *s)
{
	u64 nom = s->e.nominal_mult;
	s64 d = (s64)(s->e.map.mult - nom);

	return div64_s64(d * (s64)NSEC_PER_SEC, (s64)nom);
}

static void sim_init(struct ic_sim *s, struct kunit *test, u64 khz,
		     const struct ionclock_params *params, s64 ppb, u32 hw_ns,
		     u32 seed)
{
	memset(s, 0, sizeof(*s));
	s->test = test;
	s->khz = khz;
	ionclock_engine_init(&s->e, nominal_mult(khz), 32, params);
	/* Counters start wherever boot left them. */
	s->now = ticks_from_ns(s, 123 * NSEC_PER_SEC) + 777;
	s->start = s->now;
	s->c0 = s->now;
	s->phc0 = PHC_START_NS;
	s->ppb = ppb;
	s->hw_ns = hw_ns;
	s->jitter = seed != 0;
	s->lcg = seed;
	s->tolerance_ns = 5 * hw_ns + 100;
	s->disturbed_at = s->now;
}

/* The PHC steps by @step_ns and runs @ppb fast from the current counter. */
static void sim_set_phc(struct ic_sim *s, s64 step_ns, s64 ppb)
{
	u64 phc = sim_truth(s, s->now);

	s->c0 = s->now;
	s->phc0 = phc + (u64)step_ns;
	s->ppb = ppb;
}

/* From here the error must close: budget what the publisher has to slew. */
static void sim_disturbed(struct ic_sim *s)
{
	s64 err = s->e.published ? sim_error(s, s->now) : 0;

	s->disturbed_at = s->now;
	/* Published time behind the PHC is stepped, ahead of it slewed. */
	s->budget_ns = err > 0 ? (u64)err : 0;
}

static bool sim_steady(const struct ic_sim *s, u64 c)
{
	/* 450000 ppb: 90% of the largest slew. */
	u64 need = SETTLE_NS +
		   mul_u64_u64_div_u64(s->budget_ns, NSEC_PER_SEC, 450000);

	return ns_from_ticks(s, c - s->disturbed_at) >= need;
}

/* A reader at counter @c: never backward, accurate once steady. */
static void sim_read(struct ic_sim *s, u64 c)
{
	u64 t = sim_published(s, c);

	if (!s->e.published)
		return;
	if (t < s->last_read) {
		if (!s->backward++)
			KUNIT_FAIL(s->test,
				   "time went back %llu ns at t=%llu s",
				   s->last_read - t, sim_secs(s));
	} else {
		s->last_read = t;
	}
	s->reads++;
	if (s->check_bound) {
		u64 bound = s->b.total_ns +
			    mul_u64_u64_shr(t - s->e.map.time_base_ns,
					    s->b.growth_frac32, 32);
		u64 err = mag(sim_error(s, c));

		s->bound_checks++;
		if (bound > s->widest_bound_ns)
			s->widest_bound_ns = bound;
		if (err > bound && s->flagged_ok && s->degraded)
			s->flagged_outside++;
		else if (err > bound && s->flagged_ok && s->unseen)
			s->unseen_outside++;
		else if (err > bound && !s->outside_bound++)
			KUNIT_FAIL(s->test,
				   "truth %lld ns away, outside the bound %llu ns, at t=%llu s",
				   sim_error(s, c), bound, sim_secs(s));
	}
	if (s->check_accuracy && sim_steady(s, c)) {
		u64 err = mag(sim_error(s, c));

		s->steady_reads++;
		if (err > s->worst_steady_ns) {
			if (err > s->tolerance_ns &&
			    s->worst_steady_ns <= s->tolerance_ns)
				KUNIT_FAIL(s->test,
					   "steady-state error %lld ns at t=%llu s",
					   sim_error(s, c), sim_secs(s));
			s->worst_steady_ns = err;
		}
	}
}

/*
 * Publish at counter @at.  The new mapping must start where the old one
 * stands at @at, or, for a forward step the policy allows, above it by more
 * than the step threshold.
 */
static void sim_publish(struct ic_sim *s, u64 at)
{
	bool was = s->e.published;
	u64 before = sim_published(s, at);
	u64 after;
	s64 rate;

	sim_read(s, at);
	ionclock_engine_publish(&s->e, at, &s->b);
	s->publishes++;
	s->degraded = s->e.bound_degraded;
	s->flagged_publishes += s->degraded;
	if (at >= s->unseen_until)
		s->unseen = false;
	after = sim_published(s, at);
	s->last_jump = was ? (s64)(after - before) : 0;
	if (was && after != before &&
	    !(s->e.params.step_forward &&
	      after > before + s->e.params.step_threshold_ns)) {
		if (!s->discontinuities++)
			KUNIT_FAIL(s->test,
				   "publish at t=%llu s moved the time by %lld ns",
				   sim_secs(s), s->last_jump);
	}
	/* The mapping runs at the estimated PHC rate, give or take a slew. */
	rate = sim_map_ppb(s) - ionclock_engine_freq_ppb(&s->e);
	if (mag(rate) > s->e.params.max_slew_ppb + 2 && !s->bad_rate++)
		KUNIT_FAIL(s->test,
			   "mapping runs %lld ppb off the PHC estimate at t=%llu s",
			   rate, sim_secs(s));
	sim_read(s, at);
}

/* What every engine case ends with. */
static void sim_expect_clean(struct ic_sim *s)
{
	KUNIT_EXPECT_EQ(s->test, s->backward, 0ULL);
	KUNIT_EXPECT_EQ(s->test, s->discontinuities, 0ULL);
	KUNIT_EXPECT_EQ(s->test, s->bad_rate, 0ULL);
}

/* One poll period: a sample, a publication, readers until the next one. */
static void sim_tick(struct ic_sim *s)
{
	u64 hw = ticks_from_ns(s, s->hw_ns);
	u64 poll = ticks_from_ns(s, POLL_NS);
	u64 latch = s->now + (s->jitter ? sim_rand(s) % (2 * hw + 1) : hw);
	struct ionclock_sample smp = {
		.counter = s->now + hw,
		.half_width = hw,
		.phc_ns = sim_truth(s, latch),
	};
	u64 at = s->now + 2 * hw + ticks_from_ns(s, 1000);
	u32 i;

	ionclock_engine_add_sample(&s->e, &smp);
	sim_publish(s, at);
	for (i = 1; i < READS_PER_POLL; i++)
		sim_read(s, at + i * (poll / READS_PER_POLL));
	s->now += poll;
}

static void sim_run(struct ic_sim *s, u64 ticks)
{
	while (ticks--)
		sim_tick(s);
}

/* Poll periods in @ns. */
static u64 polls(u64 ns)
{
	return div64_u64(ns + POLL_NS - 1, POLL_NS);
}

/* Poll periods to slew @offset_ns away at @slew_ppb. */
static u64 slew_polls(u64 offset_ns, u32 slew_ppb)
{
	return polls(mul_u64_u64_div_u64(offset_ns, NSEC_PER_SEC, slew_ppb));
}

/*
 * Continuity at every publication: a locked engine meets a PHC offset
 * (under or over the step threshold, either sign; forward steps are
 * slewed here too) and closes it.  Every new mapping starts exactly where
 * the previous one stands, and its rate stays within max_slew_ppb of the
 * estimated PHC rate.
 */
struct continuity_case {
	const char *name;
	u64 khz;
	s64 ppb;
	s64 offset_ns;
	u32 max_slew_ppb;
};

static const struct continuity_case continuity_cases[] = {
	{ "3 GHz TSC, on rate, +300 us offset, slew 500 ppm",
	  TSC_3GHZ, 0, 300000, 500000 },
	{ "3 GHz TSC, +37 ppm, -800 us offset, slew 500 ppm",
	  TSC_3GHZ, 37000, -800000, 500000 },
	{ "2.4 GHz TSC, -120 ppm, +5 ms offset, slew 100 ppm",
	  TSC_2_4GHZ, -120000, 5000000, 100000 },
	{ "2.4 GHz TSC, +480 ppm, -20 ms offset, slew 500 ppm",
	  TSC_2_4GHZ, 480000, -20000000, 500000 },
	{ "monotonic_raw, -5 ppm, +1 s offset, slew 500 ppm",
	  CTR_NS, -5000, 1000000000, 500000 },
	{ "monotonic_raw, +250 ppm, +900 us offset, slew 50 ppm",
	  CTR_NS, 250000, 900000, 50000 },
	{ "25 MHz counter, -300 ppm, -500 us offset, slew 500 ppm",
	  CTR_25MHZ, -300000, -500000, 500000 },
	{ "1 GHz counter, +900 ppm, -2 ms offset, slew 1000 ppm",
	  1000000, 900000, -2000000, 1000000 },
};

IONCLOCK_CASES(continuity, continuity_cases);

static void ionclock_continuity_test(struct kunit *test)
{
	const struct continuity_case *c = test->param_value;
	struct ionclock_params params;
	struct ic_sim *s;
	u64 n;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	default_params(&params);
	params.max_slew_ppb = c->max_slew_ppb;
	params.step_forward = false;
	sim_init(s, test, c->khz, &params, c->ppb, 200, 0);

	sim_run(s, LOCK_POLLS);
	KUNIT_ASSERT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);
	KUNIT_EXPECT_LE(test, mag(sim_error(s, s->now)), 1000ULL);

	sim_set_phc(s, c->offset_ns, c->ppb);
	for (n = slew_polls(mag(c->offset_ns), c->max_slew_ppb) * 6 / 5 +
		 polls(SETTLE_NS); n; n--)
		sim_tick(s);
	sim_expect_clean(s);
	KUNIT_EXPECT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);
	KUNIT_EXPECT_LE(test, mag(sim_error(s, s->now)), 2000ULL);
	KUNIT_EXPECT_LE(test, mag(ionclock_engine_freq_ppb(&s->e) - c->ppb),
			10ULL);
}

/*
 * Never backward: many publications through PHC steps of +-1 s and rate
 * jumps of +-500 ppm, with the PHC latching anywhere in its bracket.  The
 * reference model checks every read is not before the one before it, and,
 * once the publisher had time to close what the last disturbance left,
 * that the published time is the PHC's within a few bracket widths.
 */
struct sweep_event {
	u32 after_s;	/* since the previous event */
	s64 step_ns;
	s64 dppb;
};

struct sweep_case {
	const char *name;
	u64 khz;
	s64 ppb;
	u32 seed;
	/* Events listed, or n_random drawn from the generator. */
	struct sweep_event ev[6];
	u32 n_ev;
	u32 n_random;
};

static const struct sweep_case sweep_cases[] = {
	{ "3 GHz TSC: +1 s step, then -1 s step", TSC_3GHZ, 12000, 1,
	  { { 20, 1000000000, 0 }, { 40, -1000000000, 0 } }, 2, 0 },
	{ "2.4 GHz TSC: -500 ppm, +500 ppm, +500 ppm rate jumps",
	  TSC_2_4GHZ, 200000, 2,
	  { { 20, 0, -500000 }, { 30, 0, 500000 }, { 30, 0, 500000 } }, 3,
	  0 },
	{ "monotonic_raw: -1 s step while 500 ppm fast, then +500 ppm",
	  CTR_NS, 500000, 3,
	  { { 20, -1000000000, 0 }, { 30, 0, -500000 },
	    { 25, 0, -500000 } }, 3, 0 },
	{ "3 GHz TSC: -1 s, +1 s, -1 s steps 30 s apart", TSC_3GHZ, -40000, 4,
	  { { 20, -1000000000, 0 }, { 30, 1000000000, 0 },
	    { 30, -1000000000, 0 } }, 3, 0 },
	{ "3 GHz TSC: 12 steps and rate jumps from seed 0x1c10c",
	  TSC_3GHZ, 0, 0x1c10c, { }, 0, 12 },
	{ "25 MHz counter: 12 steps and rate jumps from seed 0xbeef",
	  CTR_25MHZ, -100000, 0xbeef, { }, 0, 12 },
};

IONCLOCK_CASES(sweep, sweep_cases);

/* A drawn event: 15-44 s later, a +-1 s step or a +-500 ppm rate jump. */
static void sweep_draw(struct ic_sim *s, struct sweep_event *ev)
{
	u32 r = sim_rand(s);

	memset(ev, 0, sizeof(*ev));
	ev->after_s = 15 + r % 30;
	switch ((r >> 8) % 4) {
	case 0:
		ev->step_ns = 1000000000;
		break;
	case 1:
		ev->step_ns = -1000000000;
		break;
	case 2:
		ev->dppb = 500000;
		break;
	default:
		ev->dppb = -500000;
		break;
	}
	/* Stay plausible (max_freq 1000 ppm): turn the jump round. */
	if (mag(s->ppb + ev->dppb) > 700000)
		ev->dppb = -ev->dppb;
}

static void ionclock_sweep_test(struct kunit *test)
{
	const struct sweep_case *c = test->param_value;
	struct ionclock_params params;
	u32 i, n = c->n_random ? c->n_random : c->n_ev;
	struct ic_sim *s;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	default_params(&params);
	sim_init(s, test, c->khz, &params, c->ppb, 400, c->seed);
	s->check_accuracy = true;

	for (i = 0; i < n; i++) {
		struct sweep_event ev;

		if (c->n_random)
			sweep_draw(s, &ev);
		else
			ev = c->ev[i];
		sim_run(s, polls((u64)ev.after_s * NSEC_PER_SEC));
		sim_set_phc(s, ev.step_ns, s->ppb + ev.dppb);
		sim_disturbed(s);
	}
	/* Until steady, and 30 s of steady reads. */
	sim_run(s, polls(SETTLE_NS + 30 * NSEC_PER_SEC +
			 mul_u64_u64_div_u64(s->budget_ns, NSEC_PER_SEC,
					     450000)));

	kunit_info(test, "%llu s, %llu publications, %llu reads, %llu steps detected, worst steady error %llu ns\n",
		   sim_secs(s), s->publishes, s->reads, s->e.steps_detected,
		   s->worst_steady_ns);
	sim_expect_clean(s);
	KUNIT_EXPECT_GT(test, s->steady_reads, 0ULL);
	KUNIT_EXPECT_LE(test, s->worst_steady_ns, s->tolerance_ns);
	KUNIT_EXPECT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);
}

/*
 * A PHC whose rate is implausible is not followed: UNRELIABLE, announced
 * once (one generation change), and the published time keeps running on
 * the last trusted rate (nominal if none), continuous and never backward.
 */
struct plausibility_case {
	const char *name;
	s64 ppb;
	bool after_lock;
	/* Poll periods until UNRELIABLE; 0: the PHC is plausible. */
	u32 within;
};

static const struct plausibility_case plausibility_cases[] = {
	{ "e1000e PHC in QEMU at 2.5x, from the start",
	  1500000000, false, IONCLOCK_MIN_FIT },
	/* The first sample after the change is close; the second a step. */
	{ "PHC at 2.5x after tracking at nominal rate",
	  1500000000, true, 1 + IONCLOCK_MIN_FIT },
	{ "PHC stopped (0x), from the start",
	  -1000000000, false, IONCLOCK_MIN_FIT },
	{ "PHC at +1500 ppm, from the start",
	  1500000, false, IONCLOCK_MIN_FIT },
	/*
	 * No step here: the fit's rate moves toward it over a window, and
	 * the rate trusted before that window is what the time runs on.
	 */
	{ "PHC at -2000 ppm after tracking", -2000000, true,
	  2 * IONCLOCK_WINDOW },
	{ "PHC at +900 ppm is plausible", 900000, false, 0 },
};

IONCLOCK_CASES(plausibility, plausibility_cases);

static void ionclock_plausibility_test(struct kunit *test)
{
	const struct plausibility_case *c = test->param_value;
	u32 gen, i, n = 0, jumps = 0, left = 0, bad_rate = 0;
	struct ionclock_params params;
	u64 bound0;
	struct ionclock_page *page;
	s64 trusted_ppb = 0;
	struct ic_sim *s;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	default_params(&params);
	sim_init(s, test, TSC_3GHZ, &params, c->after_lock ? 0 : c->ppb, 200,
		 0);
	if (c->after_lock) {
		sim_run(s, LOCK_POLLS);
		KUNIT_ASSERT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);
		trusted_ppb = ionclock_engine_freq_ppb(&s->e);
		sim_set_phc(s, 0, c->ppb);
	}
	if (!c->within) {
		sim_run(s, LOCK_POLLS);
		KUNIT_EXPECT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);
		KUNIT_EXPECT_LE(test,
				mag(ionclock_engine_freq_ppb(&s->e) - c->ppb),
				10ULL);
		sim_expect_clean(s);
		return;
	}
	while (s->e.state != IONCLOCK_ENGINE_UNRELIABLE && n < c->within) {
		sim_tick(s);
		n++;
	}
	KUNIT_ASSERT_EQ_MSG(test, s->e.state, IONCLOCK_ENGINE_UNRELIABLE,
			    "after %u poll periods", n);
	kunit_info(test, "UNRELIABLE after %u samples, trusted rate %lld ppb\n",
		   n, ionclock_engine_freq_ppb(&s->e));

	/*
	 * From here: UNRELIABLE, announced once, and the time runs on at the
	 * last trusted rate, which was plausible, continuous and forward.
	 */
	gen = s->e.generation;
	bound0 = s->b.total_ns;
	for (i = 0; i < 100; i++) {
		sim_tick(s);
		if (s->last_jump)
			jumps++;
		if (s->e.state != IONCLOCK_ENGINE_UNRELIABLE)
			left++;
		if (mag(sim_map_ppb(s) - ionclock_engine_freq_ppb(&s->e)) > 2)
			bad_rate++;
	}
	KUNIT_EXPECT_EQ(test, left, 0U);
	KUNIT_EXPECT_EQ(test, s->e.generation, gen);
	KUNIT_EXPECT_EQ(test, jumps, 0U);
	KUNIT_EXPECT_EQ(test, bad_rate, 0U);
	sim_expect_clean(s);
	KUNIT_EXPECT_LE(test, mag(ionclock_engine_freq_ppb(&s->e)),
			(u64)params.max_freq_ppb);
	/*
	 * The bad PHC's samples bring no news: the bound grows by the
	 * counter's drift over the 100 polls as in holdover (15 ppm x 10 s).
	 */
	KUNIT_EXPECT_GE(test, s->b.total_ns,
			bound0 + 100 * POLL_NS / NSEC_PER_SEC *
			params.drift_ppb * 9 / 10);
	if (c->after_lock)
		KUNIT_EXPECT_LE(test,
				mag(ionclock_engine_freq_ppb(&s->e) -
				    trusted_ppb), 1000ULL);
	ionclock_page_fill(page, &s->e, &s->b, false);
	KUNIT_EXPECT_EQ(test, page->state, (u32)IONCLOCK_STATE_UNRELIABLE);
	KUNIT_EXPECT_EQ(test, page->generation, s->e.generation);
}

/*
 * A forward PHC step (step_forward set) is applied at once, but only once
 * IONCLOCK_MIN_FIT samples after it have confirmed the new time: until
 * then the published time runs on at the trusted rate.
 */
struct forward_case {
	const char *name;
	u64 khz;
	s64 ppb;
	s64 step_ns;
};

static const struct forward_case forward_cases[] = {
	{ "+2 ms on a 3 GHz TSC", TSC_3GHZ, 0, 2000000 },
	{ "+1 s on a 3 GHz TSC (phc_ctl adj 1)", TSC_3GHZ, 15000, 1000000000 },
	{ "+1 s at -300 ppm on a 2.4 GHz TSC", TSC_2_4GHZ, -300000, 1000000000 },
	{ "+1 h on monotonic_raw", CTR_NS, 7000, 3600 * NSEC_PER_SEC },
};

IONCLOCK_CASES(forward, forward_cases);

static void ionclock_forward_step_test(struct kunit *test)
{
	const struct forward_case *c = test->param_value;
	struct ionclock_params params;
	u64 steps, gen;
	struct ic_sim *s;
	u32 k;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	default_params(&params);
	sim_init(s, test, c->khz, &params, c->ppb, 200, 0);
	sim_run(s, LOCK_POLLS);
	KUNIT_ASSERT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);
	steps = s->e.steps_detected;
	gen = s->e.generation;

	sim_set_phc(s, c->step_ns, c->ppb);
	for (k = 1; k < IONCLOCK_MIN_FIT; k++) {
		sim_tick(s);
		KUNIT_EXPECT_EQ_MSG(test, s->last_jump, 0LL,
				    "sample %u after the step", k);
		KUNIT_EXPECT_EQ(test, s->e.steps_detected, steps + 1);
		KUNIT_EXPECT_EQ(test, (u64)s->e.generation, gen + 1);
		KUNIT_EXPECT_EQ(test, s->e.slew_frac40, 0LL);
	}
	sim_tick(s);
	KUNIT_EXPECT_LE_MSG(test, mag(s->last_jump - c->step_ns), 1000ULL,
			    "jumped %lld ns at sample %u", s->last_jump,
			    IONCLOCK_MIN_FIT);
	KUNIT_EXPECT_LE(test, mag(sim_error(s, s->now)), 1000ULL);

	sim_run(s, 50);
	KUNIT_EXPECT_EQ(test, s->e.steps_detected, steps + 1);
	sim_expect_clean(s);
	KUNIT_EXPECT_LE(test, mag(sim_error(s, s->now)), 1000ULL);
}

/*
 * A backward PHC step is never stepped: once confirmed, the published
 * time runs max_slew_ppb slower than the PHC until the offset is closed.
 */
struct backward_case {
	const char *name;
	u64 khz;
	s64 ppb;
	s64 step_ns;
	u32 max_slew_ppb;
};

static const struct backward_case backward_cases[] = {
	{ "-2 ms on a 3 GHz TSC, slew 500 ppm",
	  TSC_3GHZ, 0, -2000000, 500000 },
	{ "-1 s on a 3 GHz TSC (phc_ctl adj -1), slew 500 ppm",
	  TSC_3GHZ, 21000, -1000000000, 500000 },
	{ "-5 ms at +200 ppm on a 2.4 GHz TSC, slew 100 ppm",
	  TSC_2_4GHZ, 200000, -5000000, 100000 },
	{ "-50 ms on monotonic_raw, slew 1000 ppm",
	  CTR_NS, -60000, -50000000, 1000000 },
};

IONCLOCK_CASES(backward, backward_cases);

static void ionclock_backward_step_test(struct kunit *test)
{
	const struct backward_case *c = test->param_value;
	u64 n, half, full, bad_rate = 0, slewing = 0;
	struct ionclock_params params;
	struct ionclock_page *page;
	struct ic_sim *s;
	s64 err;
	u32 k;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	default_params(&params);
	params.max_slew_ppb = c->max_slew_ppb;
	sim_init(s, test, c->khz, &params, c->ppb, 200, 0);
	sim_run(s, LOCK_POLLS);
	KUNIT_ASSERT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);

	sim_set_phc(s, c->step_ns, c->ppb);
	for (k = 1; k < IONCLOCK_MIN_FIT; k++) {
		sim_tick(s);
		KUNIT_EXPECT_EQ(test, s->e.slew_frac40, 0LL);
	}
	full = slew_polls(mag(c->step_ns), c->max_slew_ppb);
	half = full / 2;
	for (n = 0; n < half; n++) {
		sim_tick(s);
		/* Clamped while the offset would need more than max slew. */
		if (mag(s->e.offset_ns) >
		    (u64)c->max_slew_ppb * s->e.params.slew_time_ms / 1000) {
			s64 want = ionclock_engine_freq_ppb(&s->e) -
				   c->max_slew_ppb;

			slewing++;
			if (mag(sim_map_ppb(s) - want) > 2 && !bad_rate++)
				KUNIT_FAIL(test,
					   "mapping at %lld ppb, want %lld, t=%llu s",
					   sim_map_ppb(s), want, sim_secs(s));
		}
	}
	KUNIT_EXPECT_EQ(test, slewing, half);
	KUNIT_EXPECT_EQ(test, bad_rate, 0ULL);
	ionclock_page_fill(page, &s->e, &s->b, false);
	KUNIT_EXPECT_TRUE(test, page->flags & IONCLOCK_FLAG_SLEWING);
	KUNIT_EXPECT_LT(test, page->phc_offset_ns, 0LL);
	KUNIT_EXPECT_GE(test, page->error_slew_ns, mag(page->phc_offset_ns));
	/* Half the step slewed away in half the time, 1% either way. */
	err = sim_error(s, s->now);
	KUNIT_EXPECT_LE_MSG(test, mag(err - (-c->step_ns) / 2),
			    mag(c->step_ns) / 100,
			    "%lld ns ahead after %llu s", err, sim_secs(s));

	sim_run(s, full - half + polls(SETTLE_NS));
	sim_expect_clean(s);
	KUNIT_EXPECT_LE(test, mag(sim_error(s, s->now)), 1000ULL);
	KUNIT_EXPECT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);
}

/* Leap tables: leap-seconds.list's, as of its 2026-06-28 expiry. */
static const struct ionclock_leap real_leaps[] = {
	{ 63072000ULL, 10 },	/* 1972-01-01 */
	{ 78796800ULL, 11 },	/* 1972-07-01 */
	{ 94694400ULL, 12 },	/* 1973-01-01 */
	{ 126230400ULL, 13 },	/* 1974-01-01 */
	{ 157766400ULL, 14 },	/* 1975-01-01 */
	{ 189302400ULL, 15 },	/* 1976-01-01 */
	{ 220924800ULL, 16 },	/* 1977-01-01 */
	{ 252460800ULL, 17 },	/* 1978-01-01 */
	{ 283996800ULL, 18 },	/* 1979-01-01 */
	{ 315532800ULL, 19 },	/* 1980-01-01 */
	{ 362793600ULL, 20 },	/* 1981-07-01 */
	{ 394329600ULL, 21 },	/* 1982-07-01 */
	{ 425865600ULL, 22 },	/* 1983-07-01 */
	{ 489024000ULL, 23 },	/* 1985-07-01 */
	{ 567993600ULL, 24 },	/* 1988-01-01 */
	{ 631152000ULL, 25 },	/* 1990-01-01 */
	{ 662688000ULL, 26 },	/* 1991-01-01 */
	{ 709948800ULL, 27 },	/* 1992-07-01 */
	{ 741484800ULL, 28 },	/* 1993-07-01 */
	{ 773020800ULL, 29 },	/* 1994-07-01 */
	{ 820454400ULL, 30 },	/* 1996-01-01 */
	{ 867715200ULL, 31 },	/* 1997-07-01 */
	{ 915148800ULL, 32 },	/* 1999-01-01 */
	{ 1136073600ULL, 33 },	/* 2006-01-01 */
	{ 1230768000ULL, 34 },	/* 2009-01-01 */
	{ 1341100800ULL, 35 },	/* 2012-07-01 */
	{ 1435708800ULL, 36 },	/* 2015-07-01 */
	{ 1483228800ULL, 37 },	/* 2017-01-01 */
};

#define REAL_EXPIRY_UTC		1782604800ULL	/* 2026-06-28 */
#define NOW_UTC			1735689600ULL	/* 2025-01-01 */
/* Two leaps that have not been announced: a +1 and then a -1. */
#define PLUS_UTC		1893456000ULL	/* 2030-01-01 */
#define MINUS_UTC		1940630400ULL	/* 2031-07-01 */
#define FUTURE_EXPIRY_UTC	1988150400ULL	/* 2033-01-01 */
/* The leaps' midnights on the TAI scale. */
#define L2016_TAI		(1483228800ULL + 37)
#define PLUS_TAI		(PLUS_UTC + 38)
#define MINUS_TAI		(MINUS_UTC + 37)
#define SMEAR_S			86400
#define HALF_SMEAR_S		(SMEAR_S / 2)

enum leap_table_kind { LEAPS_REAL, LEAPS_FUTURE };

static void leaps_fill(struct ionclock_leap_table *t, enum leap_table_kind k)
{
	memset(t, 0, sizeof(*t));
	memcpy(t->leaps, real_leaps, sizeof(real_leaps));
	t->count = ARRAY_SIZE(real_leaps);
	t->expiry_utc_s = REAL_EXPIRY_UTC;
	if (k == LEAPS_FUTURE) {
		t->leaps[t->count].utc_s = PLUS_UTC;
		t->leaps[t->count++].tai_utc_offset_s = 38;
		t->leaps[t->count].utc_s = MINUS_UTC;
		t->leaps[t->count++].tai_utc_offset_s = 37;
		t->expiry_utc_s = FUTURE_EXPIRY_UTC;
	}
}

enum leap_change {
	LEAP_AS_IS,
	LEAP_FUTURE,
	LEAP_FULL,
	LEAP_ONE,
	LEAP_UNSORTED,
	LEAP_SAME_DAY,
	LEAP_TWO_S,
	LEAP_ZERO_S,
	LEAP_NOT_MIDNIGHT,
	LEAP_BEFORE_1972,
	LEAP_AFTER_2200,
	LEAP_NEGATIVE,
	LEAP_EXPIRY_BEFORE_LAST,
	LEAP_COUNT_0,
	LEAP_COUNT_65,
	LEAP_FLAGS,
	LEAP_RESERVED,
	LEAP_ENTRY_RESERVED,
};

struct validate_case {
	const char *name;
	enum leap_change change;
	int expect;
};

static const struct validate_case validate_cases[] = {
	{ "good: leap-seconds.list, 28 entries, expired 2026-06-28 (flagged by utc_source.c)",
	  LEAP_AS_IS, 0 },
	{ "good: a +1 and a -1 leap ahead", LEAP_FUTURE, 0 },
	{ "good: 64 entries, the most", LEAP_FULL, 0 },
	{ "good: only the 1972 base", LEAP_ONE, 0 },
	{ "unsorted: 2012 and 2015 swapped", LEAP_UNSORTED, -EINVAL },
	{ "two entries on one day", LEAP_SAME_DAY, -EINVAL },
	{ "2 s step in 2017", LEAP_TWO_S, -EINVAL },
	{ "0 s step in 2017", LEAP_ZERO_S, -EINVAL },
	{ "not midnight: 2017-01-01 00:00:01", LEAP_NOT_MIDNIGHT,
	  -ERANGE },
	{ "before 1972", LEAP_BEFORE_1972, -ERANGE },
	{ "after 2200", LEAP_AFTER_2200, -ERANGE },
	{ "negative TAI - UTC", LEAP_NEGATIVE, -ERANGE },
	{ "expiry before the last leap", LEAP_EXPIRY_BEFORE_LAST,
	  -ERANGE },
	{ "count 0", LEAP_COUNT_0, -EINVAL },
	{ "count 65", LEAP_COUNT_65, -EINVAL },
	{ "flags set", LEAP_FLAGS, -EINVAL },
	{ "table reserved word set", LEAP_RESERVED, -EINVAL },
	{ "entry reserved word set", LEAP_ENTRY_RESERVED, -EINVAL },
};

IONCLOCK_CASES(validate, validate_cases);

static void leaps_change(struct ionclock_leap_table *t, enum leap_change c)
{
	struct ionclock_leap *last = &t->leaps[t->count - 1];
	struct ionclock_leap tmp;
	u32 i;

	switch (c) {
	case LEAP_AS_IS:
		break;
	case LEAP_FUTURE:
		leaps_fill(t, LEAPS_FUTURE);
		break;
	case LEAP_FULL:
		/* 36 more, 180 days apart, alternately +1 and -1. */
		for (i = t->count; i < IONCLOCK_MAX_LEAPS; i++) {
			t->leaps[i].utc_s = t->leaps[i - 1].utc_s + 180 * 86400;
			t->leaps[i].tai_utc_offset_s =
				t->leaps[i - 1].tai_utc_offset_s +
				(i % 2 ? 1 : -1);
		}
		t->count = IONCLOCK_MAX_LEAPS;
		t->expiry_utc_s = t->leaps[i - 1].utc_s + 30 * 86400;
		break;
	case LEAP_ONE:
		t->count = 1;
		break;
	case LEAP_UNSORTED:
		tmp = t->leaps[25];
		t->leaps[25] = t->leaps[26];
		t->leaps[26] = tmp;
		break;
	case LEAP_SAME_DAY:
		last->utc_s = t->leaps[t->count - 2].utc_s;
		break;
	case LEAP_TWO_S:
		last->tai_utc_offset_s = 38;
		break;
	case LEAP_ZERO_S:
		last->tai_utc_offset_s = 36;
		break;
	case LEAP_NOT_MIDNIGHT:
		last->utc_s += 1;
		break;
	case LEAP_BEFORE_1972:
		t->leaps[0].utc_s = IONCLOCK_LEAP_FIRST_UTC_S - 86400;
		break;
	case LEAP_AFTER_2200:
		last->utc_s = IONCLOCK_LEAP_LAST_UTC_S + 86400;
		t->expiry_utc_s = IONCLOCK_LEAP_LAST_UTC_S;
		break;
	case LEAP_NEGATIVE:
		t->count = 1;
		t->leaps[0].tai_utc_offset_s = -1;
		break;
	case LEAP_EXPIRY_BEFORE_LAST:
		t->expiry_utc_s = last->utc_s;
		break;
	case LEAP_COUNT_0:
		t->count = 0;
		break;
	case LEAP_COUNT_65:
		t->count = IONCLOCK_MAX_LEAPS + 1;
		break;
	case LEAP_FLAGS:
		t->flags = 1;
		break;
	case LEAP_RESERVED:
		t->reserved[3] = 1;
		break;
	case LEAP_ENTRY_RESERVED:
		t->leaps[5].reserved = 1;
		break;
	}
}

static void ionclock_leap_validate_test(struct kunit *test)
{
	const struct validate_case *c = test->param_value;
	struct ionclock_leap_table *t;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	leaps_fill(t, LEAPS_REAL);
	leaps_change(t, c->change);
	KUNIT_EXPECT_EQ(test, ionclock_leaps_validate(t),
			c->expect);
}

/*
 * What the page says about leaps at a TAI second: the offset before the
 * next leap, the leap's sign and its TAI midnight.  A leap stays "next"
 * until its smear (centred on it) is over, or, unsmeared, until its
 * midnight.
 */
struct leaps_at_case {
	const char *name;
	enum leap_table_kind table;
	u64 tai_s;
	u32 window_s;
	s32 offset_s;
	s32 delta_s;
	u64 leap_tai_s;
	bool valid;
};

static const struct leaps_at_case leaps_at_cases[] = {
	{ "1970, before the table: 1972-06-30's leap is next", LEAPS_REAL,
	  0, SMEAR_S, 10, 1, 78796800ULL + 11, true },
	{ "2015-01-01: 2015-06-30's leap is next", LEAPS_REAL,
	  1420070400ULL + 35, SMEAR_S, 35, 1, 1435708800ULL + 36, true },
	{ "2016-12-31 11:59:59 UTC, before the 24 h smear", LEAPS_REAL,
	  L2016_TAI - HALF_SMEAR_S - 1, SMEAR_S, 36, 1, L2016_TAI, true },
	{ "2016-12-31 12:00:00 UTC, the 24 h smear starts", LEAPS_REAL,
	  L2016_TAI - HALF_SMEAR_S, SMEAR_S, 36, 1, L2016_TAI, true },
	{ "2016-12-31 23:59:60 UTC, unsmeared", LEAPS_REAL,
	  L2016_TAI - 1, 0, 36, 1, L2016_TAI, true },
	{ "2017-01-01 00:00:00 UTC, unsmeared: leap done", LEAPS_REAL,
	  L2016_TAI, 0, 37, 0, 0, true },
	{ "2017-01-01 00:00:00 UTC, mid-smear", LEAPS_REAL,
	  L2016_TAI, SMEAR_S, 36, 1, L2016_TAI, true },
	{ "2017-01-01 11:59:59 UTC, the smear's last second", LEAPS_REAL,
	  L2016_TAI + HALF_SMEAR_S - 1, SMEAR_S, 36, 1, L2016_TAI, true },
	{ "2017-01-01 12:00:00 UTC, the smear is over", LEAPS_REAL,
	  L2016_TAI + HALF_SMEAR_S, SMEAR_S, 37, 0, 0, true },
	{ "2016-12-31 leap, chrony's 62500 s smear, last second", LEAPS_REAL,
	  L2016_TAI + 31249, 62500, 36, 1, L2016_TAI, true },
	{ "2016-12-31 leap, chrony's 62500 s smear, over", LEAPS_REAL,
	  L2016_TAI + 31250, 62500, 37, 0, 0, true },
	{ "the last second before the table expires", LEAPS_REAL,
	  REAL_EXPIRY_UTC + 37 - 1, SMEAR_S, 37, 0, 0, true },
	{ "the table has expired", LEAPS_REAL,
	  REAL_EXPIRY_UTC + 37, SMEAR_S, 37, 0, 0, false },
	{ "+1 leap: 23:59:60, unsmeared", LEAPS_FUTURE,
	  PLUS_TAI - 1, 0, 37, 1, PLUS_TAI, true },
	{ "+1 leap: midnight, unsmeared: the -1 leap is next", LEAPS_FUTURE,
	  PLUS_TAI, 0, 38, -1, MINUS_TAI, true },
	{ "+1 leap: the smear's last second", LEAPS_FUTURE,
	  PLUS_TAI + HALF_SMEAR_S - 1, SMEAR_S, 37, 1, PLUS_TAI, true },
	{ "+1 leap: smear over, the -1 leap is next", LEAPS_FUTURE,
	  PLUS_TAI + HALF_SMEAR_S, SMEAR_S, 38, -1, MINUS_TAI, true },
	{ "-1 leap: 23:59:58, the last second, unsmeared", LEAPS_FUTURE,
	  MINUS_TAI - 1, 0, 38, -1, MINUS_TAI, true },
	{ "-1 leap: midnight, unsmeared: leap done", LEAPS_FUTURE,
	  MINUS_TAI, 0, 37, 0, 0, true },
	{ "-1 leap: the smear starts", LEAPS_FUTURE,
	  MINUS_TAI - HALF_SMEAR_S, SMEAR_S, 38, -1, MINUS_TAI, true },
	{ "-1 leap: the smear's last second", LEAPS_FUTURE,
	  MINUS_TAI + HALF_SMEAR_S - 1, SMEAR_S, 38, -1, MINUS_TAI, true },
	{ "-1 leap: smear over", LEAPS_FUTURE,
	  MINUS_TAI + HALF_SMEAR_S, SMEAR_S, 37, 0, 0, true },
};

IONCLOCK_CASES(leaps_at, leaps_at_cases);

/* What the page says with a table as the UTC source (utc_source.c). */
static void fill_from_table(struct ionclock_page *page,
			    const struct ionclock_leap_state *st, u32 window_s)
{
	struct ionclock_utc_choice c = {
		.source = st->valid ? IONCLOCK_UTC_SOURCE_LEAP_FILE :
				      IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE,
		.st = *st,
		.window_s = window_s,
	};

	c.sources = 1u << c.source;
	ionclock_page_fill_utc(page, &c);
}

static void ionclock_leaps_at_test(struct kunit *test)
{
	const struct leaps_at_case *c = test->param_value;
	struct ionclock_leap_state st;
	struct ionclock_leap_table *t;
	struct ionclock_page *page;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	leaps_fill(t, c->table);
	KUNIT_ASSERT_EQ(test, ionclock_leaps_validate(t), 0);

	memset(&st, 0xa5, sizeof(st));
	ionclock_leaps_at(t, c->tai_s, c->window_s, &st);
	KUNIT_EXPECT_EQ(test, st.tai_utc_offset_s, c->offset_s);
	KUNIT_EXPECT_EQ(test, st.delta_s, c->delta_s);
	KUNIT_EXPECT_EQ(test, st.leap_tai_s, c->leap_tai_s);
	KUNIT_EXPECT_EQ(test, st.expiry_tai_s, t->expiry_utc_s +
			(u64)t->leaps[t->count - 1].tai_utc_offset_s);
	KUNIT_EXPECT_EQ(test, st.valid, c->valid);

	/* And the page says the same. */
	fill_from_table(page, &st, c->window_s);
	KUNIT_EXPECT_EQ(test, page->tai_utc_offset_s, c->offset_s);
	KUNIT_EXPECT_EQ(test, page->next_leap_delta_s, c->delta_s);
	KUNIT_EXPECT_EQ(test, page->next_leap_tai_s, c->leap_tai_s);
	KUNIT_EXPECT_EQ(test, page->smear_window_s, c->window_s);
	KUNIT_EXPECT_EQ(test, page->flags,
			IONCLOCK_FLAG_TAI_OFFSET_VALID |
			(c->valid ? IONCLOCK_FLAG_LEAP_VALID :
				    IONCLOCK_FLAG_LEAPS_EXPIRED));
}

/*
 * The page's flags and state from the engine (page_fill.c), then the leap
 * fields (leap.c) as page.c applies them after it.
 */
enum leap_fill { FILL_NO_LEAPS, FILL_LEAPS_VALID, FILL_LEAPS_EXPIRED };

struct page_case {
	const char *name;
	enum ionclock_engine_state state;
	bool published;
	bool phc_gone;
	s64 offset_ns;
	u32 old_flags;
	enum leap_fill leaps;
	u32 flags;
	u32 page_state;
};

#define F_VALID		IONCLOCK_FLAG_VALID
#define F_GONE		IONCLOCK_FLAG_PHC_GONE
#define F_SLEW		IONCLOCK_FLAG_SLEWING
#define F_BOUND		IONCLOCK_FLAG_BOUND_VALID
#define F_TAI		IONCLOCK_FLAG_TAI_OFFSET_VALID
#define F_LEAP		IONCLOCK_FLAG_LEAP_VALID

static const struct page_case page_cases[] = {
	{ "starting, nothing published", IONCLOCK_ENGINE_STARTING,
	  false, false, 0, 0, FILL_NO_LEAPS, 0, IONCLOCK_STATE_STARTING },
	{ "starting, first mapping published", IONCLOCK_ENGINE_STARTING,
	  true, false, 0, 0, FILL_NO_LEAPS, F_VALID | F_BOUND,
	  IONCLOCK_STATE_STARTING },
	{ "tracking, on time", IONCLOCK_ENGINE_TRACKING, true, false, 0, 0,
	  FILL_NO_LEAPS, F_VALID | F_BOUND, IONCLOCK_STATE_TRACKING },
	{ "tracking, slewing 123 ns back", IONCLOCK_ENGINE_TRACKING, true,
	  false, -123, 0, FILL_NO_LEAPS, F_VALID | F_BOUND | F_SLEW,
	  IONCLOCK_STATE_TRACKING },
	{ "tracking, slewing forward, stale flags cleared",
	  IONCLOCK_ENGINE_TRACKING, true, false, 5000, F_GONE | F_LEAP,
	  FILL_NO_LEAPS, F_VALID | F_BOUND | F_SLEW, IONCLOCK_STATE_TRACKING },
	{ "holdover, PHC gone", IONCLOCK_ENGINE_HOLDOVER, true, true, 0, 0,
	  FILL_NO_LEAPS, F_VALID | F_BOUND | F_GONE, IONCLOCK_STATE_HOLDOVER },
	{ "unreliable PHC", IONCLOCK_ENGINE_UNRELIABLE, true, false, 0, 0,
	  FILL_NO_LEAPS, F_VALID | F_BOUND, IONCLOCK_STATE_UNRELIABLE },
	{ "TAI offset flag kept from attach", IONCLOCK_ENGINE_TRACKING,
	  true, false, 0, F_TAI | F_SLEW, FILL_NO_LEAPS,
	  F_VALID | F_BOUND | F_TAI, IONCLOCK_STATE_TRACKING },
	{ "tracking with a valid leap table", IONCLOCK_ENGINE_TRACKING,
	  true, false, 0, F_TAI | F_LEAP, FILL_LEAPS_VALID,
	  F_VALID | F_BOUND | F_TAI | F_LEAP, IONCLOCK_STATE_TRACKING },
	{ "holdover with an expired leap table", IONCLOCK_ENGINE_HOLDOVER,
	  true, true, 0, F_TAI | F_LEAP, FILL_LEAPS_EXPIRED,
	  F_VALID | F_BOUND | F_GONE | F_TAI | IONCLOCK_FLAG_LEAPS_EXPIRED,
	  IONCLOCK_STATE_HOLDOVER },
};

IONCLOCK_CASES(page, page_cases);

static void ionclock_page_fill_test(struct kunit *test)
{
	const struct page_case *c = test->param_value;
	struct ionclock_bound b = {
		.bracket_ns = 11, .residual_ns = 22, .slew_ns = 33,
		.upstream_ns = 44, .total_ns = 110, .growth_frac32 = 64424,
	};
	struct ionclock_params params;
	struct ionclock_engine *e;
	struct ionclock_page *page;

	e = kunit_kzalloc(test, sizeof(*e), GFP_KERNEL);
	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, e);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	default_params(&params);
	ionclock_engine_init(e, nominal_mult(TSC_3GHZ), 32, &params);
	e->state = c->state;
	e->published = c->published;
	e->offset_ns = c->offset_ns;
	/* A case with an offset is one the publisher is slewing away. */
	e->slew_frac40 = c->offset_ns < 0 ? -1 : c->offset_ns > 0;
	e->generation = 7;
	e->map.counter_base = 123456789;
	e->map.time_base_ns = PHC_START_NS;
	e->map.mult = nominal_mult(TSC_3GHZ) + 1;
	e->map.shift = 32;
	page->flags = c->old_flags;

	ionclock_page_fill(page, e, &b, c->phc_gone);
	if (c->leaps != FILL_NO_LEAPS) {
		struct ionclock_leap_state st = {
			.tai_utc_offset_s = 37,
			.expiry_tai_s = REAL_EXPIRY_UTC + 37,
			.valid = c->leaps == FILL_LEAPS_VALID,
		};

		fill_from_table(page, &st, SMEAR_S);
	}
	KUNIT_EXPECT_EQ(test, page->flags, c->flags);
	KUNIT_EXPECT_EQ(test, page->state, c->page_state);
	KUNIT_EXPECT_EQ(test, page->generation, 7U);
	KUNIT_EXPECT_EQ(test, page->counter_base, e->map.counter_base);
	KUNIT_EXPECT_EQ(test, page->time_base_ns, e->map.time_base_ns);
	KUNIT_EXPECT_EQ(test, page->time_mult, e->map.mult);
	KUNIT_EXPECT_EQ(test, page->time_shift, 32U);
	KUNIT_EXPECT_EQ(test, page->error_bound_ns, 110ULL);
	KUNIT_EXPECT_EQ(test, page->error_slew_ns, 33ULL);
	KUNIT_EXPECT_EQ(test, page->phc_offset_ns, c->offset_ns);
}

/*
 * The bound holds at every read from the first published sample: while
 * the rate is unmeasured (it may be anything up to max_freq_ppb), after a
 * PHC lost before any rate was trusted, and through a PHC frequency jump
 * that drift_ppb allows for.
 */
struct bound_case {
	const char *name;
	u64 khz;
	s64 ppb;
	u32 lost_after;		/* samples before the PHC is lost; 0: never */
	u32 blind_polls;	/* poll periods with no sample then */
	s64 jump_ppb;		/* once locked, the PHC's rate jumps by this */
	u32 drift_ppb;
};

static const struct bound_case bound_cases[] = {
	{ "from the first sample, PHC +30 ppm, TSC 3 GHz", TSC_3GHZ, 30000,
	  0, 0, 0, 15000 },
	{ "from the first sample, PHC -100 ppm, monotonic_raw", CTR_NS,
	  -100000, 0, 0, 0, 15000 },
	{ "PHC +50 ppm lost after 2 samples, 10 min", TSC_2_4GHZ, 50000, 2,
	  6000, 0, 15000 },
	{ "PHC -70 ppm lost after 1 sample, 1 min", CTR_NS, -70000, 1, 600, 0,
	  15000 },
	{ "PHC +100 ppm frequency jump, drift_ppb 100000", TSC_3GHZ, 20000, 0,
	  0, 100000, 100000 },
	{ "PHC -100 ppm frequency jump, drift_ppb 100000, 25 MHz", CTR_25MHZ,
	  -40000, 0, 0, -100000, 100000 },
	/* Beyond drift_ppb: outside only unseen, or with the page saying so. */
	{ "PHC +100 ppm frequency jump beyond drift_ppb: flagged", TSC_3GHZ,
	  20000, 0, 0, 100000, 15000 },
	{ "PHC -100 ppm frequency jump beyond drift_ppb: flagged", CTR_NS,
	  20000, 0, 0, -100000, 15000 },
};

IONCLOCK_CASES(bound, bound_cases);

/* A poll period with no sample: publish and read, as holdover does. */
static void sim_blind_tick(struct ic_sim *s)
{
	u64 poll = ticks_from_ns(s, POLL_NS);
	u32 i;

	sim_publish(s, s->now);
	for (i = 1; i < READS_PER_POLL; i++)
		sim_read(s, s->now + i * (poll / READS_PER_POLL));
	s->now += poll;
}

static void ionclock_bound_test(struct kunit *test)
{
	const struct bound_case *c = test->param_value;
	struct ionclock_params params;
	struct ic_sim *s;
	u32 i;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, s);
	default_params(&params);
	params.drift_ppb = c->drift_ppb;
	sim_init(s, test, c->khz, &params, c->ppb, 300, 12345);
	if (c->jump_ppb) {
		sim_run(s, LOCK_POLLS);
		KUNIT_EXPECT_EQ(test, s->flagged_publishes, 0ULL);
		sim_set_phc(s, 0, c->ppb + c->jump_ppb);
		s->unseen = true;
		s->unseen_until = s->now + ticks_from_ns(s, POLL_NS);
		s->flagged_ok = mag(c->jump_ppb) > c->drift_ppb;
	}
	s->check_bound = true;
	if (c->lost_after) {
		sim_run(s, c->lost_after);
		ionclock_engine_lost(&s->e);
		for (i = 0; i < c->blind_polls; i++)
			sim_blind_tick(s);
	}
	sim_run(s, LOCK_POLLS);
	kunit_info(test, "%llu checks, %llu outside the bound (+%llu flagged, %llu unseen), %llu publishes flagged, widest %llu ns\n",
		   s->bound_checks, s->outside_bound, s->flagged_outside,
		   s->unseen_outside, s->flagged_publishes, s->widest_bound_ns);
	KUNIT_EXPECT_EQ(test, s->outside_bound, 0ULL);
	if (s->flagged_ok)
		KUNIT_EXPECT_GT(test, s->flagged_publishes, 0ULL);
	else
		KUNIT_EXPECT_EQ(test, s->flagged_publishes, 0ULL);
	KUNIT_EXPECT_GT(test, s->bound_checks, 500ULL);
	KUNIT_EXPECT_EQ(test, s->e.state, IONCLOCK_ENGINE_TRACKING);
	sim_expect_clean(s);
}

static struct kunit_case ionclock_engine_cases[] = {
	KUNIT_CASE_PARAM(ionclock_bound_test, bound_gen_params),
	KUNIT_CASE_PARAM(ionclock_continuity_test, continuity_gen_params),
	KUNIT_CASE_PARAM(ionclock_sweep_test, sweep_gen_params),
	KUNIT_CASE_PARAM(ionclock_plausibility_test, plausibility_gen_params),
	KUNIT_CASE_PARAM(ionclock_forward_step_test, forward_gen_params),
	KUNIT_CASE_PARAM(ionclock_backward_step_test, backward_gen_params),
	{}
};

static struct kunit_suite ionclock_engine_suite = {
	.name = "ionclock_engine",
	.test_cases = ionclock_engine_cases,
};

static struct kunit_case ionclock_leap_cases[] = {
	KUNIT_CASE_PARAM(ionclock_leap_validate_test, validate_gen_params),
	KUNIT_CASE_PARAM(ionclock_leaps_at_test, leaps_at_gen_params),
	{}
};

static struct kunit_suite ionclock_leap_suite = {
	.name = "ionclock_leap",
	.test_cases = ionclock_leap_cases,
};

static struct kunit_case ionclock_page_cases[] = {
	KUNIT_CASE_PARAM(ionclock_page_fill_test, page_gen_params),
	{}
};

static struct kunit_suite ionclock_page_suite = {
	.name = "ionclock_page",
	.test_cases = ionclock_page_cases,
};

/*
 * Where TAI - UTC comes from (utc_source.c), with the PTP domain's fields
 * going through upstream.c as a feed's would: the order of the sources,
 * a leap the domain announces, and disagreements reported.
 */
enum table_use { NO_TABLE, TABLE_REAL, TABLE_FUTURE };

#define PTP_UTC		(IONCLOCK_UPSTREAM_PTP_TIMESCALE |		\
			 IONCLOCK_UPSTREAM_UTC_OFFSET_VALID)
#define NOON_BEFORE_PLUS	(PLUS_TAI - HALF_SMEAR_S - 1)
#define NOON_DAY_BEFORE		(NOON_BEFORE_PLUS - 86400)
#define BIT_SRC(x)		(1u << IONCLOCK_UTC_SOURCE_##x)

struct utc_case {
	const char *name;
	enum table_use table;
	u32 ptp_flags;		/* 0: no feed */
	s32 ptp_offset_s;
	s32 kernel_offset_s;	/* 0: not set */
	u64 tai_s;
	u32 source;
	u32 disagree;
	u64 leap_tai_s;
};

static const struct utc_case utc_cases[] = {
	{ "tzdata's expired table alone: used, flagged", TABLE_REAL, 0, 0, 0,
	  NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE, 0, 0 },
	{ "the kernel's offset before an expired table", TABLE_REAL, 0, 0, 37,
	  NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_KERNEL, 0, 0 },
	{ "the kernel at 36, an expired table at 37: reported", TABLE_REAL, 0,
	  0, 36, NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_KERNEL,
	  BIT_SRC(EXPIRED_LEAP_FILE), 0 },
	{ "a current table before the kernel", TABLE_FUTURE, 0, 0, 37,
	  NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_LEAP_FILE, 0, PLUS_TAI },
	{ "the domain first; its leap61 is the table's", TABLE_FUTURE,
	  PTP_UTC | IONCLOCK_UPSTREAM_LEAP61, 37, 37, NOON_BEFORE_PLUS,
	  IONCLOCK_UTC_SOURCE_PTP, 0, PLUS_TAI },
	{ "the domain's leap61 a day early: the table disagrees", TABLE_FUTURE,
	  PTP_UTC | IONCLOCK_UPSTREAM_LEAP61, 37, 0, NOON_DAY_BEFORE,
	  IONCLOCK_UTC_SOURCE_PTP, BIT_SRC(LEAP_FILE), PLUS_TAI - 86400 },
	{ "the domain at 36, the table at 37: reported", TABLE_FUTURE,
	  PTP_UTC, 36, 0, NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_PTP,
	  BIT_SRC(LEAP_FILE), 0 },
	{ "an ARB timescale is no source of UTC", TABLE_FUTURE,
	  IONCLOCK_UPSTREAM_UTC_OFFSET_VALID | IONCLOCK_UPSTREAM_LEAP61, 37, 0,
	  NOON_BEFORE_PLUS, IONCLOCK_UTC_SOURCE_LEAP_FILE, 0, PLUS_TAI },
	{ "an invalid currentUtcOffset is no source", NO_TABLE,
	  IONCLOCK_UPSTREAM_PTP_TIMESCALE, 37, 37, NOON_BEFORE_PLUS,
	  IONCLOCK_UTC_SOURCE_KERNEL, 0, 0 },
	{ "the domain alone announces a leap59", NO_TABLE,
	  PTP_UTC | IONCLOCK_UPSTREAM_LEAP59, 37, 0, NOON_BEFORE_PLUS,
	  IONCLOCK_UTC_SOURCE_PTP, 0, PLUS_TAI - 2 },
};

IONCLOCK_CASES(utc, utc_cases);

static void ionclock_utc_source_test(struct kunit *test)
{
	const struct utc_case *c = test->param_value;
	struct ionclock_upstream_state *st;
	struct ionclock_leap_table *t;
	struct ionclock_utc_inputs in = {
		.tai_s = c->tai_s, .smear_window_s = SMEAR_S,
		.ptp_window_s = SMEAR_S,
	};
	struct ionclock_utc_choice ch;
	struct ionclock_page *page;

	t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);
	st = kunit_kzalloc(test, sizeof(*st), GFP_KERNEL);
	page = kunit_kzalloc(test, sizeof(*page), GFP_KERNEL);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, t);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, st);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, page);
	if (c->table != NO_TABLE) {
		leaps_fill(t, c->table == TABLE_REAL ? LEAPS_REAL : LEAPS_FUTURE);
		KUNIT_ASSERT_EQ(test, ionclock_leaps_validate(t), 0);
		in.table = t;
	}
	if (c->ptp_flags) {
		struct ionclock_upstream u = {
			.flags = c->ptp_flags, .port_state = IONCLOCK_PORT_SLAVE,
			.ttl_ns = 5 * NSEC_PER_SEC, .utc_offset_s = c->ptp_offset_s,
		};

		KUNIT_ASSERT_EQ(test, ionclock_upstream_validate(&u), 0);
		ionclock_upstream_apply(st, &u, (c->tai_s - 1) * NSEC_PER_SEC,
					SMEAR_S);
		in.ptp = ionclock_upstream_utc_usable(st, c->tai_s * NSEC_PER_SEC);
		if (in.ptp)
			ionclock_upstream_leap_at(st, c->tai_s, &in.ptp_state,
						  &in.ptp_window_s);
	}
	in.kernel = c->kernel_offset_s != 0;
	in.kernel_offset_s = c->kernel_offset_s;
	ionclock_utc_choose(&in, &ch);
	ionclock_page_fill_utc(page, &ch);

	KUNIT_EXPECT_EQ(test, page->utc_source, c->source);
	KUNIT_EXPECT_EQ(test, page->utc_disagree, c->disagree);
	KUNIT_EXPECT_EQ(test, page->next_leap_tai_s, c->leap_tai_s);
	KUNIT_EXPECT_EQ(test, !!(page->flags & IONCLOCK_FLAG_UTC_DISAGREE),
			!!c->disagree);
	KUNIT_EXPECT_EQ(test, !!(page->flags & IONCLOCK_FLAG_LEAPS_EXPIRED),
			c->source == IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE);
	KUNIT_EXPECT_TRUE(test, page->flags & IONCLOCK_FLAG_TAI_OFFSET_VALID);
	KUNIT_EXPECT_TRUE(test, page->utc_sources & (1u << c->source));
}

static struct kunit_case ionclock_utc_source_cases[] = {
	KUNIT_CASE_PARAM(ionclock_utc_source_test, utc_gen_params),
	{}
};

static struct kunit_suite ionclock_utc_source_suite = {
	.name = "ionclock_utc_source",
	.test_cases = ionclock_utc_source_cases,
};

kunit_test_suites(&ionclock_engine_suite, &ionclock_leap_suite,
		  &ionclock_page_suite, &ionclock_utc_source_suite);

MODULE_DESCRIPTION("KUnit tests for ionclock's time core");
MODULE_LICENSE("GPL");
