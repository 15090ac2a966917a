// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl watch [interval [count]]: one line per tick with the state,
 * the bound, the offset to the PHC and the system clock's offset from
 * ionclock's UTC, until count lines or a signal.
 * A line is "key value" pairs, so that awk can pick a field by position;
 * it is flushed at once, for a pipe into a plotter or a log.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ionclockctl.h"

#define WATCH_MIN_MS		10
#define WATCH_MAX_MS		3600000
#define WATCH_DEFAULT_MS	1000
#define WATCH_MAX_COUNT		100000000

static volatile sig_atomic_t watch_stop;

static void on_signal(int sig)
{
	(void)sig;
	watch_stop = 1;
}

int interval_args(const char *name, int argc, char **argv, uint64_t *ms,
		  uint64_t *count)
{
	*ms = WATCH_DEFAULT_MS;
	*count = 0;
	if (argc > 2) {
		fail(name, "takes at most an interval and a count");
		return 2;
	}
	if (argc > 0 && parse_seconds(name, "interval", argv[0], WATCH_MIN_MS,
				      WATCH_MAX_MS, ms))
		return 2;
	if (argc > 1)
		return parse_u64(name, "count", argv[1], 1, WATCH_MAX_COUNT,
				 count);
	return 0;
}

static int check_watch(const char *name, int argc, char **argv)
{
	uint64_t ms, count;

	return interval_args(name, argc, argv, &ms, &count);
}

/* One line; 0, or 1 after saying why nothing could be read. */
static int watch_line(struct ctl *ctl, void *arg)
{
	int64_t t, earliest, latest, off, half;
	struct ionclock_info info;
	struct ionclock_page pg;
	int err;

	(void)arg;
	if (device_snapshot(ctl, &info, &pg))
		return 1;
	err = ionclock_now_bounded(ctl->c, &t, &earliest, &latest);
	if (err == -EAGAIN)
		printf("tai_ns -");
	else
		printf("tai_ns %" PRId64, t);
	printf(" state %s", ionclock_state_name(pg.state));
	if (err)
		printf(" bound_ns -");
	else
		printf(" bound_ns %" PRId64, latest - t);
	if (phc_offset(ctl->c, &info, &pg, &off))
		printf(" offset_to_phc_ns -");
	else
		printf(" offset_to_phc_ns %" PRId64, off);
	if (system_clock_offset(ctl->c, &off, &half))
		printf(" system_clock_offset_ns -");
	else
		printf(" system_clock_offset_ns %" PRId64, off);
	printf(" phc_freq_ppb %" PRId64 " generation %u steps %" PRIu64,
	       (int64_t)pg.phc_freq_ppb, pg.generation,
	       (uint64_t)pg.steps_detected);
	printf(" upstream %s upstream_ns %" PRIu64 " utc_source %s%s\n",
	       !(pg.flags & IONCLOCK_FLAG_UPSTREAM_FED) ? "static" :
	       pg.flags & IONCLOCK_FLAG_UPSTREAM_STALE ? "stale" : "fed",
	       (uint64_t)pg.error_upstream_ns, ionclock_utc_source_name(pg.utc_source),
	       pg.flags & IONCLOCK_FLAG_UTC_DISAGREE ? " utc_disagree yes" : "");
	if (fflush(stdout)) {
		fail("stdout", strerror(errno));
		return 1;
	}
	return 0;
}

int every_interval(struct ctl *ctl, uint64_t ms, uint64_t count,
		   int (*tick)(struct ctl *ctl, void *arg), void *arg)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct timespec next;
	uint64_t n;
	int ret = 0;

	watch_stop = 0;
	/* No SA_RESTART: a signal ends the sleep, and the loop. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	clock_gettime(CLOCK_MONOTONIC, &next);
	for (n = 0; !watch_stop && (!count || n < count); n++) {
		if (n) {
			next.tv_nsec += (long)(ms % 1000) * 1000000L;
			next.tv_sec += (time_t)(ms / 1000) +
				       next.tv_nsec / 1000000000L;
			next.tv_nsec %= 1000000000L;
			/* Ticks on a fixed grid: a slow line does not drift it. */
			if (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME,
					    &next, NULL) || watch_stop)
				break;
		}
		ret = tick(ctl, arg);
		if (ret)
			break;
	}
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	return ret;
}

static int cmd_watch(struct ctl *ctl, int argc, char **argv)
{
	uint64_t ms, count;

	interval_args("watch", argc, argv, &ms, &count);
	return every_interval(ctl, ms, count, watch_line, NULL);
}

const struct command watch_command = {
	.name = "watch", .args = " [interval [count]]",
	.help = "a line of state, bound and offset to the PHC every interval s (default 1)",
	.check = check_watch, .run = cmd_watch,
};
