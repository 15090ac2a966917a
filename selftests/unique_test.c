// SPDX-License-Identifier: GPL-2.0
/*
 * read() on /dev/ionclockN hands out machine-wide unique times: several
 * processes on every CPU read at once; every value must be distinct, each
 * process's values must increase, and they must stay close to the clock.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define PROCS	4
#define READS	20000

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

TEST(distinct_across_processes)
{
	size_t bytes = sizeof(uint64_t) * PROCS * READS;
	int cpus = sysconf(_SC_NPROCESSORS_ONLN), i, status;
	uint64_t *all, dups = 0, ahead = 0;
	struct ionclock *c;
	int64_t now;

	all = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, all);
	for (i = 0; i < PROCS; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid) {
			struct ionclock_reading r;
			cpu_set_t set;
			int fd, j;

			CPU_ZERO(&set);
			CPU_SET(i % cpus, &set);
			sched_setaffinity(0, sizeof(set), &set);
			fd = open(test_ionclock_dev(), O_RDONLY);
			if (fd < 0)
				_exit(1);
			for (j = 0; j < READS; j++) {
				if (read(fd, &r, sizeof(r)) != sizeof(r))
					_exit(2);
				all[i * READS + j] = r.tai_ns;
				if (j && r.tai_ns <= all[i * READS + j - 1])
					_exit(3);	/* not increasing */
			}
			_exit(0);
		}
	}
	for (i = 0; i < PROCS; i++) {
		ASSERT_LT(0, wait(&status));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &c));
	ASSERT_EQ(0, ionclock_now(c, &now));
	qsort(all, PROCS * READS, sizeof(all[0]), cmp_u64);
	for (i = 1; i < PROCS * READS; i++)
		dups += all[i] == all[i - 1];
	/* Unique, yet not pushed ahead of the clock by the bumping. */
	for (i = 0; i < PROCS * READS; i++)
		ahead += all[i] > (uint64_t)now;
	TH_LOG("%d processes x %d reads: %llu duplicates, %llu ahead of a later clock read",
	       PROCS, READS, (unsigned long long)dups,
	       (unsigned long long)ahead);
	EXPECT_EQ(0, dups);
	EXPECT_EQ(0, ahead);
	ionclock_close(c);
	munmap(all, bytes);
}

TEST_HARNESS_MAIN
