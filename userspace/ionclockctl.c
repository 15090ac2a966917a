// SPDX-License-Identifier: GPL-2.0
/*
 * ionclockctl: look at an ionclock device from the shell.
 *
 *   ionclockctl [-h] [-v] [device] command [args]...
 *
 * Commands run in the order given.  Output is one "key value" pair per line
 * so that awk can pick fields; errors go to stderr as
 * "ionclockctl: <context>: <reason>".  Exit status: 0 ok, 1 runtime
 * failure, 2 usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ionclock.h"
#include "ionclockctl.h"

#ifndef IONCLOCKCTL_VERSION
#define IONCLOCKCTL_VERSION	"1"
#endif

#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)
#define MAX_COUNT		1000000UL
#define MAX_COMMANDS		64
/* Reads around each reference clock read; the tightest pair is kept. */
#define OFFSET_TRIES		5

/*
 * A command takes the words after it up to the next command name.  check()
 * validates them before anything runs (returns 0 or 2); run() returns 0 or
 * 1.  Commands that need no device (leap check) run without opening one.
 */
struct command {
	const char *name;
	const char *args;
	const char *help;
	bool needs_device;
	int (*check)(const char *name, int argc, char **argv);
	int (*run)(struct ctl *ctl, int argc, char **argv);
};

struct invocation {
	const struct command *cmd;
	int argc;
	char **argv;
};

static int check_none(const char *name, int argc, char **argv);
static int check_count(const char *name, int argc, char **argv);
static int cmd_status(struct ctl *ctl, int argc, char **argv);
static int cmd_read(struct ctl *ctl, int argc, char **argv);
static int cmd_unique(struct ctl *ctl, int argc, char **argv);
static int cmd_id(struct ctl *ctl, int argc, char **argv);

static const struct command commands[] = {
	{ "status", "", "device, PHC, state, time and offsets", true,
	  check_none, cmd_status },
	{ "read", " [count]", "print tai_ns from the page (count times)",
	  true, check_count, cmd_read },
	{ "unique", " [count]", "print machine-wide unique tai_ns via read()",
	  true, check_count, cmd_unique },
	{ "id", " [count]",
	  "print ordered, machine-wide unique 64-bit IDs (needs a machine_id)",
	  true, check_count, cmd_id },
	{ "waitsync", " [--max-bound NS] [--timeout S]",
	  "wait until tracking within the bound; exit 1 on timeout (default 60 s)",
	  true, check_waitsync, cmd_waitsync },
	{ "leap", " show|load [file]|check [file]",
	  "show the leap table, load a leap-seconds.list, or only verify one",
	  true, check_leap, cmd_leap },
	{ "config", " [key value]...",
	  "print the engine's run-time settings, or set some (CAP_SYS_TIME)",
	  true, check_config, cmd_config },
	{ "watch", " [interval [count]]",
	  "a line of state, bound and offset to the PHC every interval s (default 1)",
	  true, check_watch, cmd_watch },
	{ "prometheus", " [file]",
	  "metrics in Prometheus text format, to stdout or atomically to file",
	  true, check_prometheus, cmd_prometheus },
	{ "record", " file [interval [count]]",
	  "watch's values as CSV rows into file (- for stdout)",
	  true, check_record, cmd_record },
	{ "feed", " [--socket path] [--interval s] [--ttl s] [--asymmetry-ns n|--asymmetry-pct p] [--domain n] [--once|--dry-run]",
	  "feed ptp4l's state into the bound and UTC every interval (CAP_SYS_TIME)",
	  true, check_feed, cmd_feed },
	{ "upstream", " [clear]",
	  "the upstream state last fed, or forget it (CAP_SYS_TIME)",
	  true, check_upstream, cmd_upstream },
	{ "bench", " [rounds]",
	  "time every way of reading the clock here, ns per call and ratios",
	  true, check_bench, cmd_bench },
};

#define NCOMMANDS	ARRAY_SIZE(commands)

static void print_usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"usage: " PROG " [-h] [-v] [device] command [args]...\n"
		"\n"
		"  device   an ionclock device, starting with '/' (default "
		IONCLOCK_DEFAULT_DEVICE ")\n"
		"  -h       print this help and exit\n"
		"  -v       print the version and exit\n"
		"\n"
		"commands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %s%s\n        %s\n", commands[i].name,
			commands[i].args, commands[i].help);
}

void fail(const char *context, const char *reason)
{
	fprintf(stderr, PROG ": %s: %s\n", context, reason);
}

static const struct command *find_command(const char *name)
{
	size_t i;

	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(commands[i].name, name))
			return &commands[i];
	return NULL;
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

static unsigned long count_arg(int argc, char **argv)
{
	uint64_t v = 1;

	if (argc)
		parse_u64(argv[-1], "count", argv[0], 1, MAX_COUNT, &v);
	return v;
}

static int check_none(const char *name, int argc, char **argv)
{
	if (argc) {
		fail(name, "takes no arguments");
		return 2;
	}
	(void)argv;
	return 0;
}

static int check_count(const char *name, int argc, char **argv)
{
	uint64_t v;

	if (argc > 1) {
		fail(name, "takes at most a count");
		return 2;
	}
	return argc ? parse_u64(name, "count", argv[0], 1, MAX_COUNT, &v) : 0;
}

const char *state_name(uint32_t state)
{
	static const char *const names[] = {
		[IONCLOCK_STATE_STARTING] = "starting",
		[IONCLOCK_STATE_TRACKING] = "tracking",
		[IONCLOCK_STATE_HOLDOVER] = "holdover",
		[IONCLOCK_STATE_UNRELIABLE] = "unreliable",
	};

	if (state < ARRAY_SIZE(names))
		return names[state];
	return "unknown";
}

const char *utc_source_name(uint32_t source)
{
	static const char *const names[IONCLOCK_UTC_SOURCES] = {
		[IONCLOCK_UTC_SOURCE_NONE] = "none",
		[IONCLOCK_UTC_SOURCE_PTP] = "ptp",
		[IONCLOCK_UTC_SOURCE_LEAP_FILE] = "leap_file",
		[IONCLOCK_UTC_SOURCE_KERNEL] = "kernel",
		[IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE] = "expired_leap_file",
	};

	return source < IONCLOCK_UTC_SOURCES ? names[source] : "unknown";
}

/* The sources named by the bits of @mask, comma-separated, or "-". */
static void print_sources(const char *key, uint32_t mask)
{
	uint32_t s;
	int n = 0;

	printf("%s ", key);
	for (s = 0; s < IONCLOCK_UTC_SOURCES; s++)
		if (mask & (1u << s))
			printf("%s%s", n++ ? "," : "", utc_source_name(s));
	printf("%s\n", n ? "" : "-");
}

static const char *counter_name(uint32_t id)
{
	switch (id) {
	case IONCLOCK_COUNTER_TSC:
		return "tsc";
	case IONCLOCK_COUNTER_MONOTONIC_RAW:
		return "monotonic_raw";
	default:
		return "unknown";
	}
}

/* A consistent copy of the whole page, per the READ PROTOCOL. */
int page_copy(const struct ionclock_page *p, struct ionclock_page *out)
{
	unsigned int tries;
	uint32_t seq;

	for (tries = 0; tries < 100000; tries++) {
		seq = __atomic_load_n(&p->seq_count, __ATOMIC_RELAXED);
		if (seq & 1)
			continue;
		/* pairs with smp_wmb() in ionclock_page_publish() */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		memcpy(out, p, sizeof(*out));
		/* pairs with smp_mb() in ionclock_page_publish() */
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (__atomic_load_n(&p->seq_count, __ATOMIC_RELAXED) == seq)
			return 0;
	}
	return -EBUSY;
}

int device_snapshot(struct ctl *ctl, struct ionclock_info *info,
		    struct ionclock_page *pg)
{
	int err = ionclock_info(ctl->c, info);

	if (err) {
		fail(ctl->dev, ionclock_strerror(err));
		return 1;
	}
	if (page_copy((const void *)ionclock_page(ctl->c), pg)) {
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
static int offset_to(struct ionclock *c, int clock, clockid_t clk,
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

static void print_offset(const char *key, struct ionclock *c, clockid_t clk,
			 int64_t clk_to_tai_ns, const char *clk_name)
{
	int64_t off;
	int err;

	err = offset_to(c, IONCLOCK_TAI, clk, clk_to_tai_ns, &off, NULL);
	if (err) {
		if (err != -EAGAIN)
			fail(clk_name, ionclock_strerror(err));
		printf("%s -\n", key);
		return;
	}
	printf("%s %" PRId64 "\n", key, off);
}

static void print_str(const char *key, const char *v)
{
	printf("%s %s\n", key, v[0] ? v : "-");
}

static int cmd_status(struct ctl *ctl, int argc, char **argv)
{
	int64_t t, earliest, latest, off, half;
	struct ionclock_info info;
	struct ionclock_page pg;
	char phc[32];
	int err;

	(void)argc;
	(void)argv;
	if (device_snapshot(ctl, &info, &pg))
		return 1;
	print_str("device", ctl->dev);
	printf("phc_index %d\n", info.phc_index);
	print_str("phc_name", info.phc_name);
	print_str("ifname", info.ifname);
	print_str("phc_timescale",
		  info.phc_timescale == IONCLOCK_TIMESCALE_UTC ? "utc" : "tai");
	print_str("state", state_name(pg.state));
	print_str("counter", counter_name(pg.counter_id));
	printf("generation %u\n", pg.generation);
	printf("flags 0x%x\n", pg.flags);
	if (pg.flags & IONCLOCK_FLAG_TAI_OFFSET_VALID)
		printf("tai_utc_offset_s %d\n", pg.tai_utc_offset_s);
	else
		print_str("tai_utc_offset_s", "");
	print_str("utc_source", utc_source_name(pg.utc_source));
	print_sources("utc_sources", pg.utc_sources);
	print_sources("utc_disagree", pg.utc_disagree);
	print_str("leaps_expired",
		  pg.flags & IONCLOCK_FLAG_LEAPS_EXPIRED ? "yes" : "no");
	print_str("upstream", !(pg.flags & IONCLOCK_FLAG_UPSTREAM_FED) ? "static" :
		  pg.flags & IONCLOCK_FLAG_UPSTREAM_STALE ? "stale" : "fed");
	printf("error_upstream_ns %" PRIu64 "\n", (uint64_t)pg.error_upstream_ns);

	err = ionclock_now_bounded(ctl->c, &t, &earliest, &latest);
	if (err && err != -EAGAIN && err != -ENODATA) {
		fail(ctl->dev, ionclock_strerror(err));
		return 1;
	}
	if (err == -EAGAIN)
		print_str("ionclock_tai_ns", "");
	else
		printf("ionclock_tai_ns %" PRId64 "\n", t);
	if (err)
		print_str("error_bound_ns", "");
	else
		printf("error_bound_ns %" PRId64 "\n", latest - t);

	err = phc_offset(ctl->c, &info, &pg, &off);
	if (!err) {
		printf("offset_to_phc_ns %" PRId64 "\n", off);
	} else {
		/* Not fatal: /dev/ptpN is often root's alone. */
		if (err != -ENODEV && err != -EAGAIN) {
			snprintf(phc, sizeof(phc), "/dev/ptp%d", info.phc_index);
			fail(phc, ionclock_strerror(err));
		}
		print_str("offset_to_phc_ns", "");
	}
	print_offset("offset_to_tai_ns", ctl->c, CLOCK_TAI, 0, "CLOCK_TAI");
	print_offset("offset_to_realtime_ns", ctl->c, CLOCK_REALTIME, 0,
		     "CLOCK_REALTIME");
	err = system_clock_offset(ctl->c, &off, &half);
	if (err) {
		print_str("system_clock_offset_ns", "");
		print_str("system_clock_offset_uncertainty_ns", "");
	} else {
		printf("system_clock_offset_ns %" PRId64 "\n", off);
		printf("system_clock_offset_uncertainty_ns %" PRId64 "\n", half);
	}

	printf("samples_taken %" PRIu64 "\n", (uint64_t)pg.samples_taken);
	printf("samples_rejected %" PRIu64 "\n", (uint64_t)pg.samples_rejected);
	printf("steps_detected %" PRIu64 "\n", (uint64_t)pg.steps_detected);
	printf("phc_freq_ppb %" PRId64 "\n", (int64_t)pg.phc_freq_ppb);
	return 0;
}

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

/* The whole command line is checked before anything runs. */
static int parse_commands(int argc, char **argv, struct invocation *inv,
			  int *ninv)
{
	const struct command *cmd;
	int i = 0, n = 0, err;

	while (i < argc) {
		cmd = find_command(argv[i]);
		if (!cmd) {
			fail(argv[i], "unknown command");
			return 2;
		}
		if (n == MAX_COMMANDS) {
			fail(argv[i], "too many commands");
			return 2;
		}
		inv[n].cmd = cmd;
		inv[n].argv = &argv[++i];
		while (i < argc && !find_command(argv[i]))
			i++;
		inv[n].argc = &argv[i] - inv[n].argv;
		err = cmd->check(cmd->name, inv[n].argc, inv[n].argv);
		if (err)
			return err;
		n++;
	}
	*ninv = n;
	return 0;
}

/* leap check and feed --dry-run look at files and ptp4l only. */
static bool needs_device(const struct invocation *inv)
{
	if (!inv->cmd->needs_device)
		return false;
	if (!strcmp(inv->cmd->name, "leap"))
		return strcmp(inv->argv[0], "check");
	if (!strcmp(inv->cmd->name, "feed"))
		return !feed_is_dry_run(inv->argc, inv->argv);
	return true;
}

int main(int argc, char **argv)
{
	struct invocation inv[MAX_COMMANDS];
	struct ctl ctl = { .dev = IONCLOCK_DEFAULT_DEVICE };
	int opt, ninv, i, err, ret = 0;
	char bad[3];

	opterr = 0;
	while ((opt = getopt(argc, argv, "+hv")) != -1) {
		switch (opt) {
		case 'h':
			print_usage(stdout);
			return 0;
		case 'v':
			printf(PROG " " IONCLOCKCTL_VERSION "\n");
			return 0;
		default:
			snprintf(bad, sizeof(bad), "-%c", optopt);
			fail(bad, "unknown option");
			print_usage(stderr);
			return 2;
		}
	}
	if (optind < argc && argv[optind][0] == '/')
		ctl.dev = argv[optind++];
	if (optind == argc) {
		fail("command", "none given");
		print_usage(stderr);
		return 2;
	}
	err = parse_commands(argc - optind, argv + optind, inv, &ninv);
	if (err) {
		print_usage(stderr);
		return err;
	}

	for (i = 0; i < ninv && !ret; i++) {
		if (needs_device(&inv[i]) && !ctl.c) {
			err = ionclock_open(ctl.dev, &ctl.c);
			if (err) {
				fail(ctl.dev, ionclock_strerror(err));
				return 1;
			}
		}
		ret = inv[i].cmd->run(&ctl, inv[i].argc, inv[i].argv);
	}
	ionclock_close(ctl.c);

	if (fflush(stdout) || ferror(stdout)) {
		fail("stdout", strerror(errno));
		ret = 1;
	}
	return ret;
}
