// SPDX-License-Identifier: GPL-2.0
/*
 * The control ioctls: run-time configuration and the leap table, what they
 * refuse, what they change in the page, who may call them; and sysfs
 * agreeing with the page.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define DAY	86400ULL

FIXTURE(ctl) {
	struct ionclock *c;
	const volatile struct ionclock_page *p;
	int fd;
};

FIXTURE_SETUP(ctl)
{
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	self->p = ionclock_page(self->c);
	self->fd = ionclock_fd(self->c);
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 10));
}

FIXTURE_TEARDOWN(ctl)
{
	ionclock_close(self->c);
}

static int get_config(int fd, struct ionclock_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	return ioctl(fd, IONCLOCK_IOC_GET_CONFIG, cfg);
}

TEST_F(ctl, config_defaults)
{
	struct ionclock_config cfg;

	ASSERT_EQ(0, get_config(self->fd, &cfg));
	EXPECT_EQ(100, cfg.poll_ms);
	EXPECT_EQ(500000, cfg.max_slew_ppb);
	EXPECT_EQ(1000000, cfg.step_threshold_ns);
	EXPECT_EQ(1, cfg.step_forward);
	EXPECT_EQ(1000000, cfg.max_freq_ppb);
	EXPECT_EQ(15000, cfg.drift_ppb);
	EXPECT_EQ(0, cfg.upstream_error_ns);
	EXPECT_EQ(86400, cfg.smear_window_s);
	EXPECT_EQ(IONCLOCK_MACHINE_ID_UNSET, cfg.machine_id);
}

TEST_F(ctl, config_bad_arguments_refused)
{
	struct ionclock_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_GET_CONFIG, &cfg));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_CONFIG, &cfg));
	EXPECT_EQ(EINVAL, errno);
	memset(&cfg, 0, sizeof(cfg));
	cfg.reserved[4] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_CONFIG, &cfg));
	EXPECT_EQ(EINVAL, errno);
	memset(&cfg, 0, sizeof(cfg));
	cfg.set = IONCLOCK_CONFIG_ALL + 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_CONFIG, &cfg));
	EXPECT_EQ(EINVAL, errno);
}

struct bad_value {
	const char *name;
	uint32_t set;
	void (*apply)(struct ionclock_config *cfg);
};

static void poll_too_fast(struct ionclock_config *c)
{
	c->poll_ms = 9;
}

static void poll_too_slow(struct ionclock_config *c)
{
	c->poll_ms = 10001;
}

static void slew_zero(struct ionclock_config *c)
{
	c->max_slew_ppb = 0;
}

static void slew_huge(struct ionclock_config *c)
{
	c->max_slew_ppb = 100000001;
}

static void step_tiny(struct ionclock_config *c)
{
	c->step_threshold_ns = 999;
}

static void step_forward_2(struct ionclock_config *c)
{
	c->step_forward = 2;
}

static void freq_zero(struct ionclock_config *c)
{
	c->max_freq_ppb = 0;
}

static void drift_huge(struct ionclock_config *c)
{
	c->drift_ppb = 1000001;
}

static void upstream_huge(struct ionclock_config *c)
{
	c->upstream_error_ns = 1000000000001ULL;
}

static void smear_huge(struct ionclock_config *c)
{
	c->smear_window_s = 172801;
}

TEST_F(ctl, config_out_of_range_refused_whole)
{
	static const struct bad_value cases[] = {
		{ "poll 9 ms", IONCLOCK_CONFIG_POLL, poll_too_fast },
		{ "poll 10001 ms", IONCLOCK_CONFIG_POLL, poll_too_slow },
		{ "max slew 0", IONCLOCK_CONFIG_MAX_SLEW, slew_zero },
		{ "max slew > 10%", IONCLOCK_CONFIG_MAX_SLEW, slew_huge },
		{ "step threshold 999 ns", IONCLOCK_CONFIG_STEP_THRESHOLD, step_tiny },
		{ "step_forward 2", IONCLOCK_CONFIG_STEP_FORWARD, step_forward_2 },
		{ "max freq 0", IONCLOCK_CONFIG_MAX_FREQ, freq_zero },
		{ "drift > 1000 ppm", IONCLOCK_CONFIG_DRIFT, drift_huge },
		{ "upstream > 1000 s", IONCLOCK_CONFIG_UPSTREAM_ERROR, upstream_huge },
		{ "smear > 2 days", IONCLOCK_CONFIG_SMEAR_WINDOW, smear_huge },
	};
	struct ionclock_config before, cfg, after;
	unsigned int i;

	ASSERT_EQ(0, get_config(self->fd, &before));
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		cfg = before;
		/* A good change riding along must not be applied either. */
		cfg.set = cases[i].set | IONCLOCK_CONFIG_DRIFT;
		cfg.drift_ppb = 12345;
		cases[i].apply(&cfg);
		EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_CONFIG, &cfg)) {
			TH_LOG("%s was accepted", cases[i].name);
		}
		EXPECT_EQ(ERANGE, errno);
		ASSERT_EQ(0, get_config(self->fd, &after));
		EXPECT_EQ(0, memcmp(&before, &after, sizeof(before))) {
			TH_LOG("%s changed the configuration", cases[i].name);
		}
	}
}

TEST_F(ctl, config_upstream_error_reaches_the_bound)
{
	struct ionclock_config cfg;
	int64_t t, earliest, latest;

	memset(&cfg, 0, sizeof(cfg));
	cfg.set = IONCLOCK_CONFIG_UPSTREAM_ERROR;
	cfg.upstream_error_ns = 5000000;
	ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_SET_CONFIG, &cfg));
	EXPECT_EQ(5000000, self->p->error_upstream_ns);
	ASSERT_EQ(0, ionclock_now_bounded(self->c, &t, &earliest, &latest));
	EXPECT_GE(latest - t, 5000000);
	EXPECT_GE(t - earliest, 5000000);
	ASSERT_EQ(0, get_config(self->fd, &cfg));
	EXPECT_EQ(5000000, cfg.upstream_error_ns);
	cfg.set = IONCLOCK_CONFIG_UPSTREAM_ERROR;
	cfg.upstream_error_ns = 0;
	ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_SET_CONFIG, &cfg));
	EXPECT_EQ(0, self->p->error_upstream_ns);
}

/* Readers need no privilege; changing anything needs CAP_SYS_TIME. */
TEST_F(ctl, unprivileged_may_read_not_configure)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		struct ionclock_config cfg;
		struct ionclock_leap_table *t;
		struct ionclock *c;
		int64_t now;

		if (setresgid(65534, 65534, 65534) || setresuid(65534, 65534, 65534))
			_exit(10);
		if (ionclock_open(test_ionclock_dev(), &c) || ionclock_now(c, &now))
			_exit(11);
		if (get_config(ionclock_fd(c), &cfg))
			_exit(12);
		cfg.set = IONCLOCK_CONFIG_DRIFT;
		if (ioctl(ionclock_fd(c), IONCLOCK_IOC_SET_CONFIG, &cfg) != -1 ||
		    errno != EPERM)
			_exit(13);
		t = calloc(1, sizeof(*t));
		if (!t || ioctl(ionclock_fd(c), IONCLOCK_IOC_SET_LEAPS, t) != -1 ||
		    errno != EPERM)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
}

/*
 * A valid history like leap-seconds.list's: TAI - UTC from 10 s in 1972
 * to 37 s, one step a year (the dates are made up, the shape is real),
 * then @extra entries.
 */
static void make_table(struct ionclock_leap_table *t, uint64_t expiry)
{
	int i;

	memset(t, 0, sizeof(*t));
	for (i = 0; i <= 27; i++) {
		t->leaps[i].utc_s = 63072000ULL + i * 365 * DAY;
		t->leaps[i].tai_utc_offset_s = 10 + i;
	}
	t->count = 28;
	t->expiry_utc_s = expiry;
}

static uint64_t now_utc_s(void)
{
	return time(NULL);
}

TEST_F(ctl, leaps_bad_tables_refused)
{
	struct ionclock_leap_table t, got;
	uint64_t exp = (now_utc_s() / DAY + 30) * DAY;

	make_table(&t, exp);
	t.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(EINVAL, errno);
	make_table(&t, exp);
	t.reserved[3] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(EINVAL, errno);
	make_table(&t, exp);
	t.leaps[4].reserved = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(EINVAL, errno);
	make_table(&t, exp);
	t.count = 0;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(EINVAL, errno);
	make_table(&t, exp);
	t.count = IONCLOCK_MAX_LEAPS + 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(EINVAL, errno);
	make_table(&t, exp);
	t.leaps[10].utc_s = t.leaps[9].utc_s;	/* not increasing */
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(EINVAL, errno);
	make_table(&t, exp);
	t.leaps[10].tai_utc_offset_s += 1;	/* a 2 s step */
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(EINVAL, errno);
	make_table(&t, exp);
	t.leaps[10].utc_s += 3600;		/* not at midnight */
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(ERANGE, errno);
	make_table(&t, exp);
	t.leaps[0].utc_s = 0;			/* before 1972 */
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	EXPECT_EQ(ERANGE, errno);
	/* None of that loaded anything. */
	memset(&got, 0, sizeof(got));
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_GET_LEAPS, &got));
	EXPECT_EQ(ENODATA, errno);
	EXPECT_FALSE(self->p->flags & IONCLOCK_FLAG_LEAP_VALID);
}

/*
 * A +1 leap and then a -1 leap, each at a UTC midnight, with the PHC
 * stepped to a few seconds before each: the page describes the coming leap
 * and moves on to the next once its (4 s) smear is over, and the library's
 * three clocks read right across both.
 */
TEST_F(ctl, leaps_insert_then_delete)
{
	uint64_t m = (now_utc_s() / DAY + 2) * DAY, ins, del;
	struct ionclock_leap_table t, got;

	make_table(&t, m + 30 * DAY);
	t.leaps[28].utc_s = m;
	t.leaps[28].tai_utc_offset_s = 38;
	t.leaps[29].utc_s = m + DAY;
	t.leaps[29].tai_utc_offset_s = 37;
	t.count = 30;
	ins = m + 38;			/* TAI of the midnight ending the day */
	del = m + DAY + 37;

	ASSERT_EQ(0, set_smear(self->fd, 4));
	ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_SET_LEAPS, &t));
	memset(&got, 0, sizeof(got));
	ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_GET_LEAPS, &got));
	EXPECT_EQ(0, memcmp(&t, &got, sizeof(t)));
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_LEAP_VALID);
	EXPECT_TRUE(self->p->flags & IONCLOCK_FLAG_TAI_OFFSET_VALID);
	EXPECT_EQ(37, self->p->tai_utc_offset_s);
	EXPECT_EQ(1, self->p->next_leap_delta_s);
	EXPECT_EQ(ins, self->p->next_leap_tai_s);
	EXPECT_EQ(m + 30 * DAY + 37, self->p->leap_expiry_tai_s);
	EXPECT_EQ(4, self->p->smear_window_s);

	struct leap_watch w = { .missing_sec = -1 };

	/* 10 s around each leap: over 1e7 reads of each clock under TCG. */
	ASSERT_EQ(0, phc_set(ins - 5));
	ASSERT_EQ(0, run_until(self->c, ins + 5, 30, &w));
	usleep(300000);	/* the next publication after the smear ended */
	EXPECT_EQ(38, self->p->tai_utc_offset_s);
	EXPECT_EQ(-1, self->p->next_leap_delta_s);
	EXPECT_EQ(del, self->p->next_leap_tai_s);
	EXPECT_EQ(-38, utc_minus_tai_s(self->c));
	TH_LOG("+1 leap: %ld reads of each clock, %ld labelled 23:59:60, backward: tai %ld utc %ld strict %ld",
	       w.reads, w.strict_60, w.tai_back, w.utc_back, w.strict_back);
	EXPECT_GT(w.strict_60, 0);

	/* 23:59:59 UTC of the day ending at m + DAY is deleted. */
	w.missing_sec = m + DAY - 1;
	w.strict_60 = 0;
	ASSERT_EQ(0, phc_set(del - 5));
	ASSERT_EQ(0, run_until(self->c, del + 5, 30, &w));
	usleep(300000);
	EXPECT_EQ(37, self->p->tai_utc_offset_s);
	EXPECT_EQ(0, self->p->next_leap_delta_s);
	EXPECT_EQ(0, self->p->next_leap_tai_s);
	EXPECT_EQ(-37, utc_minus_tai_s(self->c));
	TH_LOG("-1 leap: %ld reads in all, %ld saw the deleted second, backward: tai %ld utc %ld strict %ld",
	       w.reads, w.saw_missing, w.tai_back, w.utc_back, w.strict_back);
	EXPECT_EQ(0, w.strict_60);
	EXPECT_EQ(0, w.saw_missing);
	EXPECT_EQ(0, w.tai_back);
	EXPECT_EQ(0, w.utc_back);
	EXPECT_EQ(0, w.strict_back);
	/* A day-long window would take in the leap just passed: refused. */
	EXPECT_EQ(-1, set_smear(self->fd, 86400));
	EXPECT_EQ(EBUSY, errno);
	EXPECT_EQ(4, self->p->smear_window_s);
}

static long long sysfs_ll(const char *name)
{
	char path[128];
	long long v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/%s",
		 strrchr(test_ionclock_dev(), '/') + 1, name);
	f = fopen(path, "r");
	if (!f)
		return -2;
	if (fscanf(f, "%lld", &v) != 1)
		v = -3;
	fclose(f);
	return v;
}

TEST_F(ctl, sysfs_matches_page)
{
	char path[128], state[32] = "";
	FILE *f;

	snprintf(path, sizeof(path), "/sys/class/misc/%s/state",
		 strrchr(test_ionclock_dev(), '/') + 1);
	f = fopen(path, "r");
	ASSERT_NE(NULL, f);
	ASSERT_EQ(1, fscanf(f, "%31s", state));
	fclose(f);
	EXPECT_STREQ("tracking", state);
	EXPECT_EQ(self->p->generation, sysfs_ll("generation"));
	EXPECT_EQ(self->p->steps_detected, sysfs_ll("steps_detected"));
	EXPECT_EQ(self->p->tai_utc_offset_s, sysfs_ll("tai_utc_offset_s"));
	EXPECT_EQ(0, sysfs_ll("holdover_s"));
	/* These move with every sample: equal within a few samples. */
	EXPECT_LE(llabs(sysfs_ll("samples_taken") -
			(long long)self->p->samples_taken), 3);
	EXPECT_LE(llabs(sysfs_ll("freq_ppb") - self->p->phc_freq_ppb), 5000);
	EXPECT_LT(sysfs_ll("bound_ns"), 10000000);
}

/*
 * SET_LEAPS from several processes at once, with GET_LEAPS beside them:
 * each call replaces and frees the table the one before loaded, so a call
 * that touched its own table after unlocking would read freed memory
 * (KASAN on the debug kernel reports it).  Every call must succeed, and
 * what is loaded at the end is one of the tables, whole.
 */
#define LEAP_WRITERS		4
#define LEAP_SETS_EACH		1000

TEST_F_TIMEOUT(ctl, leaps_set_concurrently, 120)
{
	uint64_t exp = (now_utc_s() / DAY + 30) * DAY;
	struct ionclock_leap_table got, want;
	pid_t pids[LEAP_WRITERS + 1];
	int i, status, bad = 0;

	for (i = 0; i <= LEAP_WRITERS; i++) {
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (pids[i] == 0) {
			struct ionclock_leap_table t;
			int n, fails = 0;

			/* Writer i loads tables that expire on day +30+i. */
			make_table(&t, exp + (uint64_t)i * DAY);
			for (n = 0; n < LEAP_SETS_EACH; n++) {
				if (i == LEAP_WRITERS) {
					memset(&t, 0, sizeof(t));
					fails += ioctl(self->fd,
						       IONCLOCK_IOC_GET_LEAPS,
						       &t) && errno != ENODATA;
				} else {
					fails += !!ioctl(self->fd,
							 IONCLOCK_IOC_SET_LEAPS,
							 &t);
				}
			}
			_exit(fails ? 1 : 0);
		}
	}
	for (i = 0; i <= LEAP_WRITERS; i++) {
		ASSERT_EQ(pids[i], waitpid(pids[i], &status, 0));
		bad += !WIFEXITED(status) || WEXITSTATUS(status);
	}
	EXPECT_EQ(0, bad);
	memset(&got, 0, sizeof(got));
	ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_GET_LEAPS, &got));
	make_table(&want, got.expiry_utc_s);
	EXPECT_EQ(0, memcmp(&want, &got, sizeof(got)));
	EXPECT_EQ(0, (got.expiry_utc_s - exp) % DAY);
	EXPECT_GT(exp + LEAP_WRITERS * DAY, got.expiry_utc_s);
}

TEST_HARNESS_MAIN
