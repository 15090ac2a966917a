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

	return s && *s ? strtoull(s, NULL, 0) : 20240601;
}

static const struct unit_case *const suites[] = {
	unit_engine_cases,
	unit_read_cases,
	unit_utc_cases,
	unit_vdso_cases,
	unit_order_cases,
	unit_leap_cases,
	unit_upstream_cases,
};

int main(void)
{
	const char *filter = getenv("UNIT_FILTER");
	unsigned int i, n = 0, passed = 0, failed = 0;
	const struct unit_case *c;

	printf("TAP version 13\n");
	for (i = 0; i < ARRAY_SIZE(suites); i++) {
		for (c = suites[i]; c->name; c++) {
			struct unit u = { .name = c->name };

			if (filter && !strstr(c->name, filter))
				continue;
			fflush(stdout);
			c->run(&u);
			n++;
			if (u.failures) {
				failed++;
				printf("not ok %u %s (%u failed expectations)\n",
				       n, c->name, u.failures);
			} else {
				passed++;
				printf("ok %u %s\n", n, c->name);
			}
		}
	}
	printf("1..%u\n", n);
	printf("# seed %llu\n", (unsigned long long)unit_seed());
	printf("unit: %u passed, %u failed\n", passed, failed);
	return failed || !n;
}
