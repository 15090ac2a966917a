// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl waitsync [--max-bound NS] [--timeout S]: wait until the
 * device is tracking its PHC (and, with --max-bound, its error bound is at
 * most NS), for a service's ExecStartPre=.  Exit 0 as soon as it is; 1 at
 * the timeout, saying what was still wrong.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "ionclockctl.h"

#define WAITSYNC_POLL_MS	100
#define WAITSYNC_DEFAULT_S	60
#define WAITSYNC_MAX_S		86400
#define WAITSYNC_MAX_BOUND_NS	1000000000000ULL

struct waitsync_args {
	uint64_t max_bound_ns;	/* 0: any bound */
	uint64_t timeout_s;
};

static int waitsync_args(const char *name, int argc, char **argv,
			 struct waitsync_args *a)
{
	int i, err;

	a->max_bound_ns = 0;
	a->timeout_s = WAITSYNC_DEFAULT_S;
	for (i = 0; i < argc; i += 2) {
		if (strcmp(argv[i], "--max-bound") &&
		    strcmp(argv[i], "--timeout")) {
			fail(name, "takes --max-bound NS and --timeout S");
			return 2;
		}
		if (i + 1 == argc) {
			fail(argv[i], "needs a value");
			return 2;
		}
		if (!strcmp(argv[i], "--max-bound"))
			err = parse_u64(name, "--max-bound", argv[i + 1], 1,
					WAITSYNC_MAX_BOUND_NS, &a->max_bound_ns);
		else
			err = parse_u64(name, "--timeout", argv[i + 1], 0,
					WAITSYNC_MAX_S, &a->timeout_s);
		if (err)
			return err;
	}
	return 0;
}

static int check_waitsync(const char *name, int argc, char **argv)
{
	struct waitsync_args a;

	return waitsync_args(name, argc, argv, &a);
}

/* Synchronized?  If not, @why says what is missing. */
static int in_sync(struct ctl *ctl, const struct waitsync_args *a, char *why,
		   size_t size)
{
	struct ionclock_status st;
	int err;

	err = ionclock_status(ctl->c, &st);
	if (err) {
		snprintf(why, size, "%s", ionclock_strerror(err));
		return 0;
	}
	if (!(st.flags & IONCLOCK_FLAG_VALID)) {
		snprintf(why, size, "no valid time yet (state %s)",
			 ionclock_state_name(st.state));
		return 0;
	}
	if (st.state != IONCLOCK_STATE_TRACKING) {
		snprintf(why, size, "state %s, not tracking",
			 ionclock_state_name(st.state));
		return 0;
	}
	if (a->max_bound_ns && st.bound_ns < 0) {
		snprintf(why, size, "no error bound published");
		return 0;
	}
	if (a->max_bound_ns && (uint64_t)st.bound_ns > a->max_bound_ns) {
		snprintf(why, size, "error bound %" PRId64
			 " ns above --max-bound %" PRIu64 " ns", st.bound_ns,
			 a->max_bound_ns);
		return 0;
	}
	return 1;
}

static int cmd_waitsync(struct ctl *ctl, int argc, char **argv)
{
	const struct timespec poll = { 0, WAITSYNC_POLL_MS * 1000000L };
	struct waitsync_args a;
	struct timespec now;
	int64_t end;
	char why[160], msg[200];

	waitsync_args("waitsync", argc, argv, &a);
	clock_gettime(CLOCK_MONOTONIC, &now);
	end = now.tv_sec * NSEC_PER_SEC + now.tv_nsec +
	      (int64_t)a.timeout_s * NSEC_PER_SEC;
	for (;;) {
		if (in_sync(ctl, &a, why, sizeof(why)))
			return 0;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec * NSEC_PER_SEC + now.tv_nsec >= end)
			break;
		nanosleep(&poll, NULL);
	}
	snprintf(msg, sizeof(msg), "not synchronized after %" PRIu64 " s: %s",
		 a.timeout_s, why);
	fail(ctl->dev, msg);
	return 1;
}

const struct command waitsync_command = {
	.name = "waitsync", .args = " [--max-bound NS] [--timeout S]",
	.help = "wait until tracking within the bound; exit 1 on timeout (default 60 s)",
	.check = check_waitsync, .run = cmd_waitsync,
};
