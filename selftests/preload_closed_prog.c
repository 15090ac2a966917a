// SPDX-License-Identifier: GPL-2.0
/*
 * For preload_closed_test.sh: each clock call the drop-in interposes, and
 * one it leaves alone, with what came back: "name rc errno".  Dynamically
 * linked, so that LD_PRELOAD reaches it.
 */
#include <errno.h>
#include <stdio.h>
#include <sys/time.h>
#include <time.h>

int main(void)
{
	struct timespec ts;
	struct timeval tv;
	time_t t;
	int rc;

	errno = 0;
	rc = clock_gettime(CLOCK_REALTIME, &ts);
	printf("clock_gettime_realtime %d %d\n", rc, rc ? errno : 0);
	errno = 0;
	rc = clock_gettime(CLOCK_TAI, &ts);
	printf("clock_gettime_tai %d %d\n", rc, rc ? errno : 0);
	errno = 0;
	rc = gettimeofday(&tv, NULL);
	printf("gettimeofday %d %d\n", rc, rc ? errno : 0);
	errno = 0;
	t = time(NULL);
	printf("time %d %d\n", t == (time_t)-1 ? -1 : 0,
	       t == (time_t)-1 ? errno : 0);
	rc = timespec_get(&ts, TIME_UTC);
	printf("timespec_get %d 0\n", rc == TIME_UTC ? 0 : -1);
	errno = 0;
	rc = clock_gettime(CLOCK_MONOTONIC, &ts);
	printf("clock_gettime_monotonic %d %d\n", rc, rc ? errno : 0);
	return 0;
}
