// SPDX-License-Identifier: GPL-2.0
/*
 * The failure ionclock exists for, shown on a real program.  Two copies of
 * preload_stamp_prog (dynamically linked) stamp events with
 * clock_gettime(CLOCK_REALTIME), gettimeofday() and time() for STAMP_S
 * seconds: one under the LD_PRELOAD drop-in, one without it.  Meanwhile the
 * system clock is stepped back 3 s (as an NTP step would), the PHC is
 * stepped back 1 s, and the PHC is slewed -300 ppm (phc_ctl, as ptp4l
 * would).  Under the drop-in not one stamp may come out earlier than the
 * one before; without it, the system clock's step must show, or this test
 * could not fail.
 *
 * Destructive: it moves the system clock and the PHC, and puts both back
 * (the clock forward 3 s, the PHC's frequency to 0) when done.
 * Environment: IONCLOCK_DEV, IONCLOCK_PHC (the /dev/ptpN the module
 * follows).
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"
#include "preload_run.h"

#define STAMP_S		"20"
#define SYSTEM_STEP_S	3

struct stamper {
	pid_t pid;
	int out;
	char text[4096];
	int status;
};

/* preload_stamp_prog under @ld_preload ("": none), output to a pipe. */
static int stamper_start(struct stamper *s, const char *ld_preload)
{
	static char prog[PATH_MAX];
	const char *const argv[] = { beside_me("preload_stamp_prog", prog,
					       sizeof(prog)), STAMP_S, NULL };
	const char *env[MAX_ENV];
	int fd[2];

	make_env(env, NULL, ld_preload);
	if (pipe(fd))
		return -errno;
	s->pid = fork();
	if (s->pid < 0)
		return -errno;
	if (!s->pid) {
		close(fd[0]);
		exec_limited(argv, env, fd[1], fd[1]);
	}
	close(fd[1]);
	s->out = fd[0];
	return 0;
}

static int stamper_wait(struct stamper *s)
{
	drain(s->out, s->text, sizeof(s->text));
	return waitpid(s->pid, &s->status, 0) == s->pid ? 0 : -errno;
}

static int step_system_clock(int64_t delta_s)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += delta_s;
	return clock_settime(CLOCK_REALTIME, &ts) ? -errno : 0;
}

static int steer_phc(const char *cmd)
{
	char line[256];

	snprintf(line, sizeof(line), "phc_ctl -q %s -- %s", test_phc_dev(),
		 cmd);
	return system(line);
}

FIXTURE(steps) {
	struct ionclock *c;
	bool stepped;
};

FIXTURE_SETUP(steps)
{
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 10));
	self->stepped = false;
}

FIXTURE_TEARDOWN(steps)
{
	if (self->stepped)
		step_system_clock(SYSTEM_STEP_S);
	steer_phc("freq 0");
	ionclock_close(self->c);
}

TEST_F_TIMEOUT(steps, system_back_phc_back_and_slewed, 120)
{
	struct stamper with = { 0 }, without = { 0 };
	int64_t start, end, last;

	start = utc_ns(self->c);
	ASSERT_EQ(0, stamper_start(&with, NULL));
	/* An empty LD_PRELOAD: the same program on the system clock. */
	ASSERT_EQ(0, stamper_start(&without, ""));
	sleep(4);
	ASSERT_EQ(0, step_system_clock(-SYSTEM_STEP_S));
	self->stepped = true;
	sleep(4);
	EXPECT_EQ(0, steer_phc("adj -1"));
	sleep(4);
	EXPECT_EQ(0, steer_phc("freq -300000"));
	ASSERT_EQ(0, stamper_wait(&with));
	ASSERT_EQ(0, stamper_wait(&without));
	end = utc_ns(self->c);
	TH_LOG("under the drop-in:\n%s", with.text);
	TH_LOG("without it:\n%s", without.text);

	ASSERT_EQ(0, with.status) TH_LOG("status %#x", with.status);
	EXPECT_LT(1000, field(with.text, "stamps"));
	EXPECT_EQ(0, field(with.text, "back_clock_gettime"));
	EXPECT_EQ(0, field(with.text, "back_gettimeofday"));
	EXPECT_EQ(0, field(with.text, "back_time"));
	EXPECT_EQ(1, field(with.text, "errno_kept"));
	/* It read ionclock's UTC all along, not the system's. */
	last = field(with.text, "last_realtime_ns");
	EXPECT_TRUE(last >= start && last <= end)
		TH_LOG("last stamp %lld not in [%lld, %lld]", (long long)last,
		       (long long)start, (long long)end);
	EXPECT_TRUE(llabs(last - sys_ns(CLOCK_REALTIME)) > FAR_S * NS);

	/* The check can fail: the system clock's step shows without it. */
	ASSERT_EQ(0, without.status) TH_LOG("status %#x", without.status);
	EXPECT_LE(1, field(without.text, "back_clock_gettime"));
	EXPECT_LE(1, field(without.text, "back_gettimeofday"));
	EXPECT_LE(1, field(without.text, "back_time"));
	EXPECT_LE((SYSTEM_STEP_S - 1) * NS, field(without.text, "max_back_ns"));
}

TEST_HARNESS_MAIN
