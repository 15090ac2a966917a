/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The engine cases both the host unit tests and KUnit run: one table of
 * cases and one runner per test.  Every case starts with a human name, so
 * KUnit can report it as a parameter; the unit tests run a whole table as
 * one test.
 */
#ifndef IONCLOCK_ENGINE_CASES_H
#define IONCLOCK_ENGINE_CASES_H

#include "phc_sim.h"

struct sim_test {
	const char *name;
	void (*run)(const struct sim_env *env, const void *param);
	const void *cases;
	size_t n_cases;
	size_t case_size;
};

/* The name of case @i of @t. */
static inline const char *sim_case_name(const struct sim_test *t, size_t i)
{
	return *(const char *const *)((const char *)t->cases +
				      i * t->case_size);
}

static inline const void *sim_case(const struct sim_test *t, size_t i)
{
	return (const char *)t->cases + i * t->case_size;
}

/* From the host unit tests. */
extern const struct sim_test sim_test_new_map;
extern const struct sim_test sim_test_property;
extern const struct sim_test sim_test_slewed_back;
extern const struct sim_test sim_test_implausible_start;
extern const struct sim_test sim_test_implausible_late;
extern const struct sim_test sim_test_confirmed_step;
extern const struct sim_test sim_test_slower_reads;
extern const struct sim_test sim_test_startup_bound;
extern const struct sim_test sim_test_jump_bound;
extern const struct sim_test sim_test_counter_reset;
extern const struct sim_test sim_test_disruption;
/* From KUnit. */
extern const struct sim_test sim_test_bound;
extern const struct sim_test sim_test_continuity;
extern const struct sim_test sim_test_sweep;
extern const struct sim_test sim_test_plausibility;
extern const struct sim_test sim_test_forward_step;
extern const struct sim_test sim_test_backward_step;

/* All of them, NULL-terminated. */
extern const struct sim_test *const sim_engine_tests[];

#endif /* IONCLOCK_ENGINE_CASES_H */
