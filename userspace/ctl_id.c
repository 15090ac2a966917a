// SPDX-License-Identifier: GPL-2.0
/* ionclockctl id [count]: ordered, machine-wide unique 64-bit IDs. */
#include <inttypes.h>
#include <stdio.h>

#include "ionclock.h"
#include "ionclockctl.h"

/* The first request fails, before anything is printed, with no machine id. */
static int cmd_id(struct ctl *ctl, int argc, char **argv)
{
	uint64_t ids[IONCLOCK_ID_MAX_COUNT];
	unsigned long count = count_arg(argc, argv), n, i;
	int err;

	while (count) {
		n = count < ARRAY_SIZE(ids) ? count : ARRAY_SIZE(ids);
		err = ionclock_ids(ctl->c, ids, n);
		if (err) {
			fail(ctl->dev, ionclock_strerror(err));
			return 1;
		}
		for (i = 0; i < n; i++)
			printf("id %" PRIu64 "\n", ids[i]);
		count -= n;
	}
	return 0;
}

const struct command id_command = {
	.name = "id", .args = " [count]",
	.help = "print ordered, machine-wide unique 64-bit IDs (needs a machine_id)",
	.check = check_count, .run = cmd_id,
};
