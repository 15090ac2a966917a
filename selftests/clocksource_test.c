// SPDX-License-Identifier: GPL-2.0
/*
 * The TSC judged again after load: when the kernel stops using it as its
 * clocksource (the watchdog marks it unstable; here an administrator
 * switches clocksource through sysfs, which is observable the same way),
 * the page must say so (IONCLOCK_FLAG_COUNTER_UNSYNCED) with a new
 * generation, and readings go through read(), still never backward.  When
 * the TSC is the clocksource again, the flag goes and the generation
 * moves again.  Skips unless the device runs on the TSC and the kernel
 * offers another clocksource.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define CS_DIR	"/sys/devices/system/clocksource/clocksource0"

static int read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fgets(buf, (int)len, f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

/* Wait up to 2 s for the flag to be @on; returns whether it got there. */
static bool wait_flag(const volatile struct ionclock_page *p, bool on)
{
	int64_t end = test_mono_ns() + 2000000000LL;

	do {
		if (!!(p->flags & IONCLOCK_FLAG_COUNTER_UNSYNCED) == on)
			return true;
		usleep(10000);
	} while (test_mono_ns() < end);
	return false;
}

/* Readings for @ms, never backward; returns how many. */
static long read_for(struct ionclock *c, int ms, int64_t *last, long *back)
{
	int64_t end = test_mono_ns() + ms * 1000000LL, t;
	long n = 0;

	while (test_mono_ns() < end) {
		if (ionclock_now(c, &t))
			return -1;
		if (t < *last)
			(*back)++;
		*last = t;
		n++;
	}
	return n;
}

TEST(clocksource_switch)
{
	char cur[64], avail[256], other[64] = "", *tok, *save;
	const volatile struct ionclock_page *p;
	int64_t last = 0, t, e, l;
	uint32_t gen0, gen1, gen2;
	long back = 0, n_unsynced, n_synced;
	struct ionclock *c;

	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &c));
	p = ionclock_page(c);
	if (p->counter_id != IONCLOCK_COUNTER_TSC)
		SKIP(return, "the device runs on CLOCK_MONOTONIC_RAW");
	ASSERT_EQ(0, read_line(CS_DIR "/current_clocksource", cur, sizeof(cur)));
	ASSERT_EQ(0, read_line(CS_DIR "/available_clocksource", avail,
			       sizeof(avail)));
	if (strcmp(cur, "tsc"))
		SKIP(return, "clocksource is %s, not tsc", cur);
	for (tok = strtok_r(avail, " ", &save); tok;
	     tok = strtok_r(NULL, " ", &save))
		if (strcmp(tok, "tsc")) {
			snprintf(other, sizeof(other), "%s", tok);
			break;
		}
	if (!other[0])
		SKIP(return, "no clocksource but the TSC");
	ASSERT_TRUE(test_wait_state(c, IONCLOCK_STATE_TRACKING, 10));
	EXPECT_FALSE(p->flags & IONCLOCK_FLAG_COUNTER_UNSYNCED);
	gen0 = p->generation;

	ASSERT_EQ(0, test_write_str(CS_DIR "/current_clocksource", other));
	EXPECT_TRUE(wait_flag(p, true));
	gen1 = p->generation;
	n_unsynced = read_for(c, 300, &last, &back);
	/* Every kind of read still works, through read(). */
	EXPECT_EQ(0, ionclock_now_bounded(c, &t, &e, &l));
	EXPECT_LE(e, t);

	ASSERT_EQ(0, test_write_str(CS_DIR "/current_clocksource", "tsc"));
	EXPECT_TRUE(wait_flag(p, false));
	gen2 = p->generation;
	n_synced = read_for(c, 300, &last, &back);
	TH_LOG("tsc -> %s -> tsc: generation %u -> %u -> %u; %ld reads unsynced, %ld synced in 0.3 s each, %ld backward",
	       other, gen0, gen1, gen2, n_unsynced, n_synced, back);
	EXPECT_NE(gen0, gen1);
	EXPECT_NE(gen1, gen2);
	EXPECT_LT(0, n_unsynced);
	EXPECT_LT(0, n_synced);
	EXPECT_EQ(0, back);
	ionclock_close(c);
}

TEST_HARNESS_MAIN
