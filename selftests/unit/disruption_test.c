// SPDX-License-Identifier: GPL-2.0
/*
 * kmod/disruption.c's judgement of the gap between two looks at the
 * clocks: what a suspend, a stall and a counter jump look like, and what
 * an ordinary late poll must not be taken for.
 */
#include <string.h>

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

/* Two looks at a vmclock page, and whether they make a disruption. */
struct vmclock_case {
	const char *what;
	struct ionclock_vmclock_look last, now;
	bool want;
};

#define GEN	IONCLOCK_VMCLOCK_F_GENERATION_PRESENT

static const struct vmclock_case vmclock_cases[] = {
	{ "nothing moved", { true, 0, 0, 7, 0, 0, 0 }, { true, 0, 0, 7, 0, 0, 0 }, false },
	{ "the marker moved (QEMU's restore: +1)", { true, 0, 0, 7, 0, 0, 0 },
	  { true, 0, 0, 8, 0, 0, 0 }, true },
	{ "the marker went to another value, not +1", { true, 0, 0, 7, 0, 0, 0 },
	  { true, 0, 0, 3, 0, 0, 0 }, true },
	{ "the generation moved, the marker not", { true, 0, GEN, 7, 1, 0, 0 },
	  { true, 0, GEN, 7, 2, 0, 0 }, true },
	{ "a generation without the present flag is not looked at",
	  { true, 0, 0, 7, 1, 0, 0 }, { true, 0, 0, 7, 2, 0, 0 }, false },
	{ "the status and flags changed, nothing else",
	  { true, IONCLOCK_VMCLOCK_STATUS_SYNCHRONIZED, 0, 7, 0, 0, 0 },
	  { true, IONCLOCK_VMCLOCK_STATUS_FREERUNNING,
	    IONCLOCK_VMCLOCK_F_DISRUPTION_IMMINENT, 7, 0, 0, 0 }, false },
	{ "the first look only records", { false, 0, 0, 0, 0, 0, 0 },
	  { true, 0, 0, 9, 0, 0, 0 }, false },
	{ "a look that did not settle says nothing", { true, 0, 0, 7, 0, 0, 0 },
	  { false, 0, 0, 0, 0, 0, 0 }, false },
};

static void test_vmclock(struct unit *u)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(vmclock_cases); i++) {
		const struct vmclock_case *c = &vmclock_cases[i];
		bool got = ionclock_vmclock_disrupted(&c->last, &c->now);

		UNIT_EXPECT(u, got == c->want, "%s: %d, want %d", c->what, got,
			    c->want);
	}
}

/* The page carries the last look only while the vmclock is followed. */
static void test_vmclock_page(struct unit *u)
{
	struct ionclock_vmclock_look v = {
		true, IONCLOCK_VMCLOCK_STATUS_SYNCHRONIZED,
		IONCLOCK_VMCLOCK_F_DISRUPTION_SOON |
		IONCLOCK_VMCLOCK_F_MAXERROR_VALID | GEN, 42, 3, 1500, 700,
	};
	struct ionclock_page p;

	memset(&p, 0xa5, sizeof(p));
	ionclock_page_fill_vmclock(&p, IONCLOCK_VMCLOCK_FOLLOWED, &v);
	UNIT_EXPECT(u, p.vmclock_state == IONCLOCK_VMCLOCK_FOLLOWED &&
		    p.vmclock_status == IONCLOCK_VMCLOCK_STATUS_SYNCHRONIZED &&
		    p.vmclock_flags == v.flags &&
		    p.vmclock_disruption_marker == 42 &&
		    p.vmclock_generation == 3 && p.vmclock_maxerror_ns == 1500 &&
		    p.vmclock_esterror_ns == 700,
		    "followed: state %u status %u flags 0x%x marker %llu",
		    p.vmclock_state, p.vmclock_status, p.vmclock_flags,
		    (unsigned long long)p.vmclock_disruption_marker);
	ionclock_page_fill_vmclock(&p, IONCLOCK_VMCLOCK_ABSENT, &v);
	UNIT_EXPECT(u, p.vmclock_state == IONCLOCK_VMCLOCK_ABSENT &&
		    !p.vmclock_status && !p.vmclock_flags &&
		    !p.vmclock_disruption_marker && !p.vmclock_generation &&
		    !p.vmclock_maxerror_ns && !p.vmclock_esterror_ns,
		    "absent: the fields are not cleared");
}

const struct unit_case unit_disruption_cases[] = {
	{ "disruption: suspend, stall and counter jump told from a late poll",
	  test_judge },
	{ "disruption: the vmclock's marker and generation", test_vmclock },
	{ "disruption: the vmclock fields of the page", test_vmclock_page },
	{ NULL, NULL },
};
