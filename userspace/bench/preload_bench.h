/* SPDX-License-Identifier: GPL-2.0 */
/* The drop-in's code for make bench (preload_bench.c). */
#ifndef IONCLOCK_PRELOAD_BENCH_H
#define IONCLOCK_PRELOAD_BENCH_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "internal.h"

/* Built as the drop-in is, hidden but for these (bench/Makefile). */
#define PRELOAD_BENCH_API	__attribute__((visibility("default")))

/* The drop-in's clock_gettime(), called as a program's PLT would: by pointer. */
extern PRELOAD_BENCH_API int (*const preload_bench_clock_gettime)(clockid_t id,
							struct timespec *ts);

/* One set-up from scratch, ns; *have_dev: it found an ionclock device. */
PRELOAD_BENCH_API int64_t preload_bench_setup(bool *have_dev);

/* From now on the drop-in reads @c's page, as if set up on it. */
PRELOAD_BENCH_API void preload_bench_use(const struct ionclock *c);

#endif /* IONCLOCK_PRELOAD_BENCH_H */
