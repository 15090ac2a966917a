// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Opening a device, checking its page, and everything around the read path
 * that may make system calls.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"

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
int ionclock_timens_offset(uint64_t *raw_ns)
{
	char buf[256], *line, *end;
	long long sec, nsec;
	ssize_t n;
	int fd;

	*raw_ns = 0;
	fd = open("/proc/self/timens_offsets", O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	/* "monotonic <s> <ns>" (or clock id 1 in the oldest format) */
	for (line = buf; line && *line; line = strchr(line, '\n'),
	     line = line ? line + 1 : NULL) {
		if (strncmp(line, "monotonic ", 10) && strncmp(line, "1 ", 2))
			continue;
		line += strcspn(line, " ");
		sec = strtoll(line, &end, 10);
		if (end == line)
			return -EPROTO;
		nsec = strtoll(end, &line, 10);
		if (line == end)
			return -EPROTO;
		*raw_ns = (uint64_t)(sec * 1000000000LL + nsec);
		return 0;
	}
	return 0;
}

/*
 * Opens and maps into a handle the caller provides: the LD_PRELOAD drop-in
 * keeps its handle in static storage, because its first call may come from
 * inside malloc().
 */
int ionclock_init(struct ionclock *c, const char *path)
{
	struct stat st;
	void *map;
	int err;

	if (!path)
		path = IONCLOCK_DEFAULT_DEVICE;
	c->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (c->fd < 0)
		return -errno;
	/* A short regular file would map, then SIGBUS on the first read. */
	if (fstat(c->fd, &st) < 0) {
		err = -errno;
		goto err_map;
	}
	if (!S_ISCHR(st.st_mode)) {
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
	if (c->counter_id == IONCLOCK_COUNTER_MONOTONIC_RAW) {
		err = ionclock_timens_offset(&ionclock_timens_raw_offset_ns);
		if (err)
			goto err_page;
	}
	return 0;

err_page:
	munmap(map, IONCLOCK_PAGE_SIZE);
err_map:
	close(c->fd);
	return err;
}

void ionclock_fini(struct ionclock *c)
{
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
	default:
		return strerror(err);
	}
}
