/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A small host test harness: each case is a function with a human name; a
 * failed expectation marks the case failed, says where and why, and lets
 * the case go on so one run shows every broken property.  Output is TAP,
 * then one line "unit: N passed, N failed".
 */
#ifndef IONCLOCK_UNIT_H
#define IONCLOCK_UNIT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "engine.h"
#include "engine_cases.h"

struct unit {
	const char *name;
	unsigned int failures;
};

struct unit_case {
	const char *name;
	void (*run)(struct unit *u);
};

/* Runs a table of the engine cases shared with KUnit (selftests/sim/). */
void unit_run_sim(struct unit *u, const struct sim_test *t);

/* The module's default policies (kmod/main.c), as the engine sees them. */
#define module_defaults		sim_module_defaults

/* Stops a case after this many failed expectations (the rest is noise). */
#define UNIT_MAX_REPORTS	10

#define UNIT_EXPECT(u, cond, fmt, ...)					\
	({								\
		bool __ok = (cond);					\
		if (!__ok && (u)->failures++ < UNIT_MAX_REPORTS)	\
			printf("#   %s:%d: %s: expected %s: " fmt "\n",	\
			       __FILE__, __LINE__, (u)->name, #cond,	\
			       ##__VA_ARGS__);				\
		__ok;							\
	})

/* The cases of each test file; NULL-terminated. */
extern const struct unit_case unit_read_cases[];
extern const struct unit_case unit_utc_cases[];
extern const struct unit_case unit_vdso_cases[];
extern const struct unit_case unit_order_cases[];
extern const struct unit_case unit_leap_cases[];
extern const struct unit_case unit_upstream_cases[];
extern const struct unit_case unit_disruption_cases[];
extern const struct unit_case unit_anchor_cases[];

/* A deterministic generator, so a failure replays (seed from UNIT_SEED). */
struct unit_rng {
	uint64_t s;
};

static inline uint64_t unit_rand(struct unit_rng *r)
{
	/* splitmix64 */
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static inline int64_t unit_range(struct unit_rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(unit_rand(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability 1 / n. */
static inline bool unit_one_in(struct unit_rng *r, uint64_t n)
{
	return unit_rand(r) % n == 0;
}

uint64_t unit_seed(void);

#endif /* IONCLOCK_UNIT_H */
