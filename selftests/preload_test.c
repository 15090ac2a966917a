// SPDX-License-Identifier: GPL-2.0
/*
 * The LD_PRELOAD drop-in on programs nobody here wrote: coreutils' date,
 * python3, Debian's redis-server (linked with jemalloc) and date again
 * under each of Debian's jemalloc, tcmalloc and mimalloc preloaded beside
 * the drop-in, in both orders; plus preload_alloc_prog (an allocator that
 * calls clock_gettime()).  Each program's reading must fall between two
 * readings this test takes on either side of running it: ionclock's UTC
 * for CLOCK_REALTIME, ionclock's TAI for CLOCK_TAI, and the system's own
 * clocks for what must pass through.  Every program runs under a time
 * limit, so a hang is a failure, not a stuck VM.
 *
 * The VM's plan (init.sh) sets the PHC FAR_S and more away from the system
 * clock before the module loads, so ionclock's UTC cannot be mistaken for
 * the system's: each ionclock reading must also be that far from it.  The
 * kernel has no TAI offset and no leap table is loaded, so the page has no
 * UTC: IONCLOCK_PRELOAD_TAI_OFFSET=37 supplies one.  This binary is static,
 * so the drop-in never touches its own clock reads.
 *
 * Environment: IONCLOCK_DEV (the device), IONCLOCK_DATE, IONCLOCK_PYTHON,
 * IONCLOCK_REDIS, IONCLOCK_LIBDIR (where the allocators are),
 * IONCLOCK_PRELOAD (the .so; default beside this binary).
 */
#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"
#include "preload_run.h"

#define REDIS_SOCK	"/tmp/ionclock-redis.sock"

FIXTURE(preload) {
	struct ionclock *c;
	struct run r;
	char date[PATH_MAX];
	char python[PATH_MAX];
	char alloc[PATH_MAX];
	char redis[PATH_MAX];
	const char *libdir;
};

FIXTURE_SETUP(preload)
{
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 10));
	snprintf(self->date, sizeof(self->date), "%s",
		 test_env("IONCLOCK_DATE", "/usr/bin/date"));
	snprintf(self->python, sizeof(self->python), "%s",
		 test_env("IONCLOCK_PYTHON", "/usr/bin/python3.11"));
	snprintf(self->redis, sizeof(self->redis), "%s",
		 test_env("IONCLOCK_REDIS", "/usr/bin/redis-server"));
	self->libdir = test_env("IONCLOCK_LIBDIR", "/usr/lib/x86_64-linux-gnu");
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

/* ionclock's time, not the system's: FAR_S away from it (see the top). */
#define EXPECT_FAR_FROM_SYSTEM(v)					\
	do {								\
		long long __d = (v) - sys_ns(CLOCK_REALTIME);		\
									\
		EXPECT_TRUE(__d > FAR_S * NS || __d < -FAR_S * NS)	\
			TH_LOG(#v " - CLOCK_REALTIME = %+lld ms: not far", \
			       __d / 1000000);				\
	} while (0)

TEST_F(preload, date_reads_ionclock_utc)
{
	const char *const argv[] = { self->date, "+%s.%N", NULL };
	int64_t before, after, got;

	before = utc_ns(self->c);
	RUN_SECONDS(argv, NULL, got);
	after = utc_ns(self->c);
	EXPECT_WITHIN(got, before, after);
	EXPECT_FAR_FROM_SYSTEM(got);
	EXPECT_STREQ("", self->r.err);
}

/* Each real allocator beside the drop-in, first and second: date works. */
TEST_F(preload, date_under_each_allocator_both_orders)
{
	static const char *const allocators[] = {
		"libjemalloc.so.2", "libtcmalloc_minimal.so.4",
		"libmimalloc.so.2",
	};
	const char *const argv[] = { self->date, "+%s.%N", NULL };
	char lib[PATH_MAX], both[2 * PATH_MAX + 2];
	int64_t before, after, got;
	unsigned int i, order;

	for (i = 0; i < ARRAY_SIZE(allocators); i++) {
		snprintf(lib, sizeof(lib), "%s/%s", self->libdir, allocators[i]);
		ASSERT_EQ(0, access(lib, R_OK)) TH_LOG("%s missing", lib);
		for (order = 0; order < 2; order++) {
			snprintf(both, sizeof(both), "%s %s",
				 order ? lib : preload_path(),
				 order ? preload_path() : lib);
			before = utc_ns(self->c);
			ASSERT_EQ(0, run_with(argv, NULL, both, &self->r));
			after = utc_ns(self->c);
			EXPECT_EQ(0, self->r.status)
				TH_LOG("LD_PRELOAD=\"%s\": status %#x: %s", both,
				       self->r.status, self->r.err);
			got = parse_seconds(self->r.out);
			EXPECT_WITHIN(got, before, after);
			EXPECT_FAR_FROM_SYSTEM(got);
		}
	}
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
	EXPECT_FAR_FROM_SYSTEM(got);
}

/*
 * One command to redis-server over its unix socket, in RESP; the reply's
 * first @lines lines into @reply.  0 or -errno.
 */
static int redis_cmd(const char *const *args, int lines, char *reply,
		     size_t size)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char req[512];
	size_t used = 0, len = 0;
	struct pollfd pfd;
	int fd, i, n, crlf = 0;

	for (n = 0; args[n]; n++)
		;
	len = snprintf(req, sizeof(req), "*%d\r\n", n);
	for (i = 0; i < n; i++)
		len += snprintf(req + len, sizeof(req) - len, "$%zu\r\n%s\r\n",
				strlen(args[i]), args[i]);
	strcpy(sa.sun_path, REDIS_SOCK);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, len) != (ssize_t)len) {
		close(fd);
		return -errno;
	}
	pfd.fd = fd;
	pfd.events = POLLIN;
	while (crlf < lines && used < size - 1) {
		if (poll(&pfd, 1, 10000) != 1)
			break;
		n = read(fd, reply + used, size - 1 - used);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++)
			crlf += reply[used + i] == '\n';
		used += n;
	}
	reply[used] = '\0';
	close(fd);
	return crlf >= lines ? 0 : -EIO;
}

/*
 * Debian's redis-server, which links jemalloc, under the drop-in: it used
 * to hang before main().  Its TIME is ionclock's UTC, and a key set with
 * EX 2 is there after 1 s and gone after 3 s on that clock.
 */
TEST_F(preload, redis_server_time_and_expiry)
{
	const char *const argv[] = { self->redis, "--port", "0",
		"--unixsocket", REDIS_SOCK, "--save", "", "--appendonly", "no",
		"--daemonize", "no", NULL };
	const char *const ping[] = { "PING", NULL };
	const char *const time_cmd[] = { "TIME", NULL };
	const char *const set[] = { "SET", "ionclock-key", "v", "EX", "2", NULL };
	const char *const exists[] = { "EXISTS", "ionclock-key", NULL };
	const char *env[MAX_ENV];
	long long sec, usec;
	int64_t before, after, got;
	char reply[256];
	int log, i, n, status;
	pid_t pid;

	unlink(REDIS_SOCK);
	make_env(env, NULL, NULL);
	log = open("/tmp/redis.log", O_WRONLY | O_CREAT | O_TRUNC, 0644);
	ASSERT_LE(0, log);
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid)
		exec_limited(argv, env, log, log);
	close(log);
	for (i = 0; i < 200; i++) {
		if (!redis_cmd(ping, 1, reply, sizeof(reply)))
			break;
		usleep(100000);
	}
	EXPECT_STREQ("+PONG\r\n", reply) TH_LOG("no answer in 20 s");

	before = utc_ns(self->c);
	EXPECT_EQ(0, redis_cmd(time_cmd, 5, reply, sizeof(reply)));
	after = utc_ns(self->c);
	/* *2, $10, <seconds>, $n, <microseconds> */
	n = sscanf(reply, "*2\r\n$%*d\r\n%lld\r\n$%*d\r\n%lld", &sec, &usec);
	EXPECT_EQ(2, n) TH_LOG("TIME: %s", reply);
	got = sec * NS + usec * 1000;
	EXPECT_WITHIN(got, before / 1000 * 1000, after);
	EXPECT_FAR_FROM_SYSTEM(got);

	EXPECT_EQ(0, redis_cmd(set, 1, reply, sizeof(reply)));
	EXPECT_STREQ("+OK\r\n", reply);
	sleep(1);
	EXPECT_EQ(0, redis_cmd(exists, 1, reply, sizeof(reply)));
	EXPECT_STREQ(":1\r\n", reply) TH_LOG("gone after 1 s");
	sleep(2);
	EXPECT_EQ(0, redis_cmd(exists, 1, reply, sizeof(reply)));
	EXPECT_STREQ(":0\r\n", reply) TH_LOG("still there after 3 s");

	kill(pid, SIGTERM);
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status))
		TH_LOG("redis-server status %#x", status);
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
	EXPECT_FAR_FROM_SYSTEM(field(self->r.out, "realtime_ns"));
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
