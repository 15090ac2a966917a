// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening a device, checking its page, and everything around the read path
 * that may make system calls.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "internal.h"

/* Linux's MISC_MAJOR: every /dev/ionclockN is a misc device. */
#define IONCLOCK_MISC_MAJOR	10

/* The constant head of the page: is this a page this library can read? */
static int ionclock_check_page(const struct ionclock_page *p)
{
	if (p->magic != IONCLOCK_PAGE_MAGIC || p->size != IONCLOCK_PAGE_SIZE)
		return -ENODEV;
	if (p->version != IONCLOCK_ABI_VERSION)
		return -EPROTO;
	switch (p->counter_id) {
	case IONCLOCK_COUNTER_TSC:
#ifdef IONCLOCK_HAVE_TSC
		return 0;
#else
		return -EOPNOTSUPP;
#endif
	case IONCLOCK_COUNTER_MONOTONIC_RAW:
		return 0;
	default:
		return -EPROTO;
	}
}

uint64_t ionclock_timens_raw_offset_ns;

/*
 * The monotonic offset of this process's time namespace, which the kernel
 * adds to CLOCK_MONOTONIC and CLOCK_MONOTONIC_RAW for it alone.  It can
 * only be written before a process enters the namespace, so it holds for
 * the namespace's life.  No file (a kernel without time namespaces, or
 * /proc not mounted in a container): 0.  Reads the file with plain
 * system calls, no stdio: the drop-in may get here from inside malloc().
 */
/* A decimal integer at *@p, optionally signed; advances *@p past it. */
static int ionclock_parse_ll(const char **p, long long *v)
{
	const char *s = *p;
	int neg = 0, digits = 0;
	long long n = 0;

	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '-' || *s == '+')
		neg = *s++ == '-';
	for (; *s >= '0' && *s <= '9'; s++, digits++) {
		if (n > (9223372036854775807LL - 9) / 10)
			return -EPROTO;
		n = n * 10 + (*s - '0');
	}
	if (!digits)
		return -EPROTO;
	*v = neg ? -n : n;
	*p = s;
	return 0;
}

int ionclock_timens_offset(uint64_t *raw_ns)
{
	const char *line, *p;
	long long sec, nsec;
	char buf[256];
	long n;
	int fd;

	*raw_ns = 0;
	/* Raw system calls: no thread cancellation point (see below). */
	fd = syscall(SYS_openat, AT_FDCWD, "/proc/self/timens_offsets",
		     O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* "monotonic <s> <ns>" (or clock id 1 in the oldest format) */
	for (line = buf; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		if (strncmp(line, "monotonic ", 10) && strncmp(line, "1 ", 2))
			continue;
		p = strchr(line, ' ');
		if (ionclock_parse_ll(&p, &sec) || ionclock_parse_ll(&p, &nsec))
			return -EPROTO;
		*raw_ns = (uint64_t)(sec * 1000000000LL + nsec);
		return 0;
	}
	return 0;
}

/*
 * Whether sysfs names character device @rdev an ionclock device: its
 * /sys/dev/char/<major>:<minor> link ends in misc/ionclock<N>.  1 yes, 0 no,
 * -1 cannot tell (no sysfs here).  No stdio, no malloc: the drop-in calls
 * this from inside clock_gettime().
 */
static int ionclock_sysfs_says(dev_t rdev)
{
	char link[64], target[256], *p = link + sizeof(link);
	unsigned int v, part;
	const char *name;
	ssize_t n;

	*--p = '\0';
	for (part = 0; part < 2; part++) {
		v = part ? major(rdev) : minor(rdev);
		do
			*--p = (char)('0' + v % 10);
		while ((v /= 10));
		if (!part)
			*--p = ':';
	}
	p -= sizeof("/sys/dev/char/") - 1;
	memcpy(p, "/sys/dev/char/", sizeof("/sys/dev/char/") - 1);
	n = readlink(p, target, sizeof(target) - 1);
	if (n < 0)
		return access("/sys/dev/char", F_OK) ? -1 : 0;
	target[n] = '\0';
	name = strrchr(target, '/');
	if (!name || name - target < 5 || memcmp(name - 5, "/misc", 5) ||
	    strncmp(name + 1, "ionclock", 8) || !name[9])
		return 0;
	for (name += 9; *name; name++)
		if (*name < '0' || *name > '9')
			return 0;
	return 1;
}

/*
 * Where the module follows the hypervisor's vmclock, map it too, so that
 * reads can see a disruption it announced before the module has taken it
 * (ionclock_snap_vet()).  Not being able to (no such device, no right to
 * read it, not a vmclock page) only leaves that window open: the module
 * still takes the disruption at its next sample.  Raw system calls, as
 * for the device itself.
 */
static void ionclock_vmclock_map(struct ionclock *c)
{
	const volatile uint8_t *v;
	void *map;
	int fd;

	c->vmclock = NULL;
	if (c->page->vmclock_state != IONCLOCK_VMCLOCK_FOLLOWED)
		return;
	fd = syscall(SYS_openat, AT_FDCWD, IONCLOCK_VMCLOCK_DEV,
		     O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return;
	map = mmap(NULL, IONCLOCK_VMCLOCK_MAP_SIZE, PROT_READ, MAP_SHARED, fd,
		   0);
	syscall(SYS_close, fd);
	if (map == MAP_FAILED)
		return;
	v = map;
	if (*(const volatile uint32_t *)v != IONCLOCK_VMCLOCK_MAGIC) {
		munmap(map, IONCLOCK_VMCLOCK_MAP_SIZE);
		return;
	}
	c->vmclock = v;
}

/* Tries of a vmclock read that keeps meeting the hypervisor mid-update. */
#define IONCLOCK_VMCLOCK_TRIES	1000

/*
 * Whether the vmclock's disruption marker is no longer @page_marker, the
 * one the page's mapping was made under; a vmclock that never holds still
 * counts as moved (the bound is then not vouched for).  Little-endian, as
 * the ABI has it, and so is every CPU this library reads a TSC on.
 */
bool ionclock_vmclock_moved(const struct ionclock *c, uint64_t page_marker)
{
	const volatile uint32_t *seq = (const volatile uint32_t *)
		(c->vmclock + IONCLOCK_VMCLOCK_OFF_SEQ);
	const volatile uint64_t *marker = (const volatile uint64_t *)
		(c->vmclock + IONCLOCK_VMCLOCK_OFF_MARKER);
	unsigned int tries;
	uint64_t m;
	uint32_t s;

	for (tries = 0; tries < IONCLOCK_VMCLOCK_TRIES; tries++) {
		s = *seq;
		if (s & 1) {
			IONCLOCK_CPU_RELAX();
			continue;
		}
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		m = *marker;
		__atomic_thread_fence(__ATOMIC_ACQUIRE);
		if (*seq == s)
			return m != page_marker;
	}
	return true;
}

/*
 * Opens and maps into a handle the caller provides: the LD_PRELOAD drop-in
 * keeps its handle in static storage, because its first call may come from
 * inside malloc().  Nothing here waits, allocates or takes a lock, and
 * nothing is a thread cancellation point (the drop-in runs inside
 * clock_gettime(), which is not one): open and close are raw system calls.
 *
 * The path is checked before it is opened, since opening some devices acts
 * (a watchdog starts, a FIFO waits for a writer): it must be a character
 * device that sysfs calls misc/ionclock<N> (where there is no sysfs, any
 * misc device), and it is opened non-blocking; then the page must be an
 * ionclock page.
 */
int ionclock_init(struct ionclock *c, const char *path)
{
	struct stat st, fst;
	void *map;
	int err;

	if (!path)
		path = IONCLOCK_DEFAULT_DEVICE;
	if (stat(path, &st) < 0)
		return -errno;
	if (!S_ISCHR(st.st_mode))
		return -ENODEV;
	switch (ionclock_sysfs_says(st.st_rdev)) {
	case 0:
		return -ENODEV;
	case -1:
		if (major(st.st_rdev) != IONCLOCK_MISC_MAJOR)
			return -ENODEV;
	}
	c->fd = syscall(SYS_openat, AT_FDCWD, path,
			O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (c->fd < 0)
		return -errno;
	/* A short regular file would map, then SIGBUS on the first read. */
	if (fstat(c->fd, &fst) < 0) {
		err = -errno;
		goto err_map;
	}
	if (!S_ISCHR(fst.st_mode) || fst.st_rdev != st.st_rdev) {
		err = -ENODEV;
		goto err_map;
	}
	map = mmap(NULL, IONCLOCK_PAGE_SIZE, PROT_READ, MAP_SHARED, c->fd, 0);
	if (map == MAP_FAILED) {
		err = -errno;
		goto err_map;
	}
	c->page = map;
	err = ionclock_check_page(c->page);
	if (err)
		goto err_page;
	c->counter_id = c->page->counter_id;
	c->max_bound_ns = 0;
	ionclock_vmclock_map(c);
	if (c->counter_id == IONCLOCK_COUNTER_MONOTONIC_RAW) {
		err = ionclock_timens_offset(&ionclock_timens_raw_offset_ns);
		if (err)
			goto err_page;
	}
	return 0;

err_page:
	if (c->vmclock)
		munmap((void *)c->vmclock, IONCLOCK_VMCLOCK_MAP_SIZE);
	munmap(map, IONCLOCK_PAGE_SIZE);
err_map:
	syscall(SYS_close, c->fd);
	return err;
}

void ionclock_fini(struct ionclock *c)
{
	if (c->vmclock)
		munmap((void *)c->vmclock, IONCLOCK_VMCLOCK_MAP_SIZE);
	munmap((void *)c->page, IONCLOCK_PAGE_SIZE);
	close(c->fd);
}

int ionclock_open(const char *path, struct ionclock **out)
{
	struct ionclock *c;
	int err;

	c = malloc(sizeof(*c));
	if (!c)
		return -ENOMEM;
	err = ionclock_init(c, path);
	if (err) {
		free(c);
		return err;
	}
	*out = c;
	return 0;
}

void ionclock_close(struct ionclock *c)
{
	if (!c)
		return;
	ionclock_fini(c);
	free(c);
}

int ionclock_info(struct ionclock *c, struct ionclock_info *info)
{
	/* The kernel refuses non-zero flags and reserved fields. */
	memset(info, 0, sizeof(*info));
	if (ioctl(c->fd, IONCLOCK_IOC_GET_INFO, info) < 0)
		return -errno;
	return 0;
}

int ionclock_fd(struct ionclock *c)
{
	return c->fd;
}

/* volatile for callers that poll fields without the read protocol. */
const volatile struct ionclock_page *ionclock_page(struct ionclock *c)
{
	return c->page;
}

const char *ionclock_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case ENODEV:
		return "not an ionclock device";
	case EPROTO:
		return "unsupported ionclock page ABI or counter";
	case EOPNOTSUPP:
		return "the device's counter cannot be read on this CPU";
	case EAGAIN:
		return "no valid time yet (the PHC has not been sampled)";
	case ENODATA:
		return "no error bound or TAI - UTC offset published";
	case IONCLOCK_EBOUND:
		return "the clock's error bound is unknown or above the maximum set on this handle (ionclock_set_max_bound)";
	case EADDRNOTAVAIL:
		return "no machine id set on the device (ionclockctl config machine_id N, needs CAP_SYS_TIME)";
	default:
		/* Static English text: no locale, no allocation, any thread. */
		return strerrordesc_np(err) ?: "unknown error";
	}
}
