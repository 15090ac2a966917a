/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libionclock: read the PHC-backed TAI time that the ionclock module
 * publishes in /dev/ionclockN, without a system call per read.
 *
 * Every function returns 0 or a negative errno; none prints, exits or (past
 * ionclock_open()) allocates.  The read functions may be called from any
 * number of threads on the same handle at once.
 *
 * The time is TAI nanoseconds since 1970-01-01 00:00:00 TAI.  Successive
 * ionclock_now() results never decrease, on one thread or across threads
 * ordered by anything else (a lock, a message): see the GUARANTEES in
 * <linux/ionclock.h>.
 */
#ifndef IONCLOCK_H
#define IONCLOCK_H

#include <stdint.h>
#include <linux/ionclock.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IONCLOCK_DEFAULT_DEVICE	IONCLOCK_DEVICE_PREFIX "0"

/* An open device and its mapped page; opaque. */
struct ionclock;

/**
 * ionclock_open() - open a device and map its page
 * @path: the device, or NULL for IONCLOCK_DEFAULT_DEVICE ("/dev/ionclock0")
 * @out: where the new handle is stored; untouched on failure
 *
 * Return: 0, or a negative errno: those of open() and mmap() (-ENOENT for a
 * missing device, -EACCES, -ENODEV when mmap() refuses the file), -ENOMEM,
 * -ENODEV if the page's magic or size is not ionclock's (not an ionclock
 * device), -EPROTO if its ABI version is not IONCLOCK_ABI_VERSION or it
 * names a counter this library does not know, -EOPNOTSUPP if the counter
 * cannot be read on this CPU architecture (the TSC away from x86).
 */
int ionclock_open(const char *path, struct ionclock **out);

/**
 * ionclock_now() - the current TAI time
 * @c: handle from ionclock_open()
 * @tai_ns: where the time is stored, ns
 *
 * Reads the mapped page (no system call on the TSC counter; one vDSO call
 * on the CLOCK_MONOTONIC_RAW counter).  If the page is being updated for
 * too long, falls back to read() on the device.
 *
 * Return: 0; -EAGAIN if the device has no valid time yet (IONCLOCK_FLAG_VALID
 * clear); or an errno of the fallback read().
 */
int ionclock_now(struct ionclock *c, int64_t *tai_ns);

/**
 * ionclock_now_bounded() - the current TAI time and an interval holding it
 * @c: handle from ionclock_open()
 * @tai_ns: where the time is stored, ns
 * @earliest: where @tai_ns minus the error bound is stored, ns (not below 0)
 * @latest: where @tai_ns plus the error bound is stored, ns
 *
 * The bound is the page's error_bound_ns plus its growth since the mapping's
 * base: (elapsed_ns * error_growth_frac32) >> 32.
 *
 * Return: as ionclock_now(); and -ENODATA if the time is valid but no bound
 * is published (IONCLOCK_FLAG_BOUND_VALID clear): then *@tai_ns is stored
 * and *@earliest and *@latest are not.
 */
int ionclock_now_bounded(struct ionclock *c, int64_t *tai_ns,
			 int64_t *earliest, int64_t *latest);

/**
 * ionclock_unique() - a TAI time no other reader of the device ever gets
 * @c: handle from ionclock_open()
 * @tai_ns: where the time is stored, ns
 *
 * One read() of the device: the kernel hands out strictly increasing values
 * machine-wide, so two calls (in any processes) never return the same value.
 * The value may run ahead of ionclock_now() by a few ns under heavy use.
 *
 * Return: 0, -EAGAIN if the device has no valid time yet, or an errno of
 * read() (-EIO for a short read).
 */
int ionclock_unique(struct ionclock *c, int64_t *tai_ns);

/**
 * ionclock_info() - what the device is attached to
 * @c: handle from ionclock_open()
 * @info: filled in by the IONCLOCK_IOC_GET_INFO ioctl
 *
 * Return: 0 or the ioctl's negative errno.
 */
int ionclock_info(struct ionclock *c, struct ionclock_info *info);

/**
 * ionclock_fd() - the device's file descriptor, for poll()-free tools
 * @c: handle from ionclock_open()
 *
 * Return: the descriptor; it stays owned by @c.
 */
int ionclock_fd(struct ionclock *c);

/**
 * ionclock_page() - the mapped page, for tools and tests
 * @c: handle from ionclock_open()
 *
 * Fields below @seq_count are only consistent when read per the READ
 * PROTOCOL in <linux/ionclock.h>.
 *
 * Return: the page; valid until ionclock_close().
 */
const volatile struct ionclock_page *ionclock_page(struct ionclock *c);

/**
 * ionclock_close() - unmap the page, close the device and free @c
 * @c: handle from ionclock_open(), or NULL
 */
void ionclock_close(struct ionclock *c);

/**
 * ionclock_strerror() - a message for an error this library returned
 * @err: the negative (or positive) errno
 *
 * Return: a static string; for errnos the library gives no meaning of its
 * own, strerror()'s.
 */
const char *ionclock_strerror(int err);

#ifdef __cplusplus
}
#endif

#endif /* IONCLOCK_H */
