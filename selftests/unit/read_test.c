// SPDX-License-Identifier: GPL-2.0
/*
 * libionclock's read path on a page published in this process by the real
 * engine (kmod/engine.c), with the module's write sequence
 * (<linux/ionclock_seq.h>) around it.  The handle is built by hand around
 * that page, so no device is needed.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "engine.h"
#include "internal.h"
#include "unit.h"

#define NSEC_PER_SEC	1000000000LL
/* PHC = CLOCK_MONOTONIC_RAW + this, in the simulated world. */
#define PHC_OFFSET_NS	1700000000000000000ULL

static u64 raw_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_RAW, &ts);
	return (u64)ts.tv_sec * NSEC_PER_SEC + (u64)ts.tv_nsec;
}

static struct ionclock_page *page_new(uint8_t counter_id)
{
	struct ionclock_page *p;

	p = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		abort();
	p->magic = IONCLOCK_PAGE_MAGIC;
	p->size = IONCLOCK_PAGE_SIZE;
	p->version = IONCLOCK_ABI_VERSION;
	p->counter_id = counter_id;
	return p;
}

static void page_free(struct ionclock_page *p)
{
	munmap(p, IONCLOCK_PAGE_SIZE);
}

/* As ionclock_page_publish(): odd count, full barrier, anchor, fields. */
static void page_publish(struct ionclock_page *p, struct ionclock_engine *e)
{
	struct ionclock_bound b = { 0 };
	u64 now;

	ionclock_seq_write_begin(p);
	now = ionclock_engine_anchor(e, raw_ns());
	ionclock_engine_publish(e, now, &b);
	ionclock_page_fill(p, e, &b, false);
	ionclock_seq_write_end(p);
}

/* A PHC exactly PHC_OFFSET_NS + @off_ns ahead of CLOCK_MONOTONIC_RAW. */
static void feed(struct ionclock_engine *e, u64 end, s64 off_ns,
		 unsigned int n, u64 hw)
{
	struct ionclock_sample s = { .half_width = hw };
	unsigned int i;

	for (i = 0; i < n; i++) {
		s.counter = end - (u64)(n - 1 - i) * 100000000ULL;
		s.phc_ns = s.counter + PHC_OFFSET_NS + (u64)off_ns;
		ionclock_engine_add_sample(e, &s);
	}
}

static void engine_new(struct ionclock_engine *e)
{
	ionclock_engine_init(e, 1ULL << 32, 32, &module_defaults);
}

/* ---- the time from the page is the engine's, read in the present */

static void test_engine_page(struct unit *u)
{
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	/* fd -1: any fallback to read() would fail with -EBADF. */
	struct ionclock c = { .fd = -1, .counter_id = p->counter_id,
			      .page = p };
	int64_t t, earliest, latest;
	struct ionclock_engine e;
	u64 a, b;
	int i, err;

	engine_new(&e);
	feed(&e, raw_ns(), 0, 16, 500);
	page_publish(p, &e);
	UNIT_EXPECT(u, e.state == IONCLOCK_STATE_TRACKING, "state %d",
		    e.state);
	for (i = 0; i < 1000; i++) {
		a = raw_ns();
		err = ionclock_now(&c, &t);
		b = raw_ns();
		UNIT_EXPECT(u, err == 0, "ionclock_now: %d", err);
		/* Within the anchor of the publish, time may stand ahead. */
		UNIT_EXPECT(u, (u64)t + 100 >= a + PHC_OFFSET_NS &&
			    (u64)t <= b + PHC_OFFSET_NS + 100 +
				      IONCLOCK_ANCHOR_AHEAD_NS,
			    "%llu not in [%llu, %llu]", (unsigned long long)t,
			    (unsigned long long)(a + PHC_OFFSET_NS),
			    (unsigned long long)(b + PHC_OFFSET_NS));
	}
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0, "ionclock_now_bounded: %d", err);
	/*
	 * The bracket (500 ns), the anchor, and growth since the
	 * publish: 15 ppm, so up to 1000 ns allows for this process being off
	 * the CPU for 60 ms.
	 */
	UNIT_EXPECT(u, latest - t >= 500 + IONCLOCK_ANCHOR_AHEAD_NS &&
		    latest - t < 1500 + IONCLOCK_ANCHOR_AHEAD_NS &&
		    t - earliest == latest - t, "bound [%lld, %lld] around %lld",
		    (long long)earliest, (long long)latest, (long long)t);
	page_free(p);
}

/* ---- readers racing a publisher never see time go back */

struct race {
	struct ionclock *c;
	bool stop;
	int64_t max_seen;	/* largest value any reader has returned */
	unsigned long reads, inversions, errors;
	int64_t worst;
};

static void *race_reader(void *arg)
{
	struct race *r = arg;
	unsigned long reads = 0, inversions = 0, errors = 0;
	int64_t seen, t, worst = 0;

	while (!__atomic_load_n(&r->stop, __ATOMIC_RELAXED)) {
		/* Returned by a read that finished before ours began. */
		seen = __atomic_load_n(&r->max_seen, __ATOMIC_ACQUIRE);
		if (ionclock_now(r->c, &t)) {
			errors++;
			continue;
		}
		reads++;
		if (t < seen) {
			inversions++;
			if (seen - t > worst)
				worst = seen - t;
		}
		while (t > seen &&
		       !__atomic_compare_exchange_n(&r->max_seen, &seen, t,
						    false, __ATOMIC_RELEASE,
						    __ATOMIC_ACQUIRE))
			;
	}
	__atomic_fetch_add(&r->reads, reads, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->inversions, inversions, __ATOMIC_RELAXED);
	__atomic_fetch_add(&r->errors, errors, __ATOMIC_RELAXED);
	if (worst > __atomic_load_n(&r->worst, __ATOMIC_RELAXED))
		__atomic_store_n(&r->worst, worst, __ATOMIC_RELAXED);
	return NULL;
}

static void test_race(struct unit *u)
{
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	struct ionclock c = { .fd = -1, .counter_id = p->counter_id,
			      .page = p };
	struct race r = { .c = &c };
	unsigned long publishes = 0;
	struct ionclock_engine e;
	pthread_t th[3];
	u64 start, next_sample;
	s64 off = 0;
	int i;

	engine_new(&e);
	feed(&e, raw_ns(), 0, 16, 500);
	page_publish(p, &e);
	for (i = 0; i < 3; i++)
		pthread_create(&th[i], NULL, race_reader, &r);

	/*
	 * Publish as fast as possible while the PHC jumps +-400 us every
	 * 20 ms, so the mapping's rate swings between slewing up and down.
	 */
	start = raw_ns();
	next_sample = start;
	while (raw_ns() - start < NSEC_PER_SEC / 2) {
		if (raw_ns() >= next_sample) {
			struct ionclock_sample s = { .half_width = 500 };

			off = off > 0 ? -400000 : 400000;
			s.counter = raw_ns();
			s.phc_ns = s.counter + PHC_OFFSET_NS + (u64)off;
			ionclock_engine_add_sample(&e, &s);
			next_sample += 20000000;
		}
		page_publish(p, &e);
		publishes++;
		/* Let readers in now and then, as the module does. */
		if (!(publishes & 15)) {
			u64 t = raw_ns();

			while (raw_ns() - t < 2000)
				;
		}
	}
	__atomic_store_n(&r.stop, true, __ATOMIC_RELAXED);
	for (i = 0; i < 3; i++)
		pthread_join(th[i], NULL);
	printf("# race: %lu publishes, %lu reads, %lu fallbacks, %lu inversions (worst %lld ns)\n",
	       publishes, r.reads, r.errors, r.inversions, (long long)r.worst);
	UNIT_EXPECT(u, r.inversions == 0, "%lu inversions, worst %lld ns",
		    r.inversions, (long long)r.worst);
	/* Fallbacks to read() (-EBADF here) only when the writer stalls. */
	UNIT_EXPECT(u, r.errors < r.reads / 100, "%lu failed reads",
		    r.errors);
	UNIT_EXPECT(u, r.reads > 1000 && publishes > 1000, "%lu reads",
		    r.reads);
	page_free(p);
}

/* ---- a page that stays mid-update sends the reader to read() */

static int pipe_reading(int fd, u64 tai, u64 earliest, u64 latest, u32 flags)
{
	struct ionclock_reading r = {
		.tai_ns = tai, .earliest_ns = earliest, .latest_ns = latest,
		.flags = flags,
	};

	return write(fd, &r, sizeof(r)) == sizeof(r) ? 0 : -1;
}

static void test_fallback(struct unit *u)
{
	const u32 valid = IONCLOCK_FLAG_VALID | IONCLOCK_FLAG_BOUND_VALID;
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	struct ionclock c = { .counter_id = p->counter_id, .page = p };
	int64_t t = 0, earliest = 0, latest = 0;
	int fds[2], err;

	if (pipe(fds))
		abort();
	c.fd = fds[0];
	p->flags = valid;
	p->seq_count = 7;	/* a writer that never finishes */

	/* read() lifted tai_ns by 5 above the page's 1000; bound 100. */
	pipe_reading(fds[1], 1005, 900, 1105, valid);
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == 0 && t == 1000, "now: %d, %lld", err,
		    (long long)t);

	pipe_reading(fds[1], 1005, 900, 1105, valid);
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0 && t == 1000 && earliest == 900 &&
		    latest == 1100, "bounded: %d, %lld [%lld, %lld]", err,
		    (long long)t, (long long)earliest, (long long)latest);

	pipe_reading(fds[1], 1005, 900, 1105, IONCLOCK_FLAG_VALID);
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == -ENODATA && t == 1000, "no bound: %d, %lld",
		    err, (long long)t);

	pipe_reading(fds[1], 1005, 1005, 1005, 0);
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == -EAGAIN, "not valid: %d", err);

	/* unique is read() itself, lifted value and all. */
	p->seq_count = 8;
	pipe_reading(fds[1], 1005, 900, 1105, valid);
	err = ionclock_unique(&c, &t);
	UNIT_EXPECT(u, err == 0 && t == 1005, "unique: %d, %lld", err,
		    (long long)t);

	if (write(fds[1], "short", 5) != 5)
		abort();
	err = ionclock_unique(&c, &t);
	UNIT_EXPECT(u, err == -EIO, "short read: %d", err);

	close(fds[1]);
	close(fds[0]);
	page_free(p);
}

/* ---- flags: no time yet, no bound */

static void test_flags(struct unit *u)
{
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	struct ionclock c = { .fd = -1, .counter_id = p->counter_id,
			      .page = p };
	int64_t t = -1, earliest = -1, latest = -1;
	int err;

	p->time_mult = 1ULL << 32;
	p->time_shift = 32;
	p->time_base_ns = 5000;
	p->counter_base = raw_ns() + 3600 * NSEC_PER_SEC;
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == -EAGAIN, "no VALID flag: %d", err);

	p->flags = IONCLOCK_FLAG_VALID;
	err = ionclock_now(&c, &t);
	/* The counter is behind counter_base: it reads as the base. */
	UNIT_EXPECT(u, err == 0 && t == 5000, "behind the base: %d, %lld",
		    err, (long long)t);
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == -ENODATA && t == 5000 && earliest == -1 &&
		    latest == -1, "no BOUND_VALID: %d, %lld [%lld, %lld]", err,
		    (long long)t, (long long)earliest, (long long)latest);
	page_free(p);
}

/*
 * ---- a counter the kernel no longer vouches for (COUNTER_UNSYNCED):
 * every reading goes through read(), which orders them across CPUs; the
 * page's own time (here 7000, read() says 1000) is never used.
 */
static void test_unsynced_counter(struct unit *u)
{
	const u32 valid = IONCLOCK_FLAG_VALID | IONCLOCK_FLAG_BOUND_VALID;
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	struct ionclock c = { .counter_id = p->counter_id, .page = p };
	int64_t t = 0, earliest = 0, latest = 0;
	struct timespec ts;
	int fds[2], err;

	if (pipe(fds))
		abort();
	c.fd = fds[0];
	p->flags = valid | IONCLOCK_FLAG_COUNTER_UNSYNCED;
	p->time_base_ns = 7000;
	p->seq_count = 8;

	pipe_reading(fds[1], 1000, 900, 1100, valid);
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == 0 && t == 1000, "now: %d, %lld", err,
		    (long long)t);
	pipe_reading(fds[1], 1000, 900, 1100, valid);
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0 && t == 1000 && earliest == 900 &&
		    latest == 1100, "bounded: %d, %lld [%lld, %lld]", err,
		    (long long)t, (long long)earliest, (long long)latest);
	pipe_reading(fds[1], 1000, 900, 1100, valid);
	err = ionclock_gettime(&c, IONCLOCK_TAI, &ts, NULL);
	UNIT_EXPECT(u, err == 0 && ts.tv_sec == 0 && ts.tv_nsec == 1000,
		    "gettime: %d, %lld", err, (long long)ts.tv_nsec);
	/* Synced again: the page itself. */
	p->flags = valid;
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == 0 && t >= 7000, "page: %d, %lld", err,
		    (long long)t);
	close(fds[1]);
	close(fds[0]);
	page_free(p);
}

/*
 * ---- a time namespace's CLOCK_MONOTONIC_RAW offset is taken off the
 * counter: the page, anchored on the kernel's MONOTONIC_RAW, reads the
 * same time whatever the namespace adds.
 */
static void test_timens_offset(struct unit *u)
{
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	struct ionclock c = { .fd = -1, .counter_id = p->counter_id, .page = p };
	uint64_t off = 0, saved = ionclock_timens_raw_offset_ns;
	int64_t t0, t1, t2;
	int err;

	p->flags = IONCLOCK_FLAG_VALID;
	p->counter_base = raw_ns();
	p->time_base_ns = PHC_OFFSET_NS;
	p->time_mult = 1ULL << 32;
	p->time_shift = 32;
	err = ionclock_now(&c, &t0);
	/*
	 * As if this process's CLOCK_MONOTONIC_RAW ran 1000 s ahead of the
	 * kernel's, on which the page is anchored.
	 */
	p->counter_base -= 1000 * NSEC_PER_SEC;
	ionclock_timens_raw_offset_ns = 1000 * NSEC_PER_SEC;
	err |= ionclock_now(&c, &t1);
	ionclock_timens_raw_offset_ns = 0;
	err |= ionclock_now(&c, &t2);
	ionclock_timens_raw_offset_ns = saved;
	UNIT_EXPECT(u, !err && t1 >= t0 && t1 - t0 < NSEC_PER_SEC / 10,
		    "%d: %lld, in the namespace %lld", err, (long long)t0,
		    (long long)t1);
	/* Uncorrected, the reading would be 1000 s ahead. */
	UNIT_EXPECT(u, t2 - t0 > 999 * NSEC_PER_SEC, "%lld", (long long)(t2 - t0));
	/* This process's own file: no namespace, or one, parses. */
	err = ionclock_timens_offset(&off);
	UNIT_EXPECT(u, err == 0, "/proc/self/timens_offsets: %d", err);
	page_free(p);
}

/* ---- the arithmetic: rate, shift, bound growth */

static void test_arithmetic(struct unit *u)
{
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	struct ionclock c = { .fd = -1, .counter_id = p->counter_id,
			      .page = p };
	int64_t t, earliest, latest, want_lo, want_hi, bound;
	u64 a, b, base;
	int err;

	base = raw_ns() - 2 * NSEC_PER_SEC;
	p->flags = IONCLOCK_FLAG_VALID | IONCLOCK_FLAG_BOUND_VALID;
	p->counter_base = base;
	p->time_base_ns = PHC_OFFSET_NS;
	/* 1.5 ns per ns at shift 20. */
	p->time_mult = 3ULL << 19;
	p->time_shift = 20;
	p->error_bound_ns = 1000;
	p->error_growth_frac32 = (1ULL << 32) / 1000;	/* 1 ms per s */

	a = raw_ns();
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	b = raw_ns();
	want_lo = PHC_OFFSET_NS + (a - base) * 3 / 2;
	want_hi = PHC_OFFSET_NS + (b - base) * 3 / 2;
	UNIT_EXPECT(u, err == 0 && t >= want_lo && t <= want_hi,
		    "%d: %lld not in [%lld, %lld]", err, (long long)t,
		    (long long)want_lo, (long long)want_hi);
	/* 1000 + 1/1000 of the ~3 s elapsed on the published scale. */
	bound = 1000 + (t - PHC_OFFSET_NS) / 1000;
	UNIT_EXPECT(u, latest - t >= bound - 1 && latest - t <= bound + 1 &&
		    t - earliest == latest - t,
		    "bound %lld, expected %lld", (long long)(latest - t),
		    (long long)bound);
	page_free(p);
}

#ifdef IONCLOCK_HAVE_TSC
/* ---- the TSC counter really is the TSC */

static void test_tsc(struct unit *u)
{
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_TSC);
	struct ionclock c = { .fd = -1, .counter_id = p->counter_id,
			      .page = p };
	u64 a, b, base;
	int64_t t;
	int err;

	base = __builtin_ia32_rdtsc();
	p->flags = IONCLOCK_FLAG_VALID;
	p->counter_base = base;
	p->time_base_ns = PHC_OFFSET_NS;
	p->time_mult = 1ULL << 32;	/* 1 ns per tick, for the test */
	p->time_shift = 32;
	a = __builtin_ia32_rdtsc();
	err = ionclock_now(&c, &t);
	b = __builtin_ia32_rdtsc();
	UNIT_EXPECT(u, err == 0 && (u64)t >= PHC_OFFSET_NS + (a - base) &&
		    (u64)t <= PHC_OFFSET_NS + (b - base),
		    "%d: %llu ticks, window [%llu, %llu]", err,
		    (unsigned long long)(t - PHC_OFFSET_NS),
		    (unsigned long long)(a - base),
		    (unsigned long long)(b - base));
	page_free(p);
}
#endif

/* ---- open refuses what is not an ionclock device */

static void test_open(struct unit *u)
{
	char path[] = "/tmp/ionclock-unit-XXXXXX";
	struct ionclock *c = NULL;
	char zero[IONCLOCK_PAGE_SIZE] = { 0 };
	int fd, err;

	err = ionclock_open("/nonexistent/ionclock0", &c);
	UNIT_EXPECT(u, err == -ENOENT && !c, "missing: %d", err);
	err = ionclock_open("/dev/null", &c);
	UNIT_EXPECT(u, err == -ENODEV && !c, "/dev/null: %d", err);

	fd = mkstemp(path);
	if (fd < 0 || write(fd, zero, sizeof(zero)) != sizeof(zero))
		abort();
	err = ionclock_open(path, &c);
	UNIT_EXPECT(u, err == -ENODEV && !c, "regular file: %d", err);
	close(fd);
	unlink(path);

	UNIT_EXPECT(u, strcmp(ionclock_strerror(-EPROTO),
			      ionclock_strerror(-ENODEV)) != 0, "messages");
	ionclock_close(NULL);
}

/* ---- a maximum bound on the handle fails closed */

static void test_max_bound(struct unit *u)
{
	const u32 valid = IONCLOCK_FLAG_VALID | IONCLOCK_FLAG_BOUND_VALID;
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	struct ionclock c = { .fd = -1, .counter_id = p->counter_id,
			      .page = p };
	int64_t t = -1, earliest = -1, latest = -1;
	struct ionclock_engine e;
	struct timespec ts = { -1, -1 };
	uint64_t ns = 0;
	int fds[2], err;

	engine_new(&e);
	feed(&e, raw_ns(), 0, 16, 500);
	page_publish(p, &e);
	/* The bound is about 1.5 us here (see test_engine_page). */
	UNIT_EXPECT(u, ionclock_set_max_bound(&c, 100) == 0, "set 100");
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == -IONCLOCK_EBOUND && t == -1, "now: %d, %lld",
		    err, (long long)t);
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == -IONCLOCK_EBOUND && t == -1 && earliest == -1,
		    "bounded: %d", err);
	err = ionclock_gettime(&c, IONCLOCK_TAI, &ts, NULL);
	UNIT_EXPECT(u, err == -IONCLOCK_EBOUND && ts.tv_sec == -1,
		    "gettime: %d", err);
	err = ionclock_after(&c, 0);
	UNIT_EXPECT(u, err == -IONCLOCK_EBOUND, "after: %d", err);

	UNIT_EXPECT(u, ionclock_set_max_bound(&c, 1000000) == 0, "set 1 ms");
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0 && latest - t <= 1000000, "within: %d", err);

	/* No bound published is not within any maximum. */
	p->flags &= ~IONCLOCK_FLAG_BOUND_VALID;
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == -IONCLOCK_EBOUND, "no bound: %d", err);
	UNIT_EXPECT(u, ionclock_set_max_bound(&c, 0) == 0, "set 0");
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == 0, "0 lifts the limit: %d", err);
	UNIT_EXPECT(u, ionclock_set_max_bound(&c, -1) == -EINVAL, "negative");

	/* The read() fallback and ionclock_unique() check the reading's bound. */
	if (pipe(fds))
		abort();
	c.fd = fds[0];
	p->flags = valid;
	p->seq_count = 7;
	ionclock_set_max_bound(&c, 50);
	pipe_reading(fds[1], 1005, 900, 1105, valid);
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == -IONCLOCK_EBOUND, "fallback, bound 100: %d",
		    err);
	ionclock_set_max_bound(&c, 100);
	pipe_reading(fds[1], 1005, 900, 1105, valid);
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == 0 && t == 1000, "fallback at the limit: %d", err);
	ionclock_set_max_bound(&c, 99);
	pipe_reading(fds[1], 1005, 900, 1105, valid);
	err = ionclock_unique(&c, &t);
	UNIT_EXPECT(u, err == -IONCLOCK_EBOUND, "unique: %d", err);
	close(fds[1]);
	close(fds[0]);

	UNIT_EXPECT(u, strcmp(ionclock_strerror(-IONCLOCK_EBOUND),
			      ionclock_strerror(-ENODATA)) &&
		    strstr(ionclock_strerror(-IONCLOCK_EBOUND), "maximum"),
		    "message: %s", ionclock_strerror(-IONCLOCK_EBOUND));
	/* The drop-in's IONCLOCK_PRELOAD_MAX_BOUND_NS. */
	UNIT_EXPECT(u, !ionclock_parse_max_bound("250000", &ns) && ns == 250000,
		    "parse 250000: %llu", (unsigned long long)ns);
	UNIT_EXPECT(u, ionclock_parse_max_bound("0", &ns) == -EINVAL &&
		    ionclock_parse_max_bound("", &ns) == -EINVAL &&
		    ionclock_parse_max_bound("12us", &ns) == -EINVAL &&
		    ionclock_parse_max_bound("-5", &ns) == -EINVAL &&
		    ionclock_parse_max_bound("99999999999999999999", &ns) ==
		    -ERANGE, "bad values refused");
	page_free(p);
}

/* ---- a disruption the hypervisor's vmclock announced before the module */

static void test_vmclock_stale(struct unit *u)
{
	struct ionclock_page *p = page_new(IONCLOCK_COUNTER_MONOTONIC_RAW);
	static uint8_t vmc[IONCLOCK_VMCLOCK_MAP_SIZE];
	struct ionclock c = { .fd = -1, .counter_id = p->counter_id,
			      .page = p, .vmclock = vmc };
	uint32_t *seq = (uint32_t *)(vmc + IONCLOCK_VMCLOCK_OFF_SEQ);
	uint64_t *marker = (uint64_t *)(vmc + IONCLOCK_VMCLOCK_OFF_MARKER);
	int64_t t = -1, earliest = -1, latest = -1;
	struct ionclock_engine e;
	int err;

	engine_new(&e);
	feed(&e, raw_ns(), 0, 16, 500);
	page_publish(p, &e);
	p->vmclock_state = IONCLOCK_VMCLOCK_FOLLOWED;
	p->vmclock_disruption_marker = 7;
	*marker = 7;
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0 && earliest < t && t < latest,
		    "the same marker: %d", err);

	/* Restored elsewhere: the hypervisor moved on, the page not yet. */
	*marker = 8;
	earliest = latest = -1;
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == -ENODATA && t > 0 && earliest == -1,
		    "a moved marker: %d", err);
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == 0, "the time itself still reads: %d", err);
	ionclock_set_max_bound(&c, 1000000000);
	err = ionclock_now(&c, &t);
	UNIT_EXPECT(u, err == -IONCLOCK_EBOUND, "fail-closed: %d", err);
	ionclock_set_max_bound(&c, 0);

	/* The module took it: the page carries the new marker. */
	p->vmclock_disruption_marker = 8;
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0, "followed: %d", err);

	/* A vmclock forever mid-update vouches for nothing. */
	*seq = 1;
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == -ENODATA, "never settles: %d", err);
	*seq = 2;
	err = ionclock_now_bounded(&c, &t, &earliest, &latest);
	UNIT_EXPECT(u, err == 0, "settled: %d", err);
	page_free(p);
}

const struct unit_case unit_read_cases[] = {
	{ "read: the page gives the engine's time, without read()",
	  test_engine_page },
	{ "read: readers racing a publisher never go back", test_race },
	{ "read: a page stuck mid-update falls back to read()",
	  test_fallback },
	{ "read: an unsynced counter takes every reading through read()",
	  test_unsynced_counter },
	{ "read: a time namespace's MONOTONIC_RAW offset is taken off",
	  test_timens_offset },
	{ "read: no VALID is -EAGAIN, no BOUND_VALID is -ENODATA",
	  test_flags },
	{ "read: rate, shift and bound growth", test_arithmetic },
#ifdef IONCLOCK_HAVE_TSC
	{ "read: the TSC counter reads the TSC", test_tsc },
#endif
	{ "read: open refuses what is not an ionclock device", test_open },
	{ "read: a maximum bound on the handle fails closed", test_max_bound },
	{ "read: a mapping older than the vmclock's disruption has no bound",
	  test_vmclock_stale },
	{ NULL, NULL },
};
