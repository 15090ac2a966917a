// SPDX-License-Identifier: GPL-2.0
/*
 * A dynamically linked program whose allocator calls clock_gettime() on
 * every call, as some profiling allocators do: under the LD_PRELOAD
 * drop-in, malloc() runs before the drop-in is set up (from the loader and
 * libc's start-up), so the drop-in's set-up runs from inside it.  A toy
 * next to the real allocators preload_test also runs the drop-in under
 * (jemalloc, tcmalloc, mimalloc): it does not lock as they do.  It then
 * reads every interposed clock from main(), from threads and from a forked
 * child, one "name value" line each, for preload_test to judge:
 *
 *   realtime_ns, tai_ns, monotonic_ns, gettimeofday_us, time_s,
 *   timespec_get_ns, thread_realtime_ns (x4), child_realtime_ns,
 *   malloc_calls, malloc_clock_calls, ctor_realtime_ns
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ARENA_SIZE	(32 << 20)
#define HDR		64	/* keeps every block 64-byte aligned */
#define THREADS		4

static unsigned char arena[ARENA_SIZE];
static size_t arena_used;
static unsigned long malloc_calls, malloc_clock_calls;
static long long ctor_realtime_ns;

static long long ns_of(const struct timespec *ts)
{
	return ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

/* A bump allocator: lock-free, so reentry from clock_gettime() is safe. */
static void *arena_alloc(size_t size, size_t align)
{
	struct timespec ts;
	size_t need, start;
	unsigned char *p;

	__atomic_fetch_add(&malloc_calls, 1, __ATOMIC_RELAXED);
	if (!clock_gettime(CLOCK_REALTIME, &ts) && ts.tv_sec > 0)
		__atomic_fetch_add(&malloc_clock_calls, 1, __ATOMIC_RELAXED);
	if (align < HDR)
		align = HDR;
	if (size > ARENA_SIZE)
		return NULL;
	need = size + HDR + align;
	start = __atomic_fetch_add(&arena_used, need, __ATOMIC_RELAXED);
	if (start + need > ARENA_SIZE)
		return NULL;
	p = arena + start + HDR;
	p += (align - (uintptr_t)p % align) % align;
	memcpy(p - sizeof(size_t), &size, sizeof(size));
	return p;
}

void *malloc(size_t size)
{
	void *p = arena_alloc(size, HDR);

	if (!p)
		errno = ENOMEM;
	return p;
}

void free(void *p)
{
}

void *calloc(size_t n, size_t size)
{
	/* The arena is never reused, so it is still zero. */
	if (size && n > SIZE_MAX / size)
		return NULL;
	return malloc(n * size);
}

void *realloc(void *old, size_t size)
{
	size_t old_size;
	void *p = malloc(size);

	if (p && old) {
		memcpy(&old_size, (unsigned char *)old - sizeof(size_t),
		       sizeof(old_size));
		memcpy(p, old, old_size < size ? old_size : size);
	}
	return p;
}

void *memalign(size_t align, size_t size)
{
	return arena_alloc(size, align);
}

void *aligned_alloc(size_t align, size_t size)
{
	return arena_alloc(size, align);
}

int posix_memalign(void **out, size_t align, size_t size)
{
	void *p = arena_alloc(size, align);

	if (p)
		*out = p;
	return p ? 0 : ENOMEM;
}

size_t malloc_usable_size(void *p)
{
	size_t size;

	memcpy(&size, (unsigned char *)p - sizeof(size_t), sizeof(size));
	return size;
}

/* Another library's constructor would call in this early. */
__attribute__((constructor)) static void early(void)
{
	struct timespec ts;

	if (!clock_gettime(CLOCK_REALTIME, &ts))
		ctor_realtime_ns = ns_of(&ts);
}

static void *thread_read(void *arg)
{
	struct timespec *ts = arg;

	clock_gettime(CLOCK_REALTIME, ts);
	return NULL;
}

int main(void)
{
	struct timespec rt, tai, mono, tg, th[THREADS];
	pthread_t t[THREADS];
	struct timeval tv;
	time_t now;
	pid_t pid;
	int i, status;

	if (clock_gettime(CLOCK_REALTIME, &rt) ||
	    clock_gettime(CLOCK_TAI, &tai) ||
	    clock_gettime(CLOCK_MONOTONIC, &mono) ||
	    gettimeofday(&tv, NULL) || timespec_get(&tg, TIME_UTC) != TIME_UTC)
		return 1;
	now = time(NULL);
	printf("realtime_ns %lld\ntai_ns %lld\nmonotonic_ns %lld\n",
	       ns_of(&rt), ns_of(&tai), ns_of(&mono));
	printf("gettimeofday_us %lld\ntime_s %lld\ntimespec_get_ns %lld\n",
	       tv.tv_sec * 1000000LL + tv.tv_usec, (long long)now, ns_of(&tg));
	for (i = 0; i < THREADS; i++)
		if (pthread_create(&t[i], NULL, thread_read, &th[i]))
			return 1;
	for (i = 0; i < THREADS; i++) {
		pthread_join(t[i], NULL);
		printf("thread_realtime_ns %lld\n", ns_of(&th[i]));
	}
	fflush(stdout);
	pid = fork();
	if (pid < 0)
		return 1;
	if (!pid) {
		clock_gettime(CLOCK_REALTIME, &rt);
		printf("child_realtime_ns %lld\n", ns_of(&rt));
		fflush(stdout);
		_exit(0);
	}
	if (waitpid(pid, &status, 0) != pid || status)
		return 1;
	printf("malloc_calls %lu\nmalloc_clock_calls %lu\nctor_realtime_ns %lld\n",
	       malloc_calls, malloc_clock_calls, ctor_realtime_ns);
	return 0;
}
