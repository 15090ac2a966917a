/* SPDX-License-Identifier: GPL-2.0 */
/*
 * What the drop-in's VM tests share: running a program under the drop-in
 * (or not) with a time limit, collecting its output, and ionclock's UTC as
 * the drop-in computes it, to judge what the program printed.
 */
#ifndef IONCLOCK_PRELOAD_RUN_H
#define IONCLOCK_PRELOAD_RUN_H

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"

#define NS		1000000000LL
#define TAI_OFFSET_S	37
#define MAX_ENV		16
/* How far the plan puts ionclock from the system clock, at least. */
#define FAR_S		100000
/* Longer than any of these programs takes under TCG. */
#define RUN_LIMIT_S	60

struct run {
	char out[8192];
	char err[4096];
	int status;
};

static inline const char *beside_me(const char *name, char *buf, size_t size)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n < 0)
		return name;
	self[n] = '\0';
	snprintf(buf, size, "%s/%s", dirname(self), name);
	return buf;
}

static inline const char *preload_path(void)
{
	static char buf[PATH_MAX];

	return test_env("IONCLOCK_PRELOAD",
			beside_me("libionclock-preload.so", buf, sizeof(buf)));
}

static inline void drain(int fd, char *buf, size_t size)
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
 * The environment for @argv: LD_PRELOAD=@ld_preload (NULL: the drop-in
 * alone), the device, the TAI offset and @extra (NULL-terminated "K=V"
 * strings, which win).
 */
static inline void make_env(const char **env, const char *const *extra,
		     const char *ld_preload)
{
	static char preload[2 * PATH_MAX + 16], dev[PATH_MAX + 32];
	int n = 0;

	snprintf(preload, sizeof(preload), "LD_PRELOAD=%s",
		 ld_preload ? ld_preload : preload_path());
	snprintf(dev, sizeof(dev), "IONCLOCK_DEVICE=%s", test_ionclock_dev());
	while (extra && *extra && n < MAX_ENV - 5)
		env[n++] = *extra++;
	env[n++] = preload;
	env[n++] = dev;
	env[n++] = "IONCLOCK_PRELOAD_TAI_OFFSET=37";
	env[n++] = "PATH=/usr/bin:/bin";
	env[n] = NULL;
}

/* In a child: @argv with @env, output to @out_fd and @err_fd, limited. */
static inline void exec_limited(const char *const *argv, const char **env,
			 int out_fd, int err_fd)
{
	dup2(out_fd, STDOUT_FILENO);
	dup2(err_fd, STDERR_FILENO);
	/* A hang ends here, as a failure (SIGALRM survives exec). */
	alarm(RUN_LIMIT_S);
	/* Earlier entries win in glibc's getenv(): extras first. */
	execve(argv[0], (char *const *)argv, (char *const *)env);
	dprintf(STDERR_FILENO, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

/* Runs @argv under @ld_preload (see make_env()).  0 or -errno. */
static inline int run_with(const char *const *argv, const char *const *extra,
		    const char *ld_preload, struct run *r)
{
	const char *env[MAX_ENV];
	int out[2], err[2];
	pid_t pid;

	make_env(env, extra, ld_preload);
	if (pipe(out) || pipe(err))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(out[0]);
		close(err[0]);
		exec_limited(argv, env, out[1], err[1]);
	}
	close(out[1]);
	close(err[1]);
	drain(out[0], r->out, sizeof(r->out));
	drain(err[0], r->err, sizeof(r->err));
	if (waitpid(pid, &r->status, 0) != pid)
		return -errno;
	return 0;
}

static inline int run(const char *const *argv, const char *const *extra,
	       struct run *r)
{
	return run_with(argv, extra, NULL, r);
}

/* ionclock's UTC as the drop-in computes it with the offset above. */
static inline int64_t utc_ns(struct ionclock *c)
{
	struct timespec ts;
	int64_t t;

	if (!ionclock_gettime(c, IONCLOCK_UTC, &ts, NULL))
		return ts.tv_sec * NS + ts.tv_nsec;
	if (ionclock_now(c, &t))
		return -1;
	return t - TAI_OFFSET_S * NS;
}

static inline int64_t tai_ns(struct ionclock *c)
{
	int64_t t;

	return ionclock_now(c, &t) ? -1 : t;
}

static inline int64_t sys_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return ts.tv_sec * NS + ts.tv_nsec;
}

/* The value of "@key <n>" in @out, or -1. */
static inline long long field(const char *out, const char *key)
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
static inline int64_t parse_seconds(const char *s)
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

#endif /* IONCLOCK_PRELOAD_RUN_H */
