// SPDX-License-Identifier: GPL-2.0
/*
 * A dynamically linked program that stamps events the way services do:
 * clock_gettime(CLOCK_REALTIME), gettimeofday() and time(), in a loop on
 * each of STAMPERS threads, for <seconds> (0: one round).  Each thread
 * counts the stamps that came out earlier than its previous one, per call.
 * Run under the LD_PRELOAD drop-in (or not, to show what it prevents), it
 * prints "name value" lines for the test that ran it:
 *
 *   stamps, back_clock_gettime, back_gettimeofday, back_time, max_back_ns,
 *   last_realtime_ns, errno_kept (1: a successful call left errno alone)
 *
 * It judges nothing itself.  The length is timed on CLOCK_MONOTONIC_RAW,
 * which the drop-in never touches.
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/time.h>
#include <time.h>

#define STAMPERS	2
#define NS		1000000000LL

struct stamper {
	long long seconds;
	unsigned long long stamps;
	unsigned long long back_clock_gettime, back_gettimeofday, back_time;
	long long max_back_ns;
	long long last_ns;
};

static long long ns_of(const struct timespec *ts)
{
	return ts->tv_sec * NS + ts->tv_nsec;
}

static long long raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return ns_of(&ts);
}

static void note_back(struct stamper *s, unsigned long long *count,
		      long long back_ns)
{
	(*count)++;
	if (back_ns > s->max_back_ns)
		s->max_back_ns = back_ns;
}

static void *stamp(void *arg)
{
	struct stamper *s = arg;
	long long end = raw_ns() + s->seconds * NS, rt, prev_rt = 0;
	long long us, prev_us = 0;
	time_t t, prev_t = 0;
	struct timespec ts;
	struct timeval tv;

	do {
		if (clock_gettime(CLOCK_REALTIME, &ts) ||
		    gettimeofday(&tv, NULL))
			return NULL;
		t = time(NULL);
		rt = ns_of(&ts);
		us = tv.tv_sec * 1000000LL + tv.tv_usec;
		if (s->stamps) {
			if (rt < prev_rt)
				note_back(s, &s->back_clock_gettime,
					  prev_rt - rt);
			if (us < prev_us)
				note_back(s, &s->back_gettimeofday,
					  (prev_us - us) * 1000);
			if (t < prev_t)
				note_back(s, &s->back_time,
					  (prev_t - t) * NS);
		}
		prev_rt = rt;
		prev_us = us;
		prev_t = t;
		s->stamps++;
	} while (raw_ns() < end);
	s->last_ns = prev_rt;
	return NULL;
}

int main(int argc, char **argv)
{
	struct stamper s[STAMPERS] = { 0 }, all = { 0 };
	pthread_t th[STAMPERS];
	struct timespec ts;
	int i, kept;

	all.seconds = argc > 1 ? atoll(argv[1]) : 0;
	errno = EDOM;
	kept = !clock_gettime(CLOCK_REALTIME, &ts) && errno == EDOM;
	for (i = 0; i < STAMPERS; i++) {
		s[i].seconds = all.seconds;
		if (pthread_create(&th[i], NULL, stamp, &s[i]))
			return 1;
	}
	for (i = 0; i < STAMPERS; i++) {
		pthread_join(th[i], NULL);
		if (!s[i].stamps)
			return 1;
		all.stamps += s[i].stamps;
		all.back_clock_gettime += s[i].back_clock_gettime;
		all.back_gettimeofday += s[i].back_gettimeofday;
		all.back_time += s[i].back_time;
		if (s[i].max_back_ns > all.max_back_ns)
			all.max_back_ns = s[i].max_back_ns;
		if (s[i].last_ns > all.last_ns)
			all.last_ns = s[i].last_ns;
	}
	printf("stamps %llu\nback_clock_gettime %llu\nback_gettimeofday %llu\n",
	       all.stamps, all.back_clock_gettime, all.back_gettimeofday);
	printf("back_time %llu\nmax_back_ns %lld\nlast_realtime_ns %lld\nerrno_kept %d\n",
	       all.back_time, all.max_back_ns, all.last_ns, kept);
	return 0;
}
