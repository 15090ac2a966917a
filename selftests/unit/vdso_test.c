// SPDX-License-Identifier: GPL-2.0
/*
 * The drop-in's vDSO lookup (userspace/preload/vdso.c) on this process's
 * own vDSO, and on copies of it that are cut short or corrupted.  Each copy
 * ends at a PROT_NONE page and starts after one, so a read outside the
 * image faults and fails the run instead of passing unseen.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "unit.h"
#include "vdso.h"

#define NS		1000000000LL
#define CORRUPTIONS	20000

#if defined(__x86_64__)
#define CGT	"__vdso_clock_gettime"
#define GTOD	"__vdso_gettimeofday"
#define VER	"LINUX_2.6"
#define TIME_FN	"__vdso_time"
#elif defined(__aarch64__)
#define CGT	"__kernel_clock_gettime"
#define GTOD	"__kernel_gettimeofday"
#define VER	"LINUX_2.6.39"
#endif

typedef int (*cgt_fn)(clockid_t, struct timespec *);

/* The vDSO's extent, from /proc/self/maps. */
static size_t vdso_len(const void *base)
{
	char line[256];
	unsigned long lo, hi;
	size_t len = 0;
	FILE *f = fopen("/proc/self/maps", "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, "[vdso]") &&
		    sscanf(line, "%lx-%lx", &lo, &hi) == 2 &&
		    lo == (unsigned long)base)
			len = hi - lo;
	fclose(f);
	return len;
}

struct guarded {
	unsigned char *map;
	size_t map_len;
	unsigned char *image;
};

/* @len bytes of @src ending 16-aligned at a PROT_NONE page, one before. */
static void guarded_copy(struct guarded *g, const void *src, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	size_t room = (len + 15) / 16 * 16, body = (room + page - 1) / page * page;

	g->map_len = body + 2 * page;
	g->map = mmap(NULL, g->map_len, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (g->map == MAP_FAILED)
		abort();
	mprotect(g->map, page, PROT_NONE);
	mprotect(g->map + page + body, page, PROT_NONE);
	g->image = g->map + page + body - room;
	memcpy(g->image, src, len);
}

static void guarded_free(struct guarded *g)
{
	munmap(g->map, g->map_len);
}

#ifdef CGT
static void test_real_vdso(struct unit *u)
{
	const void *base = (const void *)getauxval(AT_SYSINFO_EHDR);
	struct timespec a, v, b;
	cgt_fn fn;

	if (!UNIT_EXPECT(u, base, "no vDSO in this process"))
		return;
	fn = (cgt_fn)ionclock_vdso_lookup(base, 0, CGT, VER);
	if (!UNIT_EXPECT(u, fn, "%s@%s not found", CGT, VER))
		return;
	clock_gettime(CLOCK_REALTIME, &a);
	UNIT_EXPECT(u, fn(CLOCK_REALTIME, &v) == 0, "the vDSO call failed");
	clock_gettime(CLOCK_REALTIME, &b);
	UNIT_EXPECT(u, a.tv_sec * NS + a.tv_nsec <= v.tv_sec * NS + v.tv_nsec &&
		    v.tv_sec * NS + v.tv_nsec <= b.tv_sec * NS + b.tv_nsec,
		    "vDSO REALTIME %lld.%09ld not between libc's", (long long)v.tv_sec,
		    v.tv_nsec);
	/* A clock the vDSO hands to the kernel still answers, as -errno. */
	UNIT_EXPECT(u, fn(-12345, &v) == -22, "bad clock id: %d",
		    fn(-12345, &v));
	UNIT_EXPECT(u, ionclock_vdso_lookup(base, 0, GTOD, VER),
		    "%s not found", GTOD);
#ifdef TIME_FN
	UNIT_EXPECT(u, ionclock_vdso_lookup(base, 0, TIME_FN, VER),
		    "%s not found", TIME_FN);
#endif
	UNIT_EXPECT(u, !ionclock_vdso_lookup(base, 0, CGT, "LINUX_9.9"),
		    "found under another version");
	UNIT_EXPECT(u, !ionclock_vdso_lookup(base, 0, "__vdso_clock", VER),
		    "a prefix of a name matched");
	UNIT_EXPECT(u, !ionclock_vdso_lookup(base, 0, "no_such_fn", VER),
		    "an unknown name matched");
	UNIT_EXPECT(u, !ionclock_vdso_lookup(NULL, 0, CGT, VER), "NULL image");
}

/* Found at the same offset in a copy as in the original. */
static void test_copy_and_cuts(struct unit *u)
{
	const unsigned char *base = (const void *)getauxval(AT_SYSINFO_EHDR);
	size_t len = vdso_len(base), cut;
	bool found_short = false;
	const unsigned char *want, *got;
	struct guarded g;

	if (!UNIT_EXPECT(u, base && len, "no vDSO extent in /proc/self/maps"))
		return;
	want = ionclock_vdso_lookup(base, 0, CGT, VER);
	guarded_copy(&g, base, len);
	got = ionclock_vdso_lookup(g.image, len, CGT, VER);
	UNIT_EXPECT(u, got && got - g.image == want - base,
		    "copy: offset %td, original %td",
		    got ? got - g.image : -1, want - base);
	guarded_free(&g);
	/*
	 * Every length (0 means the kernel's own image): not found, or found
	 * where the full image has it.
	 */
	for (cut = 1; cut < len; cut++) {
		guarded_copy(&g, base, cut);
		got = ionclock_vdso_lookup(g.image, cut, CGT, VER);
		if (got) {
			found_short = cut == len - 1;
			UNIT_EXPECT(u, got - g.image == want - base &&
				    (size_t)(got - g.image) < cut,
				    "cut at %zu: offset %td", cut, got - g.image);
		}
		guarded_free(&g);
	}
	/* It needs the tables and the entry point, not the whole image. */
	UNIT_EXPECT(u, found_short, "not found one byte short of the image");
}

/* Random bytes changed: not found, or an address inside the image. */
static void test_corruption(struct unit *u)
{
	const unsigned char *base = (const void *)getauxval(AT_SYSINFO_EHDR);
	size_t len = vdso_len(base), pos;
	struct unit_rng rng = { unit_seed() };
	unsigned int i, k, flips, found = 0;
	const unsigned char *got;
	struct guarded g;

	if (!UNIT_EXPECT(u, base && len, "no vDSO extent"))
		return;
	guarded_copy(&g, base, len);
	for (i = 0; i < CORRUPTIONS; i++) {
		memcpy(g.image, base, len);
		flips = 1 + unit_rand(&rng) % 8;
		for (k = 0; k < flips; k++) {
			/* Mostly the headers and tables, where it matters. */
			pos = unit_one_in(&rng, 2) ? unit_rand(&rng) % 1024 :
			      unit_rand(&rng) % len;
			g.image[pos] = (unsigned char)unit_rand(&rng);
		}
		got = ionclock_vdso_lookup(g.image, len, CGT, VER);
		if (got) {
			found++;
			UNIT_EXPECT(u, got >= g.image && got < g.image + len,
				    "corruption %u: address outside the image", i);
		}
	}
	guarded_free(&g);
	UNIT_EXPECT(u, found < CORRUPTIONS, "every corruption was found");
}
#endif

const struct unit_case unit_vdso_cases[] = {
#ifdef CGT
	{ "vdso: this process's vDSO: clock_gettime found and right, versions",
	  test_real_vdso },
	{ "vdso: a copy is read alike; every shorter cut never reads past it",
	  test_copy_and_cuts },
	{ "vdso: corrupted copies never fault or point outside", test_corruption },
#endif
	{ NULL, NULL },
};
