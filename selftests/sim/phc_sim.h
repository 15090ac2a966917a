/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The PHC simulator that drives kmod/engine.c in both the host unit tests
 * (selftests/unit) and KUnit (selftests/kunit), and the engine cases both
 * run (engine_cases.c).  Plain C: in the kernel it uses linux/ types and
 * math64, on the host the types engine.h gives it and __int128.
 *
 * The simulator is the reference model: it knows the true PHC time at
 * every counter value, drives the engine the way the module's sampler does
 * (bracketed sample, add_sample, publish at a counter read after it) and
 * reads the published mapping at counter values in increasing order, as
 * readers anywhere on the machine would.
 *
 * Each framework provides the hooks below (sim_hook_*): how a failed
 * expectation is reported, how a line of information is logged, and how
 * memory is had.
 */
#ifndef IONCLOCK_PHC_SIM_H
#define IONCLOCK_PHC_SIM_H

#ifdef __KERNEL__
#include <linux/kernel.h>
#include <linux/math64.h>
#include <linux/string.h>
#include <linux/types.h>
#else
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#endif

#include "engine.h"

/* The unit build defines __printf() as the kernel does (its Makefile). */
#ifndef __KERNEL__
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#endif

#define SIM_NSEC_PER_SEC	1000000000LL
#define SIM_NSEC_PER_MS		1000000LL
#define SIM_NSEC_PER_US		1000LL
/* 2023-11-14 in TAI ns: PHC times near today's. */
#define SIM_PHC_START_NS	1700000000000000000ULL
#define SIM_POLL_NS		(100 * SIM_NSEC_PER_MS)
#define SIM_LOG			12
#define SIM_LOG_LINE		112
/* Violations of one kind reported in full; all are counted. */
#define SIM_REPORTS		3

/* The seed both suites run with (the unit tests' UNIT_SEED replaces it). */
#define SIM_SEED		20240601

/* Where a case runs: the framework's context, and the seed of the run. */
struct sim_env {
	void *ctx;		/* struct unit * or struct kunit * */
	u64 seed;
};

/* Provided by each framework. */
__printf(4, 5)
void sim_hook_fail(const struct sim_env *env, const char *file, int line,
		   const char *fmt, ...);
__printf(2, 3)
void sim_hook_info(const struct sim_env *env, const char *fmt, ...);
void *sim_hook_zalloc(const struct sim_env *env, size_t size);
void sim_hook_free(const struct sim_env *env, void *p);

/* A failed expectation is reported and the case goes on; true if it held. */
#define SIM_EXPECT(env, cond, fmt, ...)					\
	({								\
		bool __ok = !!(cond);					\
		if (!__ok)						\
			sim_hook_fail(env, __FILE__, __LINE__,		\
				      "expected %s: " fmt, #cond,	\
				      ##__VA_ARGS__);			\
		__ok;							\
	})

/* The counter under the engine, set up as kmod/counter.c does. */
struct sim_counter {
	const char *name;
	u64 khz;		/* counter ticks per ms; 0: ticks are ns */
};

extern const struct sim_counter sim_tsc_3ghz;
extern const struct sim_counter sim_tsc_2_4ghz;
extern const struct sim_counter sim_ctr_1ghz;
extern const struct sim_counter sim_ctr_25mhz;
extern const struct sim_counter sim_mono_raw;

/* A deterministic generator (splitmix64), so a failure replays. */
struct sim_rng {
	u64 s;
};

u64 sim_rand(struct sim_rng *r);
/* Uniform in [lo, hi]. */
s64 sim_range(struct sim_rng *r, s64 lo, s64 hi);
/* True with probability 1 / n. */
bool sim_one_in(struct sim_rng *r, u64 n);

/* Arithmetic both builds can do: a * b / c without overflow, and |v|. */
u64 sim_mul_div(u64 a, u64 b, u64 c);
s64 sim_smul_div(s64 a, s64 b, s64 c);
u64 sim_abs(s64 v);

/* The module's default policies (kmod/main.c), as the engine sees them. */
extern const struct ionclock_params sim_module_defaults;
u64 sim_nominal_mult(const struct sim_counter *ctr);

struct sim {
	const struct sim_env *env;
	struct sim_rng rng;
	const struct sim_counter *ctr;
	struct ionclock_engine e;
	struct ionclock_bound bound;	/* of the last publication */
	u64 start;		/* counter at the start */
	u64 now;		/* counter: where the simulation stands */

	/* The true PHC: phc0 at counter c0, freq_ppb fast against nominal. */
	u64 c0;
	u64 phc0;
	s64 freq_ppb;

	/*
	 * Sampling noise.  With jitter, the best of the sampler's reads has
	 * a bracket half-width of hw_ns, up to a quarter more, the PHC
	 * latched anywhere inside it, and one reading in 50 waited on a lock
	 * (mostly delay, no news).  Without, every bracket is hw_ns and the
	 * PHC latched in its middle.
	 */
	s64 hw_ns;
	bool jitter;

	/* What readers and publications saw. */
	u64 last_read;
	u64 reads;
	u64 publishes;
	s64 last_jump;		/* what the last publish moved the time by */
	u64 backward;
	u64 discontinuities;
	u64 bad_rate;

	/* Accuracy, once steady after the last disturbance (sim_steady()). */
	bool check_accuracy;
	bool blind;		/* no samples: the engine cannot know */
	s64 tolerance_ns;
	s64 settle_ns;
	u64 disturbed_at;
	u64 budget_ns;
	u64 steady_reads;
	u64 steady_errors;
	u64 worst_steady_ns;

	/*
	 * The truth against the bound of the last publication.  With
	 * check_bound, once the engine has had two windows of samples since
	 * the last disturbance (steps and frequency jumps are outside the
	 * bound's assumptions until it has seen them), also through later
	 * gaps with no samples; with bound_from_start, at every read.
	 */
	bool check_bound;
	bool bound_from_start;
	unsigned int samples_since_disturbed;
	u64 bound_checks;
	u64 outside_bound;
	/* The worst of (truth's distance - bound), and the widest bound. */
	s64 worst_excess_ns;
	u64 widest_bound_ns;
	/*
	 * With flagged_ok, a read outside the bound passes if the page says
	 * BOUND_DEGRADED (flagged), or if no publish has followed a sample
	 * taken a poll after the PHC changed beyond the bound's assumptions
	 * (unseen, until unseen_until): both are counted.
	 */
	bool flagged_ok;
	bool unseen;
	u64 unseen_until;
	bool degraded;		/* the page's BOUND_DEGRADED, as published */
	u64 flagged_outside;
	u64 unseen_outside;
	u64 flagged_publishes;

	/* The last few things that happened, dumped on the first failure. */
	char log[SIM_LOG][SIM_LOG_LINE];
	unsigned int log_n;
	bool dumped;
};

struct sim *sim_new(const struct sim_env *env, const struct sim_counter *ctr,
		    const struct ionclock_params *params, s64 freq_ppb,
		    u64 seed);
void sim_free(struct sim *s);
void sim_set_bracket(struct sim *s, s64 hw_ns);

u64 sim_ticks_from_ns(const struct sim *s, s64 ns);
s64 sim_ns_from_ticks(const struct sim *s, s64 ticks);
u64 sim_truth(const struct sim *s, u64 c);
u64 sim_published(const struct sim *s, u64 c);
s64 sim_error(const struct sim *s, u64 c);
s64 sim_map_ppb(const struct sim *s);
u64 sim_secs(const struct sim *s);

__printf(2, 3)
void sim_log(struct sim *s, const char *fmt, ...);
void sim_dump(struct sim *s);
void sim_set_phc(struct sim *s, s64 step_ns, s64 freq_ppb);
void sim_unseen(struct sim *s);
void sim_disturbed(struct sim *s);
void sim_read(struct sim *s, u64 c);
void sim_publish(struct sim *s, u64 at);
void sim_sample(struct sim *s, s64 hw_ns);
void sim_poll(struct sim *s, s64 dt_ns, bool sample);
void sim_run(struct sim *s, s64 for_ns);
void sim_expect_clean(struct sim *s);

#endif /* IONCLOCK_PHC_SIM_H */
