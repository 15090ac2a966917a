// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libionclock-preload.so: LD_PRELOAD=libionclock-preload.so <program> makes
 * the program's clock_gettime(CLOCK_REALTIME), gettimeofday(), time() and
 * timespec_get(TIME_UTC) read ionclock's UTC (smeared by default), and
 * clock_gettime(CLOCK_TAI) its TAI.  Every other clock passes through.  The
 * environment (read once) is described in userspace/preload/README.md.
 * With IONCLOCK_PRELOAD_MAX_BOUND_NS set it fails closed: an interposed
 * clock that ionclock cannot answer within that bound fails (EAGAIN)
 * rather than give the system clock.
 *
 * WHY IT ONCE HUNG, AND WHAT IT DOES NOW
 *
 * It used to find libc's functions with dlsym(RTLD_NEXT) on its first call.
 * jemalloc reads CLOCK_MONOTONIC_COARSE while it initialises, under its
 * init_lock (a plain mutex): its first malloc() (from libstdc++'s
 * constructor, before main()) got to the drop-in, whose dlsym() of
 * "__clock_gettime64" (absent on x86-64) made the loader format an error
 * message with malloc(): jemalloc's malloc() then waited for its own
 * init_lock, held further up the same stack.  That thread slept in futex()
 * for good: redis-server, and any program with jemalloc preloaded, in
 * either order.
 *
 * Now the drop-in never asks the dynamic loader for anything and takes no
 * lock.  The "real" clock functions are the kernel's vDSO functions, the
 * ones glibc's own clock_gettime(), gettimeofday() and time() call, found
 * by reading the vDSO's ELF image in memory (getauxval(AT_SYSINFO_EHDR),
 * vdso.c: memory reads only), with the raw system call where there is no
 * vDSO.  Before its first real call, the first caller, whoever and wherever
 * it is (another library's constructor, an allocator's malloc(), a signal
 * handler), does exactly this:
 *   1. getpid() and a compare-and-swap that names its process as setting
 *      up; a caller that finds set-up under way in its process (another
 *      thread, or itself from within set-up) does not wait: it reads the
 *      system clock through the vDSO and returns, or, with
 *      IONCLOCK_PRELOAD_MAX_BOUND_NS set, fails at once for a clock the
 *      drop-in interposes (getenv() of that and of the two variables that
 *      say which clocks it interposes);
 *   2. the vDSO lookup above;
 *   3. getenv() of the IONCLOCK_* variables (no lock in glibc), parsed by
 *      hand, IONCLOCK_PRELOAD_MAX_BOUND_NS by the library's
 *      ionclock_parse_max_bound() (digits only, no locale either);
 *   4. unless IONCLOCK_PRELOAD_MAX_BOUND_NS is malformed (then every
 *      interposed clock fails and no device is opened): stat() and
 *      readlink() of /sys/dev/char/<major>:<minor> to see that the path is
 *      an ionclock device, then open(O_NONBLOCK) and close() as raw system
 *      calls (not thread cancellation points: clock_gettime() is not one),
 *      fstat() and mmap() of one page; then its header is checked and the
 *      maximum bound, if any, stored in the handle;
 *   5. at most one write(2) to stderr, if asked, from static strings;
 *   6. a release store that says set-up is done.
 * No malloc(), no dlsym(), no stdio, no pthread_once(), no lock: the only
 * things that can take time are those system calls, and none of them waits
 * for anything in user space.  So no allocator, loader lock or thread can
 * be waiting for something that waits for the drop-in.
 *
 * A process forked while another of its parent's threads was setting up
 * sees its parent's pid in the state and starts over (no pthread_atfork());
 * otherwise the child inherits the mapping.  errno is left alone unless the
 * call itself fails.  A value the drop-in returns never goes below one it
 * returned before in the process, whichever source each came from
 * (order.h): the system clock before set-up, ionclock after.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "internal.h"
#include "order.h"
#include "vdso.h"

#define EXPORT		__attribute__((visibility("default")))
#define PREFIX		"libionclock-preload: "
#define NSEC_PER_SEC	1000000000LL
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
/* TAI - UTC is 37 s today; a value beyond this is a typing error. */
#define MAX_TAI_OFFSET_S 1000000

#if defined(__x86_64__) || defined(__i386__)
#define VDSO_VERSION	"LINUX_2.6"
#define VDSO_CLOCK_GETTIME "__vdso_clock_gettime"
#define VDSO_GETTIMEOFDAY "__vdso_gettimeofday"
#define VDSO_TIME	"__vdso_time"
#elif defined(__aarch64__)
#define VDSO_VERSION	"LINUX_2.6.39"
#define VDSO_CLOCK_GETTIME "__kernel_clock_gettime"
#define VDSO_GETTIMEOFDAY "__kernel_gettimeofday"
#define VDSO_TIME	"__kernel_time"		/* there is none: not found */
#else
#define VDSO_VERSION	""
#define VDSO_CLOCK_GETTIME ""
#define VDSO_GETTIMEOFDAY ""
#define VDSO_TIME	""
#endif

/* The setup state: not begun, done, or the pid of the process setting up. */
#define SETUP_NONE	0L
#define SETUP_DONE	(-1L)

enum { REALTIME_SMEARED, REALTIME_STRICT, REALTIME_OFF };

/* The clocks the drop-in may answer itself, each kept in order. */
enum clk { CLK_REALTIME, CLK_TAI, CLK_MONOTONIC, CLKS };

static const clockid_t clk_id[CLKS] = {
	[CLK_REALTIME] = CLOCK_REALTIME,
	[CLK_TAI] = CLOCK_TAI,
	[CLK_MONOTONIC] = CLOCK_MONOTONIC,
};

/* An interposed call that should just call the real function. */
#define PASS		1

typedef int (*clock_gettime_fn)(clockid_t, struct timespec *);
typedef int (*gettimeofday_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);

/* Written by the one thread that sets up, before setup_state says done. */
static struct {
	bool have_dev;
	int realtime;		/* REALTIME_* */
	bool monotonic_tai;
	bool tai_offset_set;
	int64_t tai_offset_ns;
	struct ionclock dev;
	bool fail_closed;	/* IONCLOCK_PRELOAD_MAX_BOUND_NS is set */
	uint64_t max_bound_ns;	/* its value; 0: malformed */
} cfg;

static long setup_state;	/* atomic: SETUP_* or a pid */
static int verbose;		/* atomic; set first in set-up */
static int warned;		/* atomic: the one stderr line is out */

/*
 * The vDSO's functions, looked up by whoever gets here first; every
 * lookup finds the same, so racing ones store the same values.
 */
static struct {
	int looked_up;		/* atomic */
	clock_gettime_fn clock_gettime;
	gettimeofday_fn gettimeofday;
	time_fn time;
} vdso;

static struct order order[CLKS] = { ORDER_INIT, ORDER_INIT, ORDER_INIT };

static void vdso_look_up(void)
{
	const void *image = (const void *)getauxval(AT_SYSINFO_EHDR);

	__atomic_store_n(&vdso.clock_gettime, (clock_gettime_fn)
			 ionclock_vdso_lookup(image, 0, VDSO_CLOCK_GETTIME,
					      VDSO_VERSION), __ATOMIC_RELAXED);
	__atomic_store_n(&vdso.gettimeofday, (gettimeofday_fn)
			 ionclock_vdso_lookup(image, 0, VDSO_GETTIMEOFDAY,
					      VDSO_VERSION), __ATOMIC_RELAXED);
	__atomic_store_n(&vdso.time, (time_fn)
			 ionclock_vdso_lookup(image, 0, VDSO_TIME,
					      VDSO_VERSION), __ATOMIC_RELAXED);
	/* pairs with the acquire in vdso_fn() */
	__atomic_store_n(&vdso.looked_up, 1, __ATOMIC_RELEASE);
}

#define vdso_fn(name)							\
	({								\
		if (!__atomic_load_n(&vdso.looked_up, __ATOMIC_ACQUIRE)) \
			vdso_look_up();					\
		__atomic_load_n(&vdso.name, __ATOMIC_RELAXED);		\
	})

/* A vDSO function returns -errno, as the system call does. */
static int vdso_result(long r)
{
	if (r < 0 && r > -4096) {
		errno = (int)-r;
		return -1;
	}
	return (int)r;
}

/* The real functions: what glibc does, minus glibc. */
static int real_clock_gettime(clockid_t id, struct timespec *ts)
{
	clock_gettime_fn fn = vdso_fn(clock_gettime);

	if (fn)
		return vdso_result(fn(id, ts));
	return syscall(SYS_clock_gettime, id, ts);
}

static int real_gettimeofday(struct timeval *tv, void *tz)
{
	gettimeofday_fn fn = vdso_fn(gettimeofday);

	if (fn)
		return vdso_result(fn(tv, tz));
	return syscall(SYS_gettimeofday, tv, tz);
}

static time_t real_time(time_t *t)
{
	time_fn fn = vdso_fn(time);
	struct timespec ts;

	if (fn)
		return fn(t);
	if (real_clock_gettime(CLOCK_REALTIME, &ts))
		return (time_t)-1;
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

/* One line on stderr, once per process, if asked; raw write(2)s. */
static void say(const char *what, int err, const char *then)
{
	const char *const parts[] = { PREFIX, what, ": ",
				err ? ionclock_strerror(err) : then,
				err ? "; " : NULL, err ? then : NULL, "\n" };
	unsigned int i;

	/* A load first: this is on the read path while the page has no UTC. */
	if (!__atomic_load_n(&verbose, __ATOMIC_RELAXED) ||
	    __atomic_load_n(&warned, __ATOMIC_RELAXED) ||
	    __atomic_exchange_n(&warned, 1, __ATOMIC_RELAXED))
		return;
	for (i = 0; i < ARRAY_SIZE(parts); i++)
		if (parts[i] && syscall(SYS_write, STDERR_FILENO, parts[i],
					strlen(parts[i])) < 0)
			return;
}

/* Seconds as [+-]digits, no more than MAX_TAI_OFFSET_S; by hand (locale). */
static bool parse_seconds(const char *s, int64_t *out)
{
	bool neg = *s == '-';
	int64_t v = 0;

	if (*s == '-' || *s == '+')
		s++;
	if (!*s)
		return false;
	for (; *s; s++) {
		if (*s < '0' || *s > '9')
			return false;
		v = v * 10 + (*s - '0');
		if (v > MAX_TAI_OFFSET_S)
			return false;
	}
	*out = neg ? -v : v;
	return true;
}

/* An unset or empty variable is the default, silently. */
static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

/* IONCLOCK_PRELOAD_REALTIME's REALTIME_*; a value it does not know: smeared. */
static int realtime_mode(const char *v)
{
	if (v && !strcmp(v, "strict"))
		return REALTIME_STRICT;
	if (v && !strcmp(v, "off"))
		return REALTIME_OFF;
	return REALTIME_SMEARED;
}

/* IONCLOCK_PRELOAD_MONOTONIC: tai; anything else: off. */
static bool monotonic_mode(const char *v)
{
	return v && !strcmp(v, "tai");
}

/* Whether the drop-in answers @which itself rather than pass it through. */
static bool interposes(enum clk which, int realtime, bool monotonic_tai)
{
	switch (which) {
	case CLK_REALTIME:
		return realtime != REALTIME_OFF;
	case CLK_MONOTONIC:
		return monotonic_tai;
	default:
		return true;
	}
}

static void read_env(void)
{
	const char *v;
	int64_t s;

	v = env("IONCLOCK_PRELOAD_VERBOSE");
	__atomic_store_n(&verbose, v && !strcmp(v, "1"), __ATOMIC_RELAXED);

	v = env("IONCLOCK_PRELOAD_REALTIME");
	cfg.realtime = realtime_mode(v);
	if (v && cfg.realtime == REALTIME_SMEARED && strcmp(v, "smeared"))
		say("IONCLOCK_PRELOAD_REALTIME", 0,
		    "not smeared, strict or off: smeared");

	v = env("IONCLOCK_PRELOAD_MONOTONIC");
	cfg.monotonic_tai = monotonic_mode(v);
	if (v && !cfg.monotonic_tai && strcmp(v, "off"))
		say("IONCLOCK_PRELOAD_MONOTONIC", 0,
		    "not tai or off: off");

	v = env("IONCLOCK_PRELOAD_TAI_OFFSET");
	cfg.tai_offset_set = v && parse_seconds(v, &s);
	if (cfg.tai_offset_set)
		cfg.tai_offset_ns = s * NSEC_PER_SEC;
	else if (v)
		say("IONCLOCK_PRELOAD_TAI_OFFSET", 0,
		    "not a whole number of seconds within +-1000000: ignored");

	v = env("IONCLOCK_PRELOAD_MAX_BOUND_NS");
	cfg.fail_closed = v != NULL;
	cfg.max_bound_ns = 0;
	if (v && ionclock_parse_max_bound(v, &cfg.max_bound_ns))
		say("IONCLOCK_PRELOAD_MAX_BOUND_NS", 0,
		    "not a number of ns from 1: every clock it interposes fails with EAGAIN");
}

static void setup(void)
{
	const char *path;
	int err;

	vdso_look_up();
	read_env();
	/* Malformed: no bound to hold the device to, so no device. */
	if (cfg.fail_closed && !cfg.max_bound_ns)
		return;
	path = env("IONCLOCK_DEVICE");
	if (!path)
		path = IONCLOCK_DEFAULT_DEVICE;
	err = ionclock_init(&cfg.dev, path);
	cfg.have_dev = !err;
	if (err)
		say(path, -err, cfg.fail_closed ?
		    "IONCLOCK_PRELOAD_MAX_BOUND_NS: the clocks it interposes fail with EAGAIN" :
		    "using the system clock");
	else if (cfg.fail_closed)
		ionclock_set_max_bound(&cfg.dev, (int64_t)cfg.max_bound_ns);
}

/* Out of line: the read path is the load and compare in ready(). */
static __attribute__((noinline, cold)) bool setup_slow(long state)
{
	int saved_errno = errno;
	long me = getpid();

	if (state == me) {
		/* Under way in this process: never wait for it. */
		return false;
	}
	/*
	 * Another process's pid: forked while a thread of the parent set up.
	 * That thread is not here to finish, so start over.
	 */
	if (state != SETUP_NONE &&
	    !__atomic_compare_exchange_n(&setup_state, &state, SETUP_NONE,
					 false, __ATOMIC_ACQUIRE,
					 __ATOMIC_ACQUIRE))
		return state == SETUP_DONE;
	state = SETUP_NONE;
	if (!__atomic_compare_exchange_n(&setup_state, &state, me, false,
					 __ATOMIC_ACQUIRE, __ATOMIC_ACQUIRE))
		return state == SETUP_DONE;
	setup();
	/* pairs with the acquire in ready(): cfg is visible */
	__atomic_store_n(&setup_state, SETUP_DONE, __ATOMIC_RELEASE);
	errno = saved_errno;
	return true;
}

/* Whether set-up is done; the first caller does it. */
static inline bool ready(void)
{
	long state = __atomic_load_n(&setup_state, __ATOMIC_ACQUIRE);

	return state == SETUP_DONE || setup_slow(state);
}

static int keep(enum clk which, enum order_source src, int64_t t_ns,
		int64_t *out)
{
	*out = order_keep(&order[which], src, t_ns);
	return 0;
}

/* The system's @which, kept in order with what ionclock gave before. */
static int system_ns(enum clk which, int64_t *t_ns)
{
	struct timespec ts;

	if (real_clock_gettime(clk_id[which], &ts))
		return -1;
	return keep(which, ORDER_SYSTEM, ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec,
		    t_ns);
}

/*
 * Fail closed: ionclock has no time for the call within the maximum bound
 * (@err says why), and the system clock, which may be behind a time this
 * process has already seen, is not given instead.
 */
static __attribute__((cold)) int refused(int err)
{
	if (err)
		say("no ionclock time within IONCLOCK_PRELOAD_MAX_BOUND_NS", -err,
		    "the call fails with EAGAIN");
	errno = EAGAIN;
	return -1;
}

/*
 * Set-up under way: the system clock, or, with a maximum bound, a failure
 * for a clock set-up will interpose.  cfg is not ready to read, so the
 * environment is, again.
 */
static int early_ns(enum clk which, int64_t *t_ns)
{
	if (env("IONCLOCK_PRELOAD_MAX_BOUND_NS") &&
	    interposes(which, realtime_mode(env("IONCLOCK_PRELOAD_REALTIME")),
		       monotonic_mode(env("IONCLOCK_PRELOAD_MONOTONIC"))))
		return refused(0);
	return system_ns(which, t_ns);
}

/* ionclock could not give @which (@err): the system clock, or fail closed. */
static int fallback_ns(enum clk which, int err, int64_t *t_ns)
{
	if (cfg.fail_closed)
		return refused(err);
	if (err == -ENODATA)
		say("no TAI - UTC offset on the page", 0,
		    "CLOCK_REALTIME from the system (IONCLOCK_PRELOAD_TAI_OFFSET sets one)");
	return system_ns(which, t_ns);
}

/*
 * @which's time in ns, from ionclock or, failing that, the system: 0; or -1
 * with errno set (the system clock failed, or failing closed); or PASS: the
 * clock is not interposed, call the real function unchanged.
 */
static int interposed_ns(enum clk which, int64_t *t_ns)
{
	int64_t tai = 0, utc;
	int err, flag;

	if (!ready())
		return early_ns(which, t_ns);
	/* No device: set-up has said why; fail closed or pass through. */
	if (!cfg.have_dev)
		return cfg.fail_closed &&
		       interposes(which, cfg.realtime, cfg.monotonic_tai) ?
		       refused(0) : PASS;
	if (!interposes(which, cfg.realtime, cfg.monotonic_tai))
		return PASS;
	if (which != CLK_REALTIME) {
		err = ionclock_now(&cfg.dev, &tai);
		if (!err)
			return keep(which, ORDER_PAGE, tai, t_ns);
		return fallback_ns(which, err, t_ns);
	}
	err = ionclock_read_utc(&cfg.dev, cfg.realtime == REALTIME_STRICT ?
				IONCLOCK_UTC_STRICT : IONCLOCK_UTC,
				&tai, &utc, &flag);
	if (!err)
		return keep(which, ORDER_PAGE, utc, t_ns);
	if (err == -ENODATA && cfg.tai_offset_set)
		return keep(which, ORDER_ENV, tai - cfg.tai_offset_ns, t_ns);
	return fallback_ns(which, err, t_ns);
}

static int interposed_clock_gettime(clockid_t id, struct timespec *ts)
{
	enum clk which;
	int64_t t;
	int r;

	switch (id) {
	case CLOCK_REALTIME:
		which = CLK_REALTIME;
		break;
	case CLOCK_TAI:
		which = CLK_TAI;
		break;
	case CLOCK_MONOTONIC:
		which = CLK_MONOTONIC;
		break;
	default:
		return real_clock_gettime(id, ts);
	}
	r = interposed_ns(which, &t);
	if (r == PASS)
		return real_clock_gettime(id, ts);
	if (!r)
		ionclock_ns_to_timespec(t, ts);
	return r;
}

EXPORT int clock_gettime(clockid_t id, struct timespec *ts)
{
	return interposed_clock_gettime(id, ts);
}

/* The time64 name 32-bit builds call; 64-bit programs only (README). */
EXPORT int __clock_gettime64(clockid_t id, struct timespec *ts)
{
	return interposed_clock_gettime(id, ts);
}

EXPORT int gettimeofday(struct timeval *restrict tv_arg, void *restrict tz)
{
	struct timeval *tv = tv_arg;
	struct timespec ts;
	int64_t t;
	int r;

	/*
	 * glibc declares tv non-null, but the system call takes NULL and
	 * programs pass it: keep the compiler from dropping the test.
	 */
	__asm__("" : "+r" (tv));
	if (!tv)
		return real_gettimeofday(tv, tz);
	r = interposed_ns(CLK_REALTIME, &t);
	if (r == PASS)
		return real_gettimeofday(tv, tz);
	if (r)
		return r;
	/* The obsolete time zone, if asked for, from the real function. */
	if (tz && real_gettimeofday(NULL, tz))
		return -1;
	ionclock_ns_to_timespec(t, &ts);
	tv->tv_sec = ts.tv_sec;
	tv->tv_usec = ts.tv_nsec / 1000;
	return 0;
}

EXPORT time_t time(time_t *t)
{
	struct timespec ts;
	int64_t ns;
	int r;

	r = interposed_ns(CLK_REALTIME, &ns);
	if (r == PASS)
		return real_time(t);
	if (r)
		return (time_t)-1;
	ionclock_ns_to_timespec(ns, &ts);
	if (t)
		*t = ts.tv_sec;
	return ts.tv_sec;
}

/* TIME_UTC only, as glibc 2.36: other bases give 0. */
EXPORT int timespec_get(struct timespec *ts, int base)
{
	if (base != TIME_UTC)
		return 0;
	return interposed_clock_gettime(CLOCK_REALTIME, ts) ? 0 : base;
}

/* Set up before main() when nothing has called in yet. */
__attribute__((constructor)) static void ionclock_preload_init(void)
{
	ready();
}
