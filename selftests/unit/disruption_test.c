// SPDX-License-Identifier: GPL-2.0
/*
 * kmod/disruption.c's judgement of the gap between two looks at the
 * clocks: what a suspend, a stall and a counter jump look like, and what
 * an ordinary late poll must not be taken for.
 */
#include <linux/ionclock.h>

#include "disruption.h"
#include "unit.h"

#define MS	1000000LL
#define S	1000000000LL

struct judge_case {
	const char *what;
	struct ionclock_gap g;
	u64 poll_ns;
	u32 max_freq_ppb;
	u32 want;
};

static const struct judge_case judge_cases[] = {
	{ "an on-time poll", { 100 * MS, 100 * MS, 100 * MS, 100 * MS },
	  100 * MS, 1000000, 0 },
	{ "a poll 1.9 s late", { 2000 * MS, 2000 * MS, 2000 * MS, 2000 * MS },
	  100 * MS, 1000000, 0 },
	{ "a counter 900 ppm fast over 10 s of poll",
	  { 10 * S + 9 * MS, 10 * S, 10 * S, 10 * S }, 10 * S, 1000000, 0 },
	{ "a 10 s poll period, on time", { 10 * S, 10 * S, 10 * S, 10 * S },
	  10 * S, 1000000, 0 },
	{ "a VM stopped for 10 s (all clocks ran on)",
	  { 10 * S, 10 * S, 10 * S, 10 * S }, 100 * MS, 1000000,
	  IONCLOCK_DISRUPTION_STALL },
	{ "the sampler starved for 5 s", { 5 * S, 5 * S, 5 * S, 5 * S },
	  100 * MS, 1000000, IONCLOCK_DISRUPTION_STALL },
	{ "S3 for 30 s, the TSC stopped",
	  { 100 * MS, 100 * MS, 100 * MS, 30 * S + 100 * MS }, 100 * MS,
	  1000000, IONCLOCK_DISRUPTION_SUSPEND },
	{ "S3 for 30 s, the TSC ran on (kernel on another clocksource)",
	  { 30 * S, 100 * MS, 100 * MS, 30 * S + 100 * MS }, 100 * MS,
	  1000000, IONCLOCK_DISRUPTION_SUSPEND |
	  IONCLOCK_DISRUPTION_COUNTER_JUMP },
	{ "the TSC moved 5 ms ahead under the kernel",
	  { 105 * MS, 100 * MS, 100 * MS, 100 * MS }, 100 * MS, 1000000,
	  IONCLOCK_DISRUPTION_COUNTER_JUMP },
	{ "the TSC reset (went back 3 s)",
	  { -3 * S, 100 * MS, 100 * MS, 100 * MS }, 100 * MS, 1000000,
	  IONCLOCK_DISRUPTION_COUNTER_JUMP },
	{ "a counter 1.5 ms off over 100 ms, with max_freq 1000 ppm",
	  { 100 * MS + 1500000, 100 * MS, 100 * MS, 100 * MS }, 100 * MS,
	  1000000, IONCLOCK_DISRUPTION_COUNTER_JUMP },
	{ "a day-long stall does not overflow the rate allowance",
	  { 86400 * S, 86400 * S, 86400 * S, 86400 * S }, 100 * MS,
	  100000000, IONCLOCK_DISRUPTION_STALL },
	{ "a 5 ms hiccup of BOOTTIME is not a suspend",
	  { 100 * MS, 100 * MS, 100 * MS, 105 * MS }, 100 * MS, 1000000, 0 },
};

static void test_judge(struct unit *u)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(judge_cases); i++) {
		const struct judge_case *c = &judge_cases[i];
		u32 got = ionclock_disruption_judge(&c->g, c->poll_ns,
						    c->max_freq_ppb);

		UNIT_EXPECT(u, got == c->want, "%s: 0x%x, want 0x%x", c->what,
			    got, c->want);
	}
}

const struct unit_case unit_disruption_cases[] = {
	{ "disruption: suspend, stall and counter jump told from a late poll",
	  test_judge },
	{ NULL, NULL },
};
