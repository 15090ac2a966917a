/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The hop between the clock ptp4l disciplines and the PHC ionclock reads.
 */
#ifndef IONCLOCK_PHC_HOP_H
#define IONCLOCK_PHC_HOP_H

#include <stddef.h>
#include <stdint.h>

int phc_hop_ns(int phc_index, int64_t expected_ns, uint64_t *hop_ns,
	       char *why, size_t len);

#endif /* IONCLOCK_PHC_HOP_H */
