// SPDX-License-Identifier: GPL-2.0
/*
 * The PHC simulator of phc_sim.h, for the host unit tests and KUnit alike.
 */
#ifdef __KERNEL__
#include <linux/stdarg.h>
#else
#include <stdarg.h>
#include <stdio.h>
#endif

#include "phc_sim.h"

const struct sim_counter sim_tsc_3ghz = { "tsc-3GHz", 3000000 };
const struct sim_counter sim_tsc_2_4ghz = { "tsc-2.4GHz", 2400000 };
const struct sim_counter sim_ctr_1ghz = { "counter-1GHz", 1000000 };
const struct sim_counter sim_ctr_25mhz = { "counter-25MHz", 25000 };
const struct sim_counter sim_mono_raw = { "monotonic_raw", 0 };

u64 sim_rand(struct sim_rng *r)
{
	/* splitmix64 */
	u64 z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

s64 sim_range(struct sim_rng *r, s64 lo, s64 hi)
{
	return lo + (s64)(sim_rand(r) % ((u64)(hi - lo) + 1));
}

bool sim_one_in(struct sim_rng *r, u64 n)
{
	return sim_range(r, 0, (s64)n - 1) == 0;
}

u64 sim_mul_div(u64 a, u64 b, u64 c)
{
#ifdef __KERNEL__
	return mul_u64_u64_div_u64(a, b, c);
#else
	return (u64)((__uint128_t)a * b / c);
#endif
}

u64 sim_abs(s64 v)
{
	return v < 0 ? -(u64)v : (u64)v;
}

s64 sim_smul_div(s64 a, s64 b, s64 c)
{
	u64 q = sim_mul_div(sim_abs(a), sim_abs(b), sim_abs(c));

	return (a < 0) ^ (b < 0) ^ (c < 0) ? -(s64)q : (s64)q;
}

const struct ionclock_params sim_module_defaults = {
	.max_slew_ppb = 500000,
	.slew_time_ms = 1000,
	.step_threshold_ns = 1000000,
	.step_forward = true,
	.max_freq_ppb = 1000000,
	.drift_ppb = 15000,
};

u64 sim_nominal_mult(const struct sim_counter *ctr)
{
	if (!ctr->khz)
		return 1ULL << 32;
	return sim_mul_div(SIM_NSEC_PER_MS, 1ULL << 32, ctr->khz);
}

u64 sim_ticks_from_ns(const struct sim *s, s64 ns)
{
	if (!s->ctr->khz)
		return (u64)ns;
	return (u64)sim_smul_div(ns, (s64)s->ctr->khz, SIM_NSEC_PER_MS);
}

/* The exact nominal duration of a counter span (the engine's is rounded). */
s64 sim_ns_from_ticks(const struct sim *s, s64 ticks)
{
	if (!s->ctr->khz)
		return ticks;
	return sim_smul_div(ticks, SIM_NSEC_PER_MS, (s64)s->ctr->khz);
}

/* The true PHC time at counter @c. */
u64 sim_truth(const struct sim *s, u64 c)
{
	s64 d = sim_ns_from_ticks(s, (s64)(c - s->c0));

	return s->phc0 + (u64)(d + sim_smul_div(d, s->freq_ppb,
						 SIM_NSEC_PER_SEC));
}

u64 sim_published(const struct sim *s, u64 c)
{
	return ionclock_mapping_eval(&s->e.map, c);
}

s64 sim_error(const struct sim *s, u64 c)
{
	return (s64)(sim_published(s, c) - sim_truth(s, c));
}

/* The rate of the published mapping against nominal, ppb. */
s64 sim_map_ppb(const struct sim *s)
{
	u64 nom = s->e.nominal_mult;

	return sim_smul_div((s64)(s->e.map.mult - nom), SIM_NSEC_PER_SEC,
			    (s64)nom);
}

/* Seconds of simulated time so far, for messages. */
u64 sim_secs(const struct sim *s)
{
	return (u64)sim_ns_from_ticks(s, (s64)(s->now - s->start)) /
	       SIM_NSEC_PER_SEC;
}

void sim_log(struct sim *s, const char *fmt, ...)
{
	char *line = s->log[s->log_n++ % SIM_LOG];
	u64 ms = (u64)sim_ns_from_ticks(s, (s64)(s->now - s->start)) /
		 SIM_NSEC_PER_MS;
	va_list ap;
	int n;

	n = snprintf(line, SIM_LOG_LINE, "t=%llu.%03llus ",
		     (unsigned long long)(ms / 1000),
		     (unsigned long long)(ms % 1000));
	va_start(ap, fmt);
	vsnprintf(line + n, SIM_LOG_LINE - n, fmt, ap);
	va_end(ap);
}

void sim_dump(struct sim *s)
{
	unsigned int i = s->log_n > SIM_LOG ? s->log_n - SIM_LOG : 0;

	if (s->dumped || !s->log_n)
		return;
	s->dumped = true;
	sim_hook_info(s->env, "the events before it:");
	for (; i < s->log_n; i++)
		sim_hook_info(s->env, "  %s", s->log[i % SIM_LOG]);
}

/* Counts a violation of one kind; the first few are reported. */
#define SIM_VIOLATION(s, count, fmt, ...)				\
	do {								\
		if ((s)->count++ < SIM_REPORTS) {			\
			sim_hook_fail((s)->env, __FILE__, __LINE__,	\
				      "%s: " fmt, (s)->ctr->name,	\
				      ##__VA_ARGS__);			\
			sim_dump(s);					\
		}							\
	} while (0)

struct sim *sim_new(const struct sim_env *env, const struct sim_counter *ctr,
		    const struct ionclock_params *params, s64 freq_ppb,
		    u64 seed)
{
	struct sim *s = sim_hook_zalloc(env, sizeof(*s));

	if (!SIM_EXPECT(env, s, "no memory for the simulation"))
		return NULL;
	s->env = env;
	s->rng.s = seed;
	s->ctr = ctr;
	ionclock_engine_init(&s->e, sim_nominal_mult(ctr), 32, params);
	/* Counters start wherever boot left them. */
	s->now = sim_ticks_from_ns(s, 123 * SIM_NSEC_PER_SEC) +
		 sim_rand(&s->rng) % 1000;
	s->start = s->now;
	s->c0 = s->now;
	s->phc0 = SIM_PHC_START_NS;
	s->freq_ppb = freq_ppb;
	s->jitter = true;
	sim_set_bracket(s, ctr->khz ? 400 : 1200);
	s->settle_ns = 10 * SIM_NSEC_PER_SEC;
	s->disturbed_at = s->now;
	return s;
}

void sim_free(struct sim *s)
{
	if (s)
		sim_hook_free(s->env, s);
}

/*
 * Samples of half-width @hw_ns.  A few bracket widths is as close as the
 * published time must be in steady state: the fit does better than one
 * reading.  (KUnit's copy allowed 100 ns more; the unit tests' copy held
 * the same cases to 5 widths, so that is the tolerance now.)
 */
void sim_set_bracket(struct sim *s, s64 hw_ns)
{
	s->hw_ns = hw_ns;
	s->tolerance_ns = 5 * hw_ns;
}

/* The PHC changes at the current counter: rebase the model there. */
void sim_set_phc(struct sim *s, s64 step_ns, s64 freq_ppb)
{
	u64 phc = sim_truth(s, s->now);

	s->c0 = s->now;
	s->phc0 = phc + (u64)step_ns;
	s->freq_ppb = freq_ppb;
}

/*
 * The PHC just changed beyond what the bound assumes: until a sample a
 * poll later has been published, truth may be outside the bound unseen.
 */
void sim_unseen(struct sim *s)
{
	s->unseen = true;
	s->unseen_until = s->now + sim_ticks_from_ns(s, SIM_POLL_NS);
}

/*
 * From here the error must close: budget what the publisher has to slew.
 * The two copies this replaces disagreed.  The unit tests budgeted the
 * whole error either way, which also waits out a forward step the engine
 * applies at once; KUnit budgeted only a published time ahead of the PHC,
 * which claims accuracy too early for a forward offset that is slewed
 * (below step_threshold_ns, or step_forward off).  Budgeted here is what
 * the policy slews: an error ahead, or one behind that is not stepped.
 */
void sim_disturbed(struct sim *s)
{
	const struct ionclock_params *p = &s->e.params;
	s64 err = s->e.published ? sim_error(s, s->now) : 0;
	bool stepped = err < 0 && p->step_forward &&
		       sim_abs(err) > p->step_threshold_ns;

	s->disturbed_at = s->now;
	s->samples_since_disturbed = 0;
	s->budget_ns = stepped ? 0 : sim_abs(err);
}

/*
 * Steady: settle_ns after the last disturbance plus the time to slew the
 * budget away at 90% of the largest slew.  Both copies assumed the default
 * 500 ppm; this takes the engine's own max_slew_ppb.  settle_ns is the unit
 * tests' 10 s (KUnit's copy waited 15 s: the stricter 10 s holds for both).
 */
static bool sim_steady(const struct sim *s, u64 c)
{
	u64 slew = (u64)s->e.params.max_slew_ppb * 9 / 10;
	s64 need = s->settle_ns +
		   (s64)sim_mul_div(s->budget_ns, SIM_NSEC_PER_SEC, slew);

	return !s->blind &&
	       sim_ns_from_ticks(s, (s64)(c - s->disturbed_at)) >= need;
}

static void sim_check_bound(struct sim *s, u64 c, u64 t)
{
	u64 bound = s->bound.total_ns +
		    sim_mul_div(t - s->e.map.time_base_ns,
				s->bound.growth_frac32, 1ULL << 32);
	s64 err = sim_error(s, c);
	u64 dist = sim_abs(err);

	s->bound_checks++;
	if ((s64)(dist - bound) > s->worst_excess_ns || s->bound_checks == 1)
		s->worst_excess_ns = (s64)(dist - bound);
	if (bound > s->widest_bound_ns)
		s->widest_bound_ns = bound;
	if (dist <= bound)
		return;
	if (s->flagged_ok && s->degraded)
		s->flagged_outside++;
	else if (s->flagged_ok && s->unseen)
		s->unseen_outside++;
	else
		SIM_VIOLATION(s, outside_bound,
			      "truth %lld ns away, outside the bound %llu ns at t=%llu s",
			      (long long)err, (unsigned long long)bound,
			      (unsigned long long)sim_secs(s));
}

/* A reader at counter @c: never backward; within the bound; accurate once steady. */
void sim_read(struct sim *s, u64 c)
{
	u64 t = sim_published(s, c);

	if (!s->e.published)
		return;
	if (t < s->last_read)
		SIM_VIOLATION(s, backward,
			      "time went back %llu ns at counter %llu (read %llu)",
			      (unsigned long long)(s->last_read - t),
			      (unsigned long long)c,
			      (unsigned long long)s->reads);
	else
		s->last_read = t;
	s->reads++;
	if (s->bound_from_start || (s->check_bound &&
	    s->samples_since_disturbed >= 2 * IONCLOCK_WINDOW))
		sim_check_bound(s, c, t);
	if (s->check_accuracy && sim_steady(s, c)) {
		u64 err = sim_abs(sim_error(s, c));

		s->steady_reads++;
		if (err > s->worst_steady_ns)
			s->worst_steady_ns = err;
		if ((s64)err > s->tolerance_ns)
			SIM_VIOLATION(s, steady_errors,
				      "steady-state error %lld ns at t=%llu s",
				      (long long)sim_error(s, c),
				      (unsigned long long)sim_secs(s));
	}
}

/*
 * Publish at counter @at, as the sampler does after each sample.  The new
 * mapping starts where the old one stands at @at, or, for a forward step
 * the policy allows, above it by more than the step threshold; it runs at
 * the estimated PHC rate, give or take a slew.
 */
void sim_publish(struct sim *s, u64 at)
{
	const struct ionclock_params *p = &s->e.params;
	bool was = s->e.published;
	u64 before = sim_published(s, at);
	u64 after;
	s64 rate;

	s->now = at;
	sim_read(s, at);
	ionclock_engine_publish(&s->e, at, &s->bound);
	s->publishes++;
	s->degraded = s->e.bound_degraded;
	s->flagged_publishes += s->degraded;
	if (at >= s->unseen_until)
		s->unseen = false;
	after = sim_published(s, at);
	s->last_jump = was ? (s64)(after - before) : 0;
	if (was && after != before &&
	    !(p->step_forward && after > before + p->step_threshold_ns))
		SIM_VIOLATION(s, discontinuities,
			      "publish at t=%llu s moved the time by %lld ns",
			      (unsigned long long)sim_secs(s),
			      (long long)s->last_jump);
	rate = sim_map_ppb(s) - ionclock_engine_freq_ppb(&s->e);
	if (sim_abs(rate) > p->max_slew_ppb + 2)
		SIM_VIOLATION(s, bad_rate,
			      "mapping runs %lld ppb off the PHC estimate at t=%llu s",
			      (long long)rate, (unsigned long long)sim_secs(s));
	sim_read(s, at);
}

/* One bracketed PHC reading centred at the current counter. */
void sim_sample(struct sim *s, s64 hw_ns)
{
	struct ionclock_sample smp;
	u64 hw = sim_ticks_from_ns(s, hw_ns);
	u64 latch = s->jitter ? s->now - hw + sim_rand(&s->rng) % (2 * hw + 1) :
				s->now;
	u32 gen = s->e.generation;

	smp.counter = s->now;
	smp.half_width = hw;
	smp.phc_ns = sim_truth(s, latch);
	ionclock_engine_add_sample(&s->e, &smp);
	s->samples_since_disturbed++;
	if (s->e.generation != gen)
		sim_log(s, "engine: generation %u, state %d, steps %llu, n %u, error %lld",
			s->e.generation, s->e.state,
			(unsigned long long)s->e.steps_detected, s->e.n,
			(long long)sim_error(s, s->now));
}

/*
 * Advance by @dt_ns with three readers along the way; sample if asked;
 * publish at a counter read after the sample.
 */
void sim_poll(struct sim *s, s64 dt_ns, bool sample)
{
	u64 end = s->now + sim_ticks_from_ns(s, dt_ns), c[3];
	s64 hw_ns = s->hw_ns;
	int i, j, n = ARRAY_SIZE(c);

	if (s->jitter)
		hw_ns += sim_range(&s->rng, 0, s->hw_ns / 4);
	for (i = 0; i < n; i++) {
		c[i] = s->now + 1 + sim_rand(&s->rng) % (end - s->now);
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
		if (s->jitter && sim_one_in(&s->rng, 50))
			hw_ns = sim_range(&s->rng, 20000, 200000);
		sim_sample(s, hw_ns);
	}
	sim_publish(s, end + sim_ticks_from_ns(s, hw_ns + 300));
}

/* Poll periods, with samples, for @for_ns. */
void sim_run(struct sim *s, s64 for_ns)
{
	s64 t;

	for (t = 0; t < for_ns; t += SIM_POLL_NS)
		sim_poll(s, SIM_POLL_NS, true);
}

/* What every engine case ends with. */
void sim_expect_clean(struct sim *s)
{
	SIM_EXPECT(s->env, !s->backward, "%s: %llu reads went back",
		   s->ctr->name, (unsigned long long)s->backward);
	SIM_EXPECT(s->env, !s->discontinuities,
		   "%s: %llu publishes moved the time", s->ctr->name,
		   (unsigned long long)s->discontinuities);
	SIM_EXPECT(s->env, !s->bad_rate,
		   "%s: %llu mappings off the PHC estimate", s->ctr->name,
		   (unsigned long long)s->bad_rate);
	SIM_EXPECT(s->env, !s->outside_bound,
		   "%s: %llu reads outside the bound", s->ctr->name,
		   (unsigned long long)s->outside_bound);
	SIM_EXPECT(s->env, !s->steady_errors,
		   "%s: %llu steady reads off by more than %lld ns",
		   s->ctr->name, (unsigned long long)s->steady_errors,
		   (long long)s->tolerance_ns);
}
