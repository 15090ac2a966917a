// SPDX-License-Identifier: GPL-2.0
/*
 * Notification: poll() on /dev/ionclockN wakes a reader (POLLPRI) when the
 * page's generation, state or disruption count changes, once per open
 * file, and never when nothing changed; IONCLOCK_IOC_GET_EVENT says what
 * changed.  The changes are forced on selftests/fakephc: every read
 * failing (holdover and back), and the clock removed and registered again
 * (a replaced PHC: a disruption).
 *
 * Environment (the VM's init sets it): IONCLOCK_DEV, the ionclock device
 * following the fake; IONCLOCK_FAKE, fakephc's parameter directory.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

/* Take every event already pending on @c: how many were. */
static int drain(struct ionclock *c)
{
	struct ionclock_event ev;
	int n = 0;

	while (ionclock_event(c, &ev, 0) == 1 && n < 1000)
		n++;
	return n;
}

/* POLLPRI on @c's descriptor within @timeout_ms: 1, 0, or -errno. */
static int pri_ready(struct ionclock *c, int timeout_ms)
{
	struct pollfd pfd = { .fd = ionclock_fd(c), .events = POLLPRI };
	int n = poll(&pfd, 1, timeout_ms);

	if (n < 0)
		return -errno;
	return n && (pfd.revents & POLLPRI);
}

/* A thread blocked in ionclock_event() until a change comes. */
struct waiter {
	struct ionclock *c;
	pthread_t thread;
	struct ionclock_event ev;
	int ret;
	int64_t woke_ns;
	atomic_bool done;
};

static void *wait_run(void *arg)
{
	struct waiter *w = arg;

	w->ret = ionclock_event(w->c, &w->ev, 20000);
	w->woke_ns = test_mono_ns();
	atomic_store(&w->done, true);
	return NULL;
}

FIXTURE(notify) {
	struct ionclock *a;	/* each handle is an open file of its own */
	struct ionclock *b;
};

FIXTURE_SETUP(notify)
{
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->a));
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->b));
	ASSERT_TRUE(test_wait_state(self->a, IONCLOCK_STATE_TRACKING, 20));
	/* Settled: the flag of a disruption before the test is gone too. */
	for (int i = 0; i < 100 &&
	     (ionclock_page(self->a)->flags & IONCLOCK_FLAG_DISRUPTED); i++)
		usleep(100000);
	drain(self->a);
	drain(self->b);
}

FIXTURE_TEARDOWN(notify)
{
	test_fake_set("fail_all", 0);
	test_fake_set("present", 1);
	ionclock_close(self->a);
	ionclock_close(self->b);
}

/*
 * Nothing changes while the PHC is tracked: no POLLPRI for 3 s, on a
 * handle that took everything and on one opened now; POLLIN is always
 * there (read() never blocks).
 */
TEST_F(notify, quiet_when_nothing_changes)
{
	const volatile struct ionclock_page *p = ionclock_page(self->a);
	struct pollfd pfd = { .fd = ionclock_fd(self->a), .events = POLLIN };
	uint32_t gen = p->generation, state = p->state;
	struct ionclock_event ev;
	struct ionclock *fresh;

	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &fresh));
	EXPECT_EQ(0, pri_ready(fresh, 0));
	EXPECT_EQ(0, ionclock_event(self->a, &ev, 3000));
	EXPECT_EQ(0, pri_ready(self->b, 0));
	EXPECT_EQ(0, pri_ready(fresh, 0));
	EXPECT_EQ(1, poll(&pfd, 1, 0));
	EXPECT_TRUE(pfd.revents & POLLIN);
	/* The test only holds if nothing did change meanwhile. */
	EXPECT_EQ(gen, p->generation);
	EXPECT_EQ(state, p->state);
	TH_LOG("3 s of tracking, generation %u: no wake-up", gen);
	ionclock_close(fresh);
}

/*
 * Every read failing: holdover after IONCLOCK_FAILS_FOR_HOLDOVER polls.
 * A thread blocked in ionclock_event() wakes with the change; the other
 * handle is ready too, and stays so until it takes it; once taken, a
 * handle is quiet again.  Reads back: tracking, another wake-up.
 */
TEST_F(notify, holdover_wakes_every_file_once)
{
	const volatile struct ionclock_page *p = ionclock_page(self->a);
	struct waiter w = { .c = self->a };
	struct ionclock_event ev;
	uint32_t gen = p->generation;
	int64_t forced, waited;

	ASSERT_EQ(0, pthread_create(&w.thread, NULL, wait_run, &w));
	usleep(300000);
	EXPECT_FALSE(atomic_load(&w.done));	/* it waits */
	forced = test_mono_ns();
	ASSERT_EQ(0, test_fake_set("fail_all", 1));
	pthread_join(w.thread, NULL);
	waited = w.woke_ns - forced;
	ASSERT_EQ(1, w.ret);
	TH_LOG("woke %.2f s after fail_all=1: changed 0x%x, generation %u -> %u, state %u -> %u, %llu events",
	       waited / 1e9, w.ev.changed, w.ev.old_generation,
	       w.ev.generation, w.ev.old_state, w.ev.state,
	       (unsigned long long)w.ev.events);
	EXPECT_TRUE(w.ev.changed & IONCLOCK_EVENT_STATE);
	EXPECT_TRUE(w.ev.changed & IONCLOCK_EVENT_GENERATION);
	EXPECT_EQ(IONCLOCK_STATE_TRACKING, w.ev.old_state);
	EXPECT_EQ(IONCLOCK_STATE_HOLDOVER, w.ev.state);
	EXPECT_EQ(gen, w.ev.old_generation);
	EXPECT_NE(gen, w.ev.generation);
	EXPECT_LE(1, w.ev.events);
	/* Five failed polls of 100 ms, with room for a slow VM. */
	EXPECT_GT(5000000000LL, waited);
	/* Taken on a: quiet there; b has its own copy of the change. */
	EXPECT_EQ(0, pri_ready(self->a, 500));
	EXPECT_EQ(1, pri_ready(self->b, 0));
	memset(&ev, 0, sizeof(ev));
	ev.flags = IONCLOCK_EVENT_PEEK;
	ASSERT_EQ(0, ioctl(ionclock_fd(self->b), IONCLOCK_IOC_GET_EVENT, &ev));
	EXPECT_EQ(IONCLOCK_STATE_HOLDOVER, ev.state);
	EXPECT_EQ(1, pri_ready(self->b, 0));	/* a peek takes nothing */
	EXPECT_EQ(1, ionclock_event(self->b, &ev, 0));
	EXPECT_TRUE(ev.changed & IONCLOCK_EVENT_STATE);
	EXPECT_EQ(0, pri_ready(self->b, 0));

	ASSERT_EQ(0, test_fake_set("fail_all", 0));
	EXPECT_EQ(1, ionclock_event(self->a, &ev, 10000));
	EXPECT_EQ(IONCLOCK_STATE_HOLDOVER, ev.old_state);
	EXPECT_EQ(IONCLOCK_STATE_TRACKING, ev.state);
	EXPECT_TRUE(ev.changed & IONCLOCK_EVENT_GENERATION);
	EXPECT_EQ(1, pri_ready(self->b, 0));
}

/*
 * The PHC removed and registered again: whatever answers now may be
 * another clock, a disruption.  The event says so, the page flags it
 * until the rate is re-fitted, and counts it.
 */
TEST_F(notify, replaced_phc_is_a_disruption)
{
	const volatile struct ionclock_page *p = ionclock_page(self->a);
	uint32_t before = p->disruptions, seen = 0;
	struct ionclock_event ev;
	int64_t end;
	int i;

	ASSERT_EQ(0, test_fake_set("present", 0));
	ASSERT_TRUE(test_wait_state(self->a, IONCLOCK_STATE_HOLDOVER, 5));
	drain(self->a);
	ASSERT_EQ(0, test_fake_set("present", 1));
	/* Re-attached within a second or two, then tracking again. */
	end = test_mono_ns() + 15000000000LL;
	memset(&ev, 0, sizeof(ev));
	while (test_mono_ns() < end && !(ev.changed & IONCLOCK_EVENT_DISRUPTION))
		if (ionclock_event(self->a, &ev, 1000) == 1)
			seen |= ev.page_flags;
	TH_LOG("disruptions %u -> %u, cause 0x%x, flags 0x%x",
	       before, ev.disruptions, ev.disruption_cause, ev.page_flags);
	ASSERT_TRUE(ev.changed & IONCLOCK_EVENT_DISRUPTION);
	EXPECT_EQ(before + 1, ev.disruptions);
	EXPECT_TRUE(ev.disruption_cause & IONCLOCK_DISRUPTION_PHC_CHANGED);
	EXPECT_TRUE(seen & IONCLOCK_FLAG_DISRUPTED);
	EXPECT_EQ(before + 1, p->disruptions);
	ASSERT_TRUE(test_wait_state(self->a, IONCLOCK_STATE_TRACKING, 10));
	for (i = 0; i < 50 && (p->flags & IONCLOCK_FLAG_DISRUPTED); i++)
		usleep(100000);
	EXPECT_FALSE(p->flags & IONCLOCK_FLAG_DISRUPTED);
	EXPECT_EQ(IONCLOCK_DISRUPTION_PHC_CHANGED, p->disruption_cause);
}

/* Unknown flags and non-zero padding are refused, and take nothing. */
TEST_F(notify, event_ioctl_checks_its_input)
{
	int fd = ionclock_fd(self->a);
	struct ionclock_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.flags = 2;
	EXPECT_EQ(-1, ioctl(fd, IONCLOCK_IOC_GET_EVENT, &ev));
	EXPECT_EQ(EINVAL, errno);
	memset(&ev, 0, sizeof(ev));
	ev.pad = 1;
	EXPECT_EQ(-1, ioctl(fd, IONCLOCK_IOC_GET_EVENT, &ev));
	EXPECT_EQ(EINVAL, errno);
	memset(&ev, 0, sizeof(ev));
	ev.reserved[3] = 1;
	EXPECT_EQ(-1, ioctl(fd, IONCLOCK_IOC_GET_EVENT, &ev));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(fd, IONCLOCK_IOC_GET_EVENT, NULL));
	EXPECT_EQ(EFAULT, errno);
	memset(&ev, 0, sizeof(ev));
	ASSERT_EQ(0, ioctl(fd, IONCLOCK_IOC_GET_EVENT, &ev));
	EXPECT_EQ(0, ev.changed);
	EXPECT_EQ(0, ev.events);
	EXPECT_EQ(ionclock_page(self->a)->generation, ev.generation);
	EXPECT_EQ(0, ev.flags);
}

TEST_HARNESS_MAIN
