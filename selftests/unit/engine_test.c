// SPDX-License-Identifier: GPL-2.0
/*
 * The time engine (kmod/engine.c) against a simulated PHC.  The simulator
 * is the reference model: it knows the true PHC time at every counter
 * value, drives the engine the way the module's sampler does (bracketed
 * sample, add_sample, publish at a counter read after it) and reads the
 * published mapping at counter values in increasing order, as readers
 * anywhere on the machine would.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine.h"
#include "unit.h"

#define NSEC_PER_SEC	1000000000LL
#define NSEC_PER_MS	1000000LL
#define NSEC_PER_US	1000LL
/* 2023-11-14 in TAI ns: PHC times near today's. */
#define PHC_START_NS	1700000000000000000ULL
#define POLL_NS		(100 * NSEC_PER_MS)
#define SIM_LOG		12

/* The counter under the engine, set up as kmod/counter.c does. */
struct sim_counter {
	const char *name;
	uint64_t khz;		/* counter ticks per ms; 0: ticks are ns */
};

static const struct sim_counter tsc_3ghz = { "tsc-3GHz", 3000000 };
static const struct sim_counter tsc_2_4ghz = { "tsc-2.4GHz", 2400000 };
static const struct sim_counter mono_raw = { "monotonic_raw", 0 };

struct sim {
	struct unit *u;
	struct unit_rng rng;
	const struct sim_counter *ctr;
	struct ionclock_engine e;
	u64 now;		/* counter: where the simulation stands */

	/* The true PHC: phc0 at counter c0, freq_ppb fast against nominal. */
	u64 c0;
	u64 phc0;
	s64 freq_ppb;

	/*
	 * Sampling noise: the best of the sampler's reads has a bracket
	 * half-width of hw_ns, up to a quarter more; the PHC latched anywhere
	 * inside the bracket.
	 */
	s64 hw_ns;

	/* What readers saw. */
	u64 last_read;
	u64 reads;

	/*
	 * Accuracy is only claimed in steady state: settle_ns after the last
	 * disturbance plus the time to slew away the error it left (budget_ns)
	 * at 90% of the largest slew.
	 */
	bool check_accuracy;
	bool blind;		/* no samples: the engine cannot know */
	s64 tolerance_ns;
	u64 disturbed_at;
	u64 budget_ns;
	s64 settle_ns;
	u64 worst_steady_ns;
	u64 steady_reads;

	/*
	 * The bound of the last publication.  Truth must lie inside it once
	 * the engine has had two windows of samples since the last disturbance
	 * (steps and frequency jumps are outside the bound's assumptions until
	 * it has seen them), also through later gaps with no samples.
	 */
	struct ionclock_bound bound;
	bool check_bound;
	bool bound_from_start;	/* check every read, disturbed or not */
	unsigned int samples_since_disturbed;
	u64 bound_checks;
	/* The worst of (truth's distance - bound), and the widest bound. */
	s64 worst_excess_ns;
	u64 widest_bound_ns;
	/*
	 * With flagged_ok, a read outside the bound passes if the page says
	 * BOUND_DEGRADED (flagged), or if no sample has been taken since the
	 * PHC changed beyond the bound's assumptions (unseen): counted.
	 */
	bool flagged_ok;
	bool unseen;
	bool degraded;		/* the page's BOUND_DEGRADED, as published */
	u64 flagged_outside;
	u64 unseen_outside;
	u64 flagged_publishes;

	/* The last few things that happened, dumped on the first failure. */
	char log[SIM_LOG][112];
	unsigned int log_n;
	bool dumped;		/* for this run of failures */
	unsigned int dumps;
};

static s64 ns_from_ticks(const struct sim *s, s64 ticks);

static void sim_log(struct sim *s, const char *fmt, ...)
{
	char *line = s->log[s->log_n++ % SIM_LOG];
	va_list ap;
	int n;

	n = snprintf(line, sizeof(s->log[0]), "t=%.3fs ",
		     (double)ns_from_ticks(s, (s64)s->now) / NSEC_PER_SEC);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(s->log[0]) - n, fmt, ap);
	va_end(ap);
}

static void sim_dump(struct sim *s)
{
	unsigned int i = s->log_n > SIM_LOG ? s->log_n - SIM_LOG : 0;

	if (s->dumped || s->dumps >= 3)
		return;
	s->dumped = true;
	s->dumps++;
	printf("#   the events before it:\n");
	for (; i < s->log_n; i++)
		printf("#     %s\n", s->log[i % SIM_LOG]);
}

static u64 ticks_from_ns(const struct sim *s, s64 ns)
{
	if (!s->ctr->khz)
		return (u64)ns;
	return (u64)((__int128)ns * s->ctr->khz / NSEC_PER_MS);
}

/* The exact nominal duration of a counter span (the engine's is rounded). */
static s64 ns_from_ticks(const struct sim *s, s64 ticks)
{
	if (!s->ctr->khz)
		return ticks;
	return (s64)((__int128)ticks * NSEC_PER_MS / (s64)s->ctr->khz);
}

static u64 sim_nominal_mult(const struct sim_counter *ctr)
{
	if (!ctr->khz)
		return 1ULL << 32;
	return (NSEC_PER_MS << 32) / ctr->khz;
}

static u64 true_phc(const struct sim *s, u64 c)
{
	s64 d = ns_from_ticks(s, (s64)(c - s->c0));

	return s->phc0 + (u64)(d + (s64)((__int128)d * s->freq_ppb /
					  NSEC_PER_SEC));
}

static u64 published(const struct sim *s, u64 c)
{
	return ionclock_mapping_eval(&s->e.map, c);
}

static s64 error_at(const struct sim *s, u64 c)
{
	return (s64)(published(s, c) - true_phc(s, c));
}

static u64 abs64(s64 v)
{
	return v < 0 ? -(u64)v : (u64)v;
}

static void sim_init(struct sim *s, struct unit *u, const struct sim_counter *ctr,
		     const struct ionclock_params *params, s64 freq_ppb,
		     uint64_t seed)
{
	memset(s, 0, sizeof(*s));
	s->u = u;
	s->rng.s = seed;
	s->ctr = ctr;
	ionclock_engine_init(&s->e, sim_nominal_mult(ctr), 32, params);
	/* Counters start wherever boot left them. */
	s->now = ticks_from_ns(s, 123 * NSEC_PER_SEC) + unit_rand(&s->rng) % 1000;
	s->c0 = s->now;
	s->phc0 = PHC_START_NS;
	s->freq_ppb = freq_ppb;
	s->hw_ns = ctr->khz ? 400 : 1200;
	/* A few bracket widths: the fit does better than one reading. */
	s->tolerance_ns = 5 * s->hw_ns;
	s->settle_ns = 10 * NSEC_PER_SEC;
	s->disturbed_at = s->now;
	s->samples_since_disturbed = 0;
	s->budget_ns = 0;
}

/* The PHC changes at the current counter: rebase the model there. */
static void sim_set_phc(struct sim *s, s64 step_ns, s64 freq_ppb)
{
	u64 phc = true_phc(s, s->now);

	s->c0 = s->now;
	s->phc0 = phc + (u64)step_ns;
	s->freq_ppb = freq_ppb;
}

/* From here the error must close: mark a disturbance of the current size. */
static void sim_disturbed(struct sim *s)
{
	s->disturbed_at = s->now;
	s->samples_since_disturbed = 0;
	s->budget_ns = s->e.published ? abs64(error_at(s, s->now)) : 0;
}

static bool sim_steady(const struct sim *s, u64 c)
{
	/* 450000 ppb: 90% of the largest slew, ns of budget per s. */
	s64 need = s->settle_ns +
		   (s64)((__int128)s->budget_ns * NSEC_PER_SEC / 450000);

	return !s->blind &&
	       ns_from_ticks(s, (s64)(c - s->disturbed_at)) >= need;
}

/* A reader at counter @c: never backward; accurate once steady. */
static void sim_read(struct sim *s, u64 c)
{
	u64 t = published(s, c);

	if (!s->e.published)
		return;
	if (!UNIT_EXPECT(s->u, t >= s->last_read,
			 "%s: time went back %llu ns at counter %llu (read %llu)",
			 s->ctr->name, (unsigned long long)(s->last_read - t),
			 (unsigned long long)c, (unsigned long long)s->reads))
		sim_dump(s);
	if (t > s->last_read)
		s->last_read = t;
	s->reads++;
	/* Two windows of samples since the last disturbance. */
	if (s->bound_from_start || (s->check_bound &&
	    s->samples_since_disturbed >= 2 * IONCLOCK_WINDOW)) {
		u64 bound = s->bound.total_ns +
			    (u64)(((__uint128_t)(t - s->e.map.time_base_ns) *
				   s->bound.growth_frac32) >> 32);
		u64 err = abs64(error_at(s, c));

		s->bound_checks++;
		if ((s64)(err - bound) > s->worst_excess_ns ||
		    s->bound_checks == 1)
			s->worst_excess_ns = (s64)(err - bound);
		if (bound > s->widest_bound_ns)
			s->widest_bound_ns = bound;
		if (err > bound && s->flagged_ok && s->degraded)
			s->flagged_outside++;
		else if (err > bound && s->flagged_ok && s->unseen)
			s->unseen_outside++;
		else if (!UNIT_EXPECT(s->u, err <= bound,
				 "%s: truth %lld ns away, outside the bound %llu at t=%.3fs",
				 s->ctr->name, (long long)error_at(s, c),
				 (unsigned long long)bound,
				 (double)ns_from_ticks(s, (s64)c) /
				 NSEC_PER_SEC))
			sim_dump(s);
	}
	if (s->check_accuracy && sim_steady(s, c)) {
		u64 err = abs64(error_at(s, c));

		s->steady_reads++;
		if (err > s->worst_steady_ns)
			s->worst_steady_ns = err;
		if (!UNIT_EXPECT(s->u, (s64)err <= s->tolerance_ns,
				 "%s: steady-state error %lld ns at t=%.3fs",
				 s->ctr->name, (long long)error_at(s, c),
				 (double)ns_from_ticks(s, (s64)c) /
				 NSEC_PER_SEC))
			sim_dump(s);
		else
			s->dumped = false;
	}
}

/*
 * Publish at counter @at, as the sampler does after each sample.  The new
 * mapping starts where the old one stands at @at, or, for a forward step,
 * above it by more than the step threshold.
 */
static void sim_publish(struct sim *s, u64 at)
{
	struct ionclock_bound b;
	bool was = s->e.published;
	u64 before = published(s, at);
	u64 after;

	s->now = at;
	sim_read(s, at);
	ionclock_engine_publish(&s->e, at, &b);
	s->bound = b;
	s->degraded = s->e.bound_degraded;
	s->flagged_publishes += s->degraded;
	s->unseen = false;
	after = published(s, at);
	if (was)
		UNIT_EXPECT(s->u, after == before ||
			    (s->e.params.step_forward &&
			     after > before + s->e.params.step_threshold_ns),
			    "%s: publish at %llu moved the time by %lld ns",
			    s->ctr->name, (unsigned long long)at,
			    (long long)(after - before));
	sim_read(s, at);
}

/* One bracketed PHC reading at the current counter. */
static void sim_sample(struct sim *s, s64 hw_ns)
{
	struct ionclock_sample smp;
	u64 hw = ticks_from_ns(s, hw_ns);
	u64 latch = s->now - hw + unit_rand(&s->rng) % (2 * hw + 1);
	u32 gen = s->e.generation;

	smp.counter = s->now;
	smp.half_width = hw;
	smp.phc_ns = true_phc(s, latch);
	ionclock_engine_add_sample(&s->e, &smp);
	s->samples_since_disturbed++;
	if (s->e.generation != gen)
		sim_log(s, "engine: generation %u, state %d, steps %llu, n %u, error %lld",
			s->e.generation, s->e.state,
			(unsigned long long)s->e.steps_detected, s->e.n,
			(long long)error_at(s, s->now));
}

/* Advance by @dt_ns with readers along the way; sample if asked; publish. */
static void sim_poll(struct sim *s, s64 dt_ns, bool sample)
{
	u64 end = s->now + ticks_from_ns(s, dt_ns), c[4];
	s64 hw_ns = s->hw_ns + unit_range(&s->rng, 0, s->hw_ns / 4);
	int i, j, n = 3;

	for (i = 0; i < n; i++) {
		c[i] = s->now + 1 + unit_rand(&s->rng) % (end - s->now);
		for (j = i; j > 0 && c[j] < c[j - 1]; j--) {
			u64 t = c[j];

			c[j] = c[j - 1];
			c[j - 1] = t;
		}
	}
	for (i = 0; i < n; i++)
		sim_read(s, c[i]);
	s->now = end;
	if (sample) {
		/* A reading that waited on a lock: mostly delay, no news. */
		if (unit_one_in(&s->rng, 50))
			hw_ns = unit_range(&s->rng, 20000, 200000);
		sim_sample(s, hw_ns);
	}
	sim_publish(s, end + ticks_from_ns(s, hw_ns + 300));
}

static void sim_run(struct sim *s, s64 for_ns)
{
	s64 t;

	for (t = 0; t < for_ns; t += POLL_NS)
		sim_poll(s, POLL_NS, true);
}

/* ---- (a) a new mapping starts where the old one stands */

struct continuity_case {
	const char *name;
	const struct sim_counter *ctr;
	s64 freq_ppb;
	s64 step_ns;		/* applied after settling */
	bool step_forward;
	bool lose_phc;		/* holdover instead */
	s64 bad_rate_ppb;	/* the PHC turns implausible */
	s64 idle_ns;		/* no publish for this long before the check */
};

static const struct continuity_case continuity_cases[] = {
	{ "steady tracking, tsc", &tsc_3ghz, 37000, 0, true, false, 0, 0 },
	{ "slewing back from a -100 ms step, tsc", &tsc_3ghz, -120000,
	  -100 * NSEC_PER_MS, true, false, 0, 0 },
	{ "slewing forward 700 us (below the step threshold), monotonic_raw",
	  &mono_raw, 5000, 700 * NSEC_PER_US, true, false, 0, 0 },
	{ "slewing forward 1 s with step_forward off, tsc 2.4GHz",
	  &tsc_2_4ghz, 150000, NSEC_PER_SEC, false, false, 0, 0 },
	{ "holdover after the PHC is lost, tsc", &tsc_3ghz, 199000, 0, true,
	  true, 0, 0 },
	{ "implausible PHC, monotonic_raw", &mono_raw, 0, 0, true, false,
	  1500000000, 0 },
	/* step_forward off: the slew left running for an hour adds up. */
	{ "one hour since the last publish, tsc", &tsc_3ghz, -200000, 0, false,
	  false, 0, 3600 * NSEC_PER_SEC },
};

static void run_continuity(struct unit *u, const struct continuity_case *tc)
{
	struct ionclock_params params = module_defaults;
	struct ionclock_mapping old;
	struct ionclock_bound b;
	unsigned int i, checked = 0;
	struct sim s;
	u64 at;

	params.step_forward = tc->step_forward;
	sim_init(&s, u, tc->ctr, &params, tc->freq_ppb, unit_seed());
	sim_run(&s, 20 * NSEC_PER_SEC);
	if (tc->step_ns || tc->bad_rate_ppb)
		sim_set_phc(&s, tc->step_ns, tc->bad_rate_ppb ?: s.freq_ppb);
	if (tc->lose_phc)
		ionclock_engine_lost(&s.e);

	for (i = 0; i < 30; i++) {
		sim_poll(&s, POLL_NS, !tc->lose_phc);
		old = s.e.map;
		at = s.now + ticks_from_ns(&s, tc->idle_ns ?: 50 * NSEC_PER_MS);
		s.now = at;
		ionclock_engine_publish(&s.e, at, &b);
		checked++;
		UNIT_EXPECT(u, ionclock_mapping_eval(&s.e.map, at) ==
			    ionclock_mapping_eval(&old, at),
			    "%s: poll %u: new map %llu, old map %llu at %llu",
			    tc->name, i,
			    (unsigned long long)ionclock_mapping_eval(&s.e.map, at),
			    (unsigned long long)ionclock_mapping_eval(&old, at),
			    (unsigned long long)at);
		UNIT_EXPECT(u, s.e.map.counter_base == at,
			    "%s: anchored at %llu, published at %llu", tc->name,
			    (unsigned long long)s.e.map.counter_base,
			    (unsigned long long)at);
		UNIT_EXPECT(u, s.e.map.mult > 0, "%s: rate 0", tc->name);
	}
	UNIT_EXPECT(u, checked == 30, "%s", tc->name);
}

static void test_continuity(struct unit *u)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(continuity_cases); i++)
		run_continuity(u, &continuity_cases[i]);
}

/* ---- (b) randomised: never backward, accurate in steady state */

struct property_case {
	const char *name;
	const struct sim_counter *ctr;
	unsigned int polls;
	uint64_t seed_salt;
};

static void run_property(struct unit *u, const struct property_case *pc)
{
	s64 base_ppb, jump_ppb = 0;
	unsigned int i, steps = 0, gaps = 0, jumps = 0, losses = 0;
	u64 steps_before;
	bool had_samples;
	struct sim s;

	sim_init(&s, u, pc->ctr, &module_defaults, 0,
		 unit_seed() ^ pc->seed_salt);
	base_ppb = unit_range(&s.rng, -200000, 200000);
	s.freq_ppb = base_ppb;
	s.check_accuracy = true;
	s.check_bound = true;

	for (i = 0; i < pc->polls; i++) {
		s64 dt = POLL_NS + unit_range(&s.rng, -5, 5) * NSEC_PER_MS;
		s64 freq = s.freq_ppb + unit_range(&s.rng, -2, 2);

		if (unit_one_in(&s.rng, 2000)) {
			/* The servo retunes the PHC. */
			jump_ppb = unit_one_in(&s.rng, 3) ? 0 :
				   unit_range(&s.rng, -500000, 500000);
			freq = base_ppb + jump_ppb;
			jumps++;
			sim_log(&s, "PHC now %lld ppb; error %lld, state %d",
				(long long)freq, (long long)error_at(&s, s.now),
				s.e.state);
			sim_set_phc(&s, 0, freq);
			sim_disturbed(&s);
		}
		if (freq > 700000)
			freq = 700000;
		if (freq < -700000)
			freq = -700000;
		/* The rate wanders; the PHC's past stays as it was. */
		sim_set_phc(&s, 0, freq);

		if (unit_one_in(&s.rng, 2500) || unit_one_in(&s.rng, 25000)) {
			/* Mostly small steps, some up to a second. */
			s64 mag = unit_one_in(&s.rng, 10) ?
				  unit_range(&s.rng, 10 * NSEC_PER_MS,
					     NSEC_PER_SEC) :
				  unit_range(&s.rng, 1, 10000) *
				  unit_range(&s.rng, 1, 1000);
			s64 step = unit_one_in(&s.rng, 2) ? mag : -mag;

			steps++;
			steps_before = s.e.steps_detected;
			had_samples = s.e.samples_taken > 0;
			sim_set_phc(&s, step, s.freq_ppb);
			sim_log(&s, "PHC stepped %lld ns; error %lld, state %d",
				(long long)step, (long long)error_at(&s, s.now),
				s.e.state);
			sim_disturbed(&s);
			/* A rejected sample may delay it by a poll or two. */
			sim_poll(&s, dt, true);
			sim_poll(&s, POLL_NS, true);
			sim_poll(&s, POLL_NS, true);
			/* Before the first sample there is nothing to step from. */
			if (abs64(step) > 2 * module_defaults.step_threshold_ns &&
			    had_samples &&
			    !UNIT_EXPECT(u, s.e.steps_detected > steps_before,
					 "%s: a %lld ns step went unseen",
					 pc->name, (long long)step))
				sim_dump(&s);
			continue;
		}
		if (unit_one_in(&s.rng, 3000)) {
			/* No samples for a while: publishes continue. */
			s64 gap = unit_range(&s.rng, 1, 30) * NSEC_PER_SEC;
			bool lost = unit_one_in(&s.rng, 4);

			if (lost) {
				ionclock_engine_lost(&s.e);
				losses++;
			}
			gaps++;
			sim_log(&s, "no samples for %lld s%s; error %lld",
				(long long)(gap / NSEC_PER_SEC),
				lost ? ", PHC lost" : "",
				(long long)error_at(&s, s.now));
			s.blind = true;
			for (; gap > 0; gap -= POLL_NS)
				sim_poll(&s, POLL_NS, false);
			sim_disturbed(&s);
			s.blind = false;
			sim_poll(&s, dt, true);
			sim_log(&s, "samples again; error %lld, state %d, budget %llu",
				(long long)error_at(&s, s.now), s.e.state,
				(unsigned long long)s.budget_ns);
			continue;
		}
		sim_poll(&s, dt, true);
	}
	printf("# %s: %u polls, %llu reads, %llu steady (worst %llu ns), %u steps (%llu detected), %u freq jumps, %u gaps (%u lost), state %d\n",
	       pc->name, pc->polls, (unsigned long long)s.reads,
	       (unsigned long long)s.steady_reads,
	       (unsigned long long)s.worst_steady_ns, steps,
	       (unsigned long long)s.e.steps_detected, jumps, gaps, losses,
	       s.e.state);
	/* A run that never reached steady state proved nothing. */
	UNIT_EXPECT(u, s.steady_reads > s.reads / 4, "%s: %llu of %llu",
		    pc->name, (unsigned long long)s.steady_reads,
		    (unsigned long long)s.reads);
}

static const struct property_case property_cases[] = {
	{ "tsc 3GHz", &tsc_3ghz, 200000, 0x5a17c0ffee01ULL },
	{ "monotonic_raw", &mono_raw, 200000, 0x3c0ffee0d0dULL },
};

static void test_property(struct unit *u)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(property_cases); i++)
		run_property(u, &property_cases[i]);
}

/* ---- (c) a backward step is slewed away at the largest slew, never stepped */

static void test_backward_step(struct unit *u)
{
	const s64 step = -100 * NSEC_PER_MS;
	u64 steps_before, gen_before, t_step;
	s64 err0, err, elapsed, rate_ppb;
	struct sim s;
	unsigned int i;

	sim_init(&s, u, &tsc_3ghz, &module_defaults, 50000, unit_seed());
	sim_run(&s, 30 * NSEC_PER_SEC);
	UNIT_EXPECT(u, abs64(error_at(&s, s.now)) < 10 * NSEC_PER_US,
		    "settled error %lld", (long long)error_at(&s, s.now));
	steps_before = s.e.steps_detected;
	gen_before = s.e.generation;
	sim_set_phc(&s, step, s.freq_ppb);
	t_step = s.now;
	err0 = error_at(&s, s.now);
	sim_run(&s, 2 * NSEC_PER_SEC);

	UNIT_EXPECT(u, s.e.steps_detected == steps_before + 1,
		    "steps_detected %llu -> %llu",
		    (unsigned long long)steps_before,
		    (unsigned long long)s.e.steps_detected);
	UNIT_EXPECT(u, s.e.generation != gen_before, "generation unchanged");
	UNIT_EXPECT(u, s.e.state == IONCLOCK_ENGINE_TRACKING, "state %d",
		    s.e.state);
	UNIT_EXPECT(u, s.e.offset_ns < 0, "not slewing back: offset %lld",
		    (long long)s.e.offset_ns);

	/* Over the next 100 s the error shrinks at the largest slew. */
	sim_run(&s, 100 * NSEC_PER_SEC);
	err = error_at(&s, s.now);
	elapsed = ns_from_ticks(&s, (s64)(s.now - t_step));
	rate_ppb = (s64)((__int128)(err0 - err) * NSEC_PER_SEC / elapsed);
	UNIT_EXPECT(u, rate_ppb > 490000 && rate_ppb <= 501000,
		    "closed %lld ns in %lld ns: %lld ppb", (long long)(err0 - err),
		    (long long)elapsed, (long long)rate_ppb);
	UNIT_EXPECT(u, err > 0, "closed already after 102 s: %lld",
		    (long long)err);

	/* 200 s at 500 ppm closes 100 ms; then it settles. */
	sim_run(&s, 120 * NSEC_PER_SEC);
	err = error_at(&s, s.now);
	UNIT_EXPECT(u, abs64(err) < 10 * NSEC_PER_US, "error %lld after 222 s",
		    (long long)err);
	for (i = 0; i < 10; i++) {
		sim_poll(&s, POLL_NS, true);
		UNIT_EXPECT(u, s.e.offset_ns > -10000 && s.e.offset_ns < 10000,
			    "offset %lld", (long long)s.e.offset_ns);
	}
	UNIT_EXPECT(u, s.e.steps_detected == steps_before + 1,
		    "more steps: %llu", (unsigned long long)s.e.steps_detected);
}

/* ---- (d) a PHC at 2.5x is not followed */

static void run_implausible(struct unit *u, bool after_tracking)
{
	const s64 bad_ppb = 1500000000;	/* 2.5x */
	u64 c1, t1, c2, t2, ahead;
	s64 expect_ppb, rate_ppb, span;
	unsigned int i, polls = 0;
	struct sim s;

	sim_init(&s, u, &tsc_3ghz, &module_defaults,
		 after_tracking ? 80000 : bad_ppb, unit_seed());
	if (after_tracking) {
		sim_run(&s, 30 * NSEC_PER_SEC);
		UNIT_EXPECT(u, s.e.state == IONCLOCK_ENGINE_TRACKING,
			    "state %d before", s.e.state);
		sim_set_phc(&s, 0, bad_ppb);
	}
	c1 = s.now;
	t1 = published(&s, c1);
	for (i = 0; i < 50 && s.e.state != IONCLOCK_ENGINE_UNRELIABLE; i++) {
		sim_poll(&s, POLL_NS, true);
		polls++;
	}
	UNIT_EXPECT(u, s.e.state == IONCLOCK_ENGINE_UNRELIABLE,
		    "%s: state %d after %u polls", after_tracking ? "late" :
		    "early", s.e.state, polls);
	UNIT_EXPECT(u, polls <= IONCLOCK_MIN_FIT + 1, "%u polls to notice",
		    polls);

	if (after_tracking) {
		/*
		 * Up to the moment it was judged, the published time may take
		 * at most one sample of the bad PHC for a forward step (it
		 * cannot be told from one): 1.5 * POLL_NS, plus slack.
		 */
		ahead = published(&s, s.now) - t1 -
			(u64)ns_from_ticks(&s, (s64)(s.now - c1));
		UNIT_EXPECT(u, ahead < 160 * NSEC_PER_MS,
			    "followed the bad PHC by %llu ns over %u polls",
			    (unsigned long long)ahead, polls);
	}

	c1 = s.now;
	t1 = published(&s, c1);
	sim_run(&s, 60 * NSEC_PER_SEC);
	c2 = s.now;
	t2 = published(&s, c2);
	span = ns_from_ticks(&s, (s64)(c2 - c1));
	rate_ppb = (s64)((__int128)((s64)(t2 - t1) - span) * NSEC_PER_SEC /
			 span);
	/* It runs on the last trusted rate: 80 ppm, or nominal. */
	expect_ppb = after_tracking ? 80000 : 0;
	UNIT_EXPECT(u, abs64(rate_ppb - expect_ppb) < 1000,
		    "%s: published runs %lld ppb from nominal",
		    after_tracking ? "late" : "early", (long long)rate_ppb);
	UNIT_EXPECT(u, s.e.state == IONCLOCK_ENGINE_UNRELIABLE, "state %d",
		    s.e.state);
	UNIT_EXPECT(u, abs64(ionclock_engine_freq_ppb(&s.e) - expect_ppb) < 1000,
		    "trusted freq %lld ppb",
		    (long long)ionclock_engine_freq_ppb(&s.e));
}

static void test_implausible_from_start(struct unit *u)
{
	run_implausible(u, false);
}

static void test_implausible_after_tracking(struct unit *u)
{
	run_implausible(u, true);
}

/*
 * ---- (e) a forward step is applied at once, once confirmed, when
 * step_forward is set.  One sample cannot tell a step from a PHC that now
 * runs at a wrong rate, so the engine neither steps nor slews until
 * IONCLOCK_MIN_FIT samples agree; then the whole step is applied in one go.
 */

static void run_forward_step(struct unit *u, s64 step, bool step_forward,
			     bool expect_jump)
{
	struct ionclock_params params = module_defaults;
	bool is_step = (u64)step > params.step_threshold_ns;
	u64 before, c_before, steps_before;
	s64 err, jump;
	unsigned int i;
	struct sim s;

	params.step_forward = step_forward;
	sim_init(&s, u, &tsc_3ghz, &params, -30000, unit_seed());
	sim_run(&s, 30 * NSEC_PER_SEC);
	steps_before = s.e.steps_detected;
	sim_set_phc(&s, step, s.freq_ppb);
	c_before = s.now;
	before = published(&s, c_before);
	/* While a step is being confirmed: no jump, no slew. */
	for (i = 1; is_step && i < IONCLOCK_MIN_FIT; i++) {
		sim_poll(&s, POLL_NS, true);
		jump = (s64)(published(&s, s.now) - before) -
		       ns_from_ticks(&s, (s64)(s.now - c_before));
		UNIT_EXPECT(u, jump < 10 * NSEC_PER_US,
			    "%lld ns step: moved %lld ns after %u unconfirmed samples",
			    (long long)step, (long long)jump, i);
	}
	/* A sample rejected for its delay may hold confirmation up a little. */
	for (i = 0; i < 4; i++) {
		sim_poll(&s, POLL_NS, true);
		if (!is_step || s.e.n >= IONCLOCK_MIN_FIT)
			break;
	}
	jump = (s64)(published(&s, s.now) - before) -
	       ns_from_ticks(&s, (s64)(s.now - c_before));
	err = error_at(&s, s.now);
	UNIT_EXPECT(u, s.e.steps_detected == steps_before + is_step,
		    "steps_detected %llu",
		    (unsigned long long)s.e.steps_detected);
	if (expect_jump) {
		/*
		 * The fit restarted at the step, so its rate comes from
		 * IONCLOCK_MIN_FIT samples only: tens of us of extrapolation
		 * noise, closed by slewing as the window fills (checked below).
		 */
		UNIT_EXPECT(u, abs64(err) < 50 * NSEC_PER_US,
			    "%lld ns step: error %lld once confirmed",
			    (long long)step, (long long)err);
	} else {
		/* Slewed: at most 500 ppm of the polls plus the fit's noise. */
		UNIT_EXPECT(u, jump < 250 * NSEC_PER_US,
			    "%lld ns step (step_forward %d) jumped %lld",
			    (long long)step, step_forward, (long long)jump);
		UNIT_EXPECT(u, err < 0 && abs64(err) > (u64)step / 2,
			    "%lld ns step (step_forward %d): error %lld",
			    (long long)step, step_forward, (long long)err);
	}
	sim_run(&s, 10 * NSEC_PER_SEC);
	if (expect_jump)
		UNIT_EXPECT(u, abs64(error_at(&s, s.now)) < 10 * NSEC_PER_US,
			    "error %lld later", (long long)error_at(&s, s.now));
}

static void test_forward_step(struct unit *u)
{
	run_forward_step(u, 2 * NSEC_PER_SEC, true, true);
	run_forward_step(u, 5 * NSEC_PER_MS, true, true);
	/* Below the threshold, or with step_forward off: slewed. */
	run_forward_step(u, 800 * NSEC_PER_US, true, false);
	run_forward_step(u, 2 * NSEC_PER_SEC, false, false);
}

/* ---- PHC reads that turn slower for good are taken again */

static void test_slower_reads(struct unit *u)
{
	u64 rejected, err;
	struct sim s;

	sim_init(&s, u, &tsc_3ghz, &module_defaults, 25000, unit_seed());
	s.hw_ns = 300;
	sim_run(&s, 30 * NSEC_PER_SEC);
	/* Now every read takes ten times as long, and the servo retunes. */
	s.hw_ns = 3000;
	s.tolerance_ns = 5 * s.hw_ns;
	sim_set_phc(&s, 0, 45000);
	sim_run(&s, 50 * NSEC_PER_SEC);
	rejected = s.e.samples_rejected;
	sim_run(&s, 10 * NSEC_PER_SEC);
	rejected = s.e.samples_rejected - rejected;
	err = abs64(error_at(&s, s.now));
	UNIT_EXPECT(u, rejected < 50, "%llu of the last 100 samples rejected",
		    (unsigned long long)rejected);
	UNIT_EXPECT(u, (s64)err < s.tolerance_ns,
		    "error %llu ns a minute later, freq %lld ppb (PHC 45000)",
		    (unsigned long long)err,
		    (long long)ionclock_engine_freq_ppb(&s.e));
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
	{ "+30 ppm, tsc", &tsc_3ghz, 30000, 0, 0 },
	{ "-100 ppm, tsc 2.4GHz", &tsc_2_4ghz, -100000, 0, 0 },
	{ "+100 ppm, monotonic_raw", &mono_raw, 100000, 0, 0 },
	{ "-55 ppm, monotonic_raw", &mono_raw, -55000, 0, 0 },
	{ "+50 ppm lost after 1 sample, 10 min", &tsc_3ghz, 50000, 1,
	  600 * NSEC_PER_SEC },
	{ "+50 ppm lost after 2 samples, 10 min", &tsc_3ghz, 50000, 2,
	  600 * NSEC_PER_SEC },
	{ "-50 ppm lost after 3 samples, 10 min", &mono_raw, -50000, 3,
	  600 * NSEC_PER_SEC },
	{ "+80 ppm lost after 3 samples, back after 10 s", &tsc_3ghz, 80000,
	  3, 10 * NSEC_PER_SEC },
};

static void run_startup(struct unit *u, const struct startup_case *tc)
{
	struct sim s;
	unsigned int i;
	s64 t;

	sim_init(&s, u, tc->ctr, &module_defaults, tc->freq_ppb, unit_seed());
	s.bound_from_start = true;
	for (i = 0; tc->samples && i < tc->samples; i++)
		sim_poll(&s, POLL_NS, true);
	if (tc->samples) {
		ionclock_engine_lost(&s.e);
		for (t = 0; t < tc->blind_ns; t += POLL_NS)
			sim_poll(&s, POLL_NS, false);
	}
	sim_run(&s, 30 * NSEC_PER_SEC);
	printf("# %s: %llu checks from the first read, worst truth - bound %lld ns, widest bound %llu ns\n",
	       tc->name, (unsigned long long)s.bound_checks,
	       (long long)s.worst_excess_ns,
	       (unsigned long long)s.widest_bound_ns);
	UNIT_EXPECT(u, s.bound_checks > 1000, "%s: %llu checks", tc->name,
		    (unsigned long long)s.bound_checks);
	UNIT_EXPECT(u, s.e.state == IONCLOCK_ENGINE_TRACKING, "%s: state %d",
		    tc->name, s.e.state);
}

static void test_startup_bound(struct unit *u)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(startup_cases); i++)
		run_startup(u, &startup_cases[i]);
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
	{ "+100 ppm, tsc", &tsc_3ghz, 20000, 100000, 100000 },
	{ "-100 ppm, tsc", &tsc_3ghz, 20000, -100000, 100000 },
	{ "+100 ppm, monotonic_raw", &mono_raw, -40000, 100000, 100000 },
	{ "+10 ppm within the default drift, tsc", &tsc_3ghz, 20000, 10000,
	  15000 },
	{ "+100 ppm beyond the default drift: flagged, tsc", &tsc_3ghz, 20000,
	  100000, 15000 },
	{ "-100 ppm beyond the default drift: flagged, monotonic_raw",
	  &mono_raw, 20000, -100000, 15000 },
};

static void run_jump(struct unit *u, const struct jump_case *tc)
{
	struct ionclock_params params = module_defaults;
	bool within = (u64)abs64(tc->jump_ppb) <= tc->drift_ppb;
	unsigned int i;
	struct sim s;

	params.drift_ppb = tc->drift_ppb;
	sim_init(&s, u, tc->ctr, &params, tc->from_ppb, unit_seed());
	sim_run(&s, 20 * NSEC_PER_SEC);
	UNIT_EXPECT(u, !s.flagged_publishes, "%s: %llu flagged before the jumps",
		    tc->name, (unsigned long long)s.flagged_publishes);
	s.bound_from_start = true;
	s.flagged_ok = !within;
	for (i = 0; i < 4; i++) {
		/* Anywhere inside a poll period. */
		sim_poll(&s, unit_range(&s.rng, 1, POLL_NS - 1), true);
		sim_set_phc(&s, 0, s.freq_ppb + (i % 2 ? -tc->jump_ppb :
						 tc->jump_ppb));
		s.unseen = true;
		sim_run(&s, 5 * NSEC_PER_SEC);
	}
	printf("# jump %s: %llu checks, worst truth - bound %lld ns, widest bound %llu ns; outside: %llu flagged, %llu before a sample showed it; %llu publishes flagged\n",
	       tc->name, (unsigned long long)s.bound_checks,
	       (long long)s.worst_excess_ns,
	       (unsigned long long)s.widest_bound_ns,
	       (unsigned long long)s.flagged_outside,
	       (unsigned long long)s.unseen_outside,
	       (unsigned long long)s.flagged_publishes);
	UNIT_EXPECT(u, s.e.state == IONCLOCK_ENGINE_TRACKING, "%s: state %d",
		    tc->name, s.e.state);
	/* Beyond drift_ppb the page must have said so. */
	if (!within)
		UNIT_EXPECT(u, s.flagged_publishes > 0, "%s: never flagged",
			    tc->name);
	else
		UNIT_EXPECT(u, !s.flagged_publishes,
			    "%s: flagged %llu times within the assumptions",
			    tc->name, (unsigned long long)s.flagged_publishes);
}

static void test_jump_bound(struct unit *u)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(jump_cases); i++)
		run_jump(u, &jump_cases[i]);
}

/*
 * ---- the counter goes back (a TSC reset over suspend): the engine starts
 * again from the first sample after it, the time stays forward and catches
 * up with the PHC, which ran on meanwhile.
 */
static void run_counter_reset(struct unit *u, const struct sim_counter *ctr,
			      bool sample_first)
{
	u64 before, steps, gen, rejected;
	struct sim s;
	u64 truth;

	sim_init(&s, u, ctr, &module_defaults, 42000, unit_seed());
	s.check_bound = true;
	sim_run(&s, 20 * NSEC_PER_SEC);
	before = published(&s, s.now);
	truth = true_phc(&s, s.now);
	steps = s.e.steps_detected;
	gen = s.e.generation;
	/* Suspended for 7 s; the counter resumes from nearly 0. */
	s.now = ticks_from_ns(&s, 5 * NSEC_PER_MS);
	s.c0 = s.now;
	s.phc0 = truth + 7 * NSEC_PER_SEC;
	s.last_read = before;
	sim_disturbed(&s);
	if (sample_first) {
		sim_sample(&s, s.hw_ns);
	} else {
		/* A publish (a config change) before any sample. */
		sim_publish(&s, s.now + ticks_from_ns(&s, 1000));
		sim_sample(&s, s.hw_ns);
	}
	sim_publish(&s, s.now + ticks_from_ns(&s, s.hw_ns + 300));
	rejected = s.e.samples_rejected;
	sim_run(&s, 20 * NSEC_PER_SEC);
	UNIT_EXPECT(u, s.e.generation != gen, "%s: generation unchanged",
		    ctr->name);
	UNIT_EXPECT(u, s.e.samples_rejected - rejected < 20,
		    "%s: %llu of 200 samples rejected after the reset",
		    ctr->name,
		    (unsigned long long)(s.e.samples_rejected - rejected));
	UNIT_EXPECT(u, s.e.steps_detected == steps,
		    "%s: a counter reset counted as a PHC step", ctr->name);
	UNIT_EXPECT(u, s.e.state == IONCLOCK_ENGINE_TRACKING, "%s: state %d",
		    ctr->name, s.e.state);
	UNIT_EXPECT(u, abs64(error_at(&s, s.now)) < 10 * NSEC_PER_US,
		    "%s: error %lld ns 20 s after the reset", ctr->name,
		    (long long)error_at(&s, s.now));
}

static void test_counter_reset(struct unit *u)
{
	run_counter_reset(u, &tsc_3ghz, true);
	run_counter_reset(u, &tsc_3ghz, false);
	run_counter_reset(u, &mono_raw, true);
}

const struct unit_case unit_engine_cases[] = {
	{ "engine: a new mapping starts where the old one stands",
	  test_continuity },
	{ "engine: randomised PHC: never backward, accurate when steady",
	  test_property },
	{ "engine: a backward step is slewed at the largest slew",
	  test_backward_step },
	{ "engine: a 2.5x PHC from the start is not followed",
	  test_implausible_from_start },
	{ "engine: a PHC turning 2.5x is not followed",
	  test_implausible_after_tracking },
	{ "engine: a forward step is applied at once, once confirmed", test_forward_step },
	{ "engine: PHC reads that turn slower for good are taken again",
	  test_slower_reads },
	{ "engine: the bound holds from the first sample, and in early holdover",
	  test_startup_bound },
	{ "engine: the bound covers a PHC frequency jump", test_jump_bound },
	{ "engine: a counter that goes back restarts the engine, time forward",
	  test_counter_reset },
	{ NULL, NULL },
};
