// SPDX-License-Identifier: GPL-2.0
/*
 * The anchor's safety on this CPU: readers racing a writer through the
 * library's own read loop (selftests/anchor_probe.c) must never hold a
 * mapping at a counter further past the next update's start than the
 * module anchors that update ahead (IONCLOCK_ANCHOR_AHEAD_NS).  The
 * figure printed is the largest lead seen: what the anchor needs here.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "anchor_probe.h"
#include "internal.h"
#include "unit.h"

/* Long enough for millions of racing reads, short for make check. */
#define ANCHOR_PROBE_MS		1500

static void probe_counter(struct unit *u, uint8_t counter_id)
{
	struct anchor_probe r;
	int err = anchor_probe_run(ANCHOR_PROBE_MS, counter_id, &r);

	if (err == -ENODEV) {
		printf("# anchor probe: one CPU only, nothing to race\n");
		return;
	}
	UNIT_EXPECT(u, err == 0, "anchor_probe_run: %d", err);
	anchor_probe_print(stdout, "# ", counter_id, &r);
	/* A race that never happened proves nothing: it must have run. */
	UNIT_EXPECT(u, r.updates > 10000 && r.reads > 10000,
		    "%llu updates, %llu reads", (unsigned long long)r.updates,
		    (unsigned long long)r.reads);
	UNIT_EXPECT(u, r.lead_ns < IONCLOCK_ANCHOR_AHEAD_NS,
		    "a reader held a mapping %llu ns past the next one's start",
		    (unsigned long long)r.lead_ns);
}

static void test_anchor_tsc(struct unit *u)
{
	if (!anchor_probe_counter_usable(IONCLOCK_COUNTER_TSC)) {
		printf("# anchor probe: the TSC is not the clocksource here\n");
		return;
	}
	probe_counter(u, IONCLOCK_COUNTER_TSC);
}

static void test_anchor_monotonic_raw(struct unit *u)
{
	probe_counter(u, IONCLOCK_COUNTER_MONOTONIC_RAW);
}

const struct unit_case unit_anchor_cases[] = {
	{ "anchor covers readers racing a writer (TSC)", test_anchor_tsc },
	{ "anchor covers readers racing a writer (MONOTONIC_RAW)",
	  test_anchor_monotonic_raw },
	{ NULL, NULL },
};
