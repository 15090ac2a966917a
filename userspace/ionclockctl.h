/* SPDX-License-Identifier: GPL-2.0 */
/* What ionclockctl's command files share. */
#ifndef IONCLOCKCTL_H
#define IONCLOCKCTL_H

#include <stdint.h>
#include <linux/ionclock.h>

#include "ionclock.h"

#define PROG		"ionclockctl"
#define NSEC_PER_SEC	1000000000LL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct ctl {
	const char *dev;
	struct ionclock *c;	/* opened before the first command needing it */
};

/* "ionclockctl: <context>: <reason>" on stderr. */
void fail(const char *context, const char *reason);
/* 0, or 2 after saying whether @s is malformed or out of [lo, hi]. */
int parse_u64(const char *ctx, const char *what, const char *s, uint64_t lo,
	      uint64_t hi, uint64_t *out);
/* A consistent copy of the page (0 or -EBUSY). */
int page_copy(const struct ionclock_page *p, struct ionclock_page *out);

/* ctl_leap.c */
int check_leap(const char *name, int argc, char **argv);
int cmd_leap(struct ctl *ctl, int argc, char **argv);

/* ctl_config.c */
int check_config(const char *name, int argc, char **argv);
int cmd_config(struct ctl *ctl, int argc, char **argv);

#endif /* IONCLOCKCTL_H */
