// SPDX-License-Identifier: GPL-2.0
/*
 * IONCLOCK_IOC_NEXT_ID: ordered IDs.  Four processes take a million IDs each
 * (two one by one, two in batches): no ID twice, each process's increasing,
 * every one carrying the machine id, and sampled IDs' milliseconds within
 * the bound of read()'s unique stamps taken around them.  Also: no machine
 * id, no IDs; setting it needs CAP_SYS_TIME, reading it does not; bad
 * requests refused; a used-up millisecond never wraps.
 */
#define _GNU_SOURCE
#include <sched.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>

#include "ionclock_test.h"
#include "kselftest_harness.h"

#define PROCS		4
#define IDS		1000000
#define MACHINE		421
#define SAMPLE_EVERY	997
#define NS_PER_MS	1000000LL

static int set_machine_id(int fd, uint64_t id)
{
	struct ionclock_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	cfg.set = IONCLOCK_CONFIG_MACHINE_ID;
	cfg.machine_id = id;
	return ioctl(fd, IONCLOCK_IOC_SET_CONFIG, &cfg);
}

static uint64_t get_machine_id(int fd)
{
	struct ionclock_config cfg;

	memset(&cfg, 0, sizeof(cfg));
	if (ioctl(fd, IONCLOCK_IOC_GET_CONFIG, &cfg))
		return 0;
	return cfg.machine_id;
}

FIXTURE(ids) {
	struct ionclock *c;
	int fd;
};

FIXTURE_SETUP(ids)
{
	ASSERT_EQ(0, ionclock_open(test_ionclock_dev(), &self->c));
	self->fd = ionclock_fd(self->c);
	ASSERT_TRUE(test_wait_state(self->c, IONCLOCK_STATE_TRACKING, 10));
	ASSERT_EQ(0, set_machine_id(self->fd, MACHINE));
}

FIXTURE_TEARDOWN(ids)
{
	set_machine_id(self->fd, IONCLOCK_MACHINE_ID_UNSET);
	ionclock_close(self->c);
}

TEST_F(ids, unset_machine_id_refuses)
{
	uint64_t id = 0;

	ASSERT_EQ(0, set_machine_id(self->fd, IONCLOCK_MACHINE_ID_UNSET));
	EXPECT_EQ(IONCLOCK_MACHINE_ID_UNSET, get_machine_id(self->fd));
	EXPECT_EQ(-EADDRNOTAVAIL, ionclock_id(self->c, &id));
	EXPECT_EQ(0, id);
	EXPECT_NE(NULL, strstr(ionclock_strerror(-EADDRNOTAVAIL), "machine id"));
	ASSERT_EQ(0, set_machine_id(self->fd, 7));
	EXPECT_EQ(7, get_machine_id(self->fd));
	EXPECT_EQ(0, ionclock_id(self->c, &id));
	EXPECT_EQ(7, ionclock_id_machine(id));
}

TEST_F(ids, bad_requests_refused)
{
	struct ionclock_id_request req;

	memset(&req, 0, sizeof(req));
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_NEXT_ID, &req));
	EXPECT_EQ(EINVAL, errno);	/* count 0 */
	req.count = IONCLOCK_ID_MAX_COUNT + 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_NEXT_ID, &req));
	EXPECT_EQ(EINVAL, errno);
	req.count = 1;
	req.flags = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_NEXT_ID, &req));
	EXPECT_EQ(EINVAL, errno);
	req.flags = 0;
	req.reserved[1] = 1;
	EXPECT_EQ(-1, ioctl(self->fd, IONCLOCK_IOC_NEXT_ID, &req));
	EXPECT_EQ(EINVAL, errno);
	req.reserved[1] = 0;
	EXPECT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_NEXT_ID, &req));
	EXPECT_EQ(1, req.count);
	/* Out-of-range machine ids change nothing. */
	EXPECT_EQ(-1, set_machine_id(self->fd, IONCLOCK_MACHINE_ID_MAX + 1));
	EXPECT_EQ(ERANGE, errno);
	EXPECT_EQ(MACHINE, get_machine_id(self->fd));
}

/* Reading the machine id and taking IDs needs nothing; setting it, CAP_SYS_TIME. */
TEST_F(ids, unprivileged_may_take_not_set)
{
	pid_t pid = fork();
	int status;

	ASSERT_LE(0, pid);
	if (!pid) {
		struct ionclock *c;
		uint64_t id;

		if (setresgid(65534, 65534, 65534) ||
		    setresuid(65534, 65534, 65534))
			_exit(10);
		if (ionclock_open(test_ionclock_dev(), &c))
			_exit(11);
		if (get_machine_id(ionclock_fd(c)) != MACHINE)
			_exit(12);
		if (ionclock_id(c, &id) || ionclock_id_machine(id) != MACHINE)
			_exit(13);
		if (set_machine_id(ionclock_fd(c), 1) != -1 || errno != EPERM)
			_exit(14);
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status));
	EXPECT_EQ(MACHINE, get_machine_id(self->fd));
}

/* Full batches use up their millisecond: the next one starts a later one. */
TEST_F(ids, used_up_millisecond_never_wraps)
{
	struct ionclock_id_request req;
	uint64_t last = 0;
	int i, full = 0;

	for (i = 0; i < 50; i++) {
		memset(&req, 0, sizeof(req));
		req.count = IONCLOCK_ID_MAX_COUNT;
		ASSERT_EQ(0, ioctl(self->fd, IONCLOCK_IOC_NEXT_ID, &req));
		ASSERT_LE(1, req.count);
		ASSERT_GE(IONCLOCK_ID_MAX_COUNT, req.count);
		if (i)
			ASSERT_LT(last, req.first_id);
		/* All from one millisecond: the sequence does not carry. */
		ASSERT_EQ(req.first_id >> IONCLOCK_ID_MS_SHIFT,
			  (req.first_id + req.count - 1) >> IONCLOCK_ID_MS_SHIFT);
		if (req.count == IONCLOCK_ID_MAX_COUNT) {
			EXPECT_EQ(0, req.first_id & IONCLOCK_ID_SEQ_MASK);
			full++;
		}
		last = req.first_id + req.count - 1;
	}
	TH_LOG("%d of 50 requests for 4096 IDs got a whole millisecond", full);
	EXPECT_LT(25, full);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

struct worst {
	int64_t early_ns, late_ns;	/* how close to the bracket's edges */
	int outside;
};

/*
 * One process's IDs into @out; every SAMPLE_EVERY-th between two unique
 * stamps.  Exit code: 0, or what went wrong.
 */
static int take_ids(int proc, uint64_t *out, struct worst *w)
{
	struct ionclock_reading before, after;
	struct ionclock *c;
	int64_t start;
	int i, n, err, fd;

	if (ionclock_open(test_ionclock_dev(), &c))
		return 1;
	fd = ionclock_fd(c);
	for (i = 0; i < IDS; i += n) {
		n = 1;
		if (i % SAMPLE_EVERY == 0) {
			if (read(fd, &before, sizeof(before)) != sizeof(before))
				return 2;
			err = ionclock_id(c, &out[i]);
			if (read(fd, &after, sizeof(after)) != sizeof(after))
				return 2;
			if (err)
				return 3;
			/* The ID's millisecond overlaps the bound's window. */
			start = ionclock_id_tai_ns(out[i]);
			if (start > (int64_t)after.latest_ns ||
			    start + NS_PER_MS <= (int64_t)before.earliest_ns)
				w->outside++;
			if (start - (int64_t)before.tai_ns < w->early_ns)
				w->early_ns = start - (int64_t)before.tai_ns;
			if (start - (int64_t)after.tai_ns > w->late_ns)
				w->late_ns = start - (int64_t)after.tai_ns;
		} else if (proc < 2) {
			err = ionclock_id(c, &out[i]);
			if (err)
				return 3;
		} else {
			/* Batches of 1 .. 512, stopping at the next sample. */
			n = 1 + rand() % 512;
			if (n > SAMPLE_EVERY - i % SAMPLE_EVERY)
				n = SAMPLE_EVERY - i % SAMPLE_EVERY;
			if (n > IDS - i)
				n = IDS - i;
			if (ionclock_ids(c, &out[i], n))
				return 3;
		}
	}
	for (i = 1; i < IDS; i++)
		if (out[i] <= out[i - 1])
			return 4;
	for (i = 0; i < IDS; i++)
		if (ionclock_id_machine(out[i]) != MACHINE)
			return 5;
	ionclock_close(c);
	return 0;
}

TEST_F(ids, four_processes_a_million_each)
{
	size_t bytes = sizeof(uint64_t) * PROCS * IDS;
	int cpus = sysconf(_SC_NPROCESSORS_ONLN), i, status;
	struct worst *w;
	uint64_t *all, dups = 0;
	int64_t t0 = test_mono_ns();

	all = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
		   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, all);
	w = mmap(NULL, sizeof(*w) * PROCS, PROT_READ | PROT_WRITE,
		 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, w);
	for (i = 0; i < PROCS; i++) {
		pid_t pid = fork();

		ASSERT_LE(0, pid);
		if (!pid) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(i % cpus, &set);
			sched_setaffinity(0, sizeof(set), &set);
			srand(i + 1);
			w[i].early_ns = INT64_MAX;
			w[i].late_ns = INT64_MIN;
			_exit(take_ids(i, all + (size_t)i * IDS, &w[i]));
		}
	}
	for (i = 0; i < PROCS; i++) {
		ASSERT_LT(0, wait(&status));
		EXPECT_TRUE(WIFEXITED(status));
		/* 2 read, 3 id, 4 not increasing, 5 machine id */
		EXPECT_EQ(0, WEXITSTATUS(status));
	}
	TH_LOG("%d x %d IDs in %.1f s", PROCS, IDS,
	       (test_mono_ns() - t0) / 1e9);
	qsort(all, (size_t)PROCS * IDS, sizeof(all[0]), cmp_u64);
	for (i = 1; i < PROCS * IDS; i++)
		dups += all[i] == all[i - 1];
	for (i = 0; i < PROCS; i++) {
		TH_LOG("process %d: ID ms start - stamp before >= %lld ns, - stamp after <= %lld ns, %d outside the bound",
		       i, (long long)w[i].early_ns, (long long)w[i].late_ns,
		       w[i].outside);
		EXPECT_EQ(0, w[i].outside);
		/* Tighter than the bound: the ms is the device's own time. */
		EXPECT_GT(w[i].early_ns, -NS_PER_MS);
		EXPECT_LE(w[i].late_ns, 0);
	}
	TH_LOG("%llu duplicates", (unsigned long long)dups);
	EXPECT_EQ(0, dups);
	munmap(all, bytes);
	munmap(w, sizeof(*w) * PROCS);
}

TEST_HARNESS_MAIN
