// SPDX-License-Identifier: GPL-2.0
/*
 * IONCLOCK_IOC_SET_UPSTREAM / GET_UPSTREAM: what they refuse, who may call
 * them, how the fed term enters and ages in the bound and meets
 * upstream_error_ns, and where TAI - UTC comes from: the PTP domain, a
 * table (an expired one accepted and flagged), disagreement reported, and
 * a leap the domain announces applied at the end of its UTC day on the
 * strict and the smeared clock.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define NS	1000000000ULL
#define DAY	86400ULL
#define PTP_UTC	(IONCLOCK_UPSTREAM_PTP_TIMESCALE | IONCLOCK_UPSTREAM_UTC_OFFSET_VALID)

static struct ionclock_upstream good(void)
{
	struct ionclock_upstream u;

	memset(&u, 0, sizeof(u));
	u.flags = IONCLOCK_UPSTREAM_GM_PRESENT;
	u.port_state = IONCLOCK_PORT_SLAVE;
	u.master_offset_ns = -300;
	u.asymmetry_ns = 1000;
	u.gm_accuracy_ns = 100;
	u.path_delay_ns = 1000;
	u.ttl_ns = 5 * NS;
	u.utc_offset_s = 37;
	memcpy(u.gm_identity, "\x00\x11\x22\xff\xfe\x33\x44\x55", 8);
	u.gm_clock_class = 6;
	u.gm_clock_accuracy = 0x21;
	return u;
}

static int set_up(int fd, const struct ionclock_upstream *u)
{
	return ioctl(fd, IONCLOCK_IOC_SET_UPSTREAM, u);
}

static int clear_up(int fd)
{
	struct ionclock_upstream u;

	memset(&u, 0, sizeof(u));
	u.flags = IONCLOCK_UPSTREAM_CLEAR;
	return set_up(fd, &u);
}

static int set_floor(int fd, uint64_t ns)
{
	struct ionclock_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.set = IONCLOCK_CONFIG_UPSTREAM_ERROR;
	cfg.upstream_error_ns = ns;
	return ioctl(fd, IONCLOCK_IOC_SET_CONFIG, &cfg);
}

/* Wait for the next publication (the sampler's, at poll_ms). */
static void next_publish(void)
{
	usleep(250000);
}

FIXTURE(up) {
	struct ionclock *c;
	const volatile struct ionclock_page *p;
	int fd;
};

FIXTURE_SETUP(up)
{
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	self->p = ionclock_page(self->c);
	self->fd = ionclock_fd(self->c);
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 10));
}

FIXTURE_TEARDOWN(up)
{
	clear_up(self->fd);
	set_floor(self->fd, 0);
	ionclock_close(self->c);
}

TEST_F(up, nothing_fed_yet)
{
	struct ionclock_upstream u;

	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_GET_UPSTREAM, &u));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_FED);
	EXPECT_EQ(0, self->p->error_upstream_ns);
}

TEST_F(up, bad_input_is_refused_whole)
{
	struct {
		const char *what;
		int err;
		struct ionclock_upstream u;
	} c[12];
	uint64_t updates = self->p->upstream_updates;
	struct ionclock_upstream u;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(c); i++)
		c[i].u = good();
	c[0].what = "unknown flag"; c[0].err = EINVAL; c[0].u.flags |= 1u << 12;
	c[1].what = "pad"; c[1].err = EINVAL; c[1].u.pad = 1;
	c[2].what = "reserved"; c[2].err = EINVAL; c[2].u.reserved[0] = 1;
	c[3].what = "both leaps"; c[3].err = EINVAL;
	c[3].u.flags |= IONCLOCK_UPSTREAM_LEAP61 | IONCLOCK_UPSTREAM_LEAP59;
	c[4].what = "clear with data"; c[4].err = EINVAL;
	c[4].u.flags = IONCLOCK_UPSTREAM_CLEAR;
	c[5].what = "port state 0"; c[5].err = ERANGE; c[5].u.port_state = 0;
	c[6].what = "port state 10"; c[6].err = ERANGE; c[6].u.port_state = 10;
	c[7].what = "offset"; c[7].err = ERANGE;
	c[7].u.master_offset_ns = -1000000000001LL;
	c[8].what = "ttl short"; c[8].err = ERANGE; c[8].u.ttl_ns = 99999999;
	c[9].what = "ttl long"; c[9].err = ERANGE; c[9].u.ttl_ns = DAY * NS + 1;
	c[10].what = "utc offset"; c[10].err = ERANGE; c[10].u.utc_offset_s = 1001;
	c[11].what = "accuracy unknown but set"; c[11].err = EINVAL;
	c[11].u.flags |= IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN;
	for (i = 0; i < ARRAY_SIZE(c); i++) {
		errno = 0;
		EXPECT_EQ(-1, set_up(self->fd, &c[i].u)) TH_LOG("%s", c[i].what);
		EXPECT_EQ(c[i].err, errno) TH_LOG("%s", c[i].what);
	}
	EXPECT_EQ(updates, self->p->upstream_updates);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_FED);
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_GET_UPSTREAM, &u));
	EXPECT_EQ(ENODATA, errno);
}

TEST_F(up, fed_state_reaches_the_page_and_the_bound)
{
	struct ionclock_upstream u = good(), got;
	int64_t t, earliest, latest;

	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_FED);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_STALE);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_UNTRACEABLE);
	EXPECT_EQ(1400, self->p->upstream_reported_ns);
	EXPECT_EQ(-300, self->p->upstream_master_offset_ns);
	EXPECT_EQ(IONCLOCK_PORT_SLAVE, self->p->upstream_port_state);
	EXPECT_EQ(0, memcmp((const void *)self->p->upstream_gm_identity,
			    u.gm_identity, 8));
	EXPECT_GE(self->p->error_upstream_ns, 1400);
	EXPECT_LE(self->p->error_upstream_ns, 1400 + 15000);	/* < 1 s aged */
	ASSERT_EQ(0, ionclock_now_bounded(self->c, &t, &earliest, &latest));
	EXPECT_GE(latest - t, 1400);

	memset(&got, 0, sizeof(got));
	ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_GET_UPSTREAM, &got));
	EXPECT_LT(got.age_ns, NS);
	got.age_ns = 0;
	EXPECT_EQ(0, memcmp(&u, &got, sizeof(u)));

	/* A new grandmaster is counted. */
	u.gm_identity[7] ^= 1;
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_EQ(1, self->p->upstream_gm_changes);
	/* clockAccuracy unknown: the bound is against the grandmaster only. */
	u.flags |= IONCLOCK_UPSTREAM_ACCURACY_UNKNOWN;
	u.gm_accuracy_ns = 0;
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_UNTRACEABLE);
}

TEST_F(up, the_term_ages_and_goes_stale)
{
	struct ionclock_upstream u = good();
	uint64_t before;

	/* Measured 2 s ago: 1400 + 15000 ppb * 2 s. */
	u.age_ns = 2 * NS;
	u.ttl_ns = 500000000;
	ASSERT_EQ(0, set_up(self->fd, &u));
	before = self->p->error_upstream_ns;
	EXPECT_GE(before, 1400 + 30000);
	EXPECT_LE(before, 1400 + 30000 + 15000);
	sleep(2);
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_STALE);
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_FED);
	/* and it kept growing: about 30 us more in 2 s */
	EXPECT_GE(self->p->error_upstream_ns, before + 25000);
	/* A fresh update is fresh again. */
	u.age_ns = 0;
	u.ttl_ns = 5 * NS;
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_STALE);
	EXPECT_LT(self->p->error_upstream_ns, before);
}

TEST_F(up, upstream_error_ns_is_the_floor)
{
	struct ionclock_upstream u = good();

	ASSERT_EQ(0, set_floor(self->fd, 1000000));
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_EQ(1000000, self->p->error_upstream_ns);
	ASSERT_EQ(0, set_floor(self->fd, 100));
	EXPECT_GE(self->p->error_upstream_ns, 1400);
	EXPECT_LT(self->p->error_upstream_ns, 1000000);
	/* Cleared: the static value again, and nothing fed. */
	ASSERT_EQ(0, clear_up(self->fd));
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_FED);
	EXPECT_EQ(100, self->p->error_upstream_ns);
}

TEST_F(up, unprivileged_may_read_not_feed)
{
	struct ionclock_upstream u = good();
	pid_t pid;
	int status;

	ASSERT_EQ(0, set_up(self->fd, &u));
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ionclock_upstream mine = good(), got;
		struct ionclock *c;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (ionclock_open(test_ionclock_dev(), &c))
			_exit(11);
		if (ioctl(ionclock_fd(c), IONCLOCK_IOC_GET_UPSTREAM, &got))
			_exit(12);
		if (set_up(ionclock_fd(c), &mine) != -1 || errno != EPERM)
			_exit(13);
		if (clear_up(ionclock_fd(c)) != -1 || errno != EPERM)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_UPSTREAM_FED);
}

static void make_table(struct ionclock_leap_table *t, uint64_t expiry)
{
	int i;

	memset(t, 0, sizeof(*t));
	t->count = 28;
	for (i = 0; i < 28; i++) {
		t->leaps[i].utc_s = 63072000ULL + (uint64_t)i * 365 * DAY;
		t->leaps[i].tai_utc_offset_s = 10 + i;
	}
	t->expiry_utc_s = expiry;
}

TEST_F(up, utc_from_the_domain_then_an_expired_table)
{
	uint64_t now_utc = (uint64_t)time(NULL);
	struct ionclock_upstream u = good();
	struct ionclock_leap_table t;

	/* tzdata's expiry, or like it: past, accepted, flagged. */
	make_table(&t, (now_utc / DAY - 150) * DAY);
	ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	next_publish();
	EXPECT_EQ(IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE, self->p->utc_source);
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_LEAPS_EXPIRED);
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_TAI_OFFSET_VALID);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_LEAP_VALID);
	EXPECT_EQ(37, self->p->tai_utc_offset_s);

	/* The domain, on PTP time with a valid offset, comes first. */
	u.flags |= PTP_UTC;
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_EQ(IONCLOCK_UTC_SOURCE_PTP, self->p->utc_source);
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_LEAP_VALID);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_LEAPS_EXPIRED);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_UTC_DISAGREE);
	EXPECT_EQ(-37, utc_minus_tai_s(self->c));

	/* It says 36: used, and the table's 37 reported, not hidden. */
	u.utc_offset_s = 36;
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_EQ(36, self->p->tai_utc_offset_s);
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_UTC_DISAGREE);
	EXPECT_EQ(1u << IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE,
		  self->p->utc_disagree);

	/* An ARB timescale says nothing about UTC: the table again. */
	u.flags &= ~IONCLOCK_UPSTREAM_PTP_TIMESCALE;
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_EQ(IONCLOCK_UTC_SOURCE_EXPIRED_LEAP_FILE, self->p->utc_source);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_UTC_DISAGREE);
}

/*
 * The domain announces leap61; the PHC is stepped to 10 s before the end
 * of that UTC day; the three clocks read across it.  The day is one ahead
 * of the PHC's own (earlier tests may have stepped it days ahead of the
 * system clock): steps are forward, so the engine takes them at once.
 */
/* Two leaps run through, each up to 30 s under TCG: past the default 30 s. */
TEST_F_TIMEOUT(up, a_leap_from_the_domain_strict_and_smeared, 150)
{
	struct ionclock_upstream u = good();
	struct leap_watch w = { .missing_sec = -1 };
	uint64_t day_end, leap;
	int64_t tai;

	ASSERT_EQ(0, ionclock_now(self->c, &tai));
	day_end = ((uint64_t)tai / NS / DAY + 2) * DAY;
	leap = day_end + 38;

	ASSERT_EQ(0, set_smear(self->fd, 4));
	ASSERT_EQ(0, phc_set(leap - 1 - 10));
	sleep(2);	/* the engine applies the forward step */
	u.flags |= PTP_UTC | IONCLOCK_UPSTREAM_LEAP61;
	u.ttl_ns = 60 * NS;
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_EQ(IONCLOCK_UTC_SOURCE_PTP, self->p->utc_source);
	EXPECT_EQ(37, self->p->tai_utc_offset_s);
	EXPECT_EQ(1, self->p->next_leap_delta_s);
	EXPECT_EQ(leap, self->p->next_leap_tai_s);
	EXPECT_EQ(4, self->p->smear_window_s);

	ASSERT_EQ(0, run_until(self->c, leap + 4, 30, &w));
	/* After midnight the domain says 38 and no leap: nothing steps. */
	u.flags &= ~IONCLOCK_UPSTREAM_LEAP61;
	u.utc_offset_s = 38;
	ASSERT_EQ(0, set_up(self->fd, &u));
	ASSERT_EQ(0, run_until(self->c, leap + 6, 30, &w));
	EXPECT_EQ(-38, utc_minus_tai_s(self->c));
	TH_LOG("domain's +1 leap: %ld reads of each clock, %ld labelled 23:59:60, backward: tai %ld utc %ld strict %ld",
	       w.reads, w.strict_60, w.tai_back, w.utc_back, w.strict_back);
	EXPECT_GT(w.strict_60, 0);
	EXPECT_EQ(0, w.tai_back);
	EXPECT_EQ(0, w.utc_back);
	EXPECT_EQ(0, w.strict_back);

	/* Learned 10 s before a day-long smear: the smear starts at once. */
	day_end += DAY;
	leap = day_end + 39;
	ASSERT_EQ(0, clear_up(self->fd));
	ASSERT_EQ(0, set_smear(self->fd, 86400));
	ASSERT_EQ(0, phc_set(leap - 1 - 10));
	sleep(2);
	u.utc_offset_s = 38;
	u.flags |= IONCLOCK_UPSTREAM_LEAP61;
	ASSERT_EQ(0, set_up(self->fd, &u));
	EXPECT_EQ(leap, self->p->next_leap_tai_s);
	EXPECT_LE(self->p->smear_window_s, 20);
	EXPECT_GE(self->p->smear_window_s, 14);
	memset(&w, 0, sizeof(w));
	w.missing_sec = -1;
	ASSERT_EQ(0, run_until(self->c, leap + 2, 30, &w));
	TH_LOG("late-learned leap: %ld reads, backward: tai %ld utc %ld strict %ld",
	       w.reads, w.tai_back, w.utc_back, w.strict_back);
	EXPECT_EQ(0, w.utc_back);
	EXPECT_EQ(0, w.strict_back);
}

TEST_HARNESS_MAIN
