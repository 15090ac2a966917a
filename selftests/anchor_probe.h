/* SPDX-License-Identifier: GPL-2.0 */
/*
 * How far ahead the module must anchor a new mapping (IONCLOCK_ANCHOR_AHEAD_NS
 * in kmod/engine.h), measured: a writer thread rewrites a private page with
 * the module's write sequence as fast as it can, each mapping's base being
 * the counter read just after the count went odd, while a reader on the
 * other CPU reads it through libionclock's own read loop.  A read that was
 * accepted with one mapping but whose counter is later than the next
 * update's start is one the anchor must cover: the anchor is safe while it
 * is longer than the largest such lead.
 */
#ifndef IONCLOCK_ANCHOR_PROBE_H
#define IONCLOCK_ANCHOR_PROBE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

/**
 * struct anchor_probe - what one run saw
 * @updates: mappings the writer published
 * @reads: reads the reader's loop accepted
 * @late_reads: mappings read at a counter past the next update's start
 * @lead_ns: the largest such lead (0 if none)
 * @behind_ns: how far a reader's counter was seen behind the base of the
 *	mapping it read (the other CPU's counter a hair slow; the mapping
 *	counts it as the base)
 */
struct anchor_probe {
	uint64_t updates;
	uint64_t reads;
	uint64_t late_reads;
	uint64_t lead_ns;
	uint64_t behind_ns;
};

/*
 * Runs the probe for @ms milliseconds on @counter_id (IONCLOCK_COUNTER_*),
 * the writer pinned to CPU 0 and the reader to CPU 1.  Returns 0, or a
 * negative errno when it could not run (no memory, one CPU only).
 */
int anchor_probe_run(unsigned int ms, uint8_t counter_id,
		     struct anchor_probe *out);

/*
 * Whether @counter_id can be read here as the module would: the TSC only
 * while it is the kernel's clocksource.
 */
bool anchor_probe_counter_usable(uint8_t counter_id);

/* One "anchor-need: ..." line for @r on @counter_id, after @prefix. */
void anchor_probe_print(FILE *f, const char *prefix, uint8_t counter_id,
			const struct anchor_probe *r);

#endif /* IONCLOCK_ANCHOR_PROBE_H */
