// SPDX-License-Identifier: GPL-2.0
/*
 * Runs every host unit test case.  UNIT_SEED=<n> replays the randomised
 * ones with another seed; UNIT_FILTER=<substring> runs only matching cases.
 */
#include <stdlib.h>
#include <string.h>

#include "unit.h"

uint64_t unit_seed(void)
{
	const char *s = getenv("UNIT_SEED");

	return s && *s ? strtoull(s, NULL, 0) : SIM_SEED;
}

static const struct unit_case *const suites[] = {
	unit_read_cases,
	unit_utc_cases,
	unit_vdso_cases,
	unit_order_cases,
	unit_leap_cases,
	unit_upstream_cases,
	unit_disruption_cases,
	unit_anchor_cases,
};

static unsigned int n, passed, failed;

/* Runs one case: @run(u), or the engine table @sim if it is set. */
static void run_case(const char *name, void (*run)(struct unit *u),
		     const struct sim_test *sim)
{
	const char *filter = getenv("UNIT_FILTER");
	struct unit u = { .name = name };

	if (filter && !strstr(name, filter))
		return;
	fflush(stdout);
	if (sim)
		unit_run_sim(&u, sim);
	else
		run(&u);
	n++;
	if (u.failures) {
		failed++;
		printf("not ok %u %s (%u failed expectations)\n", n, name,
		       u.failures);
	} else {
		passed++;
		printf("ok %u %s\n", n, name);
	}
}

int main(void)
{
	const struct sim_test *const *t;
	const struct unit_case *c;
	unsigned int i;

	printf("TAP version 13\n");
	/* The engine's, shared with KUnit (selftests/sim/engine_cases.c). */
	for (t = sim_engine_tests; *t; t++)
		run_case((*t)->name, NULL, *t);
	for (i = 0; i < ARRAY_SIZE(suites); i++)
		for (c = suites[i]; c->name; c++)
			run_case(c->name, c->run, NULL);
	printf("1..%u\n", n);
	printf("# seed %llu\n", (unsigned long long)unit_seed());
	printf("unit: %u passed, %u failed\n", passed, failed);
	return failed || !n;
}
