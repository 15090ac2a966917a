// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libionclock-preload.so: LD_PRELOAD=libionclock-preload.so <program> makes
 * the program's clock_gettime(CLOCK_REALTIME), gettimeofday(), time() and
 * timespec_get(TIME_UTC) read ionclock's UTC (smeared by default), and
 * clock_gettime(CLOCK_TAI) its TAI.  Every other clock passes through.  The
 * environment (read once) is described in userspace/preload/README.
 *
 * What it must survive, and how:
 *  - a call before its own constructor, from another library's: every
 *    entry point sets itself up on first use;
 *  - an allocator that calls clock_gettime() from malloc(), which dlsym()
 *    may call while the real functions are being looked up: set-up never
 *    waits and never allocates (the handle is static); a call that arrives
 *    while it runs, on this thread or another, makes the system call
 *    itself;
 *  - fork: the mapping is inherited; a child forked in the middle of
 *    another thread's set-up starts over;
 *  - threads: the state is one atomic word, the read path is lock-free;
 *  - no device, or a page with no time: the real clock, with one line on
 *    stderr if IONCLOCK_PRELOAD_VERBOSE=1.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"

#define EXPORT		__attribute__((visibility("default")))
#define PREFIX		"libionclock-preload: "
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

enum { SETUP_NONE, SETUP_BUSY, SETUP_DONE };
enum { REALTIME_SMEARED, REALTIME_STRICT, REALTIME_OFF };

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
typedef int (*timespec_get_fn)(struct timespec *, int);

/* Written by the thread that sets up, before state goes to SETUP_DONE. */
static struct {
	int state;		/* SETUP_*, atomic */
	pid_t busy_pid;		/* atomic: the process that set up */
	bool have_dev;
	int realtime;		/* REALTIME_* */
	bool monotonic_tai;
	bool verbose;
	bool tai_offset_set;
	long long tai_offset_s;
	bool fail_closed;	/* IONCLOCK_PRELOAD_MAX_BOUND_NS is set */
	int warned;		/* atomic: the one stderr line is out */
	struct ionclock dev;
	clock_gettime_fn clock_gettime;
	clock_gettime_fn clock_gettime64;
	gettimeofday_fn gettimeofday;
	time_fn time;
	timespec_get_fn timespec_get;
} pl;

/* The real functions before they are known: the system calls. */
static int sys_clock_gettime(clockid_t id, struct timespec *ts)
{
	return syscall(SYS_clock_gettime, id, ts);
}

static int sys_gettimeofday(struct timeval *tv, void *tz)
{
	return syscall(SYS_gettimeofday, tv, tz);
}

static time_t sys_time(time_t *t)
{
	struct timespec ts;

	if (sys_clock_gettime(CLOCK_REALTIME, &ts))
		return (time_t)-1;
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

/* One line on stderr, once per process, if asked; no stdio, no malloc. */
static void say(const char *what, int err, const char *then)
{
	const char *const parts[] = { PREFIX, what, ": ",
				err ? strerrordesc_np(err) : then,
				err ? "; " : NULL, err ? then : NULL, "\n" };
	unsigned int i;

	if (!pl.verbose || __atomic_exchange_n(&pl.warned, 1, __ATOMIC_RELAXED))
		return;
	for (i = 0; i < ARRAY_SIZE(parts); i++)
		if (parts[i] && write(STDERR_FILENO, parts[i],
				      strlen(parts[i])) < 0)
			return;
}

static void *lookup(const char *name, void *fallback)
{
	void *fn = dlsym(RTLD_NEXT, name);

	return fn ? fn : fallback;
}

static void read_env(void)
{
	const char *v;
	char *end;

	v = getenv("IONCLOCK_PRELOAD_VERBOSE");
	pl.verbose = v && !strcmp(v, "1");
	v = getenv("IONCLOCK_PRELOAD_REALTIME");
	pl.realtime = REALTIME_SMEARED;
	if (v && !strcmp(v, "strict"))
		pl.realtime = REALTIME_STRICT;
	else if (v && !strcmp(v, "off"))
		pl.realtime = REALTIME_OFF;
	else if (v && *v && strcmp(v, "smeared"))
		say("IONCLOCK_PRELOAD_REALTIME", 0,
		    "not smeared, strict or off: smeared");
	v = getenv("IONCLOCK_PRELOAD_MONOTONIC");
	pl.monotonic_tai = v && !strcmp(v, "tai");
	v = getenv("IONCLOCK_PRELOAD_TAI_OFFSET");
	if (v && *v) {
		errno = 0;
		pl.tai_offset_s = strtoll(v, &end, 10);
		pl.tai_offset_set = !errno && !*end &&
				    pl.tai_offset_s > -100000000 &&
				    pl.tai_offset_s < 100000000;
		if (!pl.tai_offset_set)
			say("IONCLOCK_PRELOAD_TAI_OFFSET", 0,
			    "not a number of seconds: ignored");
	}
}

/* ---- Fail closed (IONCLOCK_PRELOAD_MAX_BOUND_NS): see the README. */

static bool max_bound_env(void)
{
	const char *v = getenv("IONCLOCK_PRELOAD_MAX_BOUND_NS");

	return v && *v;
}

/* A malformed value refuses every interposed read: 1 ns admits none. */
static void read_max_bound(void)
{
	uint64_t ns = 1;

	pl.fail_closed = max_bound_env();
	if (pl.fail_closed &&
	    ionclock_parse_max_bound(getenv("IONCLOCK_PRELOAD_MAX_BOUND_NS"),
				     &ns))
		say("IONCLOCK_PRELOAD_MAX_BOUND_NS", 0,
		    "not a number of ns: every ionclock read fails");
	if (pl.have_dev && pl.fail_closed)
		ionclock_set_max_bound(&pl.dev, (int64_t)ns);
}

/*
 * ionclock could not give the time (@err from ionclock_clock()): with a
 * maximum bound the call fails with EAGAIN rather than fall back to the
 * system clock, which may be behind a time this process has already seen.
 * -ENOENT is a clock the drop-in leaves alone.
 */
static bool refused(int err)
{
	if (!pl.fail_closed || err == -ENOENT)
		return false;
	say("no ionclock time within IONCLOCK_PRELOAD_MAX_BOUND_NS", -err,
	    "the call fails with EAGAIN");
	errno = EAGAIN;
	return true;
}

/* Before set-up is done: refuse what it will interpose, if it will fail closed. */
static bool refused_early(clockid_t id)
{
	if (!max_bound_env() || (id != CLOCK_REALTIME && id != CLOCK_TAI))
		return false;
	errno = EAGAIN;
	return true;
}

/* ---- */

static void setup(void)
{
	const char *path;
	int err;

	read_env();
	/* dlsym() may call malloc(), which may call us: see setup_done(). */
	pl.clock_gettime = lookup("clock_gettime", sys_clock_gettime);
	pl.clock_gettime64 = lookup("__clock_gettime64", pl.clock_gettime);
	pl.gettimeofday = lookup("gettimeofday", sys_gettimeofday);
	pl.time = lookup("time", sys_time);
	pl.timespec_get = lookup("timespec_get", NULL);

	path = getenv("IONCLOCK_DEVICE");
	if (!path || !*path)
		path = IONCLOCK_DEFAULT_DEVICE;
	err = ionclock_init(&pl.dev, path);
	pl.have_dev = !err;
	if (err)
		say(path, -err, max_bound_env() ?
		    "IONCLOCK_PRELOAD_MAX_BOUND_NS: the clocks fail with EAGAIN" :
		    "using the system clock");
	read_max_bound();
}

/*
 * Whether set-up is done; the first caller does it.  Never waits: a caller
 * that finds it under way (itself, from inside dlsym() or malloc(), or
 * another thread) is told "no" and uses the system call.
 */
static bool setup_done(void)
{
	int state = __atomic_load_n(&pl.state, __ATOMIC_ACQUIRE);
	int saved_errno;

	if (state == SETUP_DONE)
		return true;
	if (state == SETUP_BUSY) {
		pid_t pid = __atomic_load_n(&pl.busy_pid, __ATOMIC_RELAXED);

		/*
		 * Forked while another thread set up: that thread is gone, so
		 * start over.  (0: the owner has not written its pid yet.)
		 */
		if (!pid || pid == getpid())
			return false;
		__atomic_compare_exchange_n(&pl.state, &state, SETUP_NONE,
					    false, __ATOMIC_ACQUIRE,
					    __ATOMIC_ACQUIRE);
	}
	state = SETUP_NONE;
	if (!__atomic_compare_exchange_n(&pl.state, &state, SETUP_BUSY, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
		return state == SETUP_DONE;
	__atomic_store_n(&pl.busy_pid, getpid(), __ATOMIC_RELAXED);
	/* A clock read that succeeds leaves errno alone, even the first. */
	saved_errno = errno;
	setup();
	errno = saved_errno;
	/* pairs with the acquire loads above: the set-up is visible */
	__atomic_store_n(&pl.state, SETUP_DONE, __ATOMIC_RELEASE);
	return true;
}

static int realtime_now(struct timespec *ts)
{
	int clock = pl.realtime == REALTIME_STRICT ? IONCLOCK_UTC_STRICT :
		    IONCLOCK_UTC;
	int err;

	err = ionclock_gettime(&pl.dev, clock, ts, NULL);
	if (err == -ENODATA && pl.tai_offset_set) {
		err = ionclock_gettime(&pl.dev, IONCLOCK_TAI, ts, NULL);
		ts->tv_sec -= pl.tai_offset_s;
	} else if (err == -ENODATA) {
		say("no TAI - UTC offset on the page", 0,
		    "CLOCK_REALTIME from the system (IONCLOCK_PRELOAD_TAI_OFFSET sets one)");
	}
	return err;
}

/*
 * ionclock's reading for @id; non-zero: use the real clock (-ENOENT: a
 * clock the drop-in leaves alone, with or without a device).
 */
static int ionclock_clock(clockid_t id, struct timespec *ts)
{
	switch (id) {
	case CLOCK_REALTIME:
		if (pl.realtime == REALTIME_OFF)
			return -ENOENT;
		return pl.have_dev ? realtime_now(ts) : -ENODEV;
	case CLOCK_TAI:
		return pl.have_dev ?
		       ionclock_gettime(&pl.dev, IONCLOCK_TAI, ts, NULL) :
		       -ENODEV;
	case CLOCK_MONOTONIC:
		if (!pl.monotonic_tai)
			return -ENOENT;
		return pl.have_dev ?
		       ionclock_gettime(&pl.dev, IONCLOCK_TAI, ts, NULL) :
		       -ENODEV;
	default:
		return -ENOENT;
	}
}

static int interposed_clock_gettime(clockid_t id, struct timespec *ts,
				    bool time64)
{
	int err;

	if (!setup_done())
		return refused_early(id) ? -1 : sys_clock_gettime(id, ts);
	err = ionclock_clock(id, ts);
	if (!err)
		return 0;
	if (refused(err))
		return -1;
	return time64 ? pl.clock_gettime64(id, ts) : pl.clock_gettime(id, ts);
}

EXPORT int clock_gettime(clockid_t id, struct timespec *ts)
{
	return interposed_clock_gettime(id, ts, false);
}

/* The time64 name 32-bit builds call; the same layout on 64-bit. */
EXPORT int __clock_gettime64(clockid_t id, struct timespec *ts)
{
	return interposed_clock_gettime(id, ts, true);
}

EXPORT int gettimeofday(struct timeval *restrict tv_arg, void *restrict tz)
{
	struct timeval *tv = tv_arg;
	struct timespec ts;
	int err;

	/*
	 * glibc declares tv non-null, but the system call takes NULL and
	 * programs pass it: keep the compiler from dropping the test.
	 */
	__asm__("" : "+r" (tv));
	if (!setup_done())
		return tv && refused_early(CLOCK_REALTIME) ? -1 :
		       sys_gettimeofday(tv, tz);
	err = tv ? ionclock_clock(CLOCK_REALTIME, &ts) : -ENOENT;
	if (err && refused(err))
		return -1;
	if (err)
		return pl.gettimeofday(tv, tz);
	/* The obsolete time zone, if asked for, from the real function. */
	if (tz && pl.gettimeofday(NULL, tz))
		return -1;
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

EXPORT time_t time(time_t *t)
{
	struct timespec ts;
	int err;

	if (!setup_done())
		return refused_early(CLOCK_REALTIME) ? (time_t)-1 : sys_time(t);
	err = ionclock_clock(CLOCK_REALTIME, &ts);
	if (err && refused(err))
		return (time_t)-1;
	if (err)
		return pl.time(t);
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

EXPORT int timespec_get(struct timespec *ts, int base)
{
	int err;

	if (!setup_done() || !pl.timespec_get) {
		if (base == TIME_UTC && refused_early(CLOCK_REALTIME))
			return 0;
		return base == TIME_UTC && !sys_clock_gettime(CLOCK_REALTIME, ts) ?
		       base : 0;
	}
	err = base == TIME_UTC ? ionclock_clock(CLOCK_REALTIME, ts) : -ENOENT;
	if (!err)
		return base;
	if (refused(err))
		return 0;
	return pl.timespec_get(ts, base);
}

/* Set up before main() when nothing has called in yet. */
__attribute__((constructor)) static void ionclock_preload_init(void)
{
	setup_done();
}
