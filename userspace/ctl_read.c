// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl read [count] and unique [count]: tai_ns lines from the page
 * (ionclock_now()) or from read() (ionclock_unique(), unique machine-wide).
 */
#include <inttypes.h>
#include <stdio.h>

#include "ionclock.h"
#include "ionclockctl.h"

static int print_times(struct ctl *ctl, unsigned long count,
		       int (*get)(struct ionclock *, int64_t *))
{
	unsigned long i;
	int64_t t;
	int err;

	for (i = 0; i < count; i++) {
		err = get(ctl->c, &t);
		if (err) {
			fail(ctl->dev, ionclock_strerror(err));
			return 1;
		}
		printf("tai_ns %" PRId64 "\n", t);
	}
	return 0;
}

static int cmd_read(struct ctl *ctl, int argc, char **argv)
{
	return print_times(ctl, count_arg(argc, argv), ionclock_now);
}

static int cmd_unique(struct ctl *ctl, int argc, char **argv)
{
	return print_times(ctl, count_arg(argc, argv), ionclock_unique);
}

const struct command read_command = {
	.name = "read", .args = " [count]",
	.help = "print tai_ns from the page (count times)",
	.check = check_count, .run = cmd_read,
};

const struct command unique_command = {
	.name = "unique", .args = " [count]",
	.help = "print machine-wide unique tai_ns via read()",
	.check = check_count, .run = cmd_unique,
};
