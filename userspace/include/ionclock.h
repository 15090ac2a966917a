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
#ifndef IONCLOCK_LIB_H
#define IONCLOCK_LIB_H

#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>
#include <linux/ionclock.h>

#ifdef __cplusplus
extern "C" {
#endif

#define IONCLOCK_DEFAULT_DEVICE	IONCLOCK_DEVICE_PREFIX "0"

/*
 * The clocks of ionclock_gettime().  All of them are the page's TAI time
 * seen through the leap-second fields of <linux/ionclock.h>; they never go
 * backward except where said.
 *
 * IONCLOCK_TAI: TAI since 1970-01-01 00:00:00 TAI, as ionclock_now().
 *
 * IONCLOCK_UTC: smeared UTC, on the Unix scale.  Over the page's
 *	smear_window_s centred on next_leap_tai_s it runs linearly from
 *	TAI - tai_utc_offset_s to TAI - (tai_utc_offset_s + next_leap_delta_s)
 *	(exactly: the correction is delta * elapsed_ns / window_s, rounded
 *	toward zero), so it never steps and never goes backward; *leap_flag is
 *	1 while the smear runs.  With a window of 0 there is no smear and it
 *	reads as IONCLOCK_UTC_STRICT: an inserted second repeats 23:59:59 and
 *	so goes back by 1 s once (as CLOCK_REALTIME does), with *leap_flag 1
 *	during the repeat.
 *
 * IONCLOCK_UTC_STRICT: UTC with its leap seconds, on the Unix scale.  During
 *	an inserted second (23:59:60) tv_sec holds the value of 23:59:59 a
 *	second time, tv_nsec runs on from 0, and *leap_flag is 1: "this is
 *	23:59:60".  A deleted second is not there: 23:59:58 is followed by
 *	00:00:00.  Outside an inserted second *leap_flag is 0.
 *
 * Without IONCLOCK_FLAG_LEAP_VALID (no leap table loaded, or it expired),
 * both UTC clocks are TAI - tai_utc_offset_s when the page has
 * IONCLOCK_FLAG_TAI_OFFSET_VALID, with no leap; without that flag too they
 * fail with -ENODATA.
 */
#define IONCLOCK_TAI		0
#define IONCLOCK_UTC		1
#define IONCLOCK_UTC_STRICT	2

/*
 * What a read returns, negated, on a handle with a maximum bound
 * (ionclock_set_max_bound()) when the clock's error bound is above it or
 * not published: the read fails closed, and no time is stored.
 */
#define IONCLOCK_EBOUND		ERANGE

/* Longest single sleep of ionclock_wait_until_after(), ns. */
#define IONCLOCK_WAIT_CHUNK_NS	100000000LL

/**
 * struct ionclock_status - a device's state at one moment
 * @state: IONCLOCK_STATE_* from the page
 * @flags: IONCLOCK_FLAG_* from the page
 * @generation: the page's disruption marker
 * @counter_id: IONCLOCK_COUNTER_* the mapping is a function of
 * @tai_ns: TAI time when the page was read, ns (0 without IONCLOCK_FLAG_VALID)
 * @bound_ns: error bound at @tai_ns, ns; -1 without IONCLOCK_FLAG_BOUND_VALID
 * @tai_utc_offset_s: the page's leap fields, as in struct ionclock_page
 * @next_leap_delta_s: see @tai_utc_offset_s
 * @next_leap_tai_s: see @tai_utc_offset_s
 * @leap_expiry_tai_s: see @tai_utc_offset_s
 * @smear_window_s: see @tai_utc_offset_s
 * @phc_index: N of the followed /dev/ptpN, -1 once it is gone
 * @phc_timescale: IONCLOCK_TIMESCALE_* the PHC is taken to run on
 * @phc_name: the PHC driver's clock name, NUL-terminated
 * @ifname: the PHC's network interface if known, NUL-terminated
 * @reserved: 0
 */
struct ionclock_status {
	uint32_t state;
	uint32_t flags;
	uint32_t generation;
	uint32_t counter_id;
	int64_t tai_ns;
	int64_t bound_ns;
	int32_t tai_utc_offset_s;
	int32_t next_leap_delta_s;
	uint64_t next_leap_tai_s;
	uint64_t leap_expiry_tai_s;
	uint32_t smear_window_s;
	int32_t phc_index;
	uint32_t phc_timescale;
	char phc_name[32];
	char ifname[16];
	uint32_t reserved[9];
};

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
 * and *@earliest and *@latest are not.  Where the module follows the
 * hypervisor's vmclock, the library maps /dev/vmclock0 too, and a mapping
 * made before a disruption the vmclock has announced (a migration or a
 * restore the module takes at its next sample) has no bound either: its
 * reads fail the same way, and a handle with a maximum bound
 * (ionclock_set_max_bound()) gets -IONCLOCK_EBOUND from every read.
 */
int ionclock_now_bounded(struct ionclock *c, int64_t *tai_ns,
			 int64_t *earliest, int64_t *latest);

/**
 * ionclock_gettime() - the current time on one of ionclock's clocks
 * @c: handle from ionclock_open()
 * @clock: IONCLOCK_TAI, IONCLOCK_UTC or IONCLOCK_UTC_STRICT (see above)
 * @ts: where the time is stored (tv_nsec in [0, 999999999])
 * @leap_flag: where the clock's leap indication is stored (see above);
 *	may be NULL
 *
 * The same read as ionclock_now(): no system call on the TSC counter, no
 * allocation, no lock.  The leap fields are read in the same sequence
 * window as the mapping.
 *
 * Return: 0; -EINVAL for an unknown @clock; -ENODATA for a UTC clock when
 * the page knows no TAI - UTC offset; -EPROTO when the page's leap fields
 * make no sense (a leap other than +-1 s); else as ionclock_now().
 */
int ionclock_gettime(struct ionclock *c, int clock, struct timespec *ts,
		     int *leap_flag);

/**
 * ionclock_after() - is a TAI time certainly in the past?
 * @c: handle from ionclock_open()
 * @tai_ns: the time, TAI ns
 *
 * Return: 1 if the earliest time the clock can be (the current time minus
 * its error bound) is after @tai_ns, 0 if not, or a negative errno as
 * ionclock_now_bounded() (-ENODATA: no bound published, so no answer).
 */
int ionclock_after(struct ionclock *c, int64_t tai_ns);

/**
 * ionclock_wait_until_after() - commit-wait: sleep until ionclock_after()
 * @c: handle from ionclock_open()
 * @tai_ns: the time, TAI ns
 *
 * Sleeps with clock_nanosleep(CLOCK_MONOTONIC) for what remains, in
 * pieces of at most IONCLOCK_WAIT_CHUNK_NS so that a clock that slews,
 * steps or loses its PHC meanwhile is looked at again.  A signal does not
 * end the wait.
 *
 * Return: 0 once the earliest possible current time is after @tai_ns, or a
 * negative errno as ionclock_after().
 */
int ionclock_wait_until_after(struct ionclock *c, int64_t tai_ns);

/**
 * ionclock_status() - the device's state, time, bound and PHC identity
 * @c: handle from ionclock_open()
 * @st: filled in; the page fields are one consistent copy
 *
 * Reads the page and issues IONCLOCK_IOC_GET_INFO: a system call, for
 * monitoring rather than the hot path.
 *
 * Return: 0, or the negative errno of the ioctl or of the fallback read().
 */
int ionclock_status(struct ionclock *c, struct ionclock_status *st);

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
 * ionclock_set_max_bound() - fail closed above an error bound
 * @c: handle from ionclock_open()
 * @max_bound_ns: the largest error bound a read on @c may have, ns; 0
 *	removes the limit (the default)
 *
 * From then on ionclock_now(), ionclock_now_bounded(), ionclock_gettime(),
 * ionclock_unique(), ionclock_after() and ionclock_wait_until_after() on @c
 * return -IONCLOCK_EBOUND instead of a time whenever the bound at that read
 * is above @max_bound_ns, or no bound is published.  It is a property of
 * the handle, not the device: other handles are not affected.  IDs
 * (ionclock_id()) are not: their order does not rest on the bound.  Set it
 * before sharing @c between threads.
 *
 * Return: 0, or -EINVAL for a negative @max_bound_ns.
 */
int ionclock_set_max_bound(struct ionclock *c, int64_t max_bound_ns);

/**
 * ionclock_id() - an ordered ID, unique across every process on the device
 * @c: handle from ionclock_open()
 * @id: where the ID is stored
 *
 * One IONCLOCK_IOC_NEXT_ID call: see ORDERED IDS in <linux/ionclock.h> for
 * the layout (ms since 2020-01-01 TAI, 10-bit machine id, 12-bit sequence)
 * and the guarantees.  Sleeps to the next millisecond when the sequence
 * numbers of this one are used up.  Compare IDs as unsigned numbers.
 *
 * Return: 0; -EADDRNOTAVAIL while the device's machine id is unset;
 * -EAGAIN while it has no valid time; or the ioctl's negative errno.
 */
int ionclock_id(struct ionclock *c, uint64_t *id);

/**
 * ionclock_ids() - @count ordered IDs, in increasing order
 * @c: handle from ionclock_open()
 * @ids: where they are stored
 * @count: how many, at least 1
 *
 * As ionclock_id(), at one system call per IONCLOCK_ID_MAX_COUNT IDs at
 * best.  On failure the first IDs may have been stored already.
 *
 * Return: 0, -EINVAL for a @count of 0, or as ionclock_id().
 */
int ionclock_ids(struct ionclock *c, uint64_t *ids, size_t count);

/**
 * ionclock_id_tai_ns() - the start of the millisecond an ID was made in
 * @id: an ID from ionclock_id()
 *
 * Return: TAI ns since 1970-01-01 00:00:00 TAI.
 */
static inline int64_t ionclock_id_tai_ns(uint64_t id)
{
	return (int64_t)((id >> IONCLOCK_ID_MS_SHIFT) * 1000000ULL +
			 IONCLOCK_ID_EPOCH_TAI_S * 1000000000ULL);
}

/**
 * ionclock_id_machine() - the machine id in an ID
 * @id: an ID from ionclock_id()
 *
 * Return: 0 .. IONCLOCK_MACHINE_ID_MAX.
 */
static inline unsigned int ionclock_id_machine(uint64_t id)
{
	return (unsigned int)((id >> IONCLOCK_ID_MACHINE_SHIFT) &
			      IONCLOCK_ID_MACHINE_MASK);
}

/**
 * ionclock_info() - what the device is attached to
 * @c: handle from ionclock_open()
 * @info: filled in by the IONCLOCK_IOC_GET_INFO ioctl
 *
 * Return: 0 or the ioctl's negative errno.
 */
int ionclock_info(struct ionclock *c, struct ionclock_info *info);

/**
 * ionclock_fd() - the device's file descriptor
 * @c: handle from ionclock_open()
 *
 * For an event loop: it reports POLLPRI (EPOLLPRI) when the page's
 * generation, state or disruption count has changed since this handle
 * last took an event, until ionclock_event() (or IONCLOCK_IOC_GET_EVENT
 * on it) takes it; POLLIN is always set.  See NOTIFICATION in
 * <linux/ionclock.h>.
 *
 * Return: the descriptor; it stays owned by @c.
 */
int ionclock_fd(struct ionclock *c);

/**
 * ionclock_event() - wait for the device to change, and say how
 * @c: handle from ionclock_open()
 * @ev: where the event is stored (struct ionclock_event in
 *	<linux/ionclock.h>: what changed, generation and state before and
 *	after, the disruption count and cause, how many changes)
 * @timeout_ms: how long to wait, ms; 0 only looks, -1 waits for ever
 *
 * A change of the page's generation (a PHC step, loss or return, a
 * disruption: a suspend, a stopped or migrated VM), of its state
 * (IONCLOCK_STATE_*) or of its disruption count wakes every handle once,
 * whichever process holds it, without reading the page.  Changes that
 * come before the call are not lost: the first call after one returns at
 * once.  Several changes between two calls are taken by one, with
 * @ev->events saying how many.  A reader that caches anything derived from
 * the page (an offset, a rate) should drop it when this returns 1.
 *
 * Return: 1 and *@ev filled in; 0 if nothing changed within @timeout_ms
 * (*@ev untouched); -EINTR if a signal came; or the negative errno of
 * poll() or the ioctl.
 */
int ionclock_event(struct ionclock *c, struct ionclock_event *ev,
		   int timeout_ms);

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
 * ionclock_page_copy() - one consistent copy of the whole page
 * @c: handle from ionclock_open()
 * @out: filled in, every field from the same update
 *
 * For tools that show fields ionclock_status() does not carry (the error
 * components, the counters, the UTC sources, the upstream state).  Copies
 * the page per the READ PROTOCOL in <linux/ionclock.h>; not for the hot
 * path.
 *
 * Return: 0, or -EBUSY when the page never held still long enough.
 */
int ionclock_page_copy(struct ionclock *c, struct ionclock_page *out);

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

#endif /* IONCLOCK_LIB_H */
