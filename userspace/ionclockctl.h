/* SPDX-License-Identifier: GPL-2.0 */
/* What ionclockctl's command files share. */
#ifndef IONCLOCKCTL_H
#define IONCLOCKCTL_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <linux/ionclock.h>
#include <linux/ionclock_names.h>

#include "ionclock.h"

#define PROG		"ionclockctl"
#define NSEC_PER_SEC	1000000000LL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

struct ctl {
	const char *dev;
	struct ionclock *c;	/* opened before the first command needing it */
};

/**
 * struct command - one subcommand, defined in its own file
 * @name: the word that names it on the command line
 * @args: its arguments for the help, after the name (NULL: none)
 * @help: one line for the help
 * @needs_device: whether an invocation with these words opens the device
 *	(leap check and feed --dry-run do not); NULL: it always does
 * @check: validates the words up to the next command before anything runs:
 *	0, or 2 after saying why
 * @run: 0, or 1 after saying why
 */
struct command {
	const char *name;
	const char *args;
	const char *help;
	bool (*needs_device)(int argc, char **argv);
	int (*check)(const char *name, int argc, char **argv);
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

extern const struct command status_command;	/* ctl_status.c */
extern const struct command read_command;	/* ctl_read.c */
extern const struct command unique_command;	/* ctl_read.c */
extern const struct command id_command;		/* ctl_id.c */
extern const struct command waitsync_command;	/* ctl_waitsync.c */
extern const struct command leap_command;	/* ctl_leap.c */
extern const struct command config_command;	/* ctl_config.c */
extern const struct command watch_command;	/* ctl_watch.c */
extern const struct command prometheus_command;	/* ctl_metrics.c */
extern const struct command record_command;	/* ctl_record.c */
extern const struct command feed_command;	/* ctl_feed.c */
extern const struct command upstream_command;	/* ctl_feed.c */
extern const struct command bench_command;	/* ctl_bench.c */

/* "ionclockctl: <context>: <reason>" on stderr. */
void fail(const char *context, const char *reason);
/* 0, or 2 after saying whether @s is malformed or out of [lo, hi]. */
int parse_u64(const char *ctx, const char *what, const char *s, uint64_t lo,
	      uint64_t hi, uint64_t *out);
/* Seconds with up to three decimals into ms in [min_ms, max_ms]; 0 or 2. */
int parse_seconds(const char *ctx, const char *what, const char *s,
		  uint64_t min_ms, uint64_t max_ms, uint64_t *ms);
/* No arguments / at most a count (1 .. 10^6): 0, or 2 after saying why. */
int check_none(const char *name, int argc, char **argv);
int check_count(const char *name, int argc, char **argv);
/* The count check_count() accepted, 1 without one. */
unsigned long count_arg(int argc, char **argv);
/* A consistent copy of the page: 0, or 1 after saying why not. */
int page_snapshot(struct ctl *ctl, struct ionclock_page *pg);
/* IONCLOCK_DISRUPTION_* as "suspend,stall,...", or "-" for none. */
void disruption_causes(uint32_t cause, char *buf, size_t size);
/* The device's info and a page copy: 0, or 1 after saying why not. */
int device_snapshot(struct ctl *ctl, struct ionclock_info *info,
		    struct ionclock_page *pg);
/* ionclock minus the attached PHC, on TAI: 0, -ENODEV (none) or -errno. */
int phc_offset(struct ionclock *c, const struct ionclock_info *info,
	       const struct ionclock_page *pg, int64_t *off);

/*
 * ionclock on @clock (IONCLOCK_TAI or IONCLOCK_UTC) minus @clk plus
 * @clk_to_tai_ns, from the tightest of a few sandwiches; *@half, if not
 * NULL, half that sandwich's width, ns.  0 or a negative errno.
 */
int offset_to(struct ionclock *c, int clock, clockid_t clk,
	      int64_t clk_to_tai_ns, int64_t *off, int64_t *half);

/*
 * CLOCK_REALTIME minus ionclock's (smeared) UTC, measured between two
 * ionclock reads; *@half: half the tightest such sandwich, ns.  0, -ENODATA
 * (no TAI - UTC offset on the page) or -errno.
 */
int system_clock_offset(struct ionclock *c, int64_t *off, int64_t *half);

/* ctl_watch.c */
/* [interval [count]] as watch takes them: 0, or 2 after saying why. */
int interval_args(const char *name, int argc, char **argv, uint64_t *ms,
		  uint64_t *count);
/*
 * @tick every @ms on a fixed CLOCK_MONOTONIC grid, @count times (0: until
 * SIGINT or SIGTERM); stops at the first non-zero return, which it returns.
 */
int every_interval(struct ctl *ctl, uint64_t ms, uint64_t count,
		   int (*tick)(struct ctl *ctl, void *arg), void *arg);

#endif /* IONCLOCKCTL_H */
