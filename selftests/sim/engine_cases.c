// SPDX-License-Identifier: GPL-2.0
/*
 * The engine cases of the host unit tests and of KUnit, in one place: each
 * test is a table of cases and a runner, driven by the PHC simulator
 * (phc_sim.c) and run by both frameworks (selftests/unit/engine_test.c,
 * selftests/kunit/ionclock_kunit.c).  Each case starts with a human name.
 *
 * The first ten tests were the unit tests' own, the last six KUnit's own;
 * both suites now run all sixteen.
 */
#include <linux/ionclock.h>

#include "engine.h"
#include "engine_cases.h"

/* KUnit's comparisons, with both values in the message. */
#define EXPECT_CMP(env, cond, a, b, fmt, ...)				\
	SIM_EXPECT(env, cond, "%lld, %lld" fmt, (long long)(a),		\
		   (long long)(b), ##__VA_ARGS__)
#define EXPECT_EQ(env, a, b)	EXPECT_CMP(env, (a) == (b), a, b, "")
#define EXPECT_LE(env, a, b)	EXPECT_CMP(env, (a) <= (b), a, b, "")
#define EXPECT_LT(env, a, b)	EXPECT_CMP(env, (a) < (b), a, b, "")
#define EXPECT_GE(env, a, b)	EXPECT_CMP(env, (a) >= (b), a, b, "")
#define EXPECT_GT(env, a, b)	EXPECT_CMP(env, (a) > (b), a, b, "")
#define EXPECT_TRUE(env, a)	SIM_EXPECT(env, a, "false")
#define EXPECT_EQ_MSG(env, a, b, fmt, ...)				\
	EXPECT_CMP(env, (a) == (b), a, b, ": " fmt, ##__VA_ARGS__)
#define EXPECT_LE_MSG(env, a, b, fmt, ...)				\
	EXPECT_CMP(env, (a) <= (b), a, b, ": " fmt, ##__VA_ARGS__)

/* The publisher's time constant and its slack when judging convergence. */
#define SETTLE_NS	(15 * SIM_NSEC_PER_SEC)
/*
 * Time to lock on: the offset left from the first samples closes by a
 * tenth per poll period (slew_time_ms 1000), so after 15 s it is gone.
 */
#define LOCK_NS		(15 * SIM_NSEC_PER_SEC)

/* Poll periods in @ns. */
static u64 polls(u64 ns)
{
	return (ns + SIM_POLL_NS - 1) / SIM_POLL_NS;
}

/* Poll periods to slew @offset_ns away at @slew_ppb. */
static u64 slew_polls(u64 offset_ns, u32 slew_ppb)
{
	return polls(sim_mul_div(offset_ns, SIM_NSEC_PER_SEC, slew_ppb));
}

/* ---- (a) a new mapping starts where the old one stands */

struct new_map_case {
	const char *name;
	const struct sim_counter *ctr;
	s64 freq_ppb;
	s64 step_ns;		/* applied after settling */
	bool step_forward;
	bool lose_phc;		/* holdover instead */
	s64 bad_rate_ppb;	/* the PHC turns implausible */
	s64 idle_ns;		/* no publish for this long before the check */
};

static const struct new_map_case new_map_cases[] = {
	{ "steady tracking, tsc", &sim_tsc_3ghz, 37000, 0, true, false, 0, 0 },
	{ "slewing back from a -100 ms step, tsc", &sim_tsc_3ghz, -120000,
	  -100 * SIM_NSEC_PER_MS, true, false, 0, 0 },
	{ "slewing forward 700 us (below the step threshold), monotonic_raw",
	  &sim_mono_raw, 5000, 700 * SIM_NSEC_PER_US, true, false, 0, 0 },
	{ "slewing forward 1 s with step_forward off, tsc 2.4GHz",
	  &sim_tsc_2_4ghz, 150000, SIM_NSEC_PER_SEC, false, false, 0, 0 },
	{ "holdover after the PHC is lost, tsc", &sim_tsc_3ghz, 199000, 0, true,
	  true, 0, 0 },
	{ "implausible PHC, monotonic_raw", &sim_mono_raw, 0, 0, true, false,
	  1500000000, 0 },
	/* step_forward off: the slew left running for an hour adds up. */
	{ "one hour since the last publish, tsc", &sim_tsc_3ghz, -200000, 0, false,
	  false, 0, 3600 * SIM_NSEC_PER_SEC },
};

static void run_new_map(const struct sim_env *env, const void *param)
{
	const struct new_map_case *tc = param;
	struct ionclock_params params = sim_module_defaults;
	struct ionclock_mapping old;
	struct ionclock_bound b;
	unsigned int i, checked = 0;
	struct sim *s;
	u64 at;

	params.step_forward = tc->step_forward;
	s = sim_new(env, tc->ctr, &params, tc->freq_ppb, env->seed);
	if (!s)
		return;
	sim_run(s, 20 * SIM_NSEC_PER_SEC);
	if (tc->step_ns || tc->bad_rate_ppb)
		sim_set_phc(s, tc->step_ns, tc->bad_rate_ppb ?: s->freq_ppb);
	if (tc->lose_phc)
		ionclock_engine_lost(&s->e);

	for (i = 0; i < 30; i++) {
		sim_poll(s, SIM_POLL_NS, !tc->lose_phc);
		old = s->e.map;
		at = s->now + sim_ticks_from_ns(s, tc->idle_ns ?: 50 * SIM_NSEC_PER_MS);
		s->now = at;
		ionclock_engine_publish(&s->e, at, &b);
		checked++;
		SIM_EXPECT(env, ionclock_mapping_eval(&s->e.map, at) ==
			    ionclock_mapping_eval(&old, at),
			    "%s: poll %u: new map %llu, old map %llu at %llu",
			    tc->name, i,
			    (unsigned long long)ionclock_mapping_eval(&s->e.map, at),
			    (unsigned long long)ionclock_mapping_eval(&old, at),
			    (unsigned long long)at);
		SIM_EXPECT(env, s->e.map.counter_base == at,
			    "%s: anchored at %llu, published at %llu", tc->name,
			    (unsigned long long)s->e.map.counter_base,
			    (unsigned long long)at);
		SIM_EXPECT(env, s->e.map.mult > 0, "%s: rate 0", tc->name);
	}
	SIM_EXPECT(env, checked == 30, "%s", tc->name);
	sim_free(s);
}

/* ---- (b) randomised: never backward, accurate in steady state */

struct property_case {
	const char *name;
	const struct sim_counter *ctr;
	unsigned int polls;
	u64 seed_salt;
};

static void run_property(const struct sim_env *env, const void *param)
{
	const struct property_case *pc = param;
	s64 base_ppb, jump_ppb = 0;
	unsigned int i, steps = 0, gaps = 0, jumps = 0, losses = 0;
	u64 steps_before;
	bool had_samples;
	struct sim *s;

	s = sim_new(env, pc->ctr, &sim_module_defaults, 0,
		 env->seed ^ pc->seed_salt);
	if (!s)
		return;
	base_ppb = sim_range(&s->rng, -200000, 200000);
	s->freq_ppb = base_ppb;
	s->check_accuracy = true;
	s->check_bound = true;

	for (i = 0; i < pc->polls; i++) {
		s64 dt = SIM_POLL_NS + sim_range(&s->rng, -5, 5) * SIM_NSEC_PER_MS;
		s64 freq = s->freq_ppb + sim_range(&s->rng, -2, 2);

		if (sim_one_in(&s->rng, 2000)) {
			/* The servo retunes the PHC. */
			jump_ppb = sim_one_in(&s->rng, 3) ? 0 :
				   sim_range(&s->rng, -500000, 500000);
			freq = base_ppb + jump_ppb;
			jumps++;
			sim_log(s, "PHC now %lld ppb; error %lld, state %d",
				(long long)freq, (long long)sim_error(s, s->now),
				s->e.state);
			sim_set_phc(s, 0, freq);
			sim_disturbed(s);
		}
		if (freq > 700000)
			freq = 700000;
		if (freq < -700000)
			freq = -700000;
		/* The rate wanders; the PHC's past stays as it was. */
		sim_set_phc(s, 0, freq);

		if (sim_one_in(&s->rng, 2500) || sim_one_in(&s->rng, 25000)) {
			/* Mostly small steps, some up to a second. */
			s64 mag = sim_one_in(&s->rng, 10) ?
				  sim_range(&s->rng, 10 * SIM_NSEC_PER_MS,
					     SIM_NSEC_PER_SEC) :
				  sim_range(&s->rng, 1, 10000) *
				  sim_range(&s->rng, 1, 1000);
			s64 step = sim_one_in(&s->rng, 2) ? mag : -mag;

			steps++;
			steps_before = s->e.steps_detected;
			had_samples = s->e.samples_taken > 0;
			sim_set_phc(s, step, s->freq_ppb);
			sim_log(s, "PHC stepped %lld ns; error %lld, state %d",
				(long long)step, (long long)sim_error(s, s->now),
				s->e.state);
			sim_disturbed(s);
			/* A rejected sample may delay it by a poll or two. */
			sim_poll(s, dt, true);
			sim_poll(s, SIM_POLL_NS, true);
			sim_poll(s, SIM_POLL_NS, true);
			/* Before the first sample there is nothing to step from. */
			if (sim_abs(step) > 2 * sim_module_defaults.step_threshold_ns &&
			    had_samples &&
			    !SIM_EXPECT(env, s->e.steps_detected > steps_before,
					 "%s: a %lld ns step went unseen",
					 pc->name, (long long)step))
				sim_dump(s);
			continue;
		}
		if (sim_one_in(&s->rng, 3000)) {
			/* No samples for a while: publishes continue. */
			s64 gap = sim_range(&s->rng, 1, 30) * SIM_NSEC_PER_SEC;
			bool lost = sim_one_in(&s->rng, 4);

			if (lost) {
				ionclock_engine_lost(&s->e);
				losses++;
			}
			gaps++;
			sim_log(s, "no samples for %lld s%s; error %lld",
				(long long)(gap / SIM_NSEC_PER_SEC),
				lost ? ", PHC lost" : "",
				(long long)sim_error(s, s->now));
			s->blind = true;
			for (; gap > 0; gap -= SIM_POLL_NS)
				sim_poll(s, SIM_POLL_NS, false);
			sim_disturbed(s);
			s->blind = false;
			sim_poll(s, dt, true);
			sim_log(s, "samples again; error %lld, state %d, budget %llu",
				(long long)sim_error(s, s->now), s->e.state,
				(unsigned long long)s->budget_ns);
			continue;
		}
		sim_poll(s, dt, true);
	}
	sim_hook_info(env, "%s: %u polls, %llu reads, %llu steady (worst %llu ns), %u steps (%llu detected), %u freq jumps, %u gaps (%u lost), state %d",
	       pc->name, pc->polls, (unsigned long long)s->reads,
	       (unsigned long long)s->steady_reads,
	       (unsigned long long)s->worst_steady_ns, steps,
	       (unsigned long long)s->e.steps_detected, jumps, gaps, losses,
	       s->e.state);
	/* A run that never reached steady state proved nothing. */
	SIM_EXPECT(env, s->steady_reads > s->reads / 4, "%s: %llu of %llu",
		    pc->name, (unsigned long long)s->steady_reads,
		    (unsigned long long)s->reads);
	sim_free(s);
}

static const struct property_case property_cases[] = {
	{ "tsc 3GHz", &sim_tsc_3ghz, 200000, 0x5a17c0ffee01ULL },
	{ "monotonic_raw", &sim_mono_raw, 200000, 0x3c0ffee0d0dULL },
};

/* ---- (c) a backward step is slewed away at the largest slew, never stepped */

struct named_case {
	const char *name;
};

static const struct named_case slewed_back_cases[] = {
	{ "-100 ms at +50 ppm, tsc" },
};

static void run_slewed_back(const struct sim_env *env, const void *param)
{
	const struct named_case *tc = param;
	const s64 step = -100 * SIM_NSEC_PER_MS;
	u64 steps_before, gen_before, t_step;
	s64 err0, err, elapsed, rate_ppb;
	struct sim *s;
	unsigned int i;

	s = sim_new(env, &sim_tsc_3ghz, &sim_module_defaults, 50000, env->seed);
	if (!s)
		return;
	sim_run(s, 30 * SIM_NSEC_PER_SEC);
	SIM_EXPECT(env, sim_abs(sim_error(s, s->now)) < 10 * SIM_NSEC_PER_US,
		    "%s: settled error %lld", tc->name,
		    (long long)sim_error(s, s->now));
	steps_before = s->e.steps_detected;
	gen_before = s->e.generation;
	sim_set_phc(s, step, s->freq_ppb);
	t_step = s->now;
	err0 = sim_error(s, s->now);
	sim_run(s, 2 * SIM_NSEC_PER_SEC);

	SIM_EXPECT(env, s->e.steps_detected == steps_before + 1,
		    "steps_detected %llu -> %llu",
		    (unsigned long long)steps_before,
		    (unsigned long long)s->e.steps_detected);
	SIM_EXPECT(env, s->e.generation != gen_before, "generation unchanged");
	SIM_EXPECT(env, s->e.state == IONCLOCK_STATE_TRACKING, "state %d",
		    s->e.state);
	SIM_EXPECT(env, s->e.offset_ns < 0, "not slewing back: offset %lld",
		    (long long)s->e.offset_ns);

	/* Over the next 100 s the error shrinks at the largest slew. */
	sim_run(s, 100 * SIM_NSEC_PER_SEC);
	err = sim_error(s, s->now);
	elapsed = sim_ns_from_ticks(s, (s64)(s->now - t_step));
	rate_ppb = sim_smul_div(err0 - err, SIM_NSEC_PER_SEC, elapsed);
	SIM_EXPECT(env, rate_ppb > 490000 && rate_ppb <= 501000,
		    "closed %lld ns in %lld ns: %lld ppb", (long long)(err0 - err),
		    (long long)elapsed, (long long)rate_ppb);
	SIM_EXPECT(env, err > 0, "closed already after 102 s: %lld",
		    (long long)err);

	/* 200 s at 500 ppm closes 100 ms; then it settles. */
	sim_run(s, 120 * SIM_NSEC_PER_SEC);
	err = sim_error(s, s->now);
	SIM_EXPECT(env, sim_abs(err) < 10 * SIM_NSEC_PER_US, "error %lld after 222 s",
		    (long long)err);
	for (i = 0; i < 10; i++) {
		sim_poll(s, SIM_POLL_NS, true);
		SIM_EXPECT(env, s->e.offset_ns > -10000 && s->e.offset_ns < 10000,
			    "offset %lld", (long long)s->e.offset_ns);
	}
	SIM_EXPECT(env, s->e.steps_detected == steps_before + 1,
		    "more steps: %llu", (unsigned long long)s->e.steps_detected);
	sim_free(s);
}

/* ---- (d) a PHC at 2.5x is not followed */

struct implausible_case {
	const char *name;
	bool after_tracking;
};

static const struct implausible_case implausible_start_cases[] = {
	{ "2.5x from the start, tsc", false },
};

static const struct implausible_case implausible_late_cases[] = {
	{ "2.5x after tracking at +80 ppm, tsc", true },
};

static void run_implausible(const struct sim_env *env, const void *param)
{
	bool after_tracking = ((const struct implausible_case *)param)->after_tracking;
	const s64 bad_ppb = 1500000000;	/* 2.5x */
	u64 c1, t1, c2, t2, ahead;
	s64 expect_ppb, rate_ppb, span;
	unsigned int i, polls = 0;
	struct sim *s;

	s = sim_new(env, &sim_tsc_3ghz, &sim_module_defaults,
		 after_tracking ? 80000 : bad_ppb, env->seed);
	if (!s)
		return;
	if (after_tracking) {
		sim_run(s, 30 * SIM_NSEC_PER_SEC);
		SIM_EXPECT(env, s->e.state == IONCLOCK_STATE_TRACKING,
			    "state %d before", s->e.state);
		sim_set_phc(s, 0, bad_ppb);
	}
	c1 = s->now;
	t1 = sim_published(s, c1);
	for (i = 0; i < 50 && s->e.state != IONCLOCK_STATE_UNRELIABLE; i++) {
		sim_poll(s, SIM_POLL_NS, true);
		polls++;
	}
	SIM_EXPECT(env, s->e.state == IONCLOCK_STATE_UNRELIABLE,
		    "%s: state %d after %u polls", after_tracking ? "late" :
		    "early", s->e.state, polls);
	SIM_EXPECT(env, polls <= IONCLOCK_MIN_FIT + 1, "%u polls to notice",
		    polls);

	if (after_tracking) {
		/*
		 * Up to the moment it was judged, the published time may take
		 * at most one sample of the bad PHC for a forward step (it
		 * cannot be told from one): 1.5 * SIM_POLL_NS, plus slack.
		 */
		ahead = sim_published(s, s->now) - t1 -
			(u64)sim_ns_from_ticks(s, (s64)(s->now - c1));
		SIM_EXPECT(env, ahead < 160 * SIM_NSEC_PER_MS,
			    "followed the bad PHC by %llu ns over %u polls",
			    (unsigned long long)ahead, polls);
	}

	c1 = s->now;
	t1 = sim_published(s, c1);
	sim_run(s, 60 * SIM_NSEC_PER_SEC);
	c2 = s->now;
	t2 = sim_published(s, c2);
	span = sim_ns_from_ticks(s, (s64)(c2 - c1));
	rate_ppb = sim_smul_div((s64)(t2 - t1) - span, SIM_NSEC_PER_SEC, span);
	/* It runs on the last trusted rate: 80 ppm, or nominal. */
	expect_ppb = after_tracking ? 80000 : 0;
	SIM_EXPECT(env, sim_abs(rate_ppb - expect_ppb) < 1000,
		    "%s: published runs %lld ppb from nominal",
		    after_tracking ? "late" : "early", (long long)rate_ppb);
	SIM_EXPECT(env, s->e.state == IONCLOCK_STATE_UNRELIABLE, "state %d",
		    s->e.state);
	SIM_EXPECT(env, sim_abs(ionclock_engine_freq_ppb(&s->e) - expect_ppb) < 1000,
		    "trusted freq %lld ppb",
		    (long long)ionclock_engine_freq_ppb(&s->e));
	sim_free(s);
}

/*
 * ---- (e) a forward step is applied at once, once confirmed, when
 * step_forward is set.  One sample cannot tell a step from a PHC that now
 * runs at a wrong rate, so the engine neither steps nor slews until
 * IONCLOCK_MIN_FIT samples agree; then the whole step is applied in one go.
 */

struct confirmed_step_case {
	const char *name;
	s64 step;
	bool step_forward;
	bool expect_jump;
};

static const struct confirmed_step_case confirmed_step_cases[] = {
	{ "+2 s, tsc", 2 * SIM_NSEC_PER_SEC, true, true },
	{ "+5 ms, tsc", 5 * SIM_NSEC_PER_MS, true, true },
	/* Below the threshold, or with step_forward off: slewed. */
	{ "+800 us (below the threshold): slewed, tsc", 800 * SIM_NSEC_PER_US,
	  true, false },
	{ "+2 s with step_forward off: slewed, tsc", 2 * SIM_NSEC_PER_SEC,
	  false, false },
};

static void run_confirmed_step(const struct sim_env *env, const void *param)
{
	const struct confirmed_step_case *tc = param;
	s64 step = tc->step;
	bool step_forward = tc->step_forward, expect_jump = tc->expect_jump;
	struct ionclock_params params = sim_module_defaults;
	bool is_step = (u64)step > params.step_threshold_ns;
	u64 before, c_before, steps_before;
	s64 err, jump;
	unsigned int i;
	struct sim *s;

	params.step_forward = step_forward;
	s = sim_new(env, &sim_tsc_3ghz, &params, -30000, env->seed);
	if (!s)
		return;
	sim_run(s, 30 * SIM_NSEC_PER_SEC);
	steps_before = s->e.steps_detected;
	sim_set_phc(s, step, s->freq_ppb);
	c_before = s->now;
	before = sim_published(s, c_before);
	/* While a step is being confirmed: no jump, no slew. */
	for (i = 1; is_step && i < IONCLOCK_MIN_FIT; i++) {
		sim_poll(s, SIM_POLL_NS, true);
		jump = (s64)(sim_published(s, s->now) - before) -
		       sim_ns_from_ticks(s, (s64)(s->now - c_before));
		SIM_EXPECT(env, jump < 10 * SIM_NSEC_PER_US,
			    "%lld ns step: moved %lld ns after %u unconfirmed samples",
			    (long long)step, (long long)jump, i);
	}
	/* A sample rejected for its delay may hold confirmation up a little. */
	for (i = 0; i < 4; i++) {
		sim_poll(s, SIM_POLL_NS, true);
		if (!is_step || s->e.n >= IONCLOCK_MIN_FIT)
			break;
	}
	jump = (s64)(sim_published(s, s->now) - before) -
	       sim_ns_from_ticks(s, (s64)(s->now - c_before));
	err = sim_error(s, s->now);
	SIM_EXPECT(env, s->e.steps_detected == steps_before + is_step,
		    "steps_detected %llu",
		    (unsigned long long)s->e.steps_detected);
	if (expect_jump) {
		/*
		 * The fit restarted at the step, so its rate comes from
		 * IONCLOCK_MIN_FIT samples only: tens of us of extrapolation
		 * noise, closed by slewing as the window fills (checked below).
		 */
		SIM_EXPECT(env, sim_abs(err) < 50 * SIM_NSEC_PER_US,
			    "%lld ns step: error %lld once confirmed",
			    (long long)step, (long long)err);
	} else {
		/* Slewed: at most 500 ppm of the polls plus the fit's noise. */
		SIM_EXPECT(env, jump < 250 * SIM_NSEC_PER_US,
			    "%lld ns step (step_forward %d) jumped %lld",
			    (long long)step, step_forward, (long long)jump);
		SIM_EXPECT(env, err < 0 && sim_abs(err) > (u64)step / 2,
			    "%lld ns step (step_forward %d): error %lld",
			    (long long)step, step_forward, (long long)err);
	}
	sim_run(s, 10 * SIM_NSEC_PER_SEC);
	if (expect_jump)
		SIM_EXPECT(env, sim_abs(sim_error(s, s->now)) < 10 * SIM_NSEC_PER_US,
			    "error %lld later", (long long)sim_error(s, s->now));
	sim_free(s);
}

/* ---- PHC reads that turn slower for good are taken again */

static const struct named_case slower_reads_cases[] = {
	{ "brackets 300 ns, then 3 us, tsc" },
};

static void run_slower_reads(const struct sim_env *env, const void *param)
{
	const struct named_case *tc = param;
	u64 rejected, err;
	struct sim *s;

	s = sim_new(env, &sim_tsc_3ghz, &sim_module_defaults, 25000, env->seed);
	if (!s)
		return;
	s->hw_ns = 300;
	sim_run(s, 30 * SIM_NSEC_PER_SEC);
	/* Now every read takes ten times as long, and the servo retunes. */
	s->hw_ns = 3000;
	s->tolerance_ns = 5 * s->hw_ns;
	sim_set_phc(s, 0, 45000);
	sim_run(s, 50 * SIM_NSEC_PER_SEC);
	rejected = s->e.samples_rejected;
	sim_run(s, 10 * SIM_NSEC_PER_SEC);
	rejected = s->e.samples_rejected - rejected;
	err = sim_abs(sim_error(s, s->now));
	SIM_EXPECT(env, rejected < 50, "%s: %llu of the last 100 samples rejected",
		    tc->name, (unsigned long long)rejected);
	SIM_EXPECT(env, (s64)err < s->tolerance_ns,
		    "error %llu ns a minute later, freq %lld ppb (PHC 45000)",
		    (unsigned long long)err,
		    (long long)ionclock_engine_freq_ppb(&s->e));
	sim_free(s);
}

/*
 * ---- the bound holds from the first published sample.  Until two
 * samples have measured it, the PHC's rate may be anything up to
 * max_freq_ppb from nominal; a PHC lost before any rate is trusted leaves
 * the time running on the nominal rate, and the bound must grow at what
 * the first samples said the rate was off by.
 */
struct startup_case {
	const char *name;
	const struct sim_counter *ctr;
	s64 freq_ppb;
	unsigned int samples;	/* before the PHC is lost; 0: never lost */
	s64 blind_ns;		/* how long it stays lost */
};

static const struct startup_case startup_cases[] = {
	{ "+30 ppm, tsc", &sim_tsc_3ghz, 30000, 0, 0 },
	{ "-100 ppm, tsc 2.4GHz", &sim_tsc_2_4ghz, -100000, 0, 0 },
	{ "+100 ppm, monotonic_raw", &sim_mono_raw, 100000, 0, 0 },
	{ "-55 ppm, monotonic_raw", &sim_mono_raw, -55000, 0, 0 },
	{ "+50 ppm lost after 1 sample, 10 min", &sim_tsc_3ghz, 50000, 1,
	  600 * SIM_NSEC_PER_SEC },
	{ "+50 ppm lost after 2 samples, 10 min", &sim_tsc_3ghz, 50000, 2,
	  600 * SIM_NSEC_PER_SEC },
	{ "-50 ppm lost after 3 samples, 10 min", &sim_mono_raw, -50000, 3,
	  600 * SIM_NSEC_PER_SEC },
	{ "+80 ppm lost after 3 samples, back after 10 s", &sim_tsc_3ghz, 80000,
	  3, 10 * SIM_NSEC_PER_SEC },
};

static void run_startup(const struct sim_env *env, const void *param)
{
	const struct startup_case *tc = param;
	struct sim *s;
	unsigned int i;
	s64 t;

	s = sim_new(env, tc->ctr, &sim_module_defaults, tc->freq_ppb, env->seed);
	if (!s)
		return;
	s->bound_from_start = true;
	for (i = 0; tc->samples && i < tc->samples; i++)
		sim_poll(s, SIM_POLL_NS, true);
	if (tc->samples) {
		ionclock_engine_lost(&s->e);
		for (t = 0; t < tc->blind_ns; t += SIM_POLL_NS)
			sim_poll(s, SIM_POLL_NS, false);
	}
	sim_run(s, 30 * SIM_NSEC_PER_SEC);
	sim_hook_info(env, "%s: %llu checks from the first read, worst truth - bound %lld ns, widest bound %llu ns",
	       tc->name, (unsigned long long)s->bound_checks,
	       (long long)s->worst_excess_ns,
	       (unsigned long long)s->widest_bound_ns);
	SIM_EXPECT(env, s->bound_checks > 1000, "%s: %llu checks", tc->name,
		    (unsigned long long)s->bound_checks);
	SIM_EXPECT(env, s->e.state == IONCLOCK_STATE_TRACKING, "%s: state %d",
		    tc->name, s->e.state);
	sim_free(s);
}

/*
 * ---- a PHC frequency jump, as a PTP servo makes them: the bound covers
 * the truth at every read, through the jump, while the fit catches up.
 * drift_ppb is what the bound assumes the rate may move by unseen between
 * two samples: a jump within it is covered from its first instant.
 */
struct jump_case {
	const char *name;
	const struct sim_counter *ctr;
	s64 from_ppb;
	s64 jump_ppb;
	u32 drift_ppb;
};

static const struct jump_case jump_cases[] = {
	{ "+100 ppm, tsc", &sim_tsc_3ghz, 20000, 100000, 100000 },
	{ "-100 ppm, tsc", &sim_tsc_3ghz, 20000, -100000, 100000 },
	{ "+100 ppm, monotonic_raw", &sim_mono_raw, -40000, 100000, 100000 },
	{ "+10 ppm within the default drift, tsc", &sim_tsc_3ghz, 20000, 10000,
	  15000 },
	{ "+100 ppm beyond the default drift: flagged, tsc", &sim_tsc_3ghz, 20000,
	  100000, 15000 },
	{ "-100 ppm beyond the default drift: flagged, monotonic_raw",
	  &sim_mono_raw, 20000, -100000, 15000 },
};

static void run_jump(const struct sim_env *env, const void *param)
{
	const struct jump_case *tc = param;
	struct ionclock_params params = sim_module_defaults;
	bool within = (u64)sim_abs(tc->jump_ppb) <= tc->drift_ppb;
	unsigned int i;
	struct sim *s;

	params.drift_ppb = tc->drift_ppb;
	s = sim_new(env, tc->ctr, &params, tc->from_ppb, env->seed);
	if (!s)
		return;
	sim_run(s, 20 * SIM_NSEC_PER_SEC);
	SIM_EXPECT(env, !s->flagged_publishes, "%s: %llu flagged before the jumps",
		    tc->name, (unsigned long long)s->flagged_publishes);
	s->bound_from_start = true;
	s->flagged_ok = !within;
	for (i = 0; i < 4; i++) {
		/* Anywhere inside a poll period. */
		sim_poll(s, sim_range(&s->rng, 1, SIM_POLL_NS - 1), true);
		sim_set_phc(s, 0, s->freq_ppb + (i % 2 ? -tc->jump_ppb :
						 tc->jump_ppb));
		sim_unseen(s);
		sim_run(s, 5 * SIM_NSEC_PER_SEC);
	}
	sim_hook_info(env, "jump %s: %llu checks, worst truth - bound %lld ns, widest bound %llu ns; outside: %llu flagged, %llu before a sample showed it; %llu publishes flagged",
	       tc->name, (unsigned long long)s->bound_checks,
	       (long long)s->worst_excess_ns,
	       (unsigned long long)s->widest_bound_ns,
	       (unsigned long long)s->flagged_outside,
	       (unsigned long long)s->unseen_outside,
	       (unsigned long long)s->flagged_publishes);
	SIM_EXPECT(env, s->e.state == IONCLOCK_STATE_TRACKING, "%s: state %d",
		    tc->name, s->e.state);
	/* Beyond drift_ppb the page must have said so. */
	if (!within)
		SIM_EXPECT(env, s->flagged_publishes > 0, "%s: never flagged",
			    tc->name);
	else
		SIM_EXPECT(env, !s->flagged_publishes,
			    "%s: flagged %llu times within the assumptions",
			    tc->name, (unsigned long long)s->flagged_publishes);
	sim_free(s);
}

/*
 * ---- the counter goes back (a TSC reset over suspend): the engine starts
 * again from the first sample after it, the time stays forward and catches
 * up with the PHC, which ran on meanwhile.
 */
struct counter_reset_case {
	const char *name;
	const struct sim_counter *ctr;
	bool sample_first;
};

static const struct counter_reset_case counter_reset_cases[] = {
	{ "tsc, a sample first", &sim_tsc_3ghz, true },
	{ "tsc, a publish first", &sim_tsc_3ghz, false },
	{ "monotonic_raw, a sample first", &sim_mono_raw, true },
};

static void run_counter_reset(const struct sim_env *env, const void *param)
{
	const struct counter_reset_case *tc = param;
	const struct sim_counter *ctr = tc->ctr;
	bool sample_first = tc->sample_first;
	u64 before, steps, gen, rejected;
	struct sim *s;
	u64 truth;

	s = sim_new(env, ctr, &sim_module_defaults, 42000, env->seed);
	if (!s)
		return;
	s->check_bound = true;
	sim_run(s, 20 * SIM_NSEC_PER_SEC);
	before = sim_published(s, s->now);
	truth = sim_truth(s, s->now);
	steps = s->e.steps_detected;
	gen = s->e.generation;
	/* Suspended for 7 s; the counter resumes from nearly 0. */
	s->now = sim_ticks_from_ns(s, 5 * SIM_NSEC_PER_MS);
	s->start = s->now;
	s->c0 = s->now;
	s->phc0 = truth + 7 * SIM_NSEC_PER_SEC;
	s->last_read = before;
	sim_disturbed(s);
	if (sample_first) {
		sim_sample(s, s->hw_ns);
	} else {
		/* A publish (a config change) before any sample. */
		sim_publish(s, s->now + sim_ticks_from_ns(s, 1000));
		sim_sample(s, s->hw_ns);
	}
	sim_publish(s, s->now + sim_ticks_from_ns(s, s->hw_ns + 300));
	rejected = s->e.samples_rejected;
	sim_run(s, 20 * SIM_NSEC_PER_SEC);
	SIM_EXPECT(env, s->e.generation != gen, "%s: generation unchanged",
		    ctr->name);
	SIM_EXPECT(env, s->e.samples_rejected - rejected < 20,
		    "%s: %llu of 200 samples rejected after the reset",
		    ctr->name,
		    (unsigned long long)(s->e.samples_rejected - rejected));
	SIM_EXPECT(env, s->e.steps_detected == steps,
		    "%s: a counter reset counted as a PHC step", ctr->name);
	SIM_EXPECT(env, s->e.state == IONCLOCK_STATE_TRACKING, "%s: state %d",
		    ctr->name, s->e.state);
	SIM_EXPECT(env, sim_abs(sim_error(s, s->now)) < 10 * SIM_NSEC_PER_US,
		    "%s: error %lld ns 20 s after the reset", ctr->name,
		    (long long)sim_error(s, s->now));
	sim_free(s);
}


/*
 * ---- a disruption (kmod/disruption.c: a stopped or moved VM, a suspend):
 * the PHC comes back stepped and off the old rate after a gap with no
 * sample.  From the first sample after it the bound must hold at every
 * read, the time must never go back, the flag must stay until the rate is
 * re-fitted, and the engine must track again.
 */
struct disruption_case {
	const char *name;
	const struct sim_counter *ctr;
	s64 gap_ns;
	s64 step_ns;
	s64 dfreq_ppb;
	u32 cause;
};

/*
 * The vmclock cases have no gap: a VM restored under QEMU resumes its
 * counter and its emulated PHC where they were saved, so only the
 * hypervisor's word (and the PHC of the new host) says anything happened.
 */
static const struct disruption_case disruption_cases[] = {
	{ "SIGSTOP 10 s, nothing moved, tsc", &sim_tsc_3ghz,
	  10 * SIM_NSEC_PER_SEC, 0, 0, IONCLOCK_DISRUPTION_STALL },
	{ "migrated: PHC +3 s, rate +300 ppm, tsc", &sim_tsc_3ghz,
	  2 * SIM_NSEC_PER_SEC, 3 * SIM_NSEC_PER_SEC, 300000,
	  IONCLOCK_DISRUPTION_STALL },
	{ "restored: PHC -2 s, rate -900 ppm, monotonic_raw", &sim_mono_raw,
	  30 * SIM_NSEC_PER_SEC, -2 * SIM_NSEC_PER_SEC, -900000,
	  IONCLOCK_DISRUPTION_STALL },
	{ "resumed: PHC +40 ms, rate +50 ppm, tsc 2.4GHz", &sim_tsc_2_4ghz,
	  60 * SIM_NSEC_PER_SEC, 40 * SIM_NSEC_PER_MS, 50000,
	  IONCLOCK_DISRUPTION_STALL },
	{ "vmclock: restored, no gap, PHC +5 ms, rate +100 ppm, tsc",
	  &sim_tsc_3ghz, 0, 5 * SIM_NSEC_PER_MS, 100000,
	  IONCLOCK_DISRUPTION_VMCLOCK },
	{ "vmclock: migrated, no gap, PHC -5 ms, nothing else, tsc",
	  &sim_tsc_3ghz, 0, -5 * SIM_NSEC_PER_MS, 0,
	  IONCLOCK_DISRUPTION_VMCLOCK },
};

static void run_disruption(const struct sim_env *env, const void *param)
{
	const struct disruption_case *tc = param;
	u32 gen, disrupted_samples = 0;
	struct sim *s;
	u64 before;
	int i;

	s = sim_new(env, tc->ctr, &sim_module_defaults, 42000, env->seed);
	if (!s)
		return;
	s->check_bound = true;
	sim_run(s, 20 * SIM_NSEC_PER_SEC);
	gen = s->e.generation;
	before = sim_published(s, s->now);
	/* Nothing ran during the gap; the PHC is another one after it. */
	s->now += sim_ticks_from_ns(s, tc->gap_ns);
	sim_set_phc(s, tc->step_ns, s->freq_ppb + tc->dfreq_ppb);
	ionclock_engine_disrupted(&s->e, tc->cause);
	SIM_EXPECT(env, s->e.disrupted && s->e.generation != gen,
		   "%s: not marked disrupted", tc->name);
	SIM_EXPECT(env, sim_published(s, s->now) >= before,
		   "%s: time went back at the disruption", tc->name);
	sim_disturbed(s);
	sim_sample(s, s->hw_ns);
	sim_publish(s, s->now + sim_ticks_from_ns(s, s->hw_ns + 300));
	/* From here on nothing may escape the bound. */
	s->bound_from_start = true;
	for (i = 0; i < 200; i++) {
		sim_poll(s, SIM_POLL_NS, true);
		if (s->e.disrupted)
			disrupted_samples++;
	}
	SIM_EXPECT(env, s->bound_checks > 0 && s->worst_excess_ns <= 0,
		   "%s: truth %lld ns outside the bound", tc->name,
		   (long long)s->worst_excess_ns);
	SIM_EXPECT(env, !s->e.disrupted, "%s: still disrupted after 20 s",
		   tc->name);
	SIM_EXPECT(env, disrupted_samples >= IONCLOCK_MIN_FIT - 2 &&
		   disrupted_samples < 2 * IONCLOCK_MIN_FIT,
		   "%s: disrupted for %u samples", tc->name, disrupted_samples);
	SIM_EXPECT(env, s->e.disruptions == 1 &&
		   s->e.disruption_cause == tc->cause,
		   "%s: %u disruptions, cause %u", tc->name, s->e.disruptions,
		   s->e.disruption_cause);
	SIM_EXPECT(env, s->e.state == IONCLOCK_STATE_TRACKING, "%s: state %d",
		   tc->name, s->e.state);
	SIM_EXPECT(env, sim_abs(sim_error(s, s->now)) < 50 * SIM_NSEC_PER_US ||
		   tc->step_ns < 0,
		   "%s: error %lld ns 20 s after", tc->name,
		   (long long)sim_error(s, s->now));
	sim_expect_clean(s);
	sim_free(s);
}

/*
 * Continuity at every publication: a locked engine meets a PHC offset
 * (under or over the step threshold, either sign; forward steps are
 * slewed here too) and closes it.  Every new mapping starts exactly where
 * the previous one stands, and its rate stays within max_slew_ppb of the
 * estimated PHC rate.
 */
struct offset_case {
	const char *name;
	const struct sim_counter *ctr;
	s64 ppb;
	s64 offset_ns;		/* the PHC's step, once locked */
	u32 max_slew_ppb;
};

static const struct offset_case continuity_cases[] = {
	{ "3 GHz TSC, on rate, +300 us offset, slew 500 ppm",
	  &sim_tsc_3ghz, 0, 300000, 500000 },
	{ "3 GHz TSC, +37 ppm, -800 us offset, slew 500 ppm",
	  &sim_tsc_3ghz, 37000, -800000, 500000 },
	{ "2.4 GHz TSC, -120 ppm, +5 ms offset, slew 100 ppm",
	  &sim_tsc_2_4ghz, -120000, 5000000, 100000 },
	{ "2.4 GHz TSC, +480 ppm, -20 ms offset, slew 500 ppm",
	  &sim_tsc_2_4ghz, 480000, -20000000, 500000 },
	{ "monotonic_raw, -5 ppm, +1 s offset, slew 500 ppm",
	  &sim_mono_raw, -5000, 1000000000, 500000 },
	{ "monotonic_raw, +250 ppm, +900 us offset, slew 50 ppm",
	  &sim_mono_raw, 250000, 900000, 50000 },
	{ "25 MHz counter, -300 ppm, -500 us offset, slew 500 ppm",
	  &sim_ctr_25mhz, -300000, -500000, 500000 },
	{ "1 GHz counter, +900 ppm, -2 ms offset, slew 1000 ppm",
	  &sim_ctr_1ghz, 900000, -2000000, 1000000 },
};

/*
 * A simulation with fixed 200 ns brackets, the PHC latched in their middle,
 * locked on: NULL if it did not lock.
 */
static struct sim *sim_locked(const struct sim_env *env,
			      const struct sim_counter *ctr,
			      const struct ionclock_params *params, s64 ppb)
{
	struct sim *s = sim_new(env, ctr, params, ppb, env->seed);

	if (!s)
		return NULL;
	sim_set_bracket(s, 200);
	s->jitter = false;
	sim_run(s, LOCK_NS);
	if (!EXPECT_EQ(env, s->e.state, IONCLOCK_STATE_TRACKING)) {
		sim_free(s);
		return NULL;
	}
	return s;
}

static void run_continuity(const struct sim_env *env, const void *param)
{
	const struct offset_case *c = param;
	struct ionclock_params params = sim_module_defaults;
	struct sim *s;
	u64 n;

	params.max_slew_ppb = c->max_slew_ppb;
	params.step_forward = false;
	s = sim_locked(env, c->ctr, &params, c->ppb);
	if (!s)
		return;
	EXPECT_LE(env, sim_abs(sim_error(s, s->now)), 1000ULL);

	sim_set_phc(s, c->offset_ns, c->ppb);
	for (n = slew_polls(sim_abs(c->offset_ns), c->max_slew_ppb) * 6 / 5 +
		 polls(SETTLE_NS); n; n--)
		sim_poll(s, SIM_POLL_NS, true);
	sim_expect_clean(s);
	EXPECT_EQ(env, s->e.state, IONCLOCK_STATE_TRACKING);
	EXPECT_LE(env, sim_abs(sim_error(s, s->now)), 2000ULL);
	EXPECT_LE(env, sim_abs(ionclock_engine_freq_ppb(&s->e) - c->ppb),
			10ULL);
	sim_free(s);
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
	const struct sim_counter *ctr;
	s64 ppb;
	u32 seed;
	/* Events listed, or n_random drawn from the generator. */
	struct sweep_event ev[6];
	u32 n_ev;
	u32 n_random;
};

static const struct sweep_case sweep_cases[] = {
	{ "3 GHz TSC: +1 s step, then -1 s step", &sim_tsc_3ghz, 12000, 1,
	  { { 20, 1000000000, 0 }, { 40, -1000000000, 0 } }, 2, 0 },
	{ "2.4 GHz TSC: -500 ppm, +500 ppm, +500 ppm rate jumps",
	  &sim_tsc_2_4ghz, 200000, 2,
	  { { 20, 0, -500000 }, { 30, 0, 500000 }, { 30, 0, 500000 } }, 3,
	  0 },
	{ "monotonic_raw: -1 s step while 500 ppm fast, then +500 ppm",
	  &sim_mono_raw, 500000, 3,
	  { { 20, -1000000000, 0 }, { 30, 0, -500000 },
	    { 25, 0, -500000 } }, 3, 0 },
	{ "3 GHz TSC: -1 s, +1 s, -1 s steps 30 s apart", &sim_tsc_3ghz, -40000, 4,
	  { { 20, -1000000000, 0 }, { 30, 1000000000, 0 },
	    { 30, -1000000000, 0 } }, 3, 0 },
	{ "3 GHz TSC: 12 steps and rate jumps from seed 0x1c10c",
	  &sim_tsc_3ghz, 0, 0x1c10c, { }, 0, 12 },
	{ "25 MHz counter: 12 steps and rate jumps from seed 0xbeef",
	  &sim_ctr_25mhz, -100000, 0xbeef, { }, 0, 12 },
};

/* A drawn event: 15-44 s later, a +-1 s step or a +-500 ppm rate jump. */
static void sweep_draw(struct sim *s, struct sweep_event *ev)
{
	u32 r = (u32)(sim_rand(&s->rng) >> 8);

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
	if (sim_abs(s->freq_ppb + ev->dppb) > 700000)
		ev->dppb = -ev->dppb;
}

static void run_sweep(const struct sim_env *env, const void *param)
{
	const struct sweep_case *c = param;
	struct ionclock_params params = sim_module_defaults;
	u32 i, n = c->n_random ? c->n_random : c->n_ev;
	struct sim *s;

	s = sim_new(env, c->ctr, &params, c->ppb, env->seed ^ c->seed);
	if (!s)
		return;
	sim_set_bracket(s, 400);
	s->jitter = true;
	s->check_accuracy = true;

	for (i = 0; i < n; i++) {
		struct sweep_event ev;

		if (c->n_random)
			sweep_draw(s, &ev);
		else
			ev = c->ev[i];
		sim_run(s, (s64)ev.after_s * SIM_NSEC_PER_SEC);
		sim_set_phc(s, ev.step_ns, s->freq_ppb + ev.dppb);
		sim_disturbed(s);
	}
	/* Until steady, and 30 s of steady reads. */
	sim_run(s, SETTLE_NS + 30 * SIM_NSEC_PER_SEC +
		(s64)sim_mul_div(s->budget_ns, SIM_NSEC_PER_SEC,
				 params.max_slew_ppb * 9 / 10));

	sim_hook_info(env, "%llu s, %llu publications, %llu reads, %llu steps detected, worst steady error %llu ns",
		      (unsigned long long)sim_secs(s),
		      (unsigned long long)s->publishes,
		      (unsigned long long)s->reads,
		      (unsigned long long)s->e.steps_detected,
		      (unsigned long long)s->worst_steady_ns);
	sim_expect_clean(s);
	EXPECT_GT(env, s->steady_reads, 0ULL);
	EXPECT_LE(env, (s64)s->worst_steady_ns, s->tolerance_ns);
	EXPECT_EQ(env, s->e.state, IONCLOCK_STATE_TRACKING);
	sim_free(s);
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

static void run_plausibility(const struct sim_env *env, const void *param)
{
	const struct plausibility_case *c = param;
	u32 gen, i, n = 0, jumps = 0, left = 0, bad_rate = 0;
	struct ionclock_params params = sim_module_defaults;
	u64 bound0;
	struct ionclock_page *page = NULL;
	s64 trusted_ppb = 0;
	struct sim *s;

	s = sim_new(env, &sim_tsc_3ghz, &params, c->after_lock ? 0 : c->ppb, env->seed);
	if (!s)
		return;
	sim_set_bracket(s, 200);
	s->jitter = false;
	page = sim_hook_zalloc(env, sizeof(*page));
	if (!SIM_EXPECT(env, page, "no memory"))
		goto out;
	if (c->after_lock) {
		sim_run(s, LOCK_NS);
		if (!EXPECT_EQ(env, s->e.state, IONCLOCK_STATE_TRACKING))
			goto out;
		trusted_ppb = ionclock_engine_freq_ppb(&s->e);
		sim_set_phc(s, 0, c->ppb);
	}
	if (!c->within) {
		sim_run(s, LOCK_NS);
		EXPECT_EQ(env, s->e.state, IONCLOCK_STATE_TRACKING);
		EXPECT_LE(env,
				sim_abs(ionclock_engine_freq_ppb(&s->e) - c->ppb),
				10ULL);
		sim_expect_clean(s);
		goto out;
	}
	while (s->e.state != IONCLOCK_STATE_UNRELIABLE && n < c->within) {
		sim_poll(s, SIM_POLL_NS, true);
		n++;
	}
	if (!EXPECT_EQ_MSG(env, s->e.state, IONCLOCK_STATE_UNRELIABLE,
			   "after %u poll periods", n))
		goto out;
	sim_hook_info(env, "UNRELIABLE after %u samples, trusted rate %lld ppb",
		      n, (long long)ionclock_engine_freq_ppb(&s->e));

	/*
	 * From here: UNRELIABLE, announced once, and the time runs on at the
	 * last trusted rate, which was plausible, continuous and forward.
	 */
	gen = s->e.generation;
	bound0 = s->bound.total_ns;
	for (i = 0; i < 100; i++) {
		sim_poll(s, SIM_POLL_NS, true);
		if (s->last_jump)
			jumps++;
		if (s->e.state != IONCLOCK_STATE_UNRELIABLE)
			left++;
		if (sim_abs(sim_map_ppb(s) - ionclock_engine_freq_ppb(&s->e)) > 2)
			bad_rate++;
	}
	EXPECT_EQ(env, left, 0U);
	EXPECT_EQ(env, s->e.generation, gen);
	EXPECT_EQ(env, jumps, 0U);
	EXPECT_EQ(env, bad_rate, 0U);
	sim_expect_clean(s);
	EXPECT_LE(env, sim_abs(ionclock_engine_freq_ppb(&s->e)),
			(u64)params.max_freq_ppb);
	/*
	 * The bad PHC's samples bring no news: the bound grows by the
	 * counter's drift over the 100 polls as in holdover (15 ppm x 10 s).
	 */
	EXPECT_GE(env, s->bound.total_ns,
			bound0 + 100 * SIM_POLL_NS / SIM_NSEC_PER_SEC *
			params.drift_ppb * 9 / 10);
	if (c->after_lock)
		EXPECT_LE(env,
				sim_abs(ionclock_engine_freq_ppb(&s->e) -
				    trusted_ppb), 1000ULL);
	ionclock_page_fill(page, &s->e, &s->bound, false);
	EXPECT_EQ(env, page->state, (u32)IONCLOCK_STATE_UNRELIABLE);
	EXPECT_EQ(env, page->generation, s->e.generation);
out:
	sim_hook_free(env, page);
	sim_free(s);
}

/*
 * A forward PHC step (step_forward set) is applied at once, but only once
 * IONCLOCK_MIN_FIT samples after it have confirmed the new time: until
 * then the published time runs on at the trusted rate.
 */
static const struct offset_case forward_cases[] = {
	{ "+2 ms on a 3 GHz TSC", &sim_tsc_3ghz, 0, 2000000, 500000 },
	{ "+1 s on a 3 GHz TSC (phc_ctl adj 1)", &sim_tsc_3ghz, 15000,
	  1000000000, 500000 },
	{ "+1 s at -300 ppm on a 2.4 GHz TSC", &sim_tsc_2_4ghz, -300000,
	  1000000000, 500000 },
	{ "+1 h on monotonic_raw", &sim_mono_raw, 7000,
	  3600 * SIM_NSEC_PER_SEC, 500000 },
};

static void run_forward_step(const struct sim_env *env, const void *param)
{
	const struct offset_case *c = param;
	struct ionclock_params params = sim_module_defaults;
	u64 steps, gen;
	struct sim *s;
	u32 k;

	params.max_slew_ppb = c->max_slew_ppb;
	s = sim_locked(env, c->ctr, &params, c->ppb);
	if (!s)
		return;
	steps = s->e.steps_detected;
	gen = s->e.generation;

	sim_set_phc(s, c->offset_ns, c->ppb);
	for (k = 1; k < IONCLOCK_MIN_FIT; k++) {
		sim_poll(s, SIM_POLL_NS, true);
		EXPECT_EQ_MSG(env, s->last_jump, 0LL,
				    "sample %u after the step", k);
		EXPECT_EQ(env, s->e.steps_detected, steps + 1);
		EXPECT_EQ(env, (u64)s->e.generation, gen + 1);
		EXPECT_EQ(env, s->e.slew_frac40, 0LL);
	}
	sim_poll(s, SIM_POLL_NS, true);
	EXPECT_LE_MSG(env, sim_abs(s->last_jump - c->offset_ns), 1000ULL,
		      "jumped %lld ns at sample %u", (long long)s->last_jump,
			    IONCLOCK_MIN_FIT);
	EXPECT_LE(env, sim_abs(sim_error(s, s->now)), 1000ULL);

	sim_run(s, 50 * SIM_POLL_NS);
	EXPECT_EQ(env, s->e.steps_detected, steps + 1);
	sim_expect_clean(s);
	EXPECT_LE(env, sim_abs(sim_error(s, s->now)), 1000ULL);
	sim_free(s);
}

/*
 * A backward PHC step is never stepped: once confirmed, the published
 * time runs max_slew_ppb slower than the PHC until the offset is closed.
 */
static const struct offset_case backward_cases[] = {
	{ "-2 ms on a 3 GHz TSC, slew 500 ppm",
	  &sim_tsc_3ghz, 0, -2000000, 500000 },
	{ "-1 s on a 3 GHz TSC (phc_ctl adj -1), slew 500 ppm",
	  &sim_tsc_3ghz, 21000, -1000000000, 500000 },
	{ "-5 ms at +200 ppm on a 2.4 GHz TSC, slew 100 ppm",
	  &sim_tsc_2_4ghz, 200000, -5000000, 100000 },
	{ "-50 ms on monotonic_raw, slew 1000 ppm",
	  &sim_mono_raw, -60000, -50000000, 1000000 },
};

static void run_backward_step(const struct sim_env *env, const void *param)
{
	const struct offset_case *c = param;
	u64 n, half, full, bad_rate = 0, slewing = 0;
	struct ionclock_params params = sim_module_defaults;
	struct ionclock_page *page = NULL;
	struct sim *s;
	s64 err;
	u32 k;

	params.max_slew_ppb = c->max_slew_ppb;
	s = sim_locked(env, c->ctr, &params, c->ppb);
	if (!s)
		return;
	page = sim_hook_zalloc(env, sizeof(*page));
	if (!SIM_EXPECT(env, page, "no memory"))
		goto out;

	sim_set_phc(s, c->offset_ns, c->ppb);
	for (k = 1; k < IONCLOCK_MIN_FIT; k++) {
		sim_poll(s, SIM_POLL_NS, true);
		EXPECT_EQ(env, s->e.slew_frac40, 0LL);
	}
	full = slew_polls(sim_abs(c->offset_ns), c->max_slew_ppb);
	half = full / 2;
	for (n = 0; n < half; n++) {
		sim_poll(s, SIM_POLL_NS, true);
		/* Clamped while the offset would need more than max slew. */
		if (sim_abs(s->e.offset_ns) >
		    (u64)c->max_slew_ppb * s->e.params.slew_time_ms / 1000) {
			s64 want = ionclock_engine_freq_ppb(&s->e) -
				   c->max_slew_ppb;

			slewing++;
			if (sim_abs(sim_map_ppb(s) - want) > 2 && !bad_rate++)
				sim_hook_fail(env, __FILE__, __LINE__,
				      "mapping at %lld ppb, want %lld, t=%llu s",
				      (long long)sim_map_ppb(s), (long long)want,
				      (unsigned long long)sim_secs(s));
		}
	}
	EXPECT_EQ(env, slewing, half);
	EXPECT_EQ(env, bad_rate, 0ULL);
	ionclock_page_fill(page, &s->e, &s->bound, false);
	EXPECT_TRUE(env, page->flags & IONCLOCK_FLAG_SLEWING);
	EXPECT_LT(env, page->phc_offset_ns, 0LL);
	EXPECT_GE(env, page->error_slew_ns, sim_abs(page->phc_offset_ns));
	/*
	 * Half the step slewed away in half the time, 1% either way: the
	 * slew began at the publish of the sample that confirmed the step
	 * and runs until the next sample, a poll after the last publish.
	 */
	err = sim_error(s, s->now + sim_ticks_from_ns(s, SIM_POLL_NS));
	EXPECT_LE_MSG(env, sim_abs(err - (-c->offset_ns) / 2),
			    sim_abs(c->offset_ns) / 100,
		      "%lld ns ahead after %llu s", (long long)err,
		      (unsigned long long)sim_secs(s));

	sim_run(s, (s64)(full - half) * SIM_POLL_NS + SETTLE_NS);
	sim_expect_clean(s);
	EXPECT_LE(env, sim_abs(sim_error(s, s->now)), 1000ULL);
	EXPECT_EQ(env, s->e.state, IONCLOCK_STATE_TRACKING);
out:
	sim_hook_free(env, page);
	sim_free(s);
}

/*
 * The bound holds at every read from the first published sample: while
 * the rate is unmeasured (it may be anything up to max_freq_ppb), after a
 * PHC lost before any rate was trusted, and through a PHC frequency jump
 * that drift_ppb allows for.
 */
struct bound_case {
	const char *name;
	const struct sim_counter *ctr;
	s64 ppb;
	u32 lost_after;		/* samples before the PHC is lost; 0: never */
	u32 blind_polls;	/* poll periods with no sample then */
	s64 jump_ppb;		/* once locked, the PHC's rate jumps by this */
	u32 drift_ppb;
};

static const struct bound_case bound_cases[] = {
	{ "from the first sample, PHC +30 ppm, TSC 3 GHz", &sim_tsc_3ghz, 30000,
	  0, 0, 0, 15000 },
	{ "from the first sample, PHC -100 ppm, monotonic_raw", &sim_mono_raw,
	  -100000, 0, 0, 0, 15000 },
	{ "PHC +50 ppm lost after 2 samples, 10 min", &sim_tsc_2_4ghz, 50000, 2,
	  6000, 0, 15000 },
	{ "PHC -70 ppm lost after 1 sample, 1 min", &sim_mono_raw, -70000, 1, 600, 0,
	  15000 },
	{ "PHC +100 ppm frequency jump, drift_ppb 100000", &sim_tsc_3ghz, 20000, 0,
	  0, 100000, 100000 },
	{ "PHC -100 ppm frequency jump, drift_ppb 100000, 25 MHz", &sim_ctr_25mhz,
	  -40000, 0, 0, -100000, 100000 },
	/* Beyond drift_ppb: outside only unseen, or with the page saying so. */
	{ "PHC +100 ppm frequency jump beyond drift_ppb: flagged", &sim_tsc_3ghz,
	  20000, 0, 0, 100000, 15000 },
	{ "PHC -100 ppm frequency jump beyond drift_ppb: flagged", &sim_mono_raw,
	  20000, 0, 0, -100000, 15000 },
};

static void run_bound(const struct sim_env *env, const void *param)
{
	const struct bound_case *c = param;
	struct ionclock_params params = sim_module_defaults;
	struct sim *s;
	u32 i;

	params.drift_ppb = c->drift_ppb;
	s = sim_new(env, c->ctr, &params, c->ppb, env->seed ^ 12345);
	if (!s)
		return;
	sim_set_bracket(s, 300);
	s->jitter = true;
	if (c->jump_ppb) {
		sim_run(s, LOCK_NS);
		EXPECT_EQ(env, s->flagged_publishes, 0ULL);
		sim_set_phc(s, 0, c->ppb + c->jump_ppb);
		sim_unseen(s);
		s->flagged_ok = sim_abs(c->jump_ppb) > c->drift_ppb;
	}
	s->bound_from_start = true;
	if (c->lost_after) {
		sim_run(s, c->lost_after * SIM_POLL_NS);
		ionclock_engine_lost(&s->e);
		for (i = 0; i < c->blind_polls; i++)
			sim_poll(s, SIM_POLL_NS, false);
	}
	sim_run(s, LOCK_NS);
	sim_hook_info(env, "%llu checks, %llu outside the bound (+%llu flagged, %llu unseen), %llu publishes flagged, widest %llu ns",
		      (unsigned long long)s->bound_checks,
		      (unsigned long long)s->outside_bound,
		      (unsigned long long)s->flagged_outside,
		      (unsigned long long)s->unseen_outside,
		      (unsigned long long)s->flagged_publishes,
		      (unsigned long long)s->widest_bound_ns);
	EXPECT_EQ(env, s->outside_bound, 0ULL);
	if (s->flagged_ok)
		EXPECT_GT(env, s->flagged_publishes, 0ULL);
	else
		EXPECT_EQ(env, s->flagged_publishes, 0ULL);
	EXPECT_GT(env, s->bound_checks, 500ULL);
	EXPECT_EQ(env, s->e.state, IONCLOCK_STATE_TRACKING);
	sim_expect_clean(s);
	sim_free(s);
}


#define SIM_TEST(id, title, fn, table)					\
	const struct sim_test sim_test_##id = {				\
		.name = title, .run = fn, .cases = table,		\
		.n_cases = ARRAY_SIZE(table), .case_size = sizeof(table[0]), \
	}

SIM_TEST(new_map, "engine: a new mapping starts where the old one stands",
	 run_new_map, new_map_cases);
SIM_TEST(property, "engine: randomised PHC: never backward, accurate when steady",
	 run_property, property_cases);
SIM_TEST(slewed_back, "engine: a backward step is slewed at the largest slew",
	 run_slewed_back, slewed_back_cases);
SIM_TEST(implausible_start, "engine: a 2.5x PHC from the start is not followed",
	 run_implausible, implausible_start_cases);
SIM_TEST(implausible_late, "engine: a PHC turning 2.5x is not followed",
	 run_implausible, implausible_late_cases);
SIM_TEST(confirmed_step, "engine: a forward step is applied at once, once confirmed",
	 run_confirmed_step, confirmed_step_cases);
SIM_TEST(slower_reads, "engine: PHC reads that turn slower for good are taken again",
	 run_slower_reads, slower_reads_cases);
SIM_TEST(startup_bound, "engine: the bound holds from the first sample, and in early holdover",
	 run_startup, startup_cases);
SIM_TEST(jump_bound, "engine: the bound covers a PHC frequency jump",
	 run_jump, jump_cases);
SIM_TEST(counter_reset, "engine: a counter that goes back restarts the engine, time forward",
	 run_counter_reset, counter_reset_cases);
SIM_TEST(disruption, "engine: after a disruption the bound holds from the next sample, time forward",
	 run_disruption, disruption_cases);
SIM_TEST(bound, "engine: the bound holds at every read, through loss and jumps",
	 run_bound, bound_cases);
SIM_TEST(continuity, "engine: a locked engine closes an offset, continuous at every publish",
	 run_continuity, continuity_cases);
SIM_TEST(sweep, "engine: never backward through +-1 s steps and +-500 ppm jumps",
	 run_sweep, sweep_cases);
SIM_TEST(plausibility, "engine: an implausible PHC is not followed, announced once",
	 run_plausibility, plausibility_cases);
SIM_TEST(forward_step, "engine: a forward step is applied once IONCLOCK_MIN_FIT samples confirm it",
	 run_forward_step, forward_cases);
SIM_TEST(backward_step, "engine: a backward step is slewed at max_slew_ppb, never stepped",
	 run_backward_step, backward_cases);

const struct sim_test *const sim_engine_tests[] = {
	&sim_test_new_map,
	&sim_test_property,
	&sim_test_slewed_back,
	&sim_test_implausible_start,
	&sim_test_implausible_late,
	&sim_test_confirmed_step,
	&sim_test_slower_reads,
	&sim_test_startup_bound,
	&sim_test_jump_bound,
	&sim_test_counter_reset,
	&sim_test_disruption,
	&sim_test_bound,
	&sim_test_continuity,
	&sim_test_sweep,
	&sim_test_plausibility,
	&sim_test_forward_step,
	&sim_test_backward_step,
	NULL,
};
