// SPDX-License-Identifier: GPL-2.0
/*
 * What ionclockctl's commands share: number parsing with distinct messages
 * for malformed and out-of-range words, the names of the page's values,
 * the device's snapshot and the offsets to other clocks.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ionclock.h"
#include "ionclockctl.h"

#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)
#define MAX_COUNT		1000000UL
/* Reads around each reference clock read; the tightest pair is kept. */
#define OFFSET_TRIES		5

void fail(const char *context, const char *reason)
{
	fprintf(stderr, PROG ": %s: %s\n", context, reason);
}

/*
 * Parse an unsigned decimal in [lo, hi].  Returns 0, or 2 after saying
 * whether @s is malformed or out of range.
 */
int parse_u64(const char *ctx, const char *what, const char *s,
	      uint64_t lo, uint64_t hi, uint64_t *out)
{
	char msg[160];
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (*s < '0' || *s > '9' || *end) {
		snprintf(msg, sizeof(msg), "'%s' is not a number (%s)", s,
			 what);
		fail(ctx, msg);
		return 2;
	}
	if (errno == ERANGE || v < lo || v > hi) {
		snprintf(msg, sizeof(msg),
			 "%s '%s' out of range %" PRIu64 "..%" PRIu64, what, s,
			 lo, hi);
		fail(ctx, msg);
		return 2;
	}
	*out = v;
	return 0;
}

/*
 * Seconds with up to three decimals ("2", "0.5", "0.25") into ms.
 * Returns 0, or 2 after saying whether @s is malformed or out of range.
 */
int parse_seconds(const char *ctx, const char *what, const char *s,
		  uint64_t min_ms, uint64_t max_ms, uint64_t *ms)
{
	uint64_t whole = 0, frac = 0, scale = 100;
	const char *p = s;
	char msg[160];
	bool big = false;

	if (*p < '0' || *p > '9')
		goto malformed;
	for (; *p >= '0' && *p <= '9'; p++) {
		whole = whole * 10 + (uint64_t)(*p - '0');
		if (whole > max_ms) {
			big = true;
			whole = max_ms;
		}
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			goto malformed;
		for (; *p >= '0' && *p <= '9'; p++) {
			if (!scale)
				goto malformed;	/* finer than a millisecond */
			frac += (uint64_t)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p)
		goto malformed;
	*ms = whole * 1000 + frac;
	if (big || *ms < min_ms || *ms > max_ms) {
		snprintf(msg, sizeof(msg),
			 "%s '%s' out of range %g..%g seconds", what, s,
			 (double)min_ms / 1000, (double)max_ms / 1000);
		fail(ctx, msg);
		return 2;
	}
	return 0;
malformed:
	snprintf(msg, sizeof(msg),
		 "'%s' is not a number of seconds (%s, e.g. 1 or 0.5)",
		 s, what);
	fail(ctx, msg);
	return 2;
}

unsigned long count_arg(int argc, char **argv)
{
	uint64_t v = 1;

	if (argc)
		parse_u64(argv[-1], "count", argv[0], 1, MAX_COUNT, &v);
	return v;
}

int check_none(const char *name, int argc, char **argv)
{
	if (argc) {
		fail(name, "takes no arguments");
		return 2;
	}
	(void)argv;
	return 0;
}

int check_count(const char *name, int argc, char **argv)
{
	uint64_t v;

	if (argc > 1) {
		fail(name, "takes at most a count");
		return 2;
	}
	return argc ? parse_u64(name, "count", argv[0], 1, MAX_COUNT, &v) : 0;
}

int device_snapshot(struct ctl *ctl, struct ionclock_info *info,
		    struct ionclock_page *pg)
{
	int err = ionclock_info(ctl->c, info);

	if (err) {
		fail(ctl->dev, ionclock_strerror(err));
		return 1;
	}
	return page_snapshot(ctl, pg);
}

int page_snapshot(struct ctl *ctl, struct ionclock_page *pg)
{
	if (ionclock_page_copy(ctl->c, pg)) {
		fail(ctl->dev, "the page never held still");
		return 1;
	}
	return 0;
}

static int64_t ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * NSEC_PER_SEC + ts->tv_nsec;
}

/* ionclock's time on @clock (IONCLOCK_TAI or IONCLOCK_UTC), ns. */
static int ionclock_ns(struct ionclock *c, int clock, int64_t *t)
{
	struct timespec ts;
	int err;

	if (clock == IONCLOCK_TAI)
		return ionclock_now(c, t);
	err = ionclock_gettime(c, clock, &ts, NULL);
	if (!err)
		*t = ts_ns(&ts);
	return err;
}

/*
 * ionclock on @clock minus @clk (plus @clk_to_tai_ns to put it on the same
 * scale): the mid of two ionclock reads around one read of @clk, from the
 * tightest of a few tries.  *@half, if not NULL, gets half that sandwich's
 * width: the measurement's own uncertainty, ns.
 */
int offset_to(struct ionclock *c, int clock, clockid_t clk,
		     int64_t clk_to_tai_ns, int64_t *off, int64_t *half)
{
	int64_t t1, t2, best = INT64_MAX;
	struct timespec ts;
	int i, err;

	*off = 0;
	for (i = 0; i < OFFSET_TRIES; i++) {
		err = ionclock_ns(c, clock, &t1);
		if (err)
			return err;
		if (clock_gettime(clk, &ts))
			return -errno;
		err = ionclock_ns(c, clock, &t2);
		if (err)
			return err;
		if (t2 - t1 < best) {
			best = t2 - t1;
			*off = t1 + (t2 - t1) / 2 - (ts_ns(&ts) + clk_to_tai_ns);
		}
	}
	if (half)
		*half = best / 2 + 1;
	return 0;
}

int system_clock_offset(struct ionclock *c, int64_t *off, int64_t *half)
{
	int err = offset_to(c, IONCLOCK_UTC, CLOCK_REALTIME, 0, off, half);

	*off = -*off;
	return err;
}

/*
 * ionclock minus the attached PHC, put on TAI: 0, -ENODEV without a PHC,
 * or -errno (the PHC's /dev/ptpN is often root's alone).
 */
int phc_offset(struct ionclock *c, const struct ionclock_info *info,
	       const struct ionclock_page *pg, int64_t *off)
{
	int64_t phc_to_tai = 0;
	char phc[32];
	int err, fd;

	if (info->phc_index < 0)
		return -ENODEV;
	if (info->phc_timescale == IONCLOCK_TIMESCALE_UTC)
		phc_to_tai = (int64_t)pg->tai_utc_offset_s * NSEC_PER_SEC;
	snprintf(phc, sizeof(phc), "/dev/ptp%d", info->phc_index);
	fd = open(phc, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	err = offset_to(c, IONCLOCK_TAI, FD_TO_CLOCKID(fd), phc_to_tai, off,
			NULL);
	close(fd);
	return err;
}
