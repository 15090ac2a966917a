/* SPDX-License-Identifier: GPL-2.0 */
/* What ionclockctl's command files share. */
#ifndef IONCLOCKCTL_H
#define IONCLOCKCTL_H

#include <stdbool.h>
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
/* Seconds with up to three decimals into ms in [min_ms, max_ms]; 0 or 2. */
int parse_seconds(const char *ctx, const char *what, const char *s,
		  uint64_t min_ms, uint64_t max_ms, uint64_t *ms);
/* A consistent copy of the page (0 or -EBUSY). */
int page_copy(const struct ionclock_page *p, struct ionclock_page *out);
/* The device's info and a page copy: 0, or 1 after saying why not. */
int device_snapshot(struct ctl *ctl, struct ionclock_info *info,
		    struct ionclock_page *pg);
/* "tracking", "holdover", ... */
const char *state_name(uint32_t state);
/* "ptp", "leap_file", "kernel", "expired_leap_file", "none" */
const char *utc_source_name(uint32_t source);
/* ionclock minus the attached PHC, on TAI: 0, -ENODEV (none) or -errno. */
int phc_offset(struct ionclock *c, const struct ionclock_info *info,
	       const struct ionclock_page *pg, int64_t *off);

/*
 * CLOCK_REALTIME minus ionclock's (smeared) UTC, measured between two
 * ionclock reads; *@half: half the tightest such sandwich, ns.  0, -ENODATA
 * (no TAI - UTC offset on the page) or -errno.
 */
int system_clock_offset(struct ionclock *c, int64_t *off, int64_t *half);

/* ctl_leap.c */
int check_leap(const char *name, int argc, char **argv);
int cmd_leap(struct ctl *ctl, int argc, char **argv);

/* ctl_config.c */
int check_config(const char *name, int argc, char **argv);
int cmd_config(struct ctl *ctl, int argc, char **argv);

/* ctl_watch.c */
int check_watch(const char *name, int argc, char **argv);
int cmd_watch(struct ctl *ctl, int argc, char **argv);
/* [interval [count]] as watch takes them: 0, or 2 after saying why. */
int interval_args(const char *name, int argc, char **argv, uint64_t *ms,
		  uint64_t *count);
/*
 * @tick every @ms on a fixed CLOCK_MONOTONIC grid, @count times (0: until
 * SIGINT or SIGTERM); stops at the first non-zero return, which it returns.
 */
int every_interval(struct ctl *ctl, uint64_t ms, uint64_t count,
		   int (*tick)(struct ctl *ctl, void *arg), void *arg);

/* ctl_record.c */
int check_record(const char *name, int argc, char **argv);
int cmd_record(struct ctl *ctl, int argc, char **argv);

/* ctl_waitsync.c */
int check_waitsync(const char *name, int argc, char **argv);
int cmd_waitsync(struct ctl *ctl, int argc, char **argv);

/* ctl_metrics.c */
int check_prometheus(const char *name, int argc, char **argv);
int cmd_prometheus(struct ctl *ctl, int argc, char **argv);

/* ctl_feed.c */
int check_feed(const char *name, int argc, char **argv);
int cmd_feed(struct ctl *ctl, int argc, char **argv);
/* feed --dry-run talks to ptp4l only: no device. */
bool feed_is_dry_run(int argc, char **argv);
int check_upstream(const char *name, int argc, char **argv);
int cmd_upstream(struct ctl *ctl, int argc, char **argv);

/* ctl_bench.c */
int check_bench(const char *name, int argc, char **argv);
int cmd_bench(struct ctl *ctl, int argc, char **argv);

#endif /* IONCLOCKCTL_H */
