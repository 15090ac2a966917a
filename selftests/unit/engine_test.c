// SPDX-License-Identifier: GPL-2.0
/*
 * The time engine (kmod/engine.c) against the simulated PHC: the cases and
 * the simulator are selftests/sim/, shared with KUnit.  Here only the
 * hooks they report through, and one unit test per table of cases.
 */
#include <stdarg.h>
#include <stdlib.h>

#include "engine_cases.h"
#include "unit.h"

void sim_hook_fail(const struct sim_env *env, const char *file, int line,
		   const char *fmt, ...)
{
	struct unit *u = env->ctx;
	va_list ap;

	if (u->failures++ >= UNIT_MAX_REPORTS)
		return;
	printf("#   %s:%d: %s: ", file, line, u->name);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void sim_hook_info(const struct sim_env *env, const char *fmt, ...)
{
	va_list ap;

	(void)env;
	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	printf("\n");
}

void *sim_hook_zalloc(const struct sim_env *env, size_t size)
{
	(void)env;
	return calloc(1, size);
}

void sim_hook_free(const struct sim_env *env, void *p)
{
	(void)env;
	free(p);
}

void unit_run_sim(struct unit *u, const struct sim_test *t)
{
	struct sim_env env = { .ctx = u, .seed = unit_seed() };
	size_t i;

	for (i = 0; i < t->n_cases; i++)
		t->run(&env, sim_case(t, i));
}
