// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Ordered IDs: the kernel allocates them (IONCLOCK_IOC_NEXT_ID, see ORDERED
 * IDS in <linux/ionclock.h>), so that they are unique across processes with
 * no shared state in userspace; a batch costs one system call per
 * millisecond's worth.
 */
#include <errno.h>
#include <string.h>
#include <sys/ioctl.h>

#include "internal.h"

/* Up to @count IDs from one millisecond: 0 and *@got, or -errno. */
static int ionclock_id_range(struct ionclock *c, size_t count, uint64_t *first,
			     size_t *got)
{
	struct ionclock_id_request req;

	memset(&req, 0, sizeof(req));
	req.count = count > IONCLOCK_ID_MAX_COUNT ? IONCLOCK_ID_MAX_COUNT :
		    (uint32_t)count;
	/* A signal during the wait for the next millisecond: ask again. */
	while (ioctl(c->fd, IONCLOCK_IOC_NEXT_ID, &req) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	if (!req.count || req.count > count)
		return -EPROTO;
	*first = req.first_id;
	*got = req.count;
	return 0;
}

int ionclock_ids(struct ionclock *c, uint64_t *ids, size_t count)
{
	size_t done = 0, got, i;
	uint64_t first;
	int err;

	if (!count)
		return -EINVAL;
	while (done < count) {
		err = ionclock_id_range(c, count - done, &first, &got);
		if (err)
			return err;
		for (i = 0; i < got; i++)
			ids[done + i] = first + i;
		done += got;
	}
	return 0;
}

int ionclock_id(struct ionclock *c, uint64_t *id)
{
	size_t got;

	return ionclock_id_range(c, 1, id, &got);
}
