// SPDX-License-Identifier: GPL-2.0
/*
 * The LD_PRELOAD drop-in on programs nobody here wrote: coreutils' date and
 * python3, dynamically linked, plus preload_alloc_prog (an allocator that
 * calls clock_gettime()).  Each program's reading must fall between two
 * readings this test takes on either side of running it: ionclock's UTC
 * for CLOCK_REALTIME, ionclock's TAI for CLOCK_TAI, and the system's own
 * clocks for what must pass through.
 *
 * The VM's kernel has no TAI offset and no leap table is loaded, so the
 * page has no UTC: IONCLOCK_PRELOAD_TAI_OFFSET=37 supplies one, which also
 * puts the drop-in's REALTIME 37 s away from the system's, where it cannot
 * be mistaken for it.  This binary is static, so the drop-in never touches
 * its own clock reads.
 *
 * Environment: IONCLOCK_DEV (the device), IONCLOCK_DATE, IONCLOCK_PYTHON,
 * IONCLOCK_PRELOAD (the .so; default beside this binary).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define NS		1000000000LL
#define TAI_OFFSET_S	37
#define MAX_ENV		16

struct run {
	char out[8192];
	char err[4096];
	int status;
};

static const char *beside_me(const char *name, char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return name;
	self[n] = '\0';
	snprintf(buf, size, "%s/%s", dirname(self), name);
	return buf;
}

static const char *preload_path(void)
{
	static char buf[PATH_MAX];

	return test_env("IONCLOCK_PRELOAD",
			beside_me("libionclock-preload.so", buf, sizeof(buf)));
}

static void drain(int fd, char *buf, size_t size)
{
	size_t used = 0;
	ssize_t n;

	while ((n = read(fd, buf + used, size - 1 - used)) > 0 ||
	       (n < 0 && errno == EINTR))
		if (n > 0)
			used += n;
	buf[used] = '\0';
	close(fd);
}

/*
 * Runs @argv with the drop-in preloaded, the device, the TAI offset and
 * @extra (NULL-terminated "K=V" strings, which win).  Returns 0 or -errno.
 */
static int run(const char *const *argv, const char *const *extra,
	       struct run *r)
{
	static char preload[PATH_MAX + 16], dev[PATH_MAX + 32];
	const char *env[MAX_ENV];
	int out[2], err[2], n = 0;
	pid_t pid;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s", preload_path());
	snprintf(dev, sizeof(dev), "IONCLOCK_DEVICE=%s", test_ionclock_dev());
	while (extra && *extra && n < MAX_ENV - 5)
		env[n++] = *extra++;
	env[n++] = preload;
	env[n++] = dev;
	env[n++] = "IONCLOCK_PRELOAD_TAI_OFFSET=37";
	env[n++] = "PATH=/usr/bin:/bin";
	env[n] = NULL;
	if (pipe(out) || pipe(err))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		dup2(out[1], STDOUT_FILENO);
		dup2(err[1], STDERR_FILENO);
		close(out[0]);
		close(err[0]);
		/* Earlier entries win in glibc's getenv(): extras first. */
		execve(argv[0], (char *const *)argv, (char *const *)env);
		dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	close(out[1]);
	close(err[1]);
	drain(out[0], r->out, sizeof(r->out));
	drain(err[0], r->err, sizeof(r->err));
	if (waitpid(pid, &r->status, 0) != pid)
		return -errno;
	return 0;
}

/* ionclock's UTC as the drop-in computes it with the offset above. */
static int64_t utc_ns(struct ionclock *c)
{
	struct timespec ts;
	int64_t t;

	if (!ionclock_gettime(c, IONCLOCK_UTC, &ts, NULL))
		return ts.tv_sec * NS + ts.tv_nsec;
	if (ionclock_now(c, &t))
		return -1;
	return t - TAI_OFFSET_S * NS;
}

static int64_t tai_ns(struct ionclock *c)
{
	int64_t t;

	return ionclock_now(c, &t) ? -1 : t;
}

static int64_t sys_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

/* The value of "@key <n>" in @out, or -1. */
static long long field(const char *out, const char *key)
{
	size_t len = strlen(key);
	const char *p = out;

	while ((p = strstr(p, key))) {
		if ((p == out || p[-1] == '\n') && p[len] == ' ')
			return strtoll(p + len + 1, NULL, 10);
		p += len;
	}
	return -1;
}

/* "sec.frac" as printed by date +%s.%N or python, to ns. */
static int64_t parse_seconds(const char *s)
{
	int64_t frac = 0, scale = NS;
	long long sec;
	char *end;

	sec = strtoll(s, &end, 10);
	if (end == s)
		return -1;
	s = end;
	if (*s == '.')
		for (s++; *s >= '0' && *s <= '9'; s++)
			if (scale > 1) {
				scale /= 10;
				frac += (*s - '0') * scale;
			}
	return sec * NS + frac;
}

FIXTURE(preload) {
	struct ionclock *c;
	struct run r;
	char date[PATH_MAX];
	char python[PATH_MAX];
	char alloc[PATH_MAX];
};

FIXTURE_SETUP(preload)
{
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 10));
	snprintf(self->date, sizeof(self->date), "%s",
		 test_env("IONCLOCK_DATE", "/usr/bin/date"));
	snprintf(self->python, sizeof(self->python), "%s",
		 test_env("IONCLOCK_PYTHON", "/usr/bin/python3.11"));
	beside_me("preload_alloc_prog", self->alloc, sizeof(self->alloc));
	ASSERT_EQ(0, access(preload_path(), R_OK)) TH_LOG("%s", preload_path());
}

FIXTURE_TEARDOWN(preload)
{
	ionclock_close(self->c);
}

/* Runs @argv, expects exit 0, and returns its first line as ns. */
#define RUN_SECONDS(argv, extra, out_ns)				\
	do {								\
		ASSERT_EQ(0, run(argv, extra, &self->r));		\
		ASSERT_EQ(0, self->r.status)				\
			TH_LOG("%s: %s", (argv)[0], self->r.err);	\
		out_ns = parse_seconds(self->r.out);			\
	} while (0)

#define EXPECT_WITHIN(v, lo, hi)					\
	do {								\
		long long __v = (v), __lo = (lo), __hi = (hi);		\
									\
		EXPECT_TRUE(__v >= __lo && __v <= __hi)			\
			TH_LOG(#v " %lld not in [%lld, %lld] (%+lld, %+lld)", \
			       __v, __lo, __hi, __v - __lo, __v - __hi); \
	} while (0)

TEST_F(preload, date_reads_ionclock_utc)
{
	const char *const argv[] = { self->date, "+%s.%N", NULL };
	int64_t before, after, got;

	before = utc_ns(self->c);
	RUN_SECONDS(argv, NULL, got);
	after = utc_ns(self->c);
	EXPECT_WITHIN(got, before, after);
	EXPECT_STREQ("", self->r.err);
	/* The system's REALTIME is not ionclock's UTC here (see the top). */
	TH_LOG("date - CLOCK_REALTIME = %+lld ms",
	       (long long)(got - sys_ns(CLOCK_REALTIME)) / 1000000);
}

TEST_F(preload, date_strict_and_off)
{
	const char *const strict[] = { "IONCLOCK_PRELOAD_REALTIME=strict", NULL };
	const char *const off[] = { "IONCLOCK_PRELOAD_REALTIME=off", NULL };
	const char *const argv[] = { self->date, "+%s.%N", NULL };
	int64_t before, after, got;

	before = utc_ns(self->c);
	RUN_SECONDS(argv, strict, got);
	after = utc_ns(self->c);
	EXPECT_WITHIN(got, before, after);

	before = sys_ns(CLOCK_REALTIME);
	RUN_SECONDS(argv, off, got);
	after = sys_ns(CLOCK_REALTIME);
	EXPECT_WITHIN(got, before, after);
}

TEST_F(preload, python_time_time)
{
	const char *const argv[] = { self->python, "-c",
			       "import time; print(repr(time.time()))", NULL };
	int64_t before, after, got;

	before = utc_ns(self->c);
	RUN_SECONDS(argv, NULL, got);
	after = utc_ns(self->c);
	/* A double holds this many seconds to about 240 ns. */
	EXPECT_WITHIN(got, before - 1000, after + 1000);
	TH_LOG("python %s", self->r.out);
}

TEST_F(preload, allocator_calling_clock_gettime)
{
	const char *const argv[] = { self->alloc, NULL };
	int64_t before, after, tai_before, tai_after, mono_before, mono_after;
	const char *p;
	long long v;
	int threads = 0;

	mono_before = sys_ns(CLOCK_MONOTONIC);
	tai_before = tai_ns(self->c);
	before = utc_ns(self->c);
	ASSERT_EQ(0, run(argv, NULL, &self->r));
	after = utc_ns(self->c);
	tai_after = tai_ns(self->c);
	mono_after = sys_ns(CLOCK_MONOTONIC);
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);

	EXPECT_WITHIN(field(self->r.out, "realtime_ns"), before, after);
	EXPECT_WITHIN(field(self->r.out, "timespec_get_ns"), before, after);
	EXPECT_WITHIN(field(self->r.out, "child_realtime_ns"), before, after);
	EXPECT_WITHIN(field(self->r.out, "gettimeofday_us") * 1000,
		      before - 1000, after);
	EXPECT_WITHIN(field(self->r.out, "time_s") * NS, before - NS, after);
	EXPECT_WITHIN(field(self->r.out, "tai_ns"), tai_before, tai_after);
	/* Not preloaded: the system's own CLOCK_MONOTONIC. */
	EXPECT_WITHIN(field(self->r.out, "monotonic_ns"), mono_before,
		      mono_after);
	for (p = self->r.out; (p = strstr(p, "thread_realtime_ns ")); p++) {
		v = strtoll(p + strlen("thread_realtime_ns "), NULL, 10);
		EXPECT_WITHIN(v, before, after);
		threads++;
	}
	EXPECT_EQ(4, threads);
	/* Its malloc() ran, and called clock_gettime(), all along. */
	EXPECT_LT(0, field(self->r.out, "malloc_clock_calls"));
	EXPECT_LT(0, field(self->r.out, "ctor_realtime_ns"));
	EXPECT_STREQ("", self->r.err);
}

TEST_F(preload, monotonic_tai_is_opt_in)
{
	const char *const argv[] = { self->alloc, NULL };
	const char *const tai[] = { "IONCLOCK_PRELOAD_MONOTONIC=tai", NULL };
	int64_t before, after;

	before = tai_ns(self->c);
	ASSERT_EQ(0, run(argv, tai, &self->r));
	after = tai_ns(self->c);
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_WITHIN(field(self->r.out, "monotonic_ns"), before, after);
}

TEST_F(preload, missing_device_uses_the_system_clock)
{
	const char *const quiet[] = { "IONCLOCK_DEVICE=/dev/nonexistent", NULL };
	const char *const verbose[] = { "IONCLOCK_DEVICE=/dev/nonexistent",
				  "IONCLOCK_PRELOAD_VERBOSE=1", NULL };
	const char *const date[] = { self->date, "+%s.%N", NULL };
	const char *const alloc[] = { self->alloc, NULL };
	int64_t before, after, got;

	before = sys_ns(CLOCK_REALTIME);
	RUN_SECONDS(date, quiet, got);
	after = sys_ns(CLOCK_REALTIME);
	EXPECT_WITHIN(got, before, after);
	EXPECT_STREQ("", self->r.err);

	RUN_SECONDS(date, verbose, got);
	EXPECT_STREQ("libionclock-preload: /dev/nonexistent: No such file or directory; using the system clock\n",
		     self->r.err);

	before = sys_ns(CLOCK_TAI);
	ASSERT_EQ(0, run(alloc, quiet, &self->r));
	after = sys_ns(CLOCK_TAI);
	ASSERT_EQ(0, self->r.status) TH_LOG("%s", self->r.err);
	EXPECT_WITHIN(field(self->r.out, "tai_ns"), before, after);
}

/* With no offset on the page and none given, REALTIME is the system's. */
TEST_F(preload, no_utc_without_an_offset)
{
	const char *const verbose[] = { "IONCLOCK_PRELOAD_TAI_OFFSET=",
				  "IONCLOCK_PRELOAD_VERBOSE=1", NULL };
	const char *const argv[] = { self->date, "+%s.%N", NULL };
	const volatile struct ionclock_page *p = ionclock_page(self->c);
	int64_t before, after, got;

	if (p->flags & IONCLOCK_FLAG_TAI_OFFSET_VALID)
		SKIP(return, "the page has a TAI - UTC offset");
	before = sys_ns(CLOCK_REALTIME);
	RUN_SECONDS(argv, verbose, got);
	after = sys_ns(CLOCK_REALTIME);
	EXPECT_WITHIN(got, before, after);
	EXPECT_NE(NULL, strstr(self->r.err, "no TAI - UTC offset"))
		TH_LOG("stderr: %s", self->r.err);
}

/* The library calls the drop-in is built on, against the real device. */
TEST_F(preload, status_and_commit_wait)
{
	struct ionclock_status st;
	struct ionclock_info info;
	int64_t before, after, start, took;

	before = tai_ns(self->c);
	ASSERT_EQ(0, ionclock_status(self->c, &st));
	after = tai_ns(self->c);
	ASSERT_EQ(0, ionclock_info(self->c, &info));
	EXPECT_EQ(IONCLOCK_STATE_TRACKING, st.state);
	EXPECT_TRUE(st.flags & IONCLOCK_FLAG_VALID);
	EXPECT_WITHIN(st.tai_ns, before, after);
	EXPECT_LE(0, st.bound_ns);
	EXPECT_EQ(info.phc_index, st.phc_index);
	EXPECT_LE(0, st.phc_index);
	EXPECT_STREQ(info.phc_name, st.phc_name);
	EXPECT_NE(0, st.phc_name[0]);

	EXPECT_EQ(1, ionclock_after(self->c, before - st.bound_ns - NS));
	EXPECT_EQ(0, ionclock_after(self->c, after + NS));
	start = test_mono_ns();
	ASSERT_EQ(0, ionclock_wait_until_after(self->c, tai_ns(self->c) +
					      50000000));
	took = test_mono_ns() - start;
	EXPECT_WITHIN(took, 50000000, NS);
}

TEST_HARNESS_MAIN
