/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the VM selftests share: which devices to use (the VM's init passes
 * them in the environment) and waiting for the engine to settle.
 */
#ifndef IONCLOCK_TEST_H
#define IONCLOCK_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/ionclock.h>

#include "ionclock.h"

#ifndef CLOCK_INVALID
#define CLOCK_INVALID -1
#endif
#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)		(sizeof(a) / sizeof((a)[0]))
#endif
#define FD_TO_CLOCKID(fd)	((~(clockid_t)(fd) << 3) | 3)

static inline const char *test_env(const char *name, const char *def)
{
	const char *v = getenv(name);

	return v && *v ? v : def;
}

static inline const char *test_ionclock_dev(void)
{
	return test_env("IONCLOCK_DEV", "/dev/ionclock0");
}

static inline const char *test_phc_dev(void)
{
	return test_env("IONCLOCK_PHC", "/dev/ptp0");
}

static inline int64_t test_mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* make soak's length per scenario (FAULT_SOAK_SECONDS), 0 outside a soak. */
static inline int test_soak_seconds(void)
{
	return atoi(test_env("FAULT_SOAK_SECONDS", "0"));
}

/* Write @s to a sysfs or proc file: 0, or -errno. */
static inline int test_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY), ok;

	if (fd < 0)
		return -errno;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -EIO;
}

/* selftests/fakephc's parameters: the faults it makes, its true time. */
static inline const char *test_fake_dir(void)
{
	return test_env("IONCLOCK_FAKE", "/sys/module/fakephc/parameters");
}

/* The fake PHC's true time now (its now_ns, open at @fd); INT64_MIN if unread. */
static inline int64_t test_fake_truth_ns(int fd)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0)
		return INT64_MIN;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

static inline int test_fake_set(const char *name, long long v)
{
	char path[256], buf[32];

	snprintf(path, sizeof(path), "%s/%s", test_fake_dir(), name);
	snprintf(buf, sizeof(buf), "%lld", v);
	return test_write_str(path, buf);
}

/*
 * Run "insmod @module @arg" and wait up to @limit_s for it.  If it is still
 * running then (blocked in an open(), say), each FIFO of the NULL-ended
 * @fifos gets a writer, which lets such an open() go on, and the rest is
 * killed.  Returns whether insmod returned in time; *status is its wait
 * status.
 */
static inline bool test_insmod(const char *module, const char *arg,
			       int limit_s, const char *const *fifos,
			       int *status)
{
	int64_t start = test_mono_ns();
	pid_t pid = fork();
	int fd;

	*status = -1;
	if (pid < 0)
		return false;
	if (pid == 0) {
		execlp("insmod", "insmod", module, arg, (char *)NULL);
		_exit(127);
	}
	while (test_mono_ns() - start < limit_s * 1000000000LL) {
		if (waitpid(pid, status, WNOHANG) == pid)
			return true;
		usleep(20000);
	}
	for (; fifos && *fifos; fifos++) {
		fd = open(*fifos, O_WRONLY | O_NONBLOCK);
		if (fd >= 0)
			close(fd);
	}
	usleep(2000000);
	if (waitpid(pid, status, WNOHANG) != pid) {
		kill(pid, SIGKILL);
		waitpid(pid, status, 0);
	}
	return false;
}

/* Wait up to @timeout_s for the page to report @state; returns whether it did. */
static inline int test_wait_state(struct ionclock *c, uint32_t state,
				  int timeout_s)
{
	const volatile struct ionclock_page *p = ionclock_page(c);
	int64_t end = test_mono_ns() + timeout_s * 1000000000LL;

	while (test_mono_ns() < end) {
		if (p->state == state)
			return 1;
		usleep(50000);
	}
	return p->state == state;
}

/*
 * A thread calling ionclock_now() as fast as it can until stopped, counting
 * reads, reads earlier than the one before, and failed reads.
 */
struct test_reader {
	struct ionclock *c;
	pthread_t thread;
	bool running;
	atomic_bool stop;
	atomic_long reads;
	atomic_long backward;
	atomic_long errors;
};

static inline void *test_reader_run(void *arg)
{
	struct test_reader *r = arg;
	int64_t prev = 0, now;

	while (!atomic_load(&r->stop)) {
		if (ionclock_now(r->c, &now)) {
			atomic_fetch_add(&r->errors, 1);
			continue;
		}
		if (now < prev) {
			fprintf(stderr, "# backward: %lld after %lld\n",
				(long long)now, (long long)prev);
			atomic_fetch_add(&r->backward, 1);
		}
		prev = now;
		atomic_fetch_add(&r->reads, 1);
	}
	return NULL;
}

static inline int test_reader_start(struct test_reader *r, struct ionclock *c)
{
	r->c = c;
	atomic_store(&r->stop, false);
	atomic_store(&r->reads, 0);
	atomic_store(&r->backward, 0);
	atomic_store(&r->errors, 0);
	r->running = !pthread_create(&r->thread, NULL, test_reader_run, r);
	return r->running ? 0 : -1;
}

static inline void test_reader_stop(struct test_reader *r)
{
	if (!r->running)
		return;
	atomic_store(&r->stop, true);
	pthread_join(r->thread, NULL);
	r->running = false;
}

/*
 * Leap tests (control_test, upstream_test): step the PHC with phc_ctl, and
 * read the three clocks across a leap.
 */
static inline int set_smear(int fd, uint32_t window)
{
	struct ionclock_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.set = IONCLOCK_CONFIG_SMEAR_WINDOW;
	cfg.smear_window_s = window;
	return ioctl(fd, IONCLOCK_IOC_SET_CONFIG, &cfg);
}

static inline int phc_set(uint64_t tai_s)
{
	char cmd[160];

	snprintf(cmd, sizeof(cmd), "phc_ctl -q %s set %llu >/dev/null",
		 test_phc_dev(), (unsigned long long)tai_s);
	return system(cmd);
}

struct leap_watch {
	long reads;
	long tai_back, utc_back, strict_back;
	long strict_60;		/* reads labelled 23:59:60 */
	int64_t missing_sec;	/* a UTC second that must never be seen */
	long saw_missing;
};

static inline int64_t ts_ns(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/*
 * Read all three clocks until TAI reaches @tai_s: TAI and smeared UTC must
 * never go back; strict UTC must be ordered by (second, leap flag, ns).
 */
static inline int run_until(struct ionclock *c, uint64_t tai_s, int limit_s,
		     struct leap_watch *w)
{
	int64_t end = test_mono_ns() + limit_s * 1000000000LL;
	struct timespec tai, utc, strict, pstrict = { 0 };
	int64_t ptai = 0, putc = 0;
	int flag, pflag = 0;

	while (test_mono_ns() < end) {
		if (ionclock_gettime(c, IONCLOCK_TAI, &tai, NULL) ||
		    ionclock_gettime(c, IONCLOCK_UTC, &utc, NULL) ||
		    ionclock_gettime(c, IONCLOCK_UTC_STRICT, &strict, &flag))
			return -1;
		w->reads++;
		w->tai_back += ts_ns(&tai) < ptai;
		w->utc_back += ts_ns(&utc) < putc;
		if (strict.tv_sec < pstrict.tv_sec ||
		    (strict.tv_sec == pstrict.tv_sec &&
		     (flag < pflag || (flag == pflag &&
				       strict.tv_nsec < pstrict.tv_nsec))))
			w->strict_back++;
		w->strict_60 += flag;
		w->saw_missing += strict.tv_sec == w->missing_sec;
		ptai = ts_ns(&tai);
		putc = ts_ns(&utc);
		pstrict = strict;
		pflag = flag;
		if ((uint64_t)tai.tv_sec >= tai_s)
			return 0;
	}
	return -1;
}

static inline int64_t utc_minus_tai_s(struct ionclock *c)
{
	struct timespec tai, utc;

	ionclock_gettime(c, IONCLOCK_TAI, &tai, NULL);
	ionclock_gettime(c, IONCLOCK_UTC, &utc, NULL);
	return (ts_ns(&utc) - ts_ns(&tai) - 500000000LL) / 1000000000LL;
}

#endif /* IONCLOCK_TEST_H */
